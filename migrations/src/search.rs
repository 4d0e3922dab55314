//! Migrations of the search subgraph's database. The index itself is tantivy's, on
//! local disk; the database holds what the index is fed from besides contents:
//!
//! - `search_authors`: every user's id and names (from `user.*` events), so `author:ada`
//!   finds the ids of the users named Ada, and a rename changes no document. The names
//!   are also kept lower-cased (`first_key`, `last_key`), each with an index.
//! - its event tables (`folio_common::events`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The search database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own bookkeeping table, so that services sharing one database (or one
    /// PostgreSQL schema) never read each other's migration history.
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_search").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateAuthors),
            Box::new(crate::events::EventTables { service: "search" }),
            Box::new(crate::events::UnpublishedIndex { service: "search" }),
        ]
    }
}

struct CreateAuthors;

impl MigrationName for CreateAuthors {
    fn name(&self) -> &str {
        "m20261130_000001_search_authors"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SearchAuthors {
    Table,
    Id,
    FirstName,
    LastName,
    FirstKey,
    LastKey,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuthors {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SearchAuthors::Table)
                .col(string(SearchAuthors::Id).primary_key())
                .col(string(SearchAuthors::FirstName))
                .col(string(SearchAuthors::LastName))
                .col(string(SearchAuthors::FirstKey))
                .col(string(SearchAuthors::LastKey))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("search_authors_first", SearchAuthors::FirstKey),
            ("search_authors_last", SearchAuthors::LastKey),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(SearchAuthors::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SearchAuthors::Table).to_owned())
            .await
    }
}
