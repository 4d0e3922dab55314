//! The shop database: every SQL the subgraph runs lives here, behind `Store`.
//!
//! Stock is exact under concurrency because it only moves by conditional statements
//! inside the checkout's or the cancellation's transaction: `UPDATE products SET stock =
//! stock - n WHERE id = ? AND active AND stock >= n` (on PostgreSQL the row lock makes a
//! concurrent checkout wait and re-check the condition; on SQLite writers take the lock
//! up front, `begin_write`), so stock never goes below zero and a checkout that finds one
//! line short rolls back all of them. Checkouts lock products in id order, so two of them
//! never wait on each other in a cycle. One user's cart changes are serialised by writing
//! the user's `carts` row first. A cart change reads its product with a shared lock and
//! `deleteProduct` takes an exclusive one before it looks for carts holding it, so a
//! product being added to a cart is never deleted from under the new line.

pub mod entity;

pub use entity::cart_items::Model as CartItemRow;
pub use entity::order_items::Model as OrderItemRow;
pub use entity::orders::Model as OrderRow;
pub use entity::products::Model as ProductRow;

use crate::domain::{
    Currency, MAX_CART_PRODUCTS, PriceAmount, ProductDescription, ProductName, Quantity, Stock,
};
use chrono::{DateTime, Utc};
use entity::cart_items::{self, Entity as CartItems};
use entity::carts::{self, Entity as Carts};
use entity::order_items::{self, Entity as OrderItems};
use entity::orders::{self, Entity as Orders};
use entity::products::{self, Entity as Products};
use folio_common::db::begin_write;
use folio_common::events::Payload;
use folio_common::events::catalog::{
    CartData, CartLine, OrderData, OrderLine, ProductData, ProductDeleted,
};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Error, Id, Result};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

folio_common::service_store! {
    /// Handle on the shop database (cheap to clone: a connection pool).
    pub struct Store("shop");
}

/// An order's status as stored.
pub const PLACED: &str = "PLACED";
pub const CANCELLED: &str = "CANCELLED";

/// A new product, validated.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: ProductName,
    pub description: Option<ProductDescription>,
    pub price: PriceAmount,
    pub currency: Currency,
    pub stock: Stock,
    pub active: bool,
}

/// A partial update of a product, validated: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    /// `Some(None)` clears it.
    pub description: Option<Option<ProductDescription>>,
    pub price: Option<PriceAmount>,
    pub stock: Option<Stock>,
    pub active: Option<bool>,
}

/// A user's cart: its items (oldest added first) and when it last changed (`None` for
/// a cart never used).
#[derive(Debug, Clone, Default)]
pub struct CartRows {
    pub items: Vec<CartItemRow>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// An order with its lines, in order.
#[derive(Debug, Clone)]
pub struct OrderWithItems {
    pub order: OrderRow,
    pub items: Vec<OrderItemRow>,
}

fn product_data(p: &ProductRow) -> ProductData {
    ProductData {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        price_amount: p.price_amount,
        currency: p.currency.clone(),
        stock: p.stock,
        active: p.active,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

fn order_data(o: &OrderWithItems) -> OrderData {
    OrderData {
        id: o.order.id.clone(),
        buyer_id: o.order.buyer_id.clone(),
        items: o
            .items
            .iter()
            .map(|i| OrderLine {
                product_id: i.product_id.clone(),
                quantity: i64::from(i.quantity),
                unit_amount: i.unit_amount,
            })
            .collect(),
        total_amount: o.order.total_amount,
        currency: o.order.currency.clone(),
        status: o.order.status.clone(),
        placed_at: o.order.placed_at,
    }
}

/// `text` with LIKE's wildcards escaped (`\` is the escape character).
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The items of `user`'s cart, oldest added first.
async fn cart_items<C: ConnectionTrait>(db: &C, user: &str) -> Result<Vec<CartItemRow>> {
    Ok(CartItems::find()
        .filter(cart_items::Column::UserId.eq(user))
        .order_by_asc(cart_items::Column::AddedAt)
        .order_by_asc(cart_items::Column::ProductId)
        .all(db)
        .await?)
}

/// Writes `user`'s cart row (created on first use) with `now` as its last change. On
/// PostgreSQL this locks the row until the transaction ends, so one user's cart
/// changes and checkouts run one at a time.
async fn touch_cart<C: ConnectionTrait>(db: &C, user: &str, now: DateTime<Utc>) -> Result<()> {
    Carts::insert(carts::ActiveModel {
        user_id: Set(user.to_owned()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(carts::Column::UserId)
            .update_column(carts::Column::UpdatedAt)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// `cart.updated` for `user`'s cart as it now is.
fn cart_event(user: &str, items: &[CartItemRow], now: DateTime<Utc>) -> Payload {
    Payload::CartUpdated(CartData {
        user_id: user.to_owned(),
        items: items
            .iter()
            .map(|i| CartLine {
                product_id: i.product_id.clone(),
                quantity: i64::from(i.quantity),
            })
            .collect(),
        updated_at: now,
    })
}

/// What a cart change does to one product's line.
enum CartChange {
    /// Adds this many units to what the cart holds (at most 99 in all).
    Add(Quantity),
    /// Sets the line to this many units (`None` removes it).
    Set(Option<Quantity>),
    /// Removes the line.
    Remove,
}

impl Store {
    // ───────────── products ─────────────

    #[tracing::instrument(skip_all)]
    pub async fn create_product(&self, actor: &Id, new: NewProduct) -> Result<ProductRow> {
        let now = Utc::now();
        let row = ProductRow {
            id: folio_common::new_id(),
            name_key: new.name.key(),
            name: new.name.as_str().to_owned(),
            description: new.description.map(ProductDescription::into_string),
            price_amount: new.price.get(),
            currency: new.currency.as_str().to_owned(),
            stock: new.stock.get(),
            active: new.active,
            created_at: now,
            updated_at: now,
        };
        let tx = begin_write(&self.db).await?;
        Products::insert(products::ActiveModel::from(row.clone()))
            .exec_without_returning(&tx)
            .await?;
        self.outbox
            .emit(
                &tx,
                Some(actor.as_str()),
                Payload::ProductCreated(product_data(&row)),
            )
            .await?;
        self.outbox.commit(tx).await?;
        Ok(row)
    }

    /// Applies `changes` to product `id`; `NOT_FOUND` if there is none.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_product(
        &self,
        actor: &Id,
        id: &Id,
        changes: ProductChanges,
    ) -> Result<ProductRow> {
        // One statement, as content's `update_content`: only the fields given change,
        // so two admins' edits of different fields both hold.
        let mut update = Products::update_many()
            .col_expr(products::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(products::Column::Id.eq(id.as_str()));
        if let Some(name) = changes.name {
            update = update
                .col_expr(products::Column::Name, Expr::value(name.as_str()))
                .col_expr(products::Column::NameKey, Expr::value(name.key()));
        }
        if let Some(description) = changes.description {
            let d = description.map(ProductDescription::into_string);
            update = update.col_expr(products::Column::Description, Expr::value(d));
        }
        if let Some(price) = changes.price {
            update = update.col_expr(products::Column::PriceAmount, Expr::value(price.get()));
        }
        if let Some(stock) = changes.stock {
            // Stock is set as a whole only here, by an admin; checkouts move it relatively.
            update = update.col_expr(products::Column::Stock, Expr::value(stock.get()));
        }
        if let Some(active) = changes.active {
            update = update.col_expr(products::Column::Active, Expr::value(active));
        }
        let tx = begin_write(&self.db).await?;
        let Some(row) = update.exec_with_returning(&tx).await?.into_iter().next() else {
            return Err(Error::NotFound("product"));
        };
        self.outbox
            .emit(
                &tx,
                Some(actor.as_str()),
                Payload::ProductUpdated(product_data(&row)),
            )
            .await?;
        self.outbox.commit(tx).await?;
        Ok(row)
    }

    /// Deletes product `id`, or deactivates it when a cart or an order holds it;
    /// `NOT_FOUND` if there is none.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_product(&self, actor: &Id, id: &Id) -> Result<()> {
        let tx = begin_write(&self.db).await?;
        // Locked first: a cart change that is adding it holds a shared lock on it, so
        // either that change commits before the count below sees its line, or it
        // waits and then finds the product gone.
        let Some(row) = Products::find_by_id(id.as_str())
            .lock_exclusive()
            .one(&tx)
            .await?
        else {
            return Err(Error::NotFound("product"));
        };
        let in_cart = CartItems::find()
            .filter(cart_items::Column::ProductId.eq(id.as_str()))
            .one(&tx)
            .await?
            .is_some();
        let in_order = in_cart
            || OrderItems::find()
                .filter(order_items::Column::ProductId.eq(id.as_str()))
                .one(&tx)
                .await?
                .is_some();
        let event = if in_order {
            let now = Utc::now();
            Products::update_many()
                .col_expr(products::Column::Active, Expr::value(false))
                .col_expr(products::Column::UpdatedAt, Expr::value(now))
                .filter(products::Column::Id.eq(id.as_str()))
                .exec(&tx)
                .await?;
            Payload::ProductUpdated(product_data(&ProductRow {
                active: false,
                updated_at: now,
                ..row
            }))
        } else {
            Products::delete_by_id(id.as_str()).exec(&tx).await?;
            Payload::ProductDeleted(ProductDeleted { id: row.id })
        };
        self.outbox.emit(&tx, Some(actor.as_str()), event).await?;
        self.outbox.commit(tx).await?;
        Ok(())
    }

    pub async fn product(&self, id: &Id) -> Result<Option<ProductRow>> {
        Ok(Products::find_by_id(id.as_str()).one(&self.db).await?)
    }

    /// The products with these ids (any that exist), by id: one query.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn products_by_ids(&self, ids: &[Id]) -> Result<HashMap<String, ProductRow>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = Products::find()
            .filter(products::Column::Id.is_in(ids.iter().map(Id::as_str)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|p| (p.id.clone(), p)).collect())
    }

    /// A page of products, newest first (by id, a UUID v7): active ones only unless
    /// `inactive_too`; `search` (lower-cased) is a part of the name.
    #[tracing::instrument(skip_all)]
    pub async fn list_products(
        &self,
        search: Option<&str>,
        inactive_too: bool,
        page: &PageRequest,
    ) -> Result<Page<ProductRow>> {
        let mut cond = Condition::all();
        if !inactive_too {
            cond = cond.add(products::Column::Active.eq(true));
        }
        if let Some(search) = search {
            let pattern = format!("%{}%", like_escaped(&search.to_lowercase()));
            cond = cond.add(
                Expr::col(products::Column::NameKey).like(LikeExpr::new(pattern).escape('\\')),
            );
        }
        let total = Products::find()
            .filter(cond.clone())
            .count(&self.db)
            .await?;
        let mut select = Products::find()
            .filter(cond)
            .order_by_desc(products::Column::Id);
        if let Some(after) = &page.after {
            select = select.filter(products::Column::Id.lt(after.clone()));
        }
        let rows = select.limit(page.fetch_limit()).all(&self.db).await?;
        Ok(Page::from_rows(page, rows, total, |p| &p.id))
    }

    // ───────────── carts ─────────────

    /// `user`'s cart as it is.
    #[tracing::instrument(skip_all)]
    pub async fn cart(&self, user: &Id) -> Result<CartRows> {
        let updated_at = Carts::find_by_id(user.as_str())
            .one(&self.db)
            .await?
            .map(|c| c.updated_at);
        let items = cart_items(&self.db, user.as_str()).await?;
        Ok(CartRows { items, updated_at })
    }

    /// Adds `quantity` units of `product` to `user`'s cart.
    pub async fn add_to_cart(
        &self,
        user: &Id,
        product: &Id,
        quantity: Quantity,
    ) -> Result<CartRows> {
        self.change_cart(user, product, CartChange::Add(quantity))
            .await
    }

    /// Sets `product`'s line in `user`'s cart (`None` removes it).
    pub async fn set_cart_quantity(
        &self,
        user: &Id,
        product: &Id,
        quantity: Option<Quantity>,
    ) -> Result<CartRows> {
        self.change_cart(user, product, CartChange::Set(quantity))
            .await
    }

    /// Removes `product` from `user`'s cart (nothing if it is not there).
    pub async fn remove_from_cart(&self, user: &Id, product: &Id) -> Result<CartRows> {
        self.change_cart(user, product, CartChange::Remove).await
    }

    #[tracing::instrument(skip_all, fields(product = %product))]
    async fn change_cart(&self, user: &Id, product: &Id, change: CartChange) -> Result<CartRows> {
        let now = Utc::now();
        let tx = begin_write(&self.db).await?;
        touch_cart(&tx, user.as_str(), now).await?;
        let items = cart_items(&tx, user.as_str()).await?;
        let current = items.iter().find(|i| i.product_id == product.as_str());
        let wanted = match change {
            CartChange::Add(q) => {
                let total = current.map_or(0, |i| i64::from(i.quantity)) + q.get();
                if total > Quantity::MAX {
                    return Err(Error::validation(
                        "quantity",
                        format!(
                            "the cart would hold {total} of this product; at most {} in all",
                            Quantity::MAX
                        ),
                    ));
                }
                Some(total)
            }
            CartChange::Set(q) => q.map(Quantity::get),
            CartChange::Remove => None,
        };
        match wanted {
            Some(quantity) => {
                // Only an active product is added or changed; one deactivated while in
                // the cart stays there (shown as inactive) until removed.
                let on_sale = Products::find_by_id(product.as_str())
                    .lock_shared()
                    .one(&tx)
                    .await?
                    .is_some_and(|p| p.active);
                if !on_sale {
                    return Err(Error::NotFound("product"));
                }
                if current.is_none() && items.len() >= MAX_CART_PRODUCTS {
                    return Err(Error::validation(
                        "productId",
                        format!("a cart holds at most {MAX_CART_PRODUCTS} different products"),
                    ));
                }
                let quantity = i32::try_from(quantity).map_err(Error::internal)?;
                CartItems::insert(cart_items::ActiveModel {
                    user_id: Set(user.as_str().to_owned()),
                    product_id: Set(product.as_str().to_owned()),
                    quantity: Set(quantity),
                    added_at: Set(now),
                })
                .on_conflict(
                    OnConflict::columns([
                        cart_items::Column::UserId,
                        cart_items::Column::ProductId,
                    ])
                    .update_column(cart_items::Column::Quantity)
                    .to_owned(),
                )
                .exec_without_returning(&tx)
                .await?;
            }
            None => {
                if current.is_none() {
                    // Nothing to remove: nothing changes, and the cart row written above
                    // goes with the rollback.
                    tx.rollback().await?;
                    return self.cart(user).await;
                }
                CartItems::delete_many()
                    .filter(cart_items::Column::UserId.eq(user.as_str()))
                    .filter(cart_items::Column::ProductId.eq(product.as_str()))
                    .exec(&tx)
                    .await?;
            }
        }
        let items = cart_items(&tx, user.as_str()).await?;
        self.outbox
            .emit(
                &tx,
                Some(user.as_str()),
                cart_event(user.as_str(), &items, now),
            )
            .await?;
        self.outbox.commit(tx).await?;
        Ok(CartRows {
            items,
            updated_at: Some(now),
        })
    }

    /// Empties `user`'s cart.
    #[tracing::instrument(skip_all)]
    pub async fn clear_cart(&self, user: &Id) -> Result<CartRows> {
        let now = Utc::now();
        let tx = begin_write(&self.db).await?;
        touch_cart(&tx, user.as_str(), now).await?;
        CartItems::delete_many()
            .filter(cart_items::Column::UserId.eq(user.as_str()))
            .exec(&tx)
            .await?;
        self.outbox
            .emit(
                &tx,
                Some(user.as_str()),
                cart_event(user.as_str(), &[], now),
            )
            .await?;
        self.outbox.commit(tx).await?;
        Ok(CartRows {
            items: Vec::new(),
            updated_at: Some(now),
        })
    }

    // ───────────── orders ─────────────

    /// Turns `user`'s cart into an order in one transaction: each product's stock goes
    /// down by its quantity (only if enough is left and it is still on sale), the cart
    /// is emptied, `order.placed` and `cart.updated` are recorded. An empty cart is
    /// `BAD_USER_INPUT`; any line that cannot be sold is `CONFLICT` naming every such
    /// product, and nothing changes.
    #[tracing::instrument(skip_all)]
    pub async fn checkout(&self, user: &Id) -> Result<OrderWithItems> {
        let now = Utc::now();
        let tx = begin_write(&self.db).await?;
        touch_cart(&tx, user.as_str(), now).await?;
        let items = cart_items(&tx, user.as_str()).await?;
        if items.is_empty() {
            return Err(Error::validation("cart", "is empty: add a product first"));
        }
        // Lock (decrement) in product id order, so concurrent checkouts never deadlock.
        let mut by_id: Vec<&CartItemRow> = items.iter().collect();
        by_id.sort_by(|a, b| a.product_id.cmp(&b.product_id));
        let mut short = Vec::new();
        for item in &by_id {
            let sold = Products::update_many()
                .col_expr(
                    products::Column::Stock,
                    Expr::col(products::Column::Stock).sub(i64::from(item.quantity)),
                )
                .filter(products::Column::Id.eq(item.product_id.as_str()))
                .filter(products::Column::Active.eq(true))
                .filter(products::Column::Stock.gte(i64::from(item.quantity)))
                .exec(&tx)
                .await?;
            if sold.rows_affected == 0 {
                short.push(item.product_id.clone());
            }
        }
        if !short.is_empty() {
            tx.rollback().await?;
            // In the cart's order, as the client sees its items.
            let mut named: Vec<String> = items
                .iter()
                .filter(|i| short.contains(&i.product_id))
                .map(|i| i.product_id.clone())
                .collect();
            named.dedup();
            return Err(Error::Unsellable(named));
        }
        let ids: Vec<&str> = items.iter().map(|i| i.product_id.as_str()).collect();
        let prices: HashMap<String, ProductRow> = Products::find()
            .filter(products::Column::Id.is_in(ids))
            .all(&tx)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let order_id = folio_common::new_id();
        let mut lines = Vec::with_capacity(items.len());
        let mut total = 0i64;
        let mut currency = None;
        for (position, item) in items.iter().enumerate() {
            let product = prices
                .get(&item.product_id)
                .ok_or_else(|| Error::internal("a product sold in this checkout is gone"))?;
            total += product.price_amount * i64::from(item.quantity);
            currency.get_or_insert_with(|| product.currency.clone());
            lines.push(OrderItemRow {
                order_id: order_id.clone(),
                position: i32::try_from(position).map_err(Error::internal)?,
                product_id: item.product_id.clone(),
                quantity: item.quantity,
                unit_amount: product.price_amount,
            });
        }
        let order = OrderRow {
            id: order_id,
            buyer_id: Some(user.as_str().to_owned()),
            total_amount: total,
            currency: currency.unwrap_or_default(),
            status: PLACED.to_owned(),
            placed_at: now,
            updated_at: now,
        };
        Orders::insert(orders::ActiveModel::from(order.clone()))
            .exec_without_returning(&tx)
            .await?;
        OrderItems::insert_many(lines.iter().cloned().map(order_items::ActiveModel::from))
            .exec_without_returning(&tx)
            .await?;
        CartItems::delete_many()
            .filter(cart_items::Column::UserId.eq(user.as_str()))
            .exec(&tx)
            .await?;
        let placed = OrderWithItems {
            order,
            items: lines,
        };
        self.outbox
            .emit_all(
                &tx,
                Some(user.as_str()),
                [
                    Payload::OrderPlaced(order_data(&placed)),
                    cart_event(user.as_str(), &[], now),
                ],
            )
            .await?;
        self.outbox.commit(tx).await?;
        Ok(placed)
    }

    /// Cancels order `id` for `viewer` (its buyer or an admin: `allowed` says whether
    /// the viewer may, given the order's buyer), returning its stock, in one
    /// transaction. `NOT_FOUND`, `FORBIDDEN`, or `CONFLICT` when already cancelled.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn cancel_order(
        &self,
        actor: &Id,
        id: &Id,
        allowed: impl FnOnce(Option<&str>) -> Result<()>,
    ) -> Result<OrderWithItems> {
        let now = Utc::now();
        let tx = begin_write(&self.db).await?;
        let Some(order) = Orders::find_by_id(id.as_str()).one(&tx).await? else {
            return Err(Error::NotFound("order"));
        };
        allowed(order.buyer_id.as_deref())?;
        // Only a placed order becomes cancelled, once: the condition is re-checked
        // under the row's lock, so two concurrent cancellations return stock once.
        let changed = Orders::update_many()
            .col_expr(orders::Column::Status, Expr::value(CANCELLED))
            .col_expr(orders::Column::UpdatedAt, Expr::value(now))
            .filter(orders::Column::Id.eq(id.as_str()))
            .filter(orders::Column::Status.eq(PLACED))
            .exec(&tx)
            .await?;
        if changed.rows_affected == 0 {
            return Err(Error::Conflict {
                field: None,
                message: "the order is already cancelled".to_owned(),
            });
        }
        let mut items = OrderItems::find()
            .filter(order_items::Column::OrderId.eq(id.as_str()))
            .order_by_asc(order_items::Column::Position)
            .all(&tx)
            .await?;
        // In product id order, as checkouts lock them.
        items.sort_by(|a, b| a.product_id.cmp(&b.product_id));
        for item in &items {
            Products::update_many()
                .col_expr(
                    products::Column::Stock,
                    Expr::col(products::Column::Stock).add(i64::from(item.quantity)),
                )
                .filter(products::Column::Id.eq(item.product_id.as_str()))
                .exec(&tx)
                .await?;
        }
        items.sort_by_key(|i| i.position);
        let cancelled = OrderWithItems {
            order: OrderRow {
                status: CANCELLED.to_owned(),
                updated_at: now,
                ..order
            },
            items,
        };
        self.outbox
            .emit(
                &tx,
                Some(actor.as_str()),
                Payload::OrderCancelled(order_data(&cancelled)),
            )
            .await?;
        self.outbox.commit(tx).await?;
        Ok(cancelled)
    }

    /// The orders with these ids (any that exist), by id: one query.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn orders_by_ids(&self, ids: &[Id]) -> Result<HashMap<String, OrderRow>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = Orders::find()
            .filter(orders::Column::Id.is_in(ids.iter().map(Id::as_str)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|o| (o.id.clone(), o)).collect())
    }

    /// The lines of these orders, by order id, each in order: one query.
    #[tracing::instrument(skip_all, fields(orders = ids.len()))]
    pub async fn order_items(&self, ids: &[Id]) -> Result<HashMap<String, Vec<OrderItemRow>>> {
        let mut out: HashMap<String, Vec<OrderItemRow>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows = OrderItems::find()
            .filter(order_items::Column::OrderId.is_in(ids.iter().map(Id::as_str)))
            .order_by_asc(order_items::Column::OrderId)
            .order_by_asc(order_items::Column::Position)
            .all(&self.db)
            .await?;
        for row in rows {
            out.entry(row.order_id.clone()).or_default().push(row);
        }
        Ok(out)
    }

    /// A page of `buyer`'s orders, newest first (by id, a UUID v7).
    #[tracing::instrument(skip_all)]
    pub async fn orders_of(&self, buyer: &Id, page: &PageRequest) -> Result<Page<OrderRow>> {
        let cond = Condition::all().add(orders::Column::BuyerId.eq(buyer.as_str()));
        let total = Orders::find().filter(cond.clone()).count(&self.db).await?;
        let mut select = Orders::find()
            .filter(cond)
            .order_by_desc(orders::Column::Id);
        if let Some(after) = &page.after {
            select = select.filter(orders::Column::Id.lt(after.clone()));
        }
        let rows = select.limit(page.fetch_limit()).all(&self.db).await?;
        Ok(Page::from_rows(page, rows, total, |o| &o.id))
    }

    // ───────────── other services' events ─────────────

    /// `user.deleted`: the user's cart goes; their orders stay, without a buyer (they
    /// are the shop's records).
    pub async fn remove_user(&self, tx: &DatabaseTransaction, user: &Id) -> Result<()> {
        CartItems::delete_many()
            .filter(cart_items::Column::UserId.eq(user.as_str()))
            .exec(tx)
            .await?;
        Carts::delete_by_id(user.as_str()).exec(tx).await?;
        Orders::update_many()
            .col_expr(orders::Column::BuyerId, Expr::value(Option::<String>::None))
            .filter(orders::Column::BuyerId.eq(user.as_str()))
            .exec(tx)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::like_escaped;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escaped("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(like_escaped("mug"), "mug");
    }
}
