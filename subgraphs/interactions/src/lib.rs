//! The interactions subgraph: reads, likes and comments, and the ranking behind
//! `topContents`.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs, `store/` sea-orm queries. [`contents`] knows which
//! contents exist (asking the content subgraph about one it has not seen). [`init`] opens
//! and migrates the database; [`app`] is the axum router to serve.

pub mod consumer;
pub mod contents;
pub mod domain;
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
use contents::ContentDirectory;
use folio_common::{Config, IdentityKey, ServiceClient};
use folio_migrations::MigratorTrait;
use schema::{InteractionsLoader, InteractionsSchema};
use std::time::Duration;
use store::Store;

/// What the interactions subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct InteractionsState {
    pub store: Store,
    pub contents: ContentDirectory,
}

/// A ready-to-serve interactions subgraph.
#[derive(Clone)]
pub struct InteractionsService {
    pub state: InteractionsState,
    pub schema: InteractionsSchema,
    pub identity: IdentityKey,
}

/// Opens and migrates the interactions database and loads the router-to-subgraph
/// identity key. The content subgraph is reached at `cfg.content_graphql_url()`.
pub async fn init(cfg: &Config) -> anyhow::Result<InteractionsService> {
    let db =
        folio_common::db::connect(&cfg.interactions_database(), cfg.database_schema.as_deref())
            .await
            .context("connecting to the interactions database")?;
    folio_migrations::interactions::Migrator::up(&db, None)
        .await
        .context("migrating the interactions database")?;
    let store = Store::new(db);
    let content = ServiceClient::new(
        "content",
        cfg.content_graphql_url(),
        Duration::from_millis(cfg.service_timeout_ms),
    )
    .map_err(|_| anyhow::anyhow!("building the HTTP client for the content subgraph"))?;
    let state = InteractionsState {
        contents: ContentDirectory::new(store.clone(), content),
        store,
    };
    let identity = folio_common::identity::load_key(cfg.identity_secret.as_deref(), &cfg.data_dir)
        .map_err(anyhow::Error::msg)?;
    Ok(InteractionsService {
        schema: schema::build_schema(state.clone()),
        state,
        identity,
    })
}

/// The interactions subgraph's HTTP surface: `POST /graphql` and `GET /health`.
pub fn app(service: InteractionsService) -> Router {
    Router::new()
        .route("/graphql", post(graphql))
        .route("/health", get(|| async { "ok" }))
        .with_state(service)
}

async fn graphql(
    State(service): State<InteractionsService>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let store = service.state.store.clone();
    folio_common::graphql::execute(
        &service.schema,
        &service.identity,
        &headers,
        request,
        |req, viewer| {
            let loader = InteractionsLoader::new(store, viewer.user_id.clone());
            req.data(DataLoader::new(loader, tokio::spawn))
        },
    )
    .await
}
