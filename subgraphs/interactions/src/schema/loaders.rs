//! Per-request batch loaders: the counters, the viewer's reads and likes, and the
//! comments that one request resolves (federation `_entities` included) are one query
//! each, however many contents the request names.

use crate::domain::Kind;
use crate::store::{CommentRow, StatsRow, Store};
use async_graphql::dataloader::Loader;
use folio_common::{Error, Id};
use std::collections::HashMap;

/// Batches the interactions subgraph's lookups within one request.
pub struct InteractionsLoader {
    store: Store,
    /// The signed-in viewer, for `viewerHasRead` / `viewerHasLiked`.
    viewer_id: Option<Id>,
}

impl InteractionsLoader {
    pub fn new(store: Store, viewer_id: Option<Id>) -> Self {
        InteractionsLoader { store, viewer_id }
    }
}

/// A content's counters (absent when nobody interacted with it yet).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatsKey(pub Id);

/// What the viewer did to a content.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ViewerKey(pub Id);

/// The viewer's READ and LIKE of one content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViewerDid {
    pub read: bool,
    pub liked: bool,
}

/// A comment by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CommentKey(pub Id);

fn ids<K>(keys: &[K], id: impl Fn(&K) -> &Id) -> Vec<Id> {
    keys.iter().map(|k| id(k).clone()).collect()
}

impl Loader<StatsKey> for InteractionsLoader {
    type Value = StatsRow;
    type Error = Error;

    async fn load(&self, keys: &[StatsKey]) -> Result<HashMap<StatsKey, StatsRow>, Error> {
        let mut rows = self.store.stats_by_ids(&ids(keys, |k| &k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(k.0.as_str()).map(|r| (k.clone(), r)))
            .collect())
    }
}

impl Loader<ViewerKey> for InteractionsLoader {
    type Value = ViewerDid;
    type Error = Error;

    async fn load(&self, keys: &[ViewerKey]) -> Result<HashMap<ViewerKey, ViewerDid>, Error> {
        let Some(viewer) = &self.viewer_id else {
            return Ok(HashMap::new());
        };
        let kinds = self
            .store
            .viewer_kinds(viewer, &ids(keys, |k| &k.0))
            .await?;
        let mut by_content: HashMap<&str, ViewerDid> = HashMap::new();
        for (content, kind) in &kinds {
            let did = by_content.entry(content.as_str()).or_default();
            match kind {
                Kind::Read => did.read = true,
                Kind::Like => did.liked = true,
            }
        }
        Ok(keys
            .iter()
            .filter_map(|k| by_content.get(k.0.as_str()).map(|did| (k.clone(), *did)))
            .collect())
    }
}

impl Loader<CommentKey> for InteractionsLoader {
    type Value = CommentRow;
    type Error = Error;

    async fn load(&self, keys: &[CommentKey]) -> Result<HashMap<CommentKey, CommentRow>, Error> {
        let mut rows = self.store.comments_by_ids(&ids(keys, |k| &k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(k.0.as_str()).map(|c| (k.clone(), c)))
            .collect())
    }
}
