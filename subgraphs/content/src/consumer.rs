//! What the content subgraph does with other services' events (applied once each, in a
//! transaction that records the event: `folio_common::events::consumer`):
//! - `user.deleted`: delete the user's contents (each with its `content.deleted`, which
//!   the interactions subgraph follows).

use crate::store::Store;
use folio_common::Result;
use folio_common::events::catalog::UserDeleted;
use folio_common::events::consumer::event_id;
use folio_common::events::{EventType, Payload};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 1] = [EventType::UserDeleted.as_str()];

/// Applies events this subgraph follows, in order.
pub async fn apply(store: &Store, tx: &DatabaseTransaction, payloads: Vec<Payload>) -> Result<()> {
    for payload in payloads {
        // Only the types in `KINDS` are delivered; anything else has no effect here.
        if let Payload::UserDeleted(UserDeleted { id: user }) = payload
            && let Some(user) = event_id(user)
        {
            let gone = store.delete_contents_of(tx, &user).await?;
            tracing::info!(%user, contents = gone, "deleted a deleted user's contents");
        }
    }
    Ok(())
}
