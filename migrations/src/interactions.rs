//! Migrations of the interactions subgraph's database (its tables arrive with the interactions issue).

use sea_orm_migration::prelude::*;

/// The interactions database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own bookkeeping table, so that services sharing one database (or one
    /// PostgreSQL schema) never read each other's migration history.
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_interactions").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
