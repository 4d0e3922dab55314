//! NATS JetStream as the bus. One stream holds every event (`<prefix>.>`, file storage);
//! a publish carries `Nats-Msg-Id` = the event id, so JetStream drops a duplicate within
//! its window, and succeeds only once JetStream acknowledged it. A consumer is one durable
//! pull consumer per source service, named `<consumer>-<source service>` and filtered on
//! the event types it wants (this NATS server predates multi-filter consumers); replicas
//! of a service pull from the same durable consumers, so each event is
//! handled by one of them. A handled event is acknowledged; a failed one is negatively
//! acknowledged and comes back after a pause.

use super::{BoxFuture, Bus, Event, EventType, Handler, StoredEvent, matches};
use crate::{Error, Result};
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use futures_util::{FutureExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How long a publish waits for JetStream's acknowledgement.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long before JetStream re-delivers an event nobody acknowledged.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// The pause before a failed event comes again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Most events one delivery hands a consumer (those already arrived, never waited for).
const MAX_BATCH: usize = 1000;
/// Most bytes of events one delivery hands a consumer (at least one event): a backlog of
/// an import's 128 KiB `content.imported` events comes a few dozen at a time.
const MAX_BATCH_BYTES: usize = 4 << 20;
/// How many messages one pull asks JetStream for (async-nats asks for 200 by default):
/// a backlog arrives in deliveries big enough to fill a batch.
const PULL_BATCH: usize = 1000;
/// The most bytes one pull asks for: twice a batch, and more than the largest message
/// NATS takes (1 MiB by default; a message larger than a pull's bytes would never come).
const PULL_BYTES: usize = 2 * MAX_BATCH_BYTES;

/// The stream that holds the events of `prefix`: `FOLIO` for `folio`.
pub fn stream_name(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Events over NATS JetStream.
pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    prefix: String,
    stream: String,
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "NATS");
    Error::Unavailable("nats")
}

impl NatsBus {
    /// Connects to `url` (reconnecting by itself later) and makes sure the stream exists.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .connect(url)
            .await?;
        let js = jetstream::new(client.clone());
        let stream = stream_name(prefix);
        let config = stream::Config {
            name: stream.clone(),
            subjects: vec![format!("{prefix}.>")],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        // The server can fail a create for a moment (seen: its account's store directory
        // removed by another stream's deletion while this one was being made, error
        // 10077); creating is idempotent, so try a few times before giving up.
        let create = async {
            let mut backoff = Duration::from_millis(100);
            let mut attempts = 1;
            loop {
                match js.get_or_create_stream(config.clone()).await {
                    Ok(_) => return Ok(()),
                    Err(e) if attempts < 5 => {
                        tracing::warn!(error = %e, "creating the NATS stream; trying again");
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        attempts += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), create)
            .await
            .map_err(|_| anyhow::anyhow!("NATS at {url} did not answer within 30 s"))??;
        Ok(NatsBus {
            client,
            js,
            prefix: prefix.to_owned(),
            stream,
        })
    }

    /// Deletes the stream of `prefix` with every event and consumer in it (tests clean up
    /// with it; an operator would use the `nats` tool).
    pub async fn delete_stream(&self) -> anyhow::Result<()> {
        self.js.delete_stream(&self.stream).await?;
        Ok(())
    }

    async fn consume(
        consumer: jetstream::consumer::Consumer<pull::Config>,
        name: String,
        handler: Handler,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(100);
        while !*stop.borrow() {
            let pull = consumer
                .stream()
                .max_messages_per_batch(PULL_BATCH)
                .max_bytes_per_batch(PULL_BYTES);
            let mut messages = match pull.messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(consumer = %name, error = %e, "pulling events failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            loop {
                let next = tokio::select! {
                    next = messages.next() => next,
                    _ = stop.changed() => return,
                };
                let first = match next {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        tracing::warn!(consumer = %name, error = %e, "receiving events failed");
                        break;
                    }
                    None => break,
                };
                // With it, whatever else has already arrived (never waiting for more):
                // one batch, handled in one transaction.
                let mut bytes = first.payload.len();
                let mut messages_in_batch = vec![first];
                while messages_in_batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                    match messages.next().now_or_never() {
                        Some(Some(Ok(m))) => {
                            bytes += m.payload.len();
                            messages_in_batch.push(m);
                        }
                        _ => break,
                    }
                }
                let mut events = Vec::with_capacity(messages_in_batch.len());
                let mut batch = Vec::with_capacity(messages_in_batch.len());
                for message in messages_in_batch {
                    match serde_json::from_slice::<Event>(&message.payload) {
                        Ok(event) => {
                            events.push(event);
                            batch.push(message);
                        }
                        Err(e) => {
                            // Not an event of ours: it will never parse, so do not retry it.
                            tracing::error!(consumer = %name, error = %e, subject = %message.subject, "dropping a message that is not an event");
                            if let Err(e) = message.ack_with(AckKind::Term).await {
                                tracing::warn!(consumer = %name, error = %e, "refusing a message failed; it may come again");
                            }
                        }
                    }
                }
                if events.is_empty() {
                    continue;
                }
                let ack = match handler(events).await {
                    Ok(()) => AckKind::Ack,
                    Err(_) => AckKind::Nak(Some(RETRY_AFTER)),
                };
                for message in batch {
                    if let Err(e) = message.ack_with(ack).await {
                        tracing::warn!(consumer = %name, error = %e, "acknowledging an event failed; it may come again");
                    }
                }
            }
        }
    }

    /// The subject of `event`, from its type's publishing service in the catalog.
    fn subject(&self, event: &Event) -> Result<String> {
        Ok(event.event_type()?.subject(&self.prefix))
    }

    /// Publishes encoded events (subject, payload, message id) in order: every publish
    /// first, then the acknowledgements. How many, from the first, JetStream holds, and
    /// the error that stopped it.
    async fn publish_encoded<'a>(
        &self,
        events: impl Iterator<Item = Result<(String, Vec<u8>, &'a str)>>,
    ) -> (usize, Option<Error>) {
        let mut acks = Vec::with_capacity(events.size_hint().0);
        let mut failure = None;
        for encoded in events {
            let (subject, payload, id) = match encoded {
                Ok(e) => e,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let sent = tokio::time::timeout(
                PUBLISH_TIMEOUT,
                self.js.send_publish(
                    subject,
                    PublishMessage::build()
                        .payload(payload.into())
                        .message_id(id),
                ),
            )
            .await;
            match sent {
                Ok(Ok(ack)) => acks.push(ack),
                Ok(Err(e)) => {
                    failure = Some(unavailable(e));
                    break;
                }
                Err(_) => {
                    failure = Some(unavailable("publishing timed out"));
                    break;
                }
            }
        }
        let mut confirmed = 0;
        for ack in acks {
            match tokio::time::timeout(PUBLISH_TIMEOUT, ack).await {
                Ok(Ok(_)) => confirmed += 1,
                Ok(Err(e)) => return (confirmed, Some(unavailable(e))),
                Err(_) => return (confirmed, Some(unavailable("no acknowledgement in time"))),
            }
        }
        (confirmed, failure)
    }
}

impl Bus for NatsBus {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let subject = self.subject(event)?;
            let payload = serde_json::to_vec(event).map_err(Error::internal)?;
            let publish = async {
                let ack = self
                    .js
                    .send_publish(
                        subject,
                        PublishMessage::build()
                            .payload(payload.into())
                            .message_id(&event.id),
                    )
                    .await
                    .map_err(unavailable)?;
                ack.await.map_err(unavailable)?;
                Ok(())
            };
            tokio::time::timeout(PUBLISH_TIMEOUT, publish)
                .await
                .map_err(|_| unavailable("no acknowledgement in time"))?
        })
    }

    /// Sends every publish first and then collects the acknowledgements, in order: one
    /// round trip's wait for the whole batch instead of one per event. JetStream stores
    /// them in the order they were sent on this connection.
    fn publish_all<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, (usize, Option<Error>)> {
        Box::pin(self.publish_encoded(events.iter().map(|event| {
            let subject = self.subject(event)?;
            let payload = serde_json::to_vec(event).map_err(Error::internal)?;
            Ok((subject, payload, event.id.as_str()))
        })))
    }

    /// As [`publish_all`](Self::publish_all), sending each event's stored JSON as it is
    /// (no decoding and encoding again); the subject comes from its type.
    fn publish_stored<'a>(
        &'a self,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, (usize, Option<Error>)> {
        Box::pin(self.publish_encoded(events.iter().map(|event| {
            let kind = EventType::from_wire(&event.kind).ok_or_else(|| {
                Error::internal(format!(
                    "event {} has a type the catalog does not know: {:?}",
                    event.id, event.kind
                ))
            })?;
            Ok((
                kind.subject(&self.prefix),
                event.json.clone().into_bytes(),
                event.id.as_str(),
            ))
        })))
    }

    fn subscribe<'a>(
        &'a self,
        name: &'a str,
        kinds: &'a [&'a str],
        handler: Handler,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let stream = self
                .js
                .get_stream(&self.stream)
                .await
                .map_err(unavailable)?;
            // One durable consumer per publishing service (`<name>-<service>`, filtered on
            // `<prefix>.<service>.>`): the events of one service arrive in their order,
            // and a single filter subject works on every JetStream server version. The
            // services are those the catalog says publish a type `kinds` matches.
            let mut services: Vec<&str> = EventType::ALL
                .iter()
                .filter(|t| kinds.iter().any(|k| matches(k, t.as_str())))
                .map(|t| t.service())
                .collect();
            services.sort_unstable();
            services.dedup();
            if services.is_empty() {
                // The caller may report only that subscribing failed; say why here.
                let why = format!("{kinds:?} match no event type of the catalog");
                tracing::error!(consumer = %name, error = %why, "cannot subscribe");
                return Err(Error::internal(why));
            }
            let wanted: Arc<[String]> = kinds.iter().map(|k| (*k).to_owned()).collect();
            for service in services {
                let durable = format!("{name}-{service}");
                let consumer = stream
                    .get_or_create_consumer(
                        &durable,
                        pull::Config {
                            durable_name: Some(durable.clone()),
                            filter_subject: format!("{}.{service}.>", self.prefix),
                            deliver_policy: DeliverPolicy::All,
                            ack_policy: AckPolicy::Explicit,
                            ack_wait: ACK_WAIT,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(unavailable)?;
                let (handler, wanted) = (handler.clone(), wanted.clone());
                let filtered: Handler = Arc::new(move |mut events: Vec<Event>| {
                    events.retain(|e| wanted.iter().any(|k| matches(k, &e.kind)));
                    if events.is_empty() {
                        Box::pin(async { Ok(()) })
                    } else {
                        handler(events)
                    }
                });
                tokio::spawn(NatsBus::consume(consumer, durable, filtered, stop.clone()));
            }
            Ok(())
        })
    }

    fn observe(&self) -> BoxFuture<'_, Result<mpsc::Receiver<Event>>> {
        Box::pin(async move {
            let mut sub = self
                .client
                .subscribe(format!("{}.>", self.prefix))
                .await
                .map_err(unavailable)?;
            let (tx, rx) = mpsc::channel(4_096);
            tokio::spawn(async move {
                while let Some(message) = sub.next().await {
                    if let Ok(event) = serde_json::from_slice::<Event>(&message.payload)
                        && tx.send(event).await.is_err()
                    {
                        break;
                    }
                }
            });
            Ok(rx)
        })
    }
}
