//! The sweep: deletes the files no image names. A replaced or deleted picture's files are
//! deleted as soon as its row goes, but a deletion can fail (the store unreachable) and a
//! crash can come between storing a file and its row; the sweep catches what those leave.
//!
//! Every `FOLIO_MEDIA_SWEEP_SECS` it lists the store, takes the files last written longer
//! ago than that (an upload stores its file just before its row, and a file uploaded
//! again is written again, so a young file may be about to be named), asks the database
//! which of them no image names, and deletes those, each after checking that it was not
//! written again meanwhile.

use crate::objects::Objects;
use crate::store::Store;
use chrono::{DateTime, Utc};
use folio_common::Result;
use futures_util::StreamExt;
use std::time::Duration;

/// How many listed files are looked up in the database at once.
const PAGE: usize = 200;

/// Sweeps every `every` (from `every` after the start), unless `every` is zero.
pub fn start(store: Store, objects: Objects, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match sweep(&store, &objects, every).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "media sweep deleted unnamed files"),
                Err(e) => {
                    tracing::warn!(error = %e.log_message(), "media sweep failed; will retry")
                }
            }
        }
    });
}

/// Deletes the files no image names that were last written more than `age` ago; how
/// many it deleted.
pub async fn sweep(store: &Store, objects: &Objects, age: Duration) -> Result<usize> {
    let cutoff = Utc::now() - age;
    let mut listing = objects.list();
    let mut page = Vec::with_capacity(PAGE);
    let mut deleted = 0;
    while let Some(listed) = listing.next().await {
        let (key, written) = listed?;
        if written < cutoff {
            page.push(key);
        }
        if page.len() == PAGE {
            deleted += sweep_page(store, objects, std::mem::take(&mut page), cutoff).await?;
        }
    }
    if !page.is_empty() {
        deleted += sweep_page(store, objects, page, cutoff).await?;
    }
    Ok(deleted)
}

async fn sweep_page(
    store: &Store,
    objects: &Objects,
    keys: Vec<String>,
    cutoff: DateTime<Utc>,
) -> Result<usize> {
    let mut deleted = 0;
    for key in store.unnamed(&keys).await? {
        // Written again since it was listed: the same picture is being uploaded again.
        if objects
            .written_at(&key)
            .await?
            .is_some_and(|at| at < cutoff)
        {
            objects.delete(&key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
