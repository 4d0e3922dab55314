//! Per-request batch loaders: the contents that one request resolves by reference
//! (federation `_entities`) are one query, plus one for tombstones when some are gone.

use crate::store::{ContentRow, Store};
use async_graphql::dataloader::Loader;
use folio_common::{Error, Id};
use std::collections::HashMap;

/// Batches the content subgraph's lookups within one request.
pub struct ContentLoader {
    store: Store,
}

impl ContentLoader {
    pub fn new(store: Store) -> Self {
        ContentLoader { store }
    }
}

/// A content by id. Loading one never counts a view.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContentKey(pub Id);

impl Loader<ContentKey> for ContentLoader {
    type Value = ContentRow;
    type Error = Error;

    async fn load(&self, keys: &[ContentKey]) -> Result<HashMap<ContentKey, ContentRow>, Error> {
        let ids: Vec<Id> = keys.iter().map(|k| k.0.clone()).collect();
        let mut rows = self.store.referenced_contents(&ids).await?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(k.0.as_str()).map(|c| (k.clone(), c)))
            .collect())
    }
}
