//! `User`, an entity of the users subgraph, extended here with the user's cart and
//! orders. This subgraph knows a user only by id.

use super::types::{Cart, Order, OrderConnection};
use crate::ShopState;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Id, Viewer};

/// A reference to a user of the users subgraph.
#[derive(Clone)]
pub struct User {
    /// The id as the reference gave it, which `id` answers with.
    id: String,
    /// The same id parsed; `None` when no user can have it, so the user has nothing here.
    key: Option<Id>,
}

impl User {
    pub fn reference(id: String) -> Self {
        User {
            key: Id::parse(&id).ok(),
            id,
        }
    }

    /// The user's id, when the viewer may see their shop data (themself or an admin).
    fn visible(&self, ctx: &Context<'_>) -> Result<Option<Id>> {
        let viewer = ctx.data::<Viewer>()?;
        Ok(self
            .key
            .clone()
            .filter(|id| viewer.is_self_or_admin(id.as_str())))
    }
}

#[Object(extends)]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// The user themself or an admin (null for anyone else). Empty until something is
    /// added.
    async fn cart(&self, ctx: &Context<'_>) -> Result<Option<Cart>> {
        let Some(id) = self.visible(ctx)? else {
            return Ok(None);
        };
        let state = ctx.data::<ShopState>()?;
        let rows = state.store.cart(&id).await?;
        Ok(Some(Cart::load(ctx, rows).await?))
    }

    /// The user themself or an admin (null for anyone else); newest first.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<OrderConnection>> {
        let page = PageRequest::parse(first, after)?;
        let Some(id) = self.visible(ctx)? else {
            return Ok(None);
        };
        let state = ctx.data::<ShopState>()?;
        let rows = state.store.orders_of(&id, &page).await?;
        let mut edges = Vec::with_capacity(rows.edges.len());
        for (cursor, row) in rows.edges {
            edges.push((cursor, Order::new(row, None)?));
        }
        Ok(Some(
            Page {
                edges,
                has_next_page: rows.has_next_page,
                total_count: rows.total_count,
            }
            .into(),
        ))
    }
}
