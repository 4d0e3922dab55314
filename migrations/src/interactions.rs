//! Migrations of the interactions subgraph's database (its tables arrive with the interactions issue).

use sea_orm_migration::prelude::*;

/// The interactions database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}
