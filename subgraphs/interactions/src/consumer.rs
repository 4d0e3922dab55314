//! What the interactions subgraph does with other services' events (applied once each,
//! in a transaction that records the event: `folio_common::events::consumer`):
//! - `content.created`: remember the content (so a like needs no lookup);
//! - `content.deleted`: forget it, with its interactions and comments;
//! - `user.deleted`: remove the user's reads, likes and comments.

use crate::store::{ContentFacts, Store, remember};
use folio_common::Result;
use folio_common::events::catalog::{ContentData, ContentDeleted, UserDeleted};
use folio_common::events::consumer::event_id;
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 3] = [
    EventType::ContentCreated.as_str(),
    EventType::ContentDeleted.as_str(),
    EventType::UserDeleted.as_str(),
];

/// Applies one event this subgraph follows.
pub async fn apply(store: &Store, tx: &DatabaseTransaction, payload: Payload) -> Result<()> {
    match payload {
        Payload::ContentCreated(ContentData {
            id,
            author_id,
            published_at,
            ..
        }) => {
            let (Some(content_id), Some(author_id)) = (event_id(id), event_id(author_id)) else {
                return Ok(());
            };
            let facts = ContentFacts {
                content_id,
                author_id,
                published_at,
            };
            remember(tx, &facts).await
        }
        Payload::ContentDeleted(ContentDeleted { id }) => match event_id(id) {
            Some(id) => store.forget_content(tx, &id).await,
            None => Ok(()),
        },
        Payload::UserDeleted(UserDeleted { id }) => match event_id(id) {
            Some(id) => store.remove_user(tx, &id).await,
            None => Ok(()),
        },
        // Only the types in `KINDS` are delivered; anything else has no effect here.
        _ => Ok(()),
    }
}
