//! Where image files live: an `object_store` store, a directory under the data directory
//! unless `FOLIO_MEDIA_STORE_URL` names another. Objects are content-addressed
//! (`<sha256>.<ext>`): a key's bytes never change, which is what lets the router serve
//! them as immutable.

use crate::picture::Format;
use bytes::Bytes;
use folio_common::{Config, Error, Result};
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

/// The store of image files (cheap to clone).
#[derive(Clone, Debug)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
}

impl Objects {
    /// The configured store; its directory is created when it is a local one.
    pub fn open(cfg: &Config) -> anyhow::Result<Objects> {
        let dir = match cfg.media_store_url.as_deref() {
            None => cfg.data_dir.join("media"),
            Some("memory://") => {
                return Ok(Objects {
                    store: Arc::new(object_store::memory::InMemory::new()),
                });
            }
            Some(url) => match url.strip_prefix("file://") {
                Some(dir) => dir.into(),
                None => {
                    anyhow::bail!("FOLIO_MEDIA_STORE_URL: {url} is not a file:// or memory:// URL")
                }
            },
        };
        std::fs::create_dir_all(&dir)?;
        Ok(Objects {
            store: Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?),
        })
    }

    /// Stores `bytes` under `key` (writing the same key twice writes the same bytes).
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map_err(Error::internal)?;
        Ok(())
    }

    /// The bytes under `key`, if any, read whole.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => Ok(Some(found.bytes().await.map_err(Error::internal)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// The bytes under `key`, if any: their length and a stream of them (never read
    /// whole into memory).
    pub async fn read(
        &self,
        key: &str,
    ) -> Result<Option<(u64, BoxStream<'static, object_store::Result<Bytes>>)>> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => Ok(Some((found.meta.size, found.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// Removes `key` (already gone is fine).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::internal(e)),
        }
    }
}

/// A key as this service writes them and its format: a picture's
/// `<64 hex digits>.<ext>` or its thumbnail's `<64 hex digits>-w<width>.<ext>`;
/// anything else names no object.
pub fn parse_key(key: &str) -> Option<Format> {
    let (stem, ext) = key.split_once('.')?;
    let (hash, width) = match stem.split_once("-w") {
        Some((hash, width)) => (hash, Some(width)),
        None => (stem, None),
    };
    let hex = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let width_ok = width
        .is_none_or(|w| !w.is_empty() && w.len() <= 5 && w.bytes().all(|b| b.is_ascii_digit()));
    (hex && width_ok)
        .then(|| Format::of_extension(ext))
        .flatten()
}
