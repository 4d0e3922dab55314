//! What the interactions subgraph does with other services' events (applied once each,
//! in a transaction that records the event: `folio_common::events::consumer`):
//! - `content.created`: remember the content (so a like needs no lookup);
//! - `content.deleted`: forget it, with its interactions and comments;
//! - `user.deleted`: remove the user's reads, likes and comments.

use crate::store::{ContentFacts, Store, remember};
use chrono::{DateTime, Utc};
use folio_common::events::consumer::Apply;
use folio_common::events::{BoxFuture, Event};
use folio_common::{Error, Result};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes.
pub const KINDS: [&str; 3] = ["content.created", "content.deleted", "user.deleted"];

/// The interactions subgraph's consumer.
pub struct Consumer {
    pub store: Store,
}

fn field<'a>(event: &'a Event, name: &str) -> Result<&'a str> {
    event
        .data
        .get(name)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| Error::internal(format!("{} event without data.{name}", event.kind)))
}

impl Apply for Consumer {
    fn apply<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        event: &'a Event,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match event.kind.as_str() {
                "content.created" => {
                    let published_at: DateTime<Utc> = field(event, "publishedAt")?
                        .parse()
                        .map_err(Error::internal)?;
                    let facts = ContentFacts {
                        content_id: field(event, "id")?.to_owned(),
                        author_id: field(event, "authorId")?.to_owned(),
                        published_at,
                    };
                    remember(tx, &facts).await
                }
                "content.deleted" => self.store.forget_content(tx, field(event, "id")?).await,
                "user.deleted" => self.store.remove_user(tx, field(event, "id")?).await,
                _ => Ok(()),
            }
        })
    }
}
