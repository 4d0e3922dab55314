//! Database migrations, one sea-orm-migration migrator per service's own database.
//!
//! The same migrations run on SQLite (embedded) and PostgreSQL (production). A service
//! migrates only its own database; no migrator names another service's tables.

pub mod content;
pub mod events;
pub mod interactions;
pub mod media;
pub mod search;
pub mod shop;
pub mod users;

pub use sea_orm_migration::MigratorTrait;
