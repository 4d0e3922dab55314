//! Events: every state change of a service is an [`Event`], written to the service's
//! outbox in the transaction of the change ([`outbox`]), published in order by a relay
//! once committed, and consumed idempotently by the services that must follow
//! ([`consumer`]). The transport is a [`Bus`]: NATS JetStream when `FOLIO_NATS_URL` is
//! set ([`nats`]), otherwise the in-process bus of the one-process run ([`local`]).
//!
//! The wire format of an event (JSON, the same on NATS, in the outbox and in
//! `folio events tail`):
//!
//! ```text
//! { "id": "<UUID v7>", "type": "<entity>.<change>", "occurredAt": "<RFC 3339, UTC, ms>",
//!   "actorId": "<user id>" | null, "data": { … } }
//! ```
//!
//! on the subject `<prefix>.<service>.<type>` (e.g. `folio.users.user.deleted`). The
//! types, the service that publishes each, and each type's `data` are the [`catalog`]:
//! producers emit a typed [`Payload`], consumers decode one with [`Event::payload`].

pub mod catalog;
pub mod consumer;
pub mod local;
pub mod nats;
pub mod outbox;
pub mod retention;
#[cfg(test)]
pub(crate) mod test_db;
#[cfg(test)]
pub(crate) mod test_spans;

pub use catalog::{EventType, Payload};

use crate::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// A boxed future, for the object-safe [`Bus`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One state change, as it travels. Never carries passwords, hashes or tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<D = Data> {
    /// A UUID v7: unique, and the broker's de-duplication key.
    pub id: String,
    /// `<entity>.<change>`, e.g. `user.deleted`, `content.created`, `comment.deleted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339, UTC, milliseconds.
    #[serde(with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The signed-in user who caused it; `None` for the system (a cascade, an operator).
    pub actor_id: Option<String>,
    /// The entity after the change, or `{ "id": … }` when it was deleted (in a
    /// [`Claim`], what the event will be about).
    pub data: D,
    /// The W3C `traceparent` of the operation that caused it, when traces are on: the
    /// spans that publish and apply it link to that operation's trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl<D: Serialize> Event<D> {
    /// The event's JSON, as the wire and the outbox carry it.
    fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| {
            Error::internal(format!("a {} payload does not serialize: {e}", self.kind))
        })
    }
}

/// An event's `data` as the JSON text it travels as. A consumer decodes it once,
/// straight into its type's struct ([`Event::payload`]): a tree of values between (and
/// a copy of that tree for each subscriber of the in-process bus) was most of what the
/// events of a bulk import cost on their way.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Data(Box<serde_json::value::RawValue>);

impl Data {
    /// The data of `payload`.
    pub fn of(payload: &Payload) -> serde_json::Result<Data> {
        serde_json::value::to_raw_value(&PayloadData(payload)).map(Data)
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The data as a tree of values (for observers and tests; `Null` if it is not JSON).
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl PartialEq for Data {
    /// The same values, however written.
    fn eq(&self, other: &Data) -> bool {
        self.json() == other.json() || self.value() == other.value()
    }
}

/// A payload as an event's `data`.
struct PayloadData<'a>(&'a Payload);

impl Serialize for PayloadData<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_data(s)
    }
}

mod rfc3339 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

impl Event {
    /// A new event carrying `payload`, caused by `actor_id`, happening now.
    pub fn new(actor_id: Option<&str>, payload: Payload) -> Result<Self> {
        let data = Data::of(&payload).map_err(|e| {
            Error::internal(format!(
                "a {} payload does not serialize: {e}",
                payload.kind()
            ))
        })?;
        Ok(Event {
            id: crate::new_id(),
            kind: payload.kind().to_owned(),
            occurred_at: Utc::now(),
            actor_id: actor_id.map(str::to_owned),
            data,
            traceparent: crate::telemetry::traceparent(),
        })
    }

    /// [`Event::new`] written as JSON, straight from the typed payload: the text
    /// `serde_json::to_string(&Event::new(actor_id, payload))` gives, without building
    /// `data` as a tree of values first (a bulk load writes thousands of events of
    /// hundreds of contents each). Returns the event's id, time and JSON.
    pub fn new_json(
        actor_id: Option<&str>,
        payload: &Payload,
    ) -> Result<(String, DateTime<Utc>, String)> {
        let id = crate::new_id();
        let occurred_at = Utc::now();
        let traceparent = crate::telemetry::traceparent();
        let json = Self::json(&id, occurred_at, actor_id, traceparent, payload)?;
        Ok((id, occurred_at, json))
    }

    /// The JSON of the event `id`, of `occurred_at`, caused by `actor_id`, carrying
    /// `payload`: how [`new_json`](Self::new_json) writes a new event, and how an event
    /// an outbox recorded as a claim is written once filled in ([`Claim::fill`]).
    pub fn json(
        id: &str,
        occurred_at: DateTime<Utc>,
        actor_id: Option<&str>,
        traceparent: Option<String>,
        payload: &Payload,
    ) -> Result<String> {
        Event {
            id: id.to_owned(),
            kind: payload.kind().to_owned(),
            occurred_at,
            actor_id: actor_id.map(str::to_owned),
            data: PayloadData(payload),
            traceparent,
        }
        .to_json()
    }

    /// The catalog's type of this event; an internal error for a type it does not have
    /// (an event from a newer version, or not from Folio).
    pub fn event_type(&self) -> Result<EventType> {
        EventType::from_wire(&self.kind).ok_or_else(|| {
            Error::internal(format!(
                "event {} has a type the catalog does not know: {:?}",
                self.id, self.kind
            ))
        })
    }

    /// The typed payload of this event: its `data` decoded as its type's struct. An
    /// internal error, naming the event and what is wrong, when it does not decode.
    pub fn payload(&self) -> Result<Payload> {
        let kind = self.event_type()?;
        Payload::from_data(kind, self.data.json()).map_err(|e| {
            Error::internal(format!(
                "the data of {} event {} does not decode: {e}",
                self.kind, self.id
            ))
        })
    }

    /// The id in `data` (every event's data but a follow's or a block's has one), for
    /// observers that show events without decoding them.
    pub fn subject_id(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Subject {
            id: Option<String>,
        }
        serde_json::from_str::<Subject>(self.data.json())
            .ok()
            .and_then(|s| s.id)
    }
}

/// Whether `kind` matches a pattern such as `user.*`, `*.deleted`, `content.created` or
/// `*` (a `*` matches one dot-separated word, or everything when it is the whole pattern).
pub fn matches(pattern: &str, kind: &str) -> bool {
    if pattern == "*" || pattern == ">" {
        return true;
    }
    let (p, k): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), kind.split('.').collect());
    p.len() == k.len() && p.iter().zip(&k).all(|(p, k)| *p == "*" || p == k)
}

/// Handles a batch of delivered events: what one publishing service published, in its
/// order (often one event; up to a relay round's or a pull's worth). `Err` asks for the
/// whole batch again later.
pub type Handler = Arc<dyn Fn(Vec<Event>) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// An event as an outbox row holds it: its id, its type and its JSON as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub kind: String,
    pub json: String,
}

/// An event an outbox recorded as a claim ([`outbox::Outbox::prepare_claims`]): the
/// event's envelope, with a `data` that names what the event is about instead of
/// carrying it (an import's content ids). The service's [`outbox::Fill`] turns it into
/// the event it stands for as the relay publishes it; nothing else ever sees it.
pub type Claim<T> = Event<T>;

impl StoredEvent {
    /// The `traceparent` of the operation that caused it, if it carries one (read from
    /// its JSON: only when traces are on).
    pub fn traceparent(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Cause {
            traceparent: Option<String>,
        }
        serde_json::from_str::<Cause>(&self.json).ok()?.traceparent
    }

    /// This row as a claim of type `kind` whose data is a `T`; `None` for any other row
    /// (another type, or a whole event of that type).
    pub fn claim<T: serde::de::DeserializeOwned>(&self, kind: EventType) -> Option<Claim<T>> {
        if self.kind != kind.as_str() {
            return None;
        }
        serde_json::from_str(&self.json).ok()
    }
}

impl<T> Claim<T> {
    /// The event this claim stands for, carrying `payload` (of the claim's type): its
    /// id, time and actor are the claim's.
    pub fn fill(&self, payload: &Payload) -> Result<StoredEvent> {
        if payload.kind() != self.kind {
            return Err(Error::internal(format!(
                "claim {} of a {} event filled with a {} payload",
                self.id,
                self.kind,
                payload.kind()
            )));
        }
        Ok(StoredEvent {
            id: self.id.clone(),
            kind: self.kind.clone(),
            json: Event::json(
                &self.id,
                self.occurred_at,
                self.actor_id.as_deref(),
                self.traceparent.clone(),
                payload,
            )?,
        })
    }
}

/// A transport for events.
pub trait Bus: Send + Sync + 'static {
    /// Publishes `event`; `Ok` once the transport holds it (JetStream: the publish was
    /// acknowledged, duplicates by id dropped; in-process: every subscriber handled it).
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<()>>;

    /// Publishes `events` in order; returns how many, from the first, the transport
    /// holds, with the error that stopped it (if any). A transport may pipeline them.
    fn publish_all<'a>(
        &'a self,
        events: &'a [Event],
    ) -> BoxFuture<'a, (usize, Option<crate::Error>)> {
        Box::pin(async move {
            for (i, e) in events.iter().enumerate() {
                if let Err(err) = self.publish(e).await {
                    return (i, Some(err));
                }
            }
            (events.len(), None)
        })
    }

    /// Publishes events as an outbox stores them, in order, as
    /// [`publish_all`](Self::publish_all) does. By default each is decoded and published;
    /// a transport that sends bytes (NATS) sends the stored JSON as it is. A row that
    /// does not decode stops the batch there, with an internal error.
    fn publish_stored<'a>(
        &'a self,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, (usize, Option<crate::Error>)> {
        Box::pin(async move {
            let mut decoded = Vec::with_capacity(events.len());
            let mut failure = None;
            for e in events {
                match serde_json::from_str::<Event>(&e.json) {
                    Ok(event) => decoded.push(event),
                    Err(err) => {
                        failure = Some(Error::internal(format!(
                            "outbox event {} does not decode: {err}",
                            e.id
                        )));
                        break;
                    }
                }
            }
            let (published, error) = self.publish_all(&decoded).await;
            (published, error.or(failure))
        })
    }

    /// Delivers every event whose type matches one of `kinds` to `handler`, in batches
    /// (see [`Handler`]), as the
    /// durable consumer `name`: replicas subscribing under the same name share the
    /// events, each handled by one of them; an event whose handler fails comes again.
    /// Runs in the background until `stop` turns true.
    fn subscribe<'a>(
        &'a self,
        name: &'a str,
        kinds: &'a [&'a str],
        handler: Handler,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, Result<()>>;

    /// Every event published from now on (to watch: `folio events tail`, tests).
    fn observe(&self) -> BoxFuture<'_, Result<mpsc::Receiver<Event>>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_as_the_contract_says() {
        let payload = Payload::UserDeleted(catalog::UserDeleted { id: "u2".into() });
        let e = Event::new(Some("u1"), payload.clone()).expect("event");
        let v = serde_json::to_value(&e).expect("json");
        let keys: Vec<&str> = v
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 5);
        for key in ["id", "type", "occurredAt", "actorId", "data"] {
            assert!(keys.contains(&key), "{key} missing from {v}");
        }
        assert_eq!(v["type"], "user.deleted");
        assert_eq!(v["actorId"], "u1");
        assert_eq!(v["data"], serde_json::json!({ "id": "u2" }));
        assert!(v["occurredAt"].as_str().is_some_and(|t| t.ends_with('Z')));
        let back: Event = serde_json::from_str(&v.to_string()).expect("back");
        assert_eq!(back.id, e.id);
        assert_eq!(back.payload().expect("payload"), payload);
        assert_eq!(
            back.event_type().expect("type").subject("folio"),
            "folio.users.user.deleted"
        );
        assert_eq!(
            EventType::CommentDeleted.subject("folio"),
            "folio.interactions.comment.deleted"
        );
    }

    #[test]
    fn events_written_from_typed_payloads_are_the_events_json() {
        // Whole milliseconds, as the wire carries them.
        let at = DateTime::parse_from_rfc3339("2026-11-30T21:00:00.123Z")
            .expect("time")
            .with_timezone(&Utc);
        let payload = Payload::ContentImported(catalog::ContentsImported {
            contents: vec![catalog::ContentData {
                id: "c1".into(),
                author_id: "u1".into(),
                title: "A \"quoted\" title".into(),
                description: None,
                story: "Line one\nline two ✓".into(),
                tags: vec!["rust".into()],
                published_at: at,
                updated_at: at,
            }],
        });
        let (id, at, json) = Event::new_json(Some("u1"), &payload).expect("json");
        let mut event = Event::new(Some("u1"), payload.clone()).expect("event");
        event.id = id;
        event.occurred_at = at;
        assert_eq!(json, serde_json::to_string(&event).expect("event json"));
        let back: Event = serde_json::from_str(&json).expect("decodes");
        assert_eq!(back.payload().expect("payload"), payload);
    }

    #[test]
    fn unknown_types_and_bad_data_do_not_decode() {
        let mut e = Event::new(
            None,
            Payload::ContentDeleted(catalog::ContentDeleted { id: "c1".into() }),
        )
        .expect("event");
        e.data = Data(
            serde_json::value::to_raw_value(&serde_json::json!({ "title": "no id" }))
                .expect("json"),
        );
        let cause = e.payload().expect_err("missing id").log_message();
        assert!(
            cause.contains("content.deleted") && cause.contains("id"),
            "{cause}"
        );
        e.kind = "content.archived".into();
        let cause = e.payload().expect_err("unknown type").log_message();
        assert!(cause.contains("content.archived"), "{cause}");
    }

    #[test]
    fn patterns_match_words() {
        assert!(matches("user.*", "user.created"));
        assert!(matches("*.deleted", "content.deleted"));
        assert!(matches("*", "comment.updated"));
        assert!(!matches("user.*", "content.created"));
        assert!(!matches("user", "user.created"));
    }
}
