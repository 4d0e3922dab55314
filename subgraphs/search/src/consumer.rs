//! What the search subgraph does with other services' events (applied in batches, in a
//! transaction that records them: `folio_common::events::consumer`):
//! - `content.created`, `content.updated`, `content.imported`: index the content(s)
//!   (replacing what was there);
//! - `content.deleted`: remove it from the index;
//! - `user.created`, `user.updated`: remember the author's names (for `author:`);
//! - `user.deleted`: forget the author and remove their contents from the index;
//! - `interaction.created`, `interaction.deleted` of a READ: move the reads that rank
//!   suggestions (`crate::suggest`).
//!
//! The index's changes are committed before the transaction is: an event is recorded as
//! processed only once what it changed is searchable. If the transaction then fails the
//! batch comes again, and applying it again changes nothing.

use crate::SearchState;
use crate::index::{Change, IndexedContent};
use crate::store::{Author, author_names, delete_author, put_author};
use folio_common::Result;
use folio_common::events::catalog::{
    ContentData, ContentDeleted, ContentsImported, InteractionData, UserData, UserDeleted,
};
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;
use std::collections::HashMap;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 9] = [
    EventType::ContentCreated.as_str(),
    EventType::ContentImported.as_str(),
    EventType::ContentUpdated.as_str(),
    EventType::ContentDeleted.as_str(),
    EventType::UserCreated.as_str(),
    EventType::UserUpdated.as_str(),
    EventType::UserDeleted.as_str(),
    EventType::InteractionCreated.as_str(),
    EventType::InteractionDeleted.as_str(),
];

/// The interactions' kind that counts as a read.
const READ: &str = "READ";

/// Applies a batch of events, in order.
pub async fn apply(
    search: &SearchState,
    tx: &DatabaseTransaction,
    payloads: Vec<Payload>,
) -> Result<()> {
    // The names of the batch's authors, for their suggestions: one query.
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    for payload in &payloads {
        match payload {
            Payload::ContentCreated(c) | Payload::ContentUpdated(c) => {
                names.insert(c.author_id.clone(), None);
            }
            Payload::ContentImported(ContentsImported { contents }) => {
                for c in contents {
                    names.insert(c.author_id.clone(), None);
                }
            }
            _ => {}
        }
    }
    if !names.is_empty() {
        let ids: Vec<&str> = names.keys().map(String::as_str).collect();
        let known = author_names(tx, &ids).await?;
        for (id, name) in known {
            names.insert(id, Some(name));
        }
    }
    let name_of = |c: &ContentData| names.get(&c.author_id).cloned().flatten();
    let mut changes = Vec::with_capacity(payloads.len());
    for payload in payloads {
        match payload {
            Payload::ContentCreated(c) => {
                let name = name_of(&c);
                changes.push(Change::Put(indexed(c, name)));
            }
            Payload::ContentUpdated(c) => {
                let name = name_of(&c);
                changes.push(Change::Put(indexed(c, name)));
            }
            Payload::ContentImported(ContentsImported { contents }) => {
                changes.extend(contents.into_iter().map(|c| {
                    let name = name_of(&c);
                    Change::Put(indexed(c, name))
                }));
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
                changes.push(Change::RenameAuthor {
                    id: id.clone(),
                    name: format!("{first_name} {last_name}"),
                });
            }
            Payload::UserDeleted(UserDeleted { id }) => {
                delete_author(tx, &id).await?;
                changes.push(Change::DeleteAuthor(id));
            }
            Payload::InteractionCreated(InteractionData {
                kind, content_id, ..
            }) if kind == READ => changes.push(Change::Read {
                content_id,
                delta: 1,
            }),
            Payload::InteractionDeleted(InteractionData {
                kind, content_id, ..
            }) if kind == READ => changes.push(Change::Read {
                content_id,
                delta: -1,
            }),
            // Likes, and types not in `KINDS`, change nothing here.
            _ => {}
        }
    }
    search.index.apply(changes).await
}

fn indexed(c: ContentData, author_name: Option<String>) -> IndexedContent {
    IndexedContent {
        author_name,
        id: c.id,
        author_id: c.author_id,
        title: c.title,
        description: c.description,
        story: c.story,
        tags: c.tags,
        published_ms: c.published_at.timestamp_millis(),
    }
}
