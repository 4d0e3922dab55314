//! Test harness: the whole platform in-process on port 0, with a fresh database.
//!
//! SQLite in a temporary directory by default; PostgreSQL when `FOLIO_TEST_DATABASE_URL`
//! is set, each platform in a fresh schema (`folio_test_<uuid>`), so tests run in parallel.
//! Events travel on the in-process bus by default; over NATS JetStream when
//! `FOLIO_TEST_NATS_URL` is set, each platform with its own subject prefix (and so its
//! own stream). Shared by the end-to-end tests and the benchmarks.

#![allow(dead_code)]

use folio::platform::{self, Listeners, Running};
use folio_common::Config;
use folio_common::events::{Bus, Event};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::net::TcpListener;

async fn start(cfg: &Config, bus: Arc<dyn Bus>) -> Running {
    let mut bound = std::collections::BTreeMap::new();
    for name in platform::service_names() {
        bound.insert(name, TcpListener::bind("127.0.0.1:0").await.expect("bind"));
    }
    let listeners = Listeners(bound);
    platform::start_with_bus(cfg.clone(), listeners, bus)
        .await
        .expect("platform starts")
}

fn addresses(running: &Running) -> (String, String, String) {
    let router = running.router_addr().expect("router address");
    let users = running.addrs["users"];
    (
        format!("http://{router}/graphql"),
        format!("http://{router}"),
        format!("http://{users}/graphql"),
    )
}

/// A running platform and a client for it.
pub struct TestApp {
    /// The router's GraphQL endpoint, as clients use it.
    pub url: String,
    /// The router's base URL (for `/`, `/health`).
    pub base: String,
    /// The users subgraph's own GraphQL endpoint (to test what it accepts directly).
    pub users_url: String,
    pub client: reqwest::Client,
    pub cfg: Config,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

/// What register and login hand back, for the next requests.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A database URL and schema for one fresh platform.
pub fn fresh_database() -> (Option<String>, Option<String>) {
    match std::env::var("FOLIO_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!("folio_test_{}", uuid::Uuid::new_v4().simple());
            (Some(url), Some(schema))
        }
        _ => (None, None),
    }
}

/// Drops a test schema (best effort: CI also sweeps leftovers of failed tests).
pub async fn drop_schema(url: &str, schema: &str) {
    use sea_orm::ConnectionTrait;
    if let Ok(db) = sea_orm::Database::connect(url).await {
        let _ = db
            .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await;
        let _ = db.close().await;
    }
}

impl TestApp {
    /// The platform with default configuration.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// The platform with `tweak` applied to its configuration.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db_url, schema) = fresh_database();
        let mut cfg = Config {
            data_dir: dir.path().to_path_buf(),
            content_database_url: db_url.clone(),
            interactions_database_url: db_url.clone(),
            users_database_url: db_url,
            database_schema: schema,
            identity_secret: Some(format!("test-secret-{}", uuid::Uuid::new_v4().simple())),
            nats_url: std::env::var("FOLIO_TEST_NATS_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            events_prefix: format!("folio_test_{}", uuid::Uuid::new_v4().simple()),
            log: "warn".into(),
            ..Config::default()
        };
        tweak(&mut cfg);
        folio_common::telemetry::init(
            "pretty",
            &std::env::var("FOLIO_TEST_LOG").unwrap_or_else(|_| "off".into()),
        );
        let bus = platform::event_bus(&cfg, false).await.expect("event bus");
        let running = start(&cfg, bus).await;
        let (url, base, users_url) = addresses(&running);
        TestApp {
            url,
            base,
            users_url,
            client: reqwest::Client::new(),
            cfg,
            running: Some(running),
            _dir: dir,
        }
    }

    /// The bus the platform's events travel on.
    pub fn bus(&self) -> Arc<dyn Bus> {
        self.running.as_ref().expect("running").bus.clone()
    }

    /// Every event published from now on.
    pub async fn events(&self) -> tokio::sync::mpsc::Receiver<Event> {
        self.bus().observe().await.expect("observe events")
    }

    /// Stops the platform and starts it again on the same databases and data, with
    /// `bus` (new ports: the URLs change).
    pub async fn restart_with(&mut self, bus: Arc<dyn Bus>) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let running = start(&self.cfg, bus).await;
        (self.url, self.base, self.users_url) = addresses(&running);
        self.running = Some(running);
    }

    /// Stops the platform gracefully and drops its PostgreSQL schema, if it had one.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        if let (Some(url), Some(schema)) = (&self.cfg.users_database_url, &self.cfg.database_schema)
        {
            drop_schema(url, schema).await;
        }
        if let Some(url) = &self.cfg.nats_url
            && let Ok(bus) =
                folio_common::events::nats::NatsBus::connect(url, &self.cfg.events_prefix).await
        {
            let _ = bus.delete_stream().await;
        }
    }

    /// Posts an operation to the router; returns the HTTP status and the JSON body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request reaches the router");
        let status = res.status().as_u16();
        let body = res.json().await.expect("a JSON body");
        (status, body)
    }

    /// Posts an operation to the router and returns the JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(token, query, variables).await.1
    }

    /// Registers a user (names derived from the email) and returns their session.
    pub async fn register(&self, email: &str, password: &str) -> Session {
        let body = self
            .gql(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken user { id } } }",
                json!({ "i": { "email": email, "password": password, "firstName": "Test", "lastName": email.split('@').next().unwrap_or("User") } }),
            )
            .await;
        session(&body, "register")
    }

    /// Signs in and returns the session.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let body = self
            .gql(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken user { id } } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        session(&body, "login")
    }

    /// Creates (or promotes) an admin directly, as `folio admin create` does, and signs in.
    pub async fn admin(&self, email: &str, password: &str) -> Session {
        let users = folio_users::init(&self.cfg).await.expect("users service");
        folio_users::ensure_admin(&users, email, password, "Ada", "Admin")
            .await
            .expect("admin created");
        self.login(email, password).await
    }
}

/// The session in `body.data.<field>`; panics with the body if there is none.
pub fn session(body: &Value, field: &str) -> Session {
    let p = &body["data"][field];
    let s = |v: &Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("no session in {body}"))
            .to_owned()
    };
    Session {
        id: s(&p["user"]["id"]),
        access_token: s(&p["accessToken"]),
        refresh_token: s(&p["refreshToken"]),
    }
}

/// The `extensions.code` of the first error, or "" when there is none.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// The `extensions.field` of the first error, or "".
pub fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}
