//! The search subgraph: `searchContents`, ranked full-text search over contents, served
//! from a tantivy index of its own on local disk (`FOLIO_SEARCH_INDEX_DIR`, by default
//! `<data_dir>/search-index`).
//!
//! Layout (the same in every subgraph, with the index in place of `domain/`): `schema`
//! the GraphQL type and resolver, `query` the reader's query language, `index` the
//! tantivy index, `store` its database (authors' names), `consumer` the events that feed
//! the index. [`SUBGRAPH`] declares it to the platform (`folio_common::kit`).

pub mod consumer;
mod dense;
pub mod index;
mod newest;
mod pairs;
pub mod query;
mod rank;
pub mod rebuild;
pub mod schema;
mod segments;
mod stem;
pub mod store;
pub mod suggest;
mod tops;

use anyhow::Context as _;
use folio_common::kit::{Built, EventConsumer, Opened, Subgraph};
use folio_common::{Config, ServiceClient};
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

/// Where the index lives: `search_index_dir` (by default `<data_dir>/search-index`), in
/// the subdirectory of the index's layout ([`index::SCHEMA_VERSION`]), so that a new
/// layout starts a replica from nothing (a rebuild, or a replay with a new replica id).
pub fn index_dir(cfg: &Config) -> PathBuf {
    cfg.search_index_dir
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("search-index"))
        .join(index::SCHEMA_VERSION)
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

/// What a rebuild reads: the content and interactions subgraphs where the configuration
/// says they are, with a deadline long enough for a page of long stories.
fn rebuild_sources(cfg: &Config) -> anyhow::Result<rebuild::Sources> {
    let timeout = std::time::Duration::from_millis(cfg.service_timeout_ms.max(30_000));
    let client = |name: &'static str| {
        let url = cfg
            .service_url(name)
            .with_context(|| format!("no URL is configured for the {name} subgraph"))?;
        ServiceClient::new(cfg, name, url, timeout)
            .with_context(|| format!("building the HTTP client for the {name} subgraph"))
    };
    Ok(rebuild::Sources {
        content: client("content")?,
        interactions: Some(client("interactions")?),
    })
}

/// Rebuilds a fresh replica's index in the background, waiting (up to about a minute)
/// for the content subgraph to answer.
async fn rebuild_fresh(state: SearchState, sources: rebuild::Sources) {
    let mut wait = std::time::Duration::from_millis(100);
    for attempt in 1.. {
        match rebuild::rebuild(&state.index, &state.store, &sources).await {
            Ok(n) => {
                tracing::info!(contents = n, "rebuilt the fresh search index from content");
                return;
            }
            Err(e) if attempt < 10 => {
                tracing::debug!(error = %e.log_message(), attempt, "rebuilding the search index; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(10));
            }
            Err(e) => {
                tracing::error!(error = %e.log_message(), "rebuilding the fresh search index failed; run `folio search reindex`");
                return;
            }
        }
    }
}

/// `folio search reindex`: empties this replica's index and rebuilds it from the
/// content subgraph (which must be running) while the search service is stopped; how
/// many contents it holds then.
pub async fn reindex(cfg: &Config) -> anyhow::Result<u64> {
    let db = SUBGRAPH.open_database(cfg).await?;
    let dir = index_dir(cfg);
    let index = SearchIndex::open(&dir).with_context(|| {
        format!(
            "opening the search index in {} (stop the search service first)",
            dir.display()
        )
    })?;
    index
        .clear()
        .await
        .map_err(|e| anyhow::anyhow!(e.log_message()))?;
    let n = rebuild::rebuild(&index, &Store::new(db), &rebuild_sources(cfg)?)
        .await
        .map_err(|e| anyhow::anyhow!("rebuilding the search index: {}", e.log_message()))?;
    Ok(n)
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let dir = index_dir(cfg);
    // A directory without an index: this replica starts from nothing.
    let fresh = !dir.join("meta.json").exists();
    let index = SearchIndex::open_when_free(&dir)
        .await
        .with_context(|| format!("opening the search index in {}", dir.display()))?
        .with_answer_cache(cfg.search_cache_entries);
    let consumer_name = replica_consumer(&dir)
        .with_context(|| format!("reading the replica id in {}", dir.display()))?;
    let state = SearchState {
        store: Store::new(opened.db),
        index,
    };
    // Over NATS a fresh replica replays the stream from its first event; in process there
    // is no history, so it reads what exists from the content subgraph.
    if fresh && cfg.nats_url.is_none() {
        tokio::spawn(rebuild_fresh(state.clone(), rebuild_sources(cfg)?));
    }
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
