//! The users database: every SQL the subgraph runs lives here, behind `Store`.

pub mod entity;
pub mod social;
mod tokens;
mod users;

pub use entity::users::Model as UserRow;
pub use tokens::RotateOutcome;
pub use users::{NewUser, UserChanges, UserQuery};

use folio_common::events::Event;
use serde_json::{Value, json};

folio_common::service_store! {
    /// Handle on the users database (cheap to clone: a connection pool).
    pub struct Store("users");
}

/// A user as events carry it: the public profile, never the email, phone, address or
/// any credential.
pub fn user_event_data(u: &UserRow) -> Value {
    json!({
        "id": u.id,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "isAdmin": u.is_admin,
        "createdAt": folio_common::DateTime::from(u.created_at).to_rfc3339(),
        "updatedAt": folio_common::DateTime::from(u.updated_at).to_rfc3339(),
    })
}

impl Store {
    /// Records one event in `db` (the change's transaction).
    async fn emit(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        kind: &str,
        actor: Option<&str>,
        data: Value,
    ) -> folio_common::Result<()> {
        self.outbox
            .record(db, &[Event::new(kind, actor, data)])
            .await
    }
}
