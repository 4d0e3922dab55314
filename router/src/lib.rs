//! The router: Folio's one public GraphQL endpoint, a general Apollo Federation v2 router.
//!
//! A pipeline (`pipeline/`), in request order: `http` (transport, CSRF, media types) →
//! `limits` → `auth` (verify the caller's JWT once) → `plan` (validate and plan against the
//! supergraph) → `execute` (fetch from the subgraphs with a signed identity, merge,
//! project). `lib.rs` wires the HTTP routes and builds the state from `Config`.

pub mod busy_poll;
pub mod error;
pub mod execute;
pub mod files;
pub mod graphiql;
pub mod jwks;
pub mod metrics;
pub mod pipeline;
pub mod plan;

use axum::Router;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use error::RouterError;
use folio_common::Config;
use pipeline::{Incoming, Pipeline};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The supergraph composed from the subgraphs' golden SDL (`schema.graphql`), built in
/// so that the binary needs no file; `FOLIO_SUPERGRAPH_FILE` replaces it.
pub const EMBEDDED_SUPERGRAPH: &str = include_str!("../../schema.graphql");

/// What every request handler of the router shares.
#[derive(Clone)]
pub struct RouterState {
    pipeline: Arc<Pipeline>,
    max_body_bytes: usize,
    graphiql: graphiql::Playground,
    /// Where `/media/<key>` is forwarded (`files`), when the supergraph has a media subgraph.
    files: Option<files::Files>,
}

/// Builds the router's state: fetches the JWKS (waiting up to `jwks_wait` for the users
/// subgraph to come up) and prepares the subgraph client.
pub async fn init(cfg: &Config, jwks_wait: Duration) -> anyhow::Result<RouterState> {
    let identity = folio_common::identity::load_key(cfg.identity_secret.as_deref(), &cfg.data_dir)
        .map_err(anyhow::Error::msg)?;
    let verifier = pipeline::auth::Verifier::new(
        match &cfg.jwks_file {
            Some(path) => jwks::JwksSource::from_file(path.clone()),
            None => jwks::JwksSource::new(
                cfg.jwks_endpoint(),
                folio_common::tls::client_builder(cfg)?.build()?,
            ),
        },
        &cfg.jwt_issuer,
        &cfg.jwt_audience,
        jwks_wait,
    )
    .await?;
    let metrics = Arc::new(metrics::Metrics::new());
    let supergraph = match &cfg.supergraph_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading the supergraph {}: {e}", path.display()))?,
        None => EMBEDDED_SUPERGRAPH.to_owned(),
    };
    let planner = plan::HivePlanner::from_supergraph_sdl(&supergraph)?;
    // The supergraph names each subgraph's URL; configuration overrides them, so one
    // supergraph serves every deployment.
    let mut urls: std::collections::BTreeMap<String, String> =
        plan::QueryPlanner::subgraphs(&planner).as_ref().clone();
    for (name, slot) in urls.iter_mut() {
        if let Some(url) = cfg.service_url(name) {
            *slot = url;
        }
    }
    let files = urls
        .get(files::SUBGRAPH)
        .map(|url| {
            let http = folio_common::tls::client_builder(cfg)?;
            files::Files::new(url, Duration::from_millis(cfg.subgraph_timeout_ms), http)
        })
        .transpose()?;
    let busy_poll = busy_poll::BusyPoll::start(Duration::from_micros(cfg.router_busy_poll_us));
    let client = execute::fetch::SubgraphClient::new(
        folio_common::tls::client_builder(cfg)?,
        urls,
        identity,
        Duration::from_millis(cfg.subgraph_timeout_ms),
        cfg.subgraph_max_in_flight,
        metrics.clone(),
    )?
    .with_dedupe(cfg.dedupe_subgraph_requests)
    .with_busy_poll(busy_poll.clone());
    let limits = pipeline::limits::Limits {
        max_tokens: cfg.max_tokens,
        max_depth: cfg.max_depth,
        max_aliases: cfg.max_aliases,
        max_root_fields: cfg.max_root_fields,
    };
    let manifest = cfg
        .persisted_documents_file
        .as_deref()
        .map(pipeline::documents::Manifest::load)
        .transpose()?;
    if cfg.persisted_documents_only && manifest.is_none() {
        anyhow::bail!(
            "FOLIO_PERSISTED_DOCUMENTS_ONLY=true needs FOLIO_PERSISTED_DOCUMENTS_FILE: without a manifest no operation could run"
        );
    }
    if let Some(m) = &manifest {
        tracing::info!(
            documents = m.len(),
            only = cfg.persisted_documents_only,
            "trusted documents loaded"
        );
    }
    let documents =
        pipeline::documents::Documents::new(manifest, cfg.persisted_documents_only, cfg.apq);
    Ok(RouterState {
        pipeline: Arc::new(Pipeline {
            verifier,
            planner: Arc::new(planner),
            executor: execute::Executor::new(client),
            limits,
            documents,
            uploads: pipeline::http::UploadLimits {
                max_file_bytes: cfg.max_upload_bytes,
                max_files: cfg.max_upload_files,
                max_field_bytes: cfg.max_body_bytes,
            },
            metrics,
            introspection: cfg.introspection,
            busy_poll,
            max_batch: cfg.max_batch,
            clients: pipeline::clients::Clients::new(
                &cfg.trusted_proxies,
                cfg.rate_limit_rps,
                cfg.rate_limit_burst,
            )?,
            max_cost: cfg.max_cost,
            default_list_size: cfg.cost_default_list_size,
        }),
        max_body_bytes: cfg.max_body_bytes,
        graphiql: graphiql::Playground::new(),
        files,
    })
}

/// The router's HTTP surface: `/graphql` (POST; GET serves GraphiQL to browsers),
/// GraphiQL at `/` (its assets, built in, under `/graphiql/assets/`), and
/// `/health`; files at `/media/<key>` (`files`).
pub fn app(state: RouterState) -> Router {
    let files = Router::new()
        .route("/media/{key}", get(files::forward))
        .with_state(state.files.clone());
    let router = Router::new()
        .route("/", get(graphiql))
        .route(graphiql::ASSETS_ROUTE, get(graphiql_asset))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .with_state(state)
        .merge(files);
    // Each request in a span, the child of the client's `traceparent` (traces on).
    folio_common::telemetry::trace_requests("router", router)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

async fn graphiql(State(state): State<RouterState>) -> Response {
    state.graphiql.page()
}

async fn graphiql_asset(State(state): State<RouterState>, Path(path): Path<String>) -> Response {
    state.graphiql.asset(&path)
}

async fn graphql_get(
    State(state): State<RouterState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if wants_html(&headers) && !params.contains_key("query") {
        return state.graphiql.page();
    }
    state
        .pipeline
        .run(Incoming::Get(&params), &headers, peer.ip())
        .await
}

/// `POST /graphql`. A `multipart/form-data` body (a file upload) is read as a stream
/// under the upload limits (`FOLIO_MAX_UPLOAD_BYTES` per file, `FOLIO_MAX_UPLOAD_FILES`)
/// rather than the body limit layer's `FOLIO_MAX_BODY_BYTES`; any other body is read
/// whole within `FOLIO_MAX_BODY_BYTES`.
async fn graphql_post(
    State(state): State<RouterState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    if pipeline::http::is_multipart(&headers) {
        let body = request.into_body();
        return state
            .pipeline
            .run(Incoming::Multipart(body), &headers, peer.ip())
            .await;
    }
    let body: Result<Bytes, BytesRejection> = Bytes::from_request(request, &state).await;
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let error = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                RouterError::PayloadTooLarge(format!(
                    "the body is larger than {} bytes",
                    state.max_body_bytes
                ))
            } else {
                RouterError::BadRequest("the body could not be read".to_owned())
            };
            let format =
                pipeline::http::negotiate(&headers).unwrap_or(pipeline::http::ResponseFormat::Json);
            return error.into_response(format, false);
        }
    };
    // A JSON array is a batch of requests (Apollo Client's BatchHttpLink).
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return state.pipeline.run_batch(&body, &headers, peer.ip()).await;
    }
    state
        .pipeline
        .run(Incoming::Post(&body), &headers, peer.ip())
        .await
}

/// Ready when every subgraph answers its health check; 503 naming the ones that do not.
async fn ready(State(state): State<RouterState>) -> Response {
    match state.pipeline.executor.client().ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(down) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {down}"),
        )
            .into_response(),
    }
}

/// Prometheus metrics in the OpenMetrics text format.
async fn metrics_text(State(state): State<RouterState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.pipeline.metrics.render(),
    )
        .into_response()
}
