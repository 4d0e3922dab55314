//! The content subgraph: stories, their lists and views.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs (shared with the CSV importer to come), `store/` sea-orm
//! queries. [`init`] opens and migrates the database; [`app`] is the axum router to serve.
//! [`import`] is the CSV importer behind `importContentsCsv` and `folio import-csv`.

pub mod consumer;
pub mod domain;
pub mod import;
pub mod ranking;
pub mod schema;
pub mod store;

use anyhow::Context as _;
use async_graphql::dataloader::DataLoader;
use async_graphql_axum::GraphQLRequest;
use async_graphql_axum::rejection::GraphQLRejection;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use folio_common::{Config, IdentityKey, ServiceClient};
use folio_migrations::MigratorTrait;
use schema::{ContentLoader, ContentSchema};
use std::time::Duration;
use store::Store;

/// What the content subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct ContentState {
    pub store: Store,
    /// Most data rows one CSV import may hold (`import_max_rows`).
    pub import_max_rows: u64,
    /// The interactions subgraph, asked directly for `contentRanking`.
    pub interactions: ServiceClient,
}

/// A ready-to-serve content subgraph.
#[derive(Clone)]
pub struct ContentService {
    pub state: ContentState,
    pub schema: ContentSchema,
    pub identity: IdentityKey,
}

/// Opens and migrates the content database and loads the router-to-subgraph identity key.
/// The interactions subgraph is reached at `cfg.interactions_graphql_url()`.
pub async fn init(cfg: &Config) -> anyhow::Result<ContentService> {
    let db = folio_common::db::connect(&cfg.content_database(), cfg.database_schema.as_deref())
        .await
        .context("connecting to the content database")?;
    folio_migrations::content::Migrator::up(&db, None)
        .await
        .context("migrating the content database")?;
    let state = ContentState {
        store: Store::new(db),
        import_max_rows: cfg.import_max_rows,
        interactions: ServiceClient::new(
            "interactions",
            cfg.interactions_graphql_url(),
            Duration::from_millis(cfg.service_timeout_ms),
        )
        .map_err(|_| anyhow::anyhow!("building the HTTP client for the interactions subgraph"))?,
    };
    let identity = folio_common::identity::load_key(cfg.identity_secret.as_deref(), &cfg.data_dir)
        .map_err(anyhow::Error::msg)?;
    Ok(ContentService {
        schema: schema::build_schema(state.clone()),
        state,
        identity,
    })
}

/// The content subgraph's HTTP surface: `POST /graphql` and `GET /health`.
pub fn app(service: ContentService) -> Router {
    Router::new()
        .route("/graphql", post(graphql))
        .route("/health", get(|| async { "ok" }))
        .with_state(service)
}

async fn graphql(
    State(service): State<ContentService>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let store = service.state.store.clone();
    folio_common::graphql::execute(
        &service.schema,
        &service.identity,
        &headers,
        request,
        |req, _viewer| req.data(DataLoader::new(ContentLoader::new(store), tokio::spawn)),
    )
    .await
}
