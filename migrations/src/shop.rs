//! Migrations of the shop subgraph's database.
//!
//! - `products`: the catalogue. Prices are integer minor units (`price_amount`) of one
//!   currency, never floats; `stock` never goes below zero (every decrement is a
//!   conditional `UPDATE … WHERE stock >= n`); `name_key` is the name lower-cased, for
//!   the case-insensitive `search`.
//! - `carts` and `cart_items`: one cart per user (a row once something was added; its
//!   `updated_at` is the cart's, and writing it first is what serialises one user's
//!   concurrent cart changes on PostgreSQL), its items keyed by user and product.
//! - `orders` and `order_items`: what a checkout sold, with each line's price at the
//!   time; `buyer_id` is cleared when the buyer's account is deleted.
//! - its event tables (`folio_common::events`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The shop database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own bookkeeping table, so that services sharing one database (or one
    /// PostgreSQL schema) never read each other's migration history.
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_shop").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateTables),
            Box::new(crate::events::EventTables { service: "shop" }),
            Box::new(crate::events::UnpublishedIndex { service: "shop" }),
        ]
    }
}

struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20261201_000001_shop"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    Id,
    Name,
    NameKey,
    Description,
    PriceAmount,
    Currency,
    Stock,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Carts {
    Table,
    UserId,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CartItems {
    Table,
    UserId,
    ProductId,
    Quantity,
    AddedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    BuyerId,
    TotalAmount,
    Currency,
    Status,
    PlacedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderItems {
    Table,
    OrderId,
    Position,
    ProductId,
    Quantity,
    UnitAmount,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Products::Table)
                .col(string(Products::Id).primary_key())
                .col(string(Products::Name))
                .col(string(Products::NameKey))
                .col(text_null(Products::Description))
                .col(big_integer(Products::PriceAmount))
                .col(string(Products::Currency))
                .col(big_integer(Products::Stock))
                .col(boolean(Products::Active))
                .col(timestamp_with_time_zone(Products::CreatedAt))
                .col(timestamp_with_time_zone(Products::UpdatedAt))
                .check(Expr::col(Products::Stock).gte(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Carts::Table)
                .col(string(Carts::UserId).primary_key())
                .col(timestamp_with_time_zone(Carts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CartItems::Table)
                .col(string(CartItems::UserId))
                .col(string(CartItems::ProductId))
                .col(integer(CartItems::Quantity))
                .col(timestamp_with_time_zone(CartItems::AddedAt))
                .primary_key(
                    Index::create()
                        .col(CartItems::UserId)
                        .col(CartItems::ProductId),
                )
                .to_owned(),
        )
        .await?;
        // Whether a product is in some cart (`deleteProduct`).
        m.create_index(
            Index::create()
                .name("cart_items_product")
                .table(CartItems::Table)
                .col(CartItems::ProductId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(string(Orders::Id).primary_key())
                .col(string_null(Orders::BuyerId))
                .col(big_integer(Orders::TotalAmount))
                .col(string(Orders::Currency))
                .col(string(Orders::Status))
                .col(timestamp_with_time_zone(Orders::PlacedAt))
                .col(timestamp_with_time_zone(Orders::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // A buyer's orders, newest first (ids are UUID v7).
        m.create_index(
            Index::create()
                .name("orders_buyer")
                .table(Orders::Table)
                .col(Orders::BuyerId)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrderItems::Table)
                .col(string(OrderItems::OrderId))
                .col(integer(OrderItems::Position))
                .col(string(OrderItems::ProductId))
                .col(integer(OrderItems::Quantity))
                .col(big_integer(OrderItems::UnitAmount))
                .primary_key(
                    Index::create()
                        .col(OrderItems::OrderId)
                        .col(OrderItems::Position),
                )
                .to_owned(),
        )
        .await?;
        // Whether a product is in some order (`deleteProduct`).
        m.create_index(
            Index::create()
                .name("order_items_product")
                .table(OrderItems::Table)
                .col(OrderItems::ProductId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            CartItems::Table.into_iden(),
            Carts::Table.into_iden(),
            Products::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
