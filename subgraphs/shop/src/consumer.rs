//! What the shop subgraph does with other services' events (applied once each, in a
//! transaction that records the event: `folio_common::events::consumer`):
//! - `user.deleted`: the user's cart goes; their orders stay, without a buyer.

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
        if let Payload::UserDeleted(UserDeleted { id }) = payload
            && let Some(id) = event_id(id)
        {
            store.remove_user(tx, &id).await?;
        }
    }
    Ok(())
}
