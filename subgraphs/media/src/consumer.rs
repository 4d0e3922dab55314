//! What the media subgraph does with events (applied once each, in a transaction that
//! records the event: `folio_common::events::consumer`):
//! - `content.deleted`: forget the content (`store::forget`): its image goes, and one set
//!   on it later (the content subgraph resolves a deleted content from its tombstone for a
//!   while) is NOT_FOUND;
//! - `user.deleted`: the same for the user's avatar (their contents' images go with each
//!   content's own `content.deleted`);
//! - `image.stored` (its own): make the picture's thumbnails and placeholder.
//!
//! The objects no row names any more are deleted with their rows, before the
//! transaction commits: should it roll back, the batch comes again and removes the same
//! rows, so their objects were going anyway.
//!
//! Rendering takes a second of CPU for a 12-megapixel photo, too long to hold the
//! consumer's write transaction (on SQLite, the database's write lock): the event hands
//! the key to a renderer task (one picture at a time, decoded off the async runtime),
//! which stores the thumbnails and then records them in a transaction of its own. A
//! rendition lost to a crash in between is made again when the picture is next stored.

use crate::objects::Objects;
use crate::picture::render;
use crate::schema::delete_unnamed;
use crate::store::{Owner, Store, forget};
use folio_common::events::catalog::{ContentDeleted, ImageStored, UserDeleted};
use folio_common::events::{EventType, Payload};
use folio_common::{Error, Result};
use sea_orm::DatabaseTransaction;
use tokio::sync::mpsc;

/// The event types this subgraph consumes (their wire strings, as the bus takes them).
pub const KINDS: [&str; 3] = [
    EventType::ContentDeleted.as_str(),
    EventType::UserDeleted.as_str(),
    EventType::ImageStored.as_str(),
];

/// What the consumer works with.
#[derive(Clone)]
pub struct Media {
    pub objects: Objects,
    /// The renderer task's queue of object keys.
    renders: mpsc::UnboundedSender<String>,
}

impl Media {
    /// The consumer's state, and the renderer task it hands pictures to.
    pub fn start(store: Store, objects: Objects) -> Media {
        let (renders, queue) = mpsc::unbounded_channel();
        tokio::spawn(renderer(store, objects.clone(), queue));
        Media { objects, renders }
    }
}

/// Applies events this subgraph follows, in order.
pub async fn apply(media: &Media, tx: &DatabaseTransaction, payloads: Vec<Payload>) -> Result<()> {
    let mut unnamed = Vec::new();
    for payload in payloads {
        match payload {
            Payload::ContentDeleted(ContentDeleted { id }) => {
                unnamed.extend(forget(tx, Owner::Content, &id).await?);
            }
            Payload::UserDeleted(UserDeleted { id }) => {
                unnamed.extend(forget(tx, Owner::User, &id).await?);
            }
            Payload::ImageStored(ImageStored { key }) => {
                media
                    .renders
                    .send(key)
                    .map_err(|_| Error::internal("the image renderer has stopped"))?;
            }
            // Only the types in `KINDS` are delivered; anything else has no effect here.
            _ => {}
        }
    }
    for key in unnamed {
        media.objects.delete(&key).await?;
    }
    Ok(())
}

/// Renders the pictures handed to it, one at a time.
async fn renderer(store: Store, objects: Objects, mut queue: mpsc::UnboundedReceiver<String>) {
    while let Some(key) = queue.recv().await {
        if let Err(e) = render_one(&store, &objects, &key).await {
            tracing::warn!(error = %e.log_message(), "rendering a picture's thumbnails failed");
        }
    }
}

async fn render_one(store: &Store, objects: &Objects, key: &str) -> Result<()> {
    // Rendered already (an event seen twice), or gone since: nothing to make.
    if !store.needs_rendering(key).await? {
        return Ok(());
    }
    let Some(bytes) = objects.get(key).await? else {
        return Ok(());
    };
    let owned = key.to_owned();
    let rendition = tokio::task::spawn_blocking(move || render(&owned, &bytes))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    for thumbnail in &rendition.thumbnails {
        objects.put(&thumbnail.key, thumbnail.bytes.clone()).await?;
    }
    let unnamed = store.rendered(key, &rendition).await?;
    delete_unnamed(objects, unnamed).await;
    Ok(())
}
