//! What the media subgraph does with other services' events (applied once each, in a
//! transaction that records the event: `folio_common::events::consumer`):
//! - `content.deleted`: forget the content's image;
//! - `user.deleted`: forget the user's avatar (their contents' images go with each
//!   content's own `content.deleted`).
//!
//! The objects no row names any more are deleted with them.

use crate::objects::Objects;
use crate::store::{Owner, remove};
use folio_common::Result;
use folio_common::events::catalog::{ContentDeleted, UserDeleted};
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 2] = [
    EventType::ContentDeleted.as_str(),
    EventType::UserDeleted.as_str(),
];

/// Applies events this subgraph follows, in order.
pub async fn apply(
    objects: &Objects,
    tx: &DatabaseTransaction,
    payloads: Vec<Payload>,
) -> Result<()> {
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
    // Before the transaction commits: should it roll back, the batch comes again and
    // removes the same rows, so their objects were going anyway.
    for key in orphans {
        objects.delete(&key).await?;
    }
    Ok(())
}
