//! The users subgraph: accounts, sign-in, sessions, profiles and the social graph.
//!
//! Layout (the same in every subgraph): `schema/` GraphQL types and thin resolvers,
//! `domain/` validated inputs, `store/` sea-orm queries, plus `accounts` (sign-up and
//! session rules), `auth/` (passwords and tokens), `attempts` (sign-in attempt limits) and
//! `geo` (sign-up by country).
//! [`SUBGRAPH`] declares it to the platform (`folio_common::kit`); besides GraphQL it
//! serves the JWKS the router verifies access tokens with.

pub mod accounts;
pub mod attempts;
pub mod auth;
pub mod domain;
pub mod geo;
pub mod schema;
pub mod store;

use anyhow::Context as _;
use async_graphql::dataloader::DataLoader;
use auth::password::PasswordHasher;
use auth::tokens::TokenIssuer;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use folio_common::Config;
use folio_common::kit::{Built, Opened, Subgraph};
use folio_migrations::MigratorTrait;
use geo::{GeoTable, SignupPolicy};
use schema::UsersLoader;
use std::sync::Arc;
use store::Store;

/// The users subgraph, as the platform starts it. It follows no events: follows,
/// blocks and sessions go with a deleted user by foreign-key cascades.
pub const SUBGRAPH: Subgraph = Subgraph {
    name: "users",
    port: 4001,
    sqlite_page_size: folio_common::db::SQLITE_PAGE_SIZE,
    migrate: |db| folio_migrations::users::Migrator::up(db, None),
    build: |cfg, opened| Box::pin(build(cfg, opened)),
};

/// What the users subgraph's resolvers share (cheap to clone).
#[derive(Clone)]
pub struct UsersState {
    pub store: Store,
    pub tokens: Arc<TokenIssuer>,
    pub hasher: PasswordHasher,
    pub signup: Arc<SignupPolicy>,
    /// `login`/`register`/`refreshToken` attempts per email and per client address.
    pub attempts: attempts::AuthAttempts,
    pub refresh_ttl: chrono::Duration,
}

/// The users state over its opened and migrated database, for commands that use it
/// without serving (`folio admin create`).
pub async fn init(cfg: &Config) -> anyhow::Result<UsersState> {
    UsersState::new(cfg, Store::new(SUBGRAPH.open_database(cfg).await?)).await
}

impl UsersState {
    /// Loads (or generates) the signing key and the sign-up policy, and makes sure the
    /// bootstrap admin exists when one is configured.
    pub async fn new(cfg: &Config, store: Store) -> anyhow::Result<Self> {
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
            store,
            tokens: Arc::new(tokens),
            hasher,
            signup: Arc::new(SignupPolicy { countries, table }),
            attempts: attempts::AuthAttempts::new(cfg.auth_limit_per_minute),
            refresh_ttl: chrono::Duration::seconds(
                i64::try_from(cfg.refresh_token_ttl_secs).unwrap_or(i64::MAX / 1000),
            ),
        };
        if let (Some(email), Some(password)) =
            (&cfg.bootstrap_admin_email, &cfg.bootstrap_admin_password)
        {
            ensure_admin(&state, email, password, "Admin", "Admin").await?;
        }
        Ok(state)
    }
}

async fn build(cfg: &Config, opened: Opened) -> anyhow::Result<Built> {
    let state = UsersState::new(cfg, Store::new(opened.db)).await?;
    let store = state.store.clone();
    let app = folio_common::kit::graphql_app(
        schema::build_schema(state.clone()),
        opened.identity,
        move |req, viewer| {
            let loader = UsersLoader::new(store.clone(), viewer.id());
            req.data(DataLoader::new(loader, tokio::spawn))
        },
    )
    .route(
        "/.well-known/jwks.json",
        get(jwks).with_state(state.clone()),
    );
    Ok(Built {
        app,
        db: (*state.store).clone(),
        consumer: None,
        expiring: Vec::new(),
        fill: None,
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

async fn jwks(State(state): State<UsersState>) -> Response {
    Json(state.tokens.jwks()).into_response()
}
