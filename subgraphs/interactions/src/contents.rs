//! Which contents exist, as far as this subgraph needs to know.
//!
//! The interactions subgraph never reads the content database. A content it has not seen
//! yet is looked up once, over GraphQL, in the content subgraph (`_entities` with a
//! `Content` representation: its id, author and publication time); what it learns is kept
//! in `content_stats`, the row that also holds the content's counters. The consumer also
//! remembers a content from `content.created` (so it is usually known before anyone likes
//! it) and forgets it, with its interactions and comments, on `content.deleted`. Asking on
//! first use as well as listening means a like right after `createContent` never races
//! the event. Between a deletion and its event a deleted content stays known here (and the
//! content subgraph resolves references to it from its tombstone), and `topContents`
//! leaves out ids the content subgraph no longer has. Once the event is applied, the id
//! is in `forgotten_contents` and every write on it is NOT_FOUND.

use crate::store::{ContentFacts, StatsRow, Store};
use folio_common::client::lookup_content;
use folio_common::{Error, Id, Result, ServiceClient};

/// Answers "does this content exist, and whose is it".
#[derive(Clone, Debug)]
pub struct ContentDirectory {
    store: Store,
    content: ServiceClient,
}

impl ContentDirectory {
    pub fn new(store: Store, content: ServiceClient) -> Self {
        ContentDirectory { store, content }
    }

    /// The content `id` as this subgraph knows it: from its own table, or else from the
    /// content subgraph (then remembered). `NOT_FOUND` when it does not exist;
    /// `SUBGRAPH_UNAVAILABLE` when the content subgraph cannot say.
    pub async fn require(&self, id: &Id) -> Result<StatsRow> {
        if let Some(known) = self.store.known_content(id).await? {
            return Ok(known);
        }
        // The content subgraph still resolves a deleted content's references for a
        // while (its tombstones); what this subgraph was told is deleted stays deleted.
        if self.store.forgotten(id).await? {
            return Err(Error::NotFound("content"));
        }
        let Some(found) = lookup_content(&self.content, id).await? else {
            return Err(Error::NotFound("content"));
        };
        self.store
            .remember_content(&ContentFacts {
                content_id: id.clone(),
                author_id: found.author_id,
                published_at: found.published_at,
            })
            .await?;
        self.store
            .known_content(id)
            .await?
            .ok_or_else(|| Error::internal("a remembered content is missing"))
    }
}
