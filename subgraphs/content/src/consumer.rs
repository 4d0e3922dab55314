//! What the content subgraph does with other services' events (applied once each, in a
//! transaction that records the event: `folio_common::events::consumer`):
//! - `user.deleted`: delete the user's contents (each with its `content.deleted`, which
//!   the interactions subgraph follows).

use crate::store::Store;
use folio_common::events::consumer::Apply;
use folio_common::events::{BoxFuture, Event};
use folio_common::{Error, Result};
use sea_orm::DatabaseTransaction;

/// The event types this subgraph consumes.
pub const KINDS: [&str; 1] = ["user.deleted"];

/// The content subgraph's consumer.
pub struct Consumer {
    pub store: Store,
}

impl Apply for Consumer {
    fn apply<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        event: &'a Event,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if event.kind != "user.deleted" {
                return Ok(());
            }
            let user = event
                .subject_id()
                .ok_or_else(|| Error::internal("user.deleted without data.id"))?;
            let gone = self.store.delete_contents_of(tx, user).await?;
            tracing::info!(user, contents = gone, "deleted a deleted user's contents");
            Ok(())
        })
    }
}
