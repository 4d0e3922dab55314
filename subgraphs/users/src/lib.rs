//! The users subgraph: accounts, sign-in, sessions, profiles and the social graph.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs, `store/` sea-orm queries, plus `accounts` (sign-up and
//! session rules), `auth/` (passwords and tokens) and `geo` (sign-up by country).
//! [`init`] opens and migrates the database; [`app`] is the axum router to serve.

pub mod accounts;
pub mod auth;
pub mod domain;
pub mod geo;
pub mod schema;
pub mod store;

use anyhow::Context as _;
use async_graphql::dataloader::DataLoader;
use async_graphql_axum::GraphQLRequest;
use async_graphql_axum::rejection::GraphQLRejection;
use auth::password::PasswordHasher;
use auth::tokens::TokenIssuer;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use folio_common::{Config, IdentityKey};
use folio_migrations::MigratorTrait;
use geo::{GeoTable, SignupPolicy};
use schema::{UsersLoader, UsersSchema};
use std::sync::Arc;
use store::Store;

/// What the users subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct UsersState {
    pub store: Store,
    pub tokens: Arc<TokenIssuer>,
    pub hasher: PasswordHasher,
    pub signup: Arc<SignupPolicy>,
    pub refresh_ttl: chrono::Duration,
}

/// A ready-to-serve users subgraph.
#[derive(Clone)]
pub struct UsersService {
    pub state: UsersState,
    pub schema: UsersSchema,
    pub identity: IdentityKey,
}

/// Opens and migrates the users database, loads (or generates) the signing key, and
/// makes sure the bootstrap admin exists when one is configured.
pub async fn init(cfg: &Config) -> anyhow::Result<UsersService> {
    let db = folio_common::db::connect(&cfg.users_database(), cfg.database_schema.as_deref())
        .await
        .context("connecting to the users database")?;
    folio_migrations::users::Migrator::up(&db, None)
        .await
        .context("migrating the users database")?;

    let key_path = cfg
        .jwt_private_key_file
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("jwt-ed25519.pem"));
    let key = auth::tokens::load_or_generate_key(&key_path)?;
    let tokens = TokenIssuer::new(
        &key,
        &cfg.jwt_issuer,
        &cfg.jwt_audience,
        cfg.access_token_ttl_secs,
    )?;

    let countries = cfg.signup_country_list();
    let table = match &cfg.geoip_csv {
        Some(path) => {
            GeoTable::load(path).with_context(|| format!("loading {}", path.display()))?
        }
        None => {
            if !countries.is_empty() {
                tracing::warn!(
                    "FOLIO_SIGNUP_COUNTRIES is set without FOLIO_GEOIP_CSV: no client can be located, so every sign-up is refused"
                );
            }
            GeoTable::default()
        }
    };
    let parallelism = std::thread::available_parallelism().map_or(2, usize::from);
    let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(parallelism))
        .await?
        .map_err(|e| anyhow::anyhow!("creating the password hasher: {e:?}"))?;

    let state = UsersState {
        store: Store::new(db),
        tokens: Arc::new(tokens),
        hasher,
        signup: Arc::new(SignupPolicy { countries, table }),
        refresh_ttl: chrono::Duration::seconds(
            i64::try_from(cfg.refresh_token_ttl_secs).unwrap_or(i64::MAX / 1000),
        ),
    };
    if let (Some(email), Some(password)) =
        (&cfg.bootstrap_admin_email, &cfg.bootstrap_admin_password)
    {
        ensure_admin(&state, email, password, "Admin", "Admin").await?;
    }
    let identity = folio_common::identity::load_key(cfg.identity_secret.as_deref(), &cfg.data_dir)
        .map_err(anyhow::Error::msg)?;
    Ok(UsersService {
        schema: schema::build_schema(state.clone()),
        state,
        identity,
    })
}

/// Creates or promotes an admin, for `folio admin create` and the bootstrap admin.
pub async fn ensure_admin(
    state: &UsersState,
    email: &str,
    password: &str,
    first_name: &str,
    last_name: &str,
) -> anyhow::Result<store::UserRow> {
    let invalid = |field: &str, e: folio_common::InvalidInput| anyhow::anyhow!("{field} {e}");
    let email = domain::Email::parse(email).map_err(|e| invalid("email", e))?;
    let password = domain::Password::parse(password).map_err(|e| invalid("password", e))?;
    let first = domain::PersonName::parse(first_name).map_err(|e| invalid("first name", e))?;
    let last = domain::PersonName::parse(last_name).map_err(|e| invalid("last name", e))?;
    state
        .ensure_admin(&email, &password, first, last)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.client_message()))
}

/// The users subgraph's HTTP surface: `POST /graphql`, the JWKS, and `/health`.
pub fn app(service: UsersService) -> Router {
    Router::new()
        .route("/graphql", post(graphql))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/health", get(|| async { "ok" }))
        .with_state(service)
}

async fn graphql(
    State(service): State<UsersService>,
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
            let loader = UsersLoader::new(store, viewer.user_id.clone());
            req.data(DataLoader::new(loader, tokio::spawn))
        },
    )
    .await
}

async fn jwks(State(service): State<UsersService>) -> Response {
    Json(service.state.tokens.jwks()).into_response()
}
