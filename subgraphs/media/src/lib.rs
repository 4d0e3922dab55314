//! The media subgraph: the pictures of contents (`Content.image`) and users
//! (`User.avatar`), validated and stripped of metadata on upload, kept in an object store,
//! and served at `GET /media/<key>` (which the router forwards to).
//!
//! Layout (the same in every subgraph): `schema` GraphQL types and thin resolvers,
//! `picture` what an upload must be (the parse-don't-validate step), `store` the sea-orm
//! queries, `objects` the files, `consumer` the events it follows, `sweep` the files no
//! row names. [`SUBGRAPH`] declares it to the platform
//! (`folio_common::kit`).

pub mod consumer;
pub mod objects;
pub mod picture;
pub mod schema;
pub mod serve;
pub mod store;
pub mod sweep;

use anyhow::Context as _;
use async_graphql::dataloader::DataLoader;
use folio_common::kit::{Built, EventConsumer, Expiring, Opened, Subgraph};
use folio_common::{Config, ServiceClient};
use folio_migrations::MigratorTrait;
use objects::Objects;
use std::time::Duration;
use store::Store;

/// The media subgraph, as the platform starts it.
pub const SUBGRAPH: Subgraph = Subgraph {
    name: "media",
    port: 4006,
    sqlite_page_size: folio_common::db::SQLITE_PAGE_SIZE,
    migrate: |db| folio_migrations::media::Migrator::up(db, None),
    build: |cfg, opened| Box::pin(build(cfg, opened)),
};

/// What the media subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct MediaState {
    pub store: Store,
    pub objects: Objects,
    /// The content subgraph, asked whose a content is when its image changes (so an
    /// upload right after `createContent` never races an event).
    pub content: ServiceClient,
    /// Largest image accepted (`FOLIO_MAX_IMAGE_BYTES`).
    pub max_image_bytes: usize,
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let store = Store::new(opened.db);
    let objects = Objects::open(cfg)?;
    let content = ServiceClient::new(
        cfg,
        "content",
        cfg.service_url("content").unwrap_or_default(),
        Duration::from_millis(cfg.service_timeout_ms),
    )
    .context("building the HTTP client for the content subgraph")?;
    sweep::start(
        store.clone(),
        objects.clone(),
        Duration::from_secs(cfg.media_sweep_secs),
    );
    let state = MediaState {
        store: store.clone(),
        objects: objects.clone(),
        content,
        max_image_bytes: cfg.max_image_bytes,
    };
    let loader = schema::ImageLoader {
        store: store.clone(),
        objects: objects.clone(),
    };
    let app = folio_common::kit::graphql_app(
        schema::build_schema(state),
        opened.identity,
        move |req, _viewer| req.data(DataLoader::new(loader.clone(), tokio::spawn)),
    )
    .merge(serve::routes(objects.clone()));
    Ok(Built {
        app,
        db: (*store).clone(),
        consumer: Some(EventConsumer::new(
            &consumer::KINDS,
            consumer::Media::start(store.clone(), objects),
            |media, tx, payloads| Box::pin(consumer::apply(media, tx, payloads)),
        )),
        // Kept as long as content keeps its tombstones (recorded later).
        expiring: vec![Expiring::new(
            "forgotten_owners",
            &["owner_kind", "owner_id"],
            "forgotten_at",
        )],
        fill: None,
    })
}
