//! Where image files live: an `object_store` store, a directory under the data directory
//! unless `FOLIO_MEDIA_STORE_URL` names another (`file://`, `memory://` or `s3://`).
//! Objects are content-addressed (`<sha256>.<ext>`): a key's bytes never change, which is
//! what lets them be served as immutable.
//!
//! The URL an image is served at ([`Objects::url`]) is the router's `/media/<key>`, or,
//! with an S3 store, a presigned URL of the object itself (the bytes then go from S3 to
//! the client without passing through Folio). A presigned URL is handed out again for the
//! first half of its lifetime, so a client sees the same URL from one response to the next
//! and its cache works.

use crate::picture::Format;
use crate::serve::CACHE_CONTROL;
use axum::http::Method;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use folio_common::{Config, Error, Result};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The store of image files (cheap to clone).
#[derive(Clone, Debug)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    /// Prepended to every key (`s3://bucket/<prefix>`).
    prefix: Option<Path>,
    /// Set when the store is S3 and URLs are presigned.
    presign: Option<Presign>,
}

#[derive(Clone, Debug)]
struct Presign {
    signer: Arc<dyn Signer>,
    ttl: Duration,
    /// Key → the URL handed out and when it was signed.
    signed: Arc<Mutex<HashMap<String, (String, Instant)>>>,
}

/// How many presigned URLs are remembered before the stale ones are dropped.
const SIGNED_URLS_KEPT: usize = 16_384;

impl Objects {
    /// The configured store; its directory is created when it is a local one.
    pub fn open(cfg: &Config) -> anyhow::Result<Objects> {
        let url = cfg.media_store_url.as_deref();
        if url == Some("memory://") {
            return Ok(Objects::plain(Arc::new(
                object_store::memory::InMemory::new(),
            )));
        }
        if let Some(location) = url.and_then(|u| u.strip_prefix("s3://")) {
            let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
            if bucket.is_empty() {
                anyhow::bail!("FOLIO_MEDIA_STORE_URL: {location:?} names no bucket");
            }
            // Credentials, region and endpoint: the standard AWS_* variables.
            let s3 = Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| anyhow::anyhow!("FOLIO_MEDIA_STORE_URL: {e}"))?,
            );
            let prefix = prefix.trim_matches('/');
            return Ok(Objects {
                store: s3.clone(),
                prefix: (!prefix.is_empty()).then(|| Path::from(prefix)),
                presign: (cfg.media_url_ttl_secs > 0).then(|| Presign {
                    signer: s3,
                    ttl: Duration::from_secs(cfg.media_url_ttl_secs),
                    signed: Arc::default(),
                }),
            });
        }
        let dir = match url {
            None => cfg.data_dir.join("media"),
            Some(url) => match url.strip_prefix("file://") {
                Some(dir) => dir.into(),
                None => anyhow::bail!(
                    "FOLIO_MEDIA_STORE_URL: {url} is not a file://, s3:// or memory:// URL"
                ),
            },
        };
        std::fs::create_dir_all(&dir)?;
        Ok(Objects::plain(Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(dir)?,
        )))
    }

    fn plain(store: Arc<dyn ObjectStore>) -> Objects {
        Objects {
            store,
            prefix: None,
            presign: None,
        }
    }

    fn path(&self, key: &str) -> Path {
        match &self.prefix {
            Some(prefix) => prefix.child(key),
            None => Path::from(key),
        }
    }

    /// Stores `bytes` under `key` (writing the same key twice writes the same bytes).
    /// In S3 the object carries the headers it is to be served with, since a presigned
    /// URL is answered by S3 itself.
    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<()> {
        let mut attributes = Attributes::new();
        if self.presign.is_some()
            && let Some(format) = parse_key(key)
        {
            attributes.insert(Attribute::ContentType, format.content_type().into());
            attributes.insert(Attribute::CacheControl, CACHE_CONTROL.into());
        }
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(key), PutPayload::from(bytes.into()), options)
            .await
            .map_err(Error::internal)?;
        Ok(())
    }

    /// The bytes under `key`, if any, read whole.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        match self.store.get(&self.path(key)).await {
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
        match self.store.get(&self.path(key)).await {
            Ok(found) => Ok(Some((found.meta.size, found.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// Removes `key` (already gone is fine).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// Every object of this service's: its key and when it was last written (objects
    /// whose names this service never writes are left out).
    pub fn list(&self) -> BoxStream<'static, Result<(String, DateTime<Utc>)>> {
        self.store
            .list(self.prefix.as_ref())
            .try_filter_map(|meta| async move {
                let key = meta.location.filename().unwrap_or_default();
                Ok(parse_key(key).map(|_| (key.to_owned(), meta.last_modified)))
            })
            .map_err(Error::internal)
            .boxed()
    }

    /// When `key` was last written, if it is there.
    pub async fn written_at(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.last_modified)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::internal(e)),
        }
    }

    /// Where a client fetches `key`: the router's `/media/<key>`, or a presigned URL of
    /// the object in S3 (the same one for the first half of its lifetime).
    pub async fn url(&self, key: &str) -> Result<String> {
        let Some(presign) = &self.presign else {
            return Ok(format!("/media/{key}"));
        };
        let fresh_for = presign.ttl / 2;
        if let Some((url, signed_at)) = presign.signed().get(key)
            && signed_at.elapsed() < fresh_for
        {
            return Ok(url.clone());
        }
        let url = presign
            .signer
            .signed_url(Method::GET, &self.path(key), presign.ttl)
            .await
            .map_err(Error::internal)?
            .to_string();
        let mut signed = presign.signed();
        if signed.len() >= SIGNED_URLS_KEPT {
            signed.retain(|_, (_, at)| at.elapsed() < fresh_for);
            if signed.len() >= SIGNED_URLS_KEPT {
                signed.clear();
            }
        }
        signed.insert(key.to_owned(), (url.clone(), Instant::now()));
        Ok(url)
    }
}

impl Presign {
    fn signed(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        // A panic while holding the map leaves nothing half-done worth refusing.
        self.signed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
