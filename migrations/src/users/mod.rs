//! Migrations of the users subgraph's database.

use sea_orm_migration::prelude::*;

mod m20261123_000001_init;

/// The users database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_init::Migration),
            Box::new(crate::events::EventTables { service: "users" }),
            Box::new(crate::events::UnpublishedIndex { service: "users" }),
        ]
    }
}
