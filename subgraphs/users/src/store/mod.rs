//! The users database: every SQL the subgraph runs lives here, behind `Store`.

pub mod entity;
pub mod social;
mod tokens;
mod users;

pub use entity::users::Model as UserRow;
pub use tokens::RotateOutcome;
pub use users::{NewUser, UserChanges, UserQuery};

use folio_common::events::catalog::UserData;

folio_common::service_store! {
    /// Handle on the users database (cheap to clone: a connection pool).
    pub struct Store("users");
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
