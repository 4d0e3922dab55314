//! Migrations of the content subgraph's database.

use sea_orm_migration::prelude::*;

mod m20261123_000001_contents;
mod m20261123_000002_search;
mod m20261130_000003_tombstones;
mod m20261130_000004_search_moves_out;

/// The content database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own bookkeeping table, so that services sharing one database (or one
    /// PostgreSQL schema) never read each other's migration history.
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_content").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_contents::Migration),
            Box::new(m20261123_000002_search::Migration),
            Box::new(crate::events::EventTables { service: "content" }),
            Box::new(m20261130_000003_tombstones::Migration),
            Box::new(crate::events::UnpublishedIndex { service: "content" }),
            Box::new(m20261130_000004_search_moves_out::Migration),
            Box::new(crate::events::UncompressedPayloads { service: "content" }),
        ]
    }
}
