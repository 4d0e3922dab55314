//! What the interactions subgraph does with other services' events (applied once each,
//! in a transaction that records the event: `folio_common::events::consumer`):
//! - `content.created`, `content.imported`: remember the content(s) (so a like needs no
//!   lookup);
//! - `content.deleted`: forget it, with its interactions and comments;
//! - `user.deleted`: remove the user's reads, likes and comments.

use crate::store::{ContentFacts, Store, remember};
use folio_common::Result;
use folio_common::events::catalog::{ContentData, ContentDeleted, ContentsImported, UserDeleted};
use folio_common::events::consumer::event_id;
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 4] = [
    EventType::ContentCreated.as_str(),
    EventType::ContentImported.as_str(),
    EventType::ContentDeleted.as_str(),
    EventType::UserDeleted.as_str(),
];

/// What this subgraph remembers of a created content.
fn facts(c: ContentData) -> Option<ContentFacts> {
    let (content_id, author_id) = (event_id(c.id)?, event_id(c.author_id)?);
    Some(ContentFacts {
        content_id,
        author_id,
        published_at: c.published_at,
    })
}

/// Applies events this subgraph follows, in order; a run of created or imported
/// contents is remembered with one statement.
pub async fn apply(store: &Store, tx: &DatabaseTransaction, payloads: Vec<Payload>) -> Result<()> {
    let mut created: Vec<ContentFacts> = Vec::new();
    for payload in payloads {
        match payload {
            Payload::ContentCreated(c) => created.extend(facts(c)),
            Payload::ContentImported(ContentsImported { contents }) => {
                created.extend(contents.into_iter().filter_map(facts));
            }
            // A deletion comes after the contents created before it.
            Payload::ContentDeleted(ContentDeleted { id }) => {
                remember(tx, &std::mem::take(&mut created)).await?;
                if let Some(id) = event_id(id) {
                    store.forget_content(tx, &id).await?;
                }
            }
            Payload::UserDeleted(UserDeleted { id }) => {
                remember(tx, &std::mem::take(&mut created)).await?;
                if let Some(id) = event_id(id) {
                    store.remove_user(tx, &id).await?;
                }
            }
            // Only the types in `KINDS` are delivered; anything else has no effect here.
            _ => {}
        }
    }
    remember(tx, &created).await
}
