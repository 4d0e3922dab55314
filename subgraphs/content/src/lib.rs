//! The content subgraph: stories, their lists and views.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs (shared with the CSV importer), `store/` sea-orm queries,
//! `consumer` the events it follows. [`SUBGRAPH`] declares it to the platform
//! (`folio_common::kit`).
//! [`import`] is the CSV importer behind `importContentsCsv` and `folio import-csv`.

pub mod consumer;
pub mod domain;
pub mod import;
pub mod ranking;
pub mod schema;
pub mod store;

use anyhow::Context as _;
use async_graphql::dataloader::DataLoader;
use folio_common::kit::{Built, EventConsumer, Expiring, Opened, Subgraph};
use folio_common::{Config, ServiceClient};
use folio_migrations::MigratorTrait;
use schema::ContentLoader;
use std::sync::Arc;
use std::time::Duration;
use store::{ImportedFill, Store};

/// The page size of the content database's SQLite file: 8 KiB. Its rows are stories
/// (hundreds to thousands of characters each) and imports write them by the million:
/// a 200,000-row import ran at 35,000–38,000 rows/s on 4 KiB pages, 60,000 on 8 KiB and
/// 82,000–90,000 on 32 or 64 KiB (`cargo bench --bench content`). But every small write
/// (a view counted, a deletion) writes whole pages to the WAL, and on 16 or 32 KiB pages
/// the cascade benchmark's p99 went from 8–15 ms to 34–80 ms, with stalls up to 220 ms,
/// against 11 ms on 8 KiB (`cargo bench --bench events`, same build and session).
pub const SQLITE_PAGE_SIZE: u32 = 8 * 1024;

/// The content subgraph, as the platform starts it.
pub const SUBGRAPH: Subgraph = Subgraph {
    name: "content",
    port: 4002,
    sqlite_page_size: SQLITE_PAGE_SIZE,
    migrate: |db| folio_migrations::content::Migrator::up(db, None),
    build: |cfg, opened| Box::pin(build(cfg, opened)),
};

/// What the content subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct ContentState {
    pub store: Store,
    /// Most data rows one CSV import may hold (`import_max_rows`).
    pub import_max_rows: u64,
    /// The interactions subgraph, asked directly for `contentRanking`.
    pub interactions: ServiceClient,
}

impl ContentState {
    /// The state over `store`; the interactions subgraph is reached where `cfg` says.
    pub fn new(cfg: &Config, store: Store) -> anyhow::Result<Self> {
        let interactions = ServiceClient::new(
            cfg,
            "interactions",
            cfg.service_url("interactions").unwrap_or_default(),
            Duration::from_millis(cfg.service_timeout_ms),
        )
        .context("building the HTTP client for the interactions subgraph")?;
        Ok(ContentState {
            store,
            import_max_rows: cfg.import_max_rows,
            interactions,
        })
    }
}

/// The content state over its opened and migrated database, for commands that use the
/// store without serving (`folio import-csv`).
pub async fn init(cfg: &Config) -> anyhow::Result<ContentState> {
    ContentState::new(cfg, Store::new(SUBGRAPH.open_database(cfg).await?))
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let state = ContentState::new(cfg, Store::new(opened.db))?;
    let store = state.store.clone();
    let app = folio_common::kit::graphql_app(
        schema::build_schema(state.clone()),
        opened.identity,
        move |req, _viewer| {
            req.data(DataLoader::new(
                ContentLoader::new(store.clone()),
                tokio::spawn,
            ))
        },
    );
    Ok(Built {
        app,
        db: (*state.store).clone(),
        consumer: Some(EventConsumer::new(
            &consumer::KINDS,
            state.store.clone(),
            |store, tx, payloads| Box::pin(consumer::apply(store, tx, payloads)),
        )),
        // A deleted content's references resolve from its tombstone for a while.
        expiring: vec![Expiring::new("content_tombstones", &["id"], "deleted_at")],
        // An import records its `content.imported` events as claims.
        fill: Some(Arc::new(ImportedFill(state.store.clone()))),
    })
}
