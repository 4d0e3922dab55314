//! Per-request batch loaders: the products, orders and order lines that one request resolves
//! (federation `_entities`, a cart's or an order's lines) are one query each, however
//! many the request names.

use crate::store::{OrderItemRow, OrderRow, ProductRow, Store};
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

/// An order by id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderKey(pub Id);

/// The lines of an order, by the order's id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrderItemsKey(pub Id);

fn ids<K>(keys: &[K], id: impl Fn(&K) -> &Id) -> Vec<Id> {
    keys.iter().map(|k| id(k).clone()).collect()
}

/// The rows found (by id) for the keys that have one.
fn found<K: Clone + Eq + std::hash::Hash, V>(
    keys: &[K],
    id: impl Fn(&K) -> &Id,
    mut rows: HashMap<String, V>,
) -> HashMap<K, V> {
    keys.iter()
        .filter_map(|k| rows.remove(id(k).as_str()).map(|r| (k.clone(), r)))
        .collect()
}

impl Loader<ProductKey> for ShopLoader {
    type Value = ProductRow;
    type Error = Error;

    async fn load(&self, keys: &[ProductKey]) -> Result<HashMap<ProductKey, ProductRow>, Error> {
        let rows = self.store.products_by_ids(&ids(keys, |k| &k.0)).await?;
        Ok(found(keys, |k| &k.0, rows))
    }
}

impl Loader<OrderKey> for ShopLoader {
    type Value = OrderRow;
    type Error = Error;

    async fn load(&self, keys: &[OrderKey]) -> Result<HashMap<OrderKey, OrderRow>, Error> {
        let rows = self.store.orders_by_ids(&ids(keys, |k| &k.0)).await?;
        Ok(found(keys, |k| &k.0, rows))
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
