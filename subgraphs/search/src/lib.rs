//! The search subgraph: `searchContents`, ranked full-text search over contents, served
//! from a tantivy index of its own on local disk (`FOLIO_SEARCH_INDEX_DIR`, by default
//! `<data_dir>/search-index`).
//!
//! Layout (the same in every subgraph, with the index in place of `domain/`): `schema`
//! the GraphQL type and resolver, `query` the reader's query language, `index` the
//! tantivy index, `store` its database (authors' names), `consumer` the events that feed
//! the index. [`SUBGRAPH`] declares it to the platform (`folio_common::kit`).

pub mod consumer;
pub mod index;
pub mod query;
pub mod schema;
pub mod store;
pub mod suggest;

use anyhow::Context as _;
use folio_common::Config;
use folio_common::kit::{Built, EventConsumer, Opened, Subgraph};
use folio_migrations::MigratorTrait;
use index::SearchIndex;
use std::path::{Path, PathBuf};
use store::Store;

/// The search subgraph, as the platform starts it.
pub const SUBGRAPH: Subgraph = Subgraph {
    name: "search",
    port: 4004,
    sqlite_page_size: folio_common::db::SQLITE_PAGE_SIZE,
    migrate: |db| folio_migrations::search::Migrator::up(db, None),
    build: |cfg, opened| Box::pin(build(cfg, opened)),
};

/// Where the index lives: `search_index_dir`, by default `<data_dir>/search-index`.
pub fn index_dir(cfg: &Config) -> PathBuf {
    cfg.search_index_dir
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("search-index"))
}

/// What the search subgraph's resolvers and consumer share (cheap to clone).
#[derive(Clone)]
pub struct SearchState {
    pub store: Store,
    pub index: SearchIndex,
}

/// The name this replica consumes events as: `search-<id>`, the id kept in the index's
/// directory (made on first start). Every replica applies every event to its own index;
/// a new replica (an empty directory) starts from the oldest event the broker keeps.
fn replica_consumer(dir: &Path) -> anyhow::Result<String> {
    let file = dir.join("replica-id");
    let id = match std::fs::read_to_string(&file) {
        Ok(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => {
            let id = folio_common::new_id();
            std::fs::write(&file, &id)?;
            id
        }
    };
    Ok(format!("search-{id}"))
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let dir = index_dir(cfg);
    let index = SearchIndex::open(&dir)
        .with_context(|| format!("opening the search index in {}", dir.display()))?;
    let consumer_name = replica_consumer(&dir)
        .with_context(|| format!("reading the replica id in {}", dir.display()))?;
    let state = SearchState {
        store: Store::new(opened.db),
        index,
    };
    let app = folio_common::kit::graphql_app(
        schema::build_schema(state.clone()),
        opened.identity,
        |req, _viewer| req,
    );
    Ok(Built {
        app,
        db: (*state.store).clone(),
        consumer: Some(
            EventConsumer::new(&consumer::KINDS, state, |search, tx, payloads| {
                Box::pin(consumer::apply(search, tx, payloads))
            })
            .each_replica(consumer_name),
        ),
        expiring: Vec::new(),
        fill: None,
    })
}
