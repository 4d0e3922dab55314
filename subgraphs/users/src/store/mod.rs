//! The users database: every SQL the subgraph runs lives here, behind `Store`.

pub mod entity;
pub mod social;
mod tokens;
mod users;

pub use entity::users::Model as UserRow;
pub use tokens::RotateOutcome;
pub use users::{NewUser, UserChanges, UserQuery};

use folio_common::events::catalog::UserData;
use folio_common::events::outbox::Outbox;
use sea_orm::DatabaseConnection;

/// Handle on the users database (cheap to clone: a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Where every change records its event, in the change's transaction.
    outbox: Outbox,
}

/// A user as events carry it: the public profile, never the email, phone, address or
/// any credential.
pub fn user_event_data(u: &UserRow) -> UserData {
    UserData {
        id: u.id.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        is_admin: u.is_admin,
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        Store {
            db,
            outbox: Outbox::new("users"),
        }
    }

    /// The users service's outbox (its relay publishes what the store records).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The underlying connection, for migrations and health checks.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}
