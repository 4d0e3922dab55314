//! The router: Folio's one public GraphQL endpoint.
//!
//! A pipeline, one stage per file in request order: `auth` (verify the caller's JWT once)
//! → `forward` (send the operation to the subgraphs with a signed identity). Until query
//! planning lands (the router issue), `forward` sends every operation to the users
//! subgraph, the only one that serves data so far.

pub mod jwks;
pub mod pipeline;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use folio_common::graphql::error_response;
use folio_common::{Config, IdentityKey};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What every request handler of the router shares.
#[derive(Clone)]
pub struct RouterState {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: pipeline::auth::Verifier,
    forward: pipeline::forward::Forwarder,
    identity: IdentityKey,
}

/// Builds the router's state: fetches the JWKS (waiting up to `jwks_wait` for the users
/// subgraph to come up) and prepares the subgraph client.
pub async fn init(cfg: &Config, jwks_wait: Duration) -> anyhow::Result<RouterState> {
    let identity = folio_common::identity::load_key(cfg.identity_secret.as_deref(), &cfg.data_dir)
        .map_err(anyhow::Error::msg)?;
    let verifier = pipeline::auth::Verifier::new(
        jwks::JwksSource::new(cfg.jwks_endpoint()),
        &cfg.jwt_issuer,
        &cfg.jwt_audience,
        jwks_wait,
    )
    .await?;
    let forward =
        pipeline::forward::Forwarder::new(cfg.users_graphql_url(), Duration::from_secs(5))?;
    Ok(RouterState {
        inner: Arc::new(Inner {
            verifier,
            forward,
            identity,
        }),
    })
}

/// The router's HTTP surface: `/graphql` (POST; GET serves GraphiQL to browsers),
/// GraphiQL at `/`, and `/health`.
pub fn app(state: RouterState) -> Router {
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

async fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .title("Folio GraphiQL")
            .finish(),
    )
}

async fn graphql_get(headers: HeaderMap) -> Response {
    if wants_html(&headers) {
        return graphiql().await.into_response();
    }
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "send GraphQL operations with POST and Content-Type: application/json",
    )
}

async fn graphql_post(
    State(state): State<RouterState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "send GraphQL operations as application/json",
        );
    }
    if let Err(e) = serde_json::from_slice::<async_graphql::Request>(&body) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("the body is not a GraphQL request: {e}"),
        );
    }
    let viewer = match state.inner.verifier.authenticate(&headers, peer.ip()).await {
        Ok(v) => v,
        Err(message) => {
            return error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
        }
    };
    state
        .inner
        .forward
        .send(&state.inner.identity, &viewer, &headers, body)
        .await
}
