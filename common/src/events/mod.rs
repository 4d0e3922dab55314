//! Events: every state change of a service is an [`Event`], written to the service's
//! outbox in the transaction of the change ([`outbox`]), published in order by a relay
//! once committed, and consumed idempotently by the services that must follow
//! ([`consumer`]). The transport is a [`Bus`]: NATS JetStream when `FOLIO_NATS_URL` is
//! set ([`nats`]), otherwise the in-process bus of the one-process run ([`local`]).

pub mod consumer;
pub mod local;
pub mod nats;
pub mod outbox;

use crate::Result;
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
pub struct Event {
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
    /// The entity after the change, or `{ "id": … }` when it was deleted.
    pub data: Value,
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
    /// A new event of `kind`, happening now.
    pub fn new(kind: &str, actor_id: Option<&str>, data: Value) -> Self {
        Event {
            id: crate::new_id(),
            kind: kind.to_owned(),
            occurred_at: Utc::now(),
            actor_id: actor_id.map(str::to_owned),
            data,
        }
    }

    /// The id in `data` (every event's data has one).
    pub fn subject_id(&self) -> Option<&str> {
        self.data.get("id").and_then(Value::as_str)
    }
}

/// The service that publishes events of this type (`user.*` users, `content.*` content,
/// `interaction.*` and `comment.*` interactions).
pub fn service_of(kind: &str) -> &'static str {
    match kind.split('.').next() {
        Some("user") => "users",
        Some("content") => "content",
        _ => "interactions",
    }
}

/// The subject an event of `kind` travels on: `<prefix>.<service>.<kind>`, e.g.
/// `folio.users.user.created`.
pub fn subject(prefix: &str, kind: &str) -> String {
    format!("{prefix}.{}.{kind}", service_of(kind))
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

/// Handles one delivered event; `Err` asks for it again later.
pub type Handler = Arc<dyn Fn(Event) -> BoxFuture<'static, Result<()>> + Send + Sync>;

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

    /// Delivers every event whose type matches one of `kinds` to `handler`, as the
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
        let e = Event::new(
            "user.deleted",
            Some("u1"),
            serde_json::json!({ "id": "u2" }),
        );
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["type"], "user.deleted");
        assert_eq!(v["actorId"], "u1");
        assert!(v["occurredAt"].as_str().is_some_and(|t| t.ends_with('Z')));
        let back: Event = serde_json::from_value(v).expect("back");
        assert_eq!(back.id, e.id);
        assert_eq!(subject("folio", &e.kind), "folio.users.user.deleted");
        assert_eq!(
            subject("folio", "comment.deleted"),
            "folio.interactions.comment.deleted"
        );
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
