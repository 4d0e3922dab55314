//! Per-request batch loaders: the products and order lines that one request resolves
//! (federation `_entities`, a cart's or an order's lines) are one query each, however
//! many the request names.

use crate::store::{OrderItemRow, ProductRow, Store};
use async_graphql::dataloader::Loader;
use folio_common::{Error, Id};
use std::collections::HashMap;

/// Batches the shop subgraph's lookups within one request.
pub struct ShopLoader {
    store: Store,
}

impl ShopLoader {
    pub fn new(store: Store) -> Self {
        ShopLoader { store }
    }
}

/// A product by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProductKey(pub Id);

/// The lines of an order, by the order's id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderItemsKey(pub Id);

fn ids<K>(keys: &[K], id: impl Fn(&K) -> &Id) -> Vec<Id> {
    keys.iter().map(|k| id(k).clone()).collect()
}

impl Loader<ProductKey> for ShopLoader {
    type Value = ProductRow;
    type Error = Error;

    async fn load(&self, keys: &[ProductKey]) -> Result<HashMap<ProductKey, ProductRow>, Error> {
        let mut rows = self.store.products_by_ids(&ids(keys, |k| &k.0)).await?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(k.0.as_str()).map(|r| (k.clone(), r)))
            .collect())
    }
}

impl Loader<OrderItemsKey> for ShopLoader {
    type Value = Vec<OrderItemRow>;
    type Error = Error;

    async fn load(
        &self,
        keys: &[OrderItemsKey],
    ) -> Result<HashMap<OrderItemsKey, Vec<OrderItemRow>>, Error> {
        let mut rows = self.store.order_items(&ids(keys, |k| &k.0)).await?;
        Ok(keys
            .iter()
            .map(|k| (k.clone(), rows.remove(k.0.as_str()).unwrap_or_default()))
            .collect())
    }
}
