//! What the search subgraph does with other services' events (applied in batches, in a
//! transaction that records them: `folio_common::events::consumer`):
//! - `content.created`, `content.updated`, `content.imported`: index the content(s)
//!   (replacing what was there);
//! - `content.deleted`: remove it from the index;
//! - `user.created`, `user.updated`: remember the author's names (for `author:`);
//! - `user.deleted`: forget the author and remove their contents from the index.
//!
//! The index's changes are committed before the transaction is: an event is recorded as
//! processed only once what it changed is searchable. If the transaction then fails the
//! batch comes again, and applying it again changes nothing.

use crate::SearchState;
use crate::index::{Change, IndexedContent};
use crate::store::{Author, delete_author, put_author};
use folio_common::Result;
use folio_common::events::catalog::{
    ContentData, ContentDeleted, ContentsImported, UserData, UserDeleted,
};
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 7] = [
    EventType::ContentCreated.as_str(),
    EventType::ContentImported.as_str(),
    EventType::ContentUpdated.as_str(),
    EventType::ContentDeleted.as_str(),
    EventType::UserCreated.as_str(),
    EventType::UserUpdated.as_str(),
    EventType::UserDeleted.as_str(),
];

/// Applies a batch of events, in order.
pub async fn apply(
    search: &SearchState,
    tx: &DatabaseTransaction,
    payloads: Vec<Payload>,
) -> Result<()> {
    let mut changes = Vec::with_capacity(payloads.len());
    for payload in payloads {
        match payload {
            Payload::ContentCreated(c) | Payload::ContentUpdated(c) => {
                changes.push(Change::Put(indexed(c)));
            }
            Payload::ContentImported(ContentsImported { contents }) => {
                changes.extend(contents.into_iter().map(|c| Change::Put(indexed(c))));
            }
            Payload::ContentDeleted(ContentDeleted { id }) => {
                changes.push(Change::DeleteContent(id));
            }
            Payload::UserCreated(u) | Payload::UserUpdated(u) => {
                let UserData {
                    id,
                    first_name,
                    last_name,
                    ..
                } = &u;
                put_author(
                    tx,
                    &Author {
                        id,
                        first_name,
                        last_name,
                    },
                )
                .await?;
            }
            Payload::UserDeleted(UserDeleted { id }) => {
                delete_author(tx, &id).await?;
                changes.push(Change::DeleteAuthor(id));
            }
            // Only the types in `KINDS` are delivered; anything else has no effect here.
            _ => {}
        }
    }
    search.index.apply(changes).await
}

fn indexed(c: ContentData) -> IndexedContent {
    IndexedContent {
        id: c.id,
        author_id: c.author_id,
        title: c.title,
        description: c.description,
        story: c.story,
        tags: c.tags,
        published_ms: c.published_at.timestamp_millis(),
    }
}
