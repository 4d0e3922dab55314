//! Queries of the shop subgraph, and the `Product`, `Order` and `User` entity resolvers.

use super::loaders::{OrderKey, ProductKey, ShopLoader};
use super::types::{Cart, Order, Product, ProductConnection, is_buyer_or_admin};
use super::user::User;
use crate::ShopState;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::PageRequest;
use folio_common::{Id, Viewer};

pub struct Query;

/// Order `id` if the viewer may see it (its buyer or an admin); `None` otherwise. Batched
/// per request, so an `_entities` fetch of many orders is one query.
async fn visible_order(ctx: &Context<'_>, id: &str) -> Result<Option<Order>> {
    let viewer = ctx.data::<Viewer>()?;
    let Ok(id) = Id::parse(id) else {
        return Ok(None);
    };
    let loader = ctx.data::<DataLoader<ShopLoader>>()?;
    let Some(row) = loader.load_one(OrderKey(id)).await? else {
        return Ok(None);
    };
    if !is_buyer_or_admin(viewer, row.buyer_id.as_deref()) {
        return Ok(None);
    }
    Ok(Some(Order::new(row, None)?))
}

#[Object]
impl Query {
    /// Active products for everyone, all for admins; newest first; search matches the
    /// name, case-insensitively.
    async fn products(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ProductConnection> {
        let page = PageRequest::parse(first, after)?;
        let viewer = ctx.data::<Viewer>()?;
        let state = ctx.data::<ShopState>()?;
        // A text no name can hold (a NUL) matches nothing, as an empty list.
        let search = search.filter(|s| !s.trim().is_empty());
        if search
            .as_deref()
            .is_some_and(|s| !folio_common::db::is_storable_text(s))
        {
            return Ok(folio_common::pagination::Page::empty().into());
        }
        let rows = state
            .store
            .list_products(search.as_deref().map(str::trim), viewer.is_admin, &page)
            .await?;
        Ok(rows.map(Product).into())
    }

    /// Null when it does not exist, or is inactive and the viewer is not an admin.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let viewer = ctx.data::<Viewer>()?;
        let Ok(id) = Id::parse(&id) else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<ShopLoader>>()?;
        Ok(loader
            .load_one(ProductKey(id))
            .await?
            .filter(|p| p.active || viewer.is_admin)
            .map(Product))
    }

    /// Signed in: the viewer's cart.
    async fn my_cart(&self, ctx: &Context<'_>) -> Result<Cart> {
        let user = ctx.data::<Viewer>()?.require_user()?;
        let state = ctx.data::<ShopState>()?;
        let rows = state.store.cart(&user).await?;
        Cart::load(ctx, rows).await
    }

    /// The buyer or an admin; null for anyone else signed in; anonymous is
    /// UNAUTHENTICATED.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        ctx.data::<Viewer>()?.require_user()?;
        visible_order(ctx, &id).await
    }

    /// Federation: a `Product` reference resolves whether it is active or not (a cart or
    /// an order may hold an inactive one), batched per request.
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let Ok(id) = Id::parse(&id) else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<ShopLoader>>()?;
        Ok(loader.load_one(ProductKey(id)).await?.map(Product))
    }

    /// Federation: an `Order` reference, for its buyer or an admin (null for anyone else).
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        visible_order(ctx, &id).await
    }

    /// Federation: a `User` reference gets its cart and orders here.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User::reference(id.0)
    }
}
