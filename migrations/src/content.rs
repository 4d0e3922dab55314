//! Migrations of the content subgraph's database (its tables arrive with the content issue).

use sea_orm_migration::prelude::*;

/// The content database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
