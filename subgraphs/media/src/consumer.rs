//! What the media subgraph does with other services' events (applied once each, in a
//! transaction that records the event: `folio_common::events::consumer`):
//! - `content.deleted`: forget the content's image;
//! - `user.deleted`: forget the user's avatar (their contents' images go with each
//!   content's own `content.deleted`).
//!
//! The objects no row names any more are deleted after the transaction commits (an
//! object whose deletion fails, or a crash in between, is left to the sweep).

use crate::objects::Objects;
use crate::store::{Owner, Store, remove};
use folio_common::Result;
use folio_common::events::catalog::{ContentDeleted, UserDeleted};
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 2] = [
    EventType::ContentDeleted.as_str(),
    EventType::UserDeleted.as_str(),
];

/// What the consumer works with.
#[derive(Clone)]
pub struct Media {
    pub store: Store,
    pub objects: Objects,
}

/// Applies events this subgraph follows, in order.
pub async fn apply(media: &Media, tx: &DatabaseTransaction, payloads: Vec<Payload>) -> Result<()> {
    let mut orphans = Vec::new();
    for payload in payloads {
        let removed = match payload {
            Payload::ContentDeleted(ContentDeleted { id }) => {
                remove(tx, Owner::Content, &id).await?
            }
            Payload::UserDeleted(UserDeleted { id }) => remove(tx, Owner::User, &id).await?,
            // Only the types in `KINDS` are delivered; anything else has no effect here.
            _ => None,
        };
        orphans.extend(removed.flatten());
    }
    if !orphans.is_empty() {
        // After the consumer's transaction commits, which this task cannot see: it
        // deletes each object once no committed row names it, and gives up after a few
        // seconds (a rolled-back batch keeps its rows and comes again; an object another
        // owner still names stays).
        let objects = media.objects.clone();
        let store = media.store.clone();
        tokio::spawn(async move {
            for key in orphans {
                for _ in 0..50 {
                    match store.names(&key).await {
                        Ok(false) => {
                            if let Err(e) = objects.delete(&key).await {
                                tracing::warn!(error = %e.log_message(), "deleting a removed image failed");
                            }
                            break;
                        }
                        Ok(true) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                        Err(e) => {
                            tracing::warn!(error = %e.log_message(), "checking a removed image failed");
                            break;
                        }
                    }
                }
            }
        });
    }
    Ok(())
}
