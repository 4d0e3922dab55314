//! The shop's object types: `Money`, `Product`, `Cart` and its items, `Order` and its
//! items.

use super::loaders::{OrderItemsKey, ProductKey, ShopLoader};
use super::user::User;
use crate::ShopState;
use crate::store::{CartRows, OrderItemRow, OrderRow, ProductRow};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, ID, Object, Result, SimpleObject};
use chrono::Utc;
use folio_common::{DateTime, Error, Id};

/// An exact amount: integer minor units (cents) of an ISO 4217 currency.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: i32,
    pub currency: String,
}

impl Money {
    /// `amount` minor units of `currency`. Amounts the shop stores are bounded so that
    /// any cart or order total fits in an `Int` (see `PriceAmount`); one that did not
    /// would be a broken invariant.
    pub fn new(amount: i64, currency: &str) -> Result<Self, Error> {
        Ok(Money {
            amount: i32::try_from(amount)
                .map_err(|_| Error::internal(format!("an amount of {amount} overflows an Int")))?,
            currency: currency.to_owned(),
        })
    }
}

/// A product of the shop.
#[derive(Clone)]
pub struct Product(pub ProductRow);

#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// 1 to 200 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// At most 2,000 characters.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn price(&self) -> Result<Money> {
        Ok(Money::new(self.0.price_amount, &self.0.currency)?)
    }
    /// Units left; never negative.
    async fn stock(&self) -> i32 {
        i32::try_from(self.0.stock).unwrap_or(i32::MAX)
    }
    /// Inactive products are hidden from non-admins and cannot be added to a cart.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
}

folio_common::connection!(ProductConnection, ProductEdge, Product);

/// One product in a cart.
#[derive(SimpleObject, Clone)]
pub struct CartItem {
    pub product: Product,
    /// 1 to 99.
    pub quantity: i32,
    /// price.amount x quantity, in the product's currency.
    pub line_total: Money,
}

/// A user's cart.
#[derive(SimpleObject, Clone)]
pub struct Cart {
    /// At most 20 different products; oldest added first. A product deactivated later
    /// stays, shown as inactive.
    pub items: Vec<CartItem>,
    /// Sum of the line totals (one currency per shop).
    pub total: Money,
    /// The last change; the moment of reading for a cart never used.
    pub updated_at: DateTime,
}

impl Cart {
    /// The cart of `rows`, with its products (one batched lookup).
    pub async fn load(ctx: &Context<'_>, rows: CartRows) -> Result<Cart> {
        let state = ctx.data::<ShopState>()?;
        let loader = ctx.data::<DataLoader<ShopLoader>>()?;
        let keys: Vec<ProductKey> = rows
            .items
            .iter()
            .filter_map(|i| Id::parse(&i.product_id).ok().map(ProductKey))
            .collect();
        let products = loader.load_many(keys).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        let mut total = 0i64;
        for item in rows.items {
            // A line whose product was deleted meanwhile is no line (see the store).
            let Some(product) = Id::parse(&item.product_id)
                .ok()
                .and_then(|id| products.get(&ProductKey(id)))
            else {
                continue;
            };
            let line = product.price_amount * i64::from(item.quantity);
            total += line;
            items.push(CartItem {
                line_total: Money::new(line, &product.currency)?,
                quantity: item.quantity,
                product: Product(product.clone()),
            });
        }
        Ok(Cart {
            items,
            total: Money::new(total, state.currency.as_str())?,
            updated_at: rows.updated_at.unwrap_or_else(Utc::now).into(),
        })
    }
}

/// Where an order stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderStatus {
    Placed,
    Cancelled,
}

/// One line of an order.
#[derive(SimpleObject, Clone)]
pub struct OrderItem {
    pub product: Product,
    pub quantity: i32,
    /// The price when the order was placed.
    pub unit_price: Money,
    pub line_total: Money,
}

/// What a checkout sold.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Order {
    pub id: ID,
    pub total: Money,
    pub status: OrderStatus,
    pub placed_at: DateTime,
    #[graphql(skip)]
    pub row: OrderRow,
    /// The lines, when already at hand (a checkout's or a cancellation's answer).
    #[graphql(skip)]
    pub lines: Option<Vec<OrderItemRow>>,
}

/// Whether `viewer` may see and cancel an order of `buyer` (`None`: the buyer's account
/// is gone): the buyer and admins.
pub fn is_buyer_or_admin(viewer: &folio_common::Viewer, buyer: Option<&str>) -> bool {
    buyer.map_or(viewer.is_admin, |b| viewer.is_self_or_admin(b))
}

impl Order {
    pub fn new(row: OrderRow, lines: Option<Vec<OrderItemRow>>) -> Result<Self, Error> {
        Ok(Order {
            id: ID(row.id.clone()),
            total: Money::new(row.total_amount, &row.currency)?,
            status: if row.status == crate::store::CANCELLED {
                OrderStatus::Cancelled
            } else {
                OrderStatus::Placed
            },
            placed_at: row.placed_at.into(),
            row,
            lines,
        })
    }
}

#[ComplexObject]
impl Order {
    /// Null once the buyer's account is deleted (orders are kept as the shop's records).
    async fn buyer(&self) -> Option<User> {
        self.row.buyer_id.clone().map(User::reference)
    }

    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<OrderItem>> {
        let loader = ctx.data::<DataLoader<ShopLoader>>()?;
        let lines = match &self.lines {
            Some(lines) => lines.clone(),
            None => {
                let id = Id::stored(&self.row.id)?;
                loader
                    .load_one(OrderItemsKey(id))
                    .await?
                    .unwrap_or_default()
            }
        };
        let keys: Vec<ProductKey> = lines
            .iter()
            .filter_map(|l| Id::parse(&l.product_id).ok().map(ProductKey))
            .collect();
        let products = loader.load_many(keys).await?;
        let mut items = Vec::with_capacity(lines.len());
        for line in lines {
            // A product in an order is never deleted (it is deactivated instead).
            let product = Id::parse(&line.product_id)
                .ok()
                .and_then(|id| products.get(&ProductKey(id)))
                .ok_or_else(|| Error::internal("an ordered product is missing"))?;
            items.push(OrderItem {
                product: Product(product.clone()),
                quantity: line.quantity,
                unit_price: Money::new(line.unit_amount, &self.row.currency)?,
                line_total: Money::new(
                    line.unit_amount * i64::from(line.quantity),
                    &self.row.currency,
                )?,
            });
        }
        Ok(items)
    }
}

folio_common::connection!(OrderConnection, OrderEdge, Order);
