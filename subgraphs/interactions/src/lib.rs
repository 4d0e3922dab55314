//! The interactions subgraph: reads, likes and comments, and the ranking behind
//! `topContents`.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs, `store/` sea-orm queries. [`contents`] knows which
//! contents exist (asking the content subgraph about one it has not seen), `consumer`
//! the events it follows. [`SUBGRAPH`] declares it to the platform (`folio_common::kit`).

pub mod consumer;
pub mod contents;
pub mod domain;
pub mod schema;
pub mod store;

use anyhow::Context as _;
use async_graphql::dataloader::DataLoader;
use contents::ContentDirectory;
use folio_common::kit::{Built, EventConsumer, Expiring, Opened, Subgraph};
use folio_common::{Config, ServiceClient};
use folio_migrations::MigratorTrait;
use schema::InteractionsLoader;
use std::time::Duration;
use store::Store;

/// The interactions subgraph, as the platform starts it.
pub const SUBGRAPH: Subgraph = Subgraph {
    name: "interactions",
    port: 4003,
    sqlite_page_size: folio_common::db::SQLITE_PAGE_SIZE,
    migrate: |db| folio_migrations::interactions::Migrator::up(db, None),
    build: |cfg, opened| Box::pin(build(cfg, opened)),
};

/// What the interactions subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct InteractionsState {
    pub store: Store,
    pub contents: ContentDirectory,
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let store = Store::new(opened.db);
    let content = ServiceClient::new(
        cfg,
        "content",
        cfg.service_url("content").unwrap_or_default(),
        Duration::from_millis(cfg.service_timeout_ms),
    )
    .context("building the HTTP client for the content subgraph")?;
    let state = InteractionsState {
        contents: ContentDirectory::new(store.clone(), content),
        store: store.clone(),
    };
    let loaders = store.clone();
    let app = folio_common::kit::graphql_app(
        schema::build_schema(state),
        opened.identity,
        move |req, viewer| {
            let loader = InteractionsLoader::new(loaders.clone(), viewer.id());
            req.data(DataLoader::new(loader, tokio::spawn))
        },
    );
    Ok(Built {
        app,
        db: (*store).clone(),
        consumer: Some(EventConsumer::new(
            &consumer::KINDS,
            store,
            |store, tx, payloads| Box::pin(consumer::apply(store, tx, payloads)),
        )),
        // Kept as long as content keeps the tombstone (it is recorded later).
        expiring: vec![Expiring::new(
            "forgotten_contents",
            &["content_id"],
            "forgotten_at",
        )],
        fill: None,
    })
}
