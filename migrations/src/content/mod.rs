//! Migrations of the content subgraph's database.

use sea_orm_migration::prelude::*;

mod m20261123_000001_contents;

/// The content database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261123_000001_contents::Migration)]
    }
}
