//! Mutations of the shop subgraph.

use super::types::{Cart, Order, Product, is_buyer_or_admin};
use crate::ShopState;
use crate::domain::{PriceAmount, ProductDescription, ProductName, Quantity, Stock};
use crate::store::{NewProduct, ProductChanges};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use folio_common::input::{optional, required};
use folio_common::{Error, Id, Viewer};

/// A new product.
#[derive(InputObject)]
pub struct ProductInput {
    pub name: String,
    pub description: Option<String>,
    /// Minor units, 0 to 1,000,000 (so that 20 items of 99 units always fit in an Int).
    pub price_amount: i32,
    /// ISO 4217 in upper case, and the shop's currency (FOLIO_SHOP_CURRENCY, default
    /// EUR); anything else is BAD_USER_INPUT.
    pub currency: String,
    /// 0 to 1,000,000.
    pub stock: i32,
    /// Null counts as the default.
    #[graphql(default_with = "Some(true)")]
    pub active: Option<bool>,
}

/// Changes to a product: an absent field stays as it is.
#[derive(InputObject)]
pub struct ProductPatch {
    pub name: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub price_amount: MaybeUndefined<i32>,
    pub stock: MaybeUndefined<i32>,
    pub active: MaybeUndefined<bool>,
}

const ADMINS_ONLY: &str = "only an admin may change the shop's products";

fn product_id(raw: &str) -> Result<Id, Error> {
    Id::parse_or_not_found(raw, "product")
}

fn quantity(n: i32) -> Result<Quantity, Error> {
    Quantity::parse(n).map_err(|e| e.on("quantity"))
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Admins.
    async fn create_product(&self, ctx: &Context<'_>, input: ProductInput) -> Result<Product> {
        let admin = ctx.data::<Viewer>()?.require_admin(ADMINS_ONLY)?;
        let state = ctx.data::<ShopState>()?;
        let new = NewProduct {
            name: ProductName::parse(&input.name).map_err(|e| e.on("name"))?,
            description: match input.description.as_deref() {
                Some(d) => ProductDescription::parse(d).map_err(|e| e.on("description"))?,
                None => None,
            },
            price: PriceAmount::parse(input.price_amount).map_err(|e| e.on("priceAmount"))?,
            currency: state
                .currency
                .parse(&input.currency)
                .map_err(|e| e.on("currency"))?,
            stock: Stock::parse(input.stock).map_err(|e| e.on("stock"))?,
            active: input.active.unwrap_or(true),
        };
        Ok(Product(state.store.create_product(&admin, new).await?))
    }

    /// Admins.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        patch: ProductPatch,
    ) -> Result<Product> {
        let admin = ctx.data::<Viewer>()?.require_admin(ADMINS_ONLY)?;
        let changes = ProductChanges {
            name: required(patch.name, "name", |s| ProductName::parse(s))?,
            description: optional(patch.description, "description", |s| {
                ProductDescription::parse(s)
            })?
            .map(Option::flatten),
            price: required(patch.price_amount, "priceAmount", |n| {
                PriceAmount::parse(*n)
            })?,
            stock: required(patch.stock, "stock", |n| Stock::parse(*n))?,
            active: required(patch.active, "active", |b| Ok(*b))?,
        };
        let id = product_id(&id)?;
        let state = ctx.data::<ShopState>()?;
        Ok(Product(
            state.store.update_product(&admin, &id, changes).await?,
        ))
    }

    /// Admins. A product in any cart or order is deactivated instead; true either way.
    /// An unknown id is NOT_FOUND.
    async fn delete_product(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let admin = ctx.data::<Viewer>()?.require_admin(ADMINS_ONLY)?;
        let id = product_id(&id)?;
        let state = ctx.data::<ShopState>()?;
        state.store.delete_product(&admin, &id).await?;
        Ok(true)
    }

    /// Signed in. quantity 1 to 99, added to what the cart already holds (at most 99 in
    /// all, and at most 20 different products): more is BAD_USER_INPUT. An inactive or
    /// unknown product is NOT_FOUND. Stock is not checked here (checkout does).
    async fn add_to_cart(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        #[graphql(default_with = "Some(1)")] quantity: Option<i32>,
    ) -> Result<Cart> {
        let user = ctx.data::<Viewer>()?.require_user()?;
        let quantity = quantity
            .ok_or_else(|| Error::validation("quantity", "must not be null"))
            .and_then(self::quantity)?;
        let product = self::product_id(&product_id)?;
        let state = ctx.data::<ShopState>()?;
        let rows = state.store.add_to_cart(&user, &product, quantity).await?;
        Cart::load(ctx, rows).await
    }

    /// Signed in. 0 to 99; 0 removes the item; a product not yet in the cart is added
    /// (same rules as addToCart).
    async fn set_cart_quantity(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        quantity: i32,
    ) -> Result<Cart> {
        let user = ctx.data::<Viewer>()?.require_user()?;
        let quantity = Quantity::parse_or_zero(quantity).map_err(|e| e.on("quantity"))?;
        let product = self::product_id(&product_id)?;
        let state = ctx.data::<ShopState>()?;
        let rows = state
            .store
            .set_cart_quantity(&user, &product, quantity)
            .await?;
        Cart::load(ctx, rows).await
    }

    /// Signed in. A product not in the cart changes nothing.
    async fn remove_from_cart(&self, ctx: &Context<'_>, product_id: ID) -> Result<Cart> {
        let user = ctx.data::<Viewer>()?.require_user()?;
        let state = ctx.data::<ShopState>()?;
        let rows = match Id::parse(&product_id) {
            Ok(product) => state.store.remove_from_cart(&user, &product).await?,
            // No product has such an id, so no cart holds it.
            Err(_) => state.store.cart(&user).await?,
        };
        Cart::load(ctx, rows).await
    }

    /// Signed in.
    async fn clear_cart(&self, ctx: &Context<'_>) -> Result<Cart> {
        let user = ctx.data::<Viewer>()?.require_user()?;
        let state = ctx.data::<ShopState>()?;
        let rows = state.store.clear_cart(&user).await?;
        Cart::load(ctx, rows).await
    }

    /// Signed in. Turns the cart into an order in one transaction: stock decremented,
    /// cart emptied. An empty cart is BAD_USER_INPUT; not enough stock, or an inactive
    /// product in the cart, is CONFLICT with the product ids in extensions.products,
    /// and nothing changes.
    async fn checkout(&self, ctx: &Context<'_>) -> Result<Order> {
        let user = ctx.data::<Viewer>()?.require_user()?;
        let state = ctx.data::<ShopState>()?;
        let placed = state.store.checkout(&user).await?;
        Ok(Order::new(placed.order, Some(placed.items))?)
    }

    /// The buyer or an admin (anyone else signed in: FORBIDDEN): the order becomes
    /// CANCELLED and its stock returns. Cancelling twice is CONFLICT.
    async fn cancel_order(&self, ctx: &Context<'_>, id: ID) -> Result<Order> {
        let viewer = ctx.data::<Viewer>()?;
        let actor = viewer.require_user()?;
        let id = Id::parse_or_not_found(&id, "order")?;
        let state = ctx.data::<ShopState>()?;
        let cancelled = state
            .store
            .cancel_order(&actor, &id, |buyer| {
                if is_buyer_or_admin(viewer, buyer) {
                    Ok(())
                } else {
                    Err(Error::forbidden(
                        "only the buyer or an admin may cancel an order",
                    ))
                }
            })
            .await?;
        Ok(Order::new(cancelled.order, Some(cancelled.items))?)
    }
}
