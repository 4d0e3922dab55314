//! The users database: every SQL the subgraph runs lives here, behind `Store`.

pub mod entity;
pub mod social;
mod tokens;
mod users;

pub use entity::users::Model as UserRow;
pub use tokens::RotateOutcome;
pub use users::{NewUser, UserChanges, UserQuery};

use sea_orm::DatabaseConnection;

/// Handle on the users database (cheap to clone: a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        Store { db }
    }

    /// The underlying connection, for migrations and health checks.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}
