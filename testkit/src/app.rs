//! `TestApp`: the whole platform in-process on port 0, with a fresh database, stopped on
//! `Drop` (or awaited with [`TestApp::stop`]).
//!
//! SQLite in a temporary directory by default; PostgreSQL when `FOLIO_TEST_DATABASE_URL`
//! is set, each platform in a fresh schema (`folio_test_<uuid>`), so tests run in parallel.
//! Events travel on the in-process bus by default; over NATS JetStream when
//! `FOLIO_TEST_NATS_URL` is set, each platform with its own subject prefix (and so its
//! own stream). Pictures go to a directory in the platform's temporary directory, or,
//! when `FOLIO_TEST_MEDIA_STORE_URL` is set (`s3://bucket`, with the `AWS_*` variables
//! saying where and how), under a prefix of their own in that store. The request helpers
//! are in `requests.rs`.

use folio::platform::{self, Listeners, Running};
use folio_common::Config;
use folio_common::events::{Bus, Event};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------
// The platform API, used here and nowhere else in the kit: starting every service on
// port 0, and the addresses it ended up on.

/// Where a running platform answers.
struct Addresses {
    router: SocketAddr,
    users: SocketAddr,
}

async fn start(cfg: &Config, bus: Arc<dyn Bus>) -> (Running, Addresses) {
    let mut bound = std::collections::BTreeMap::new();
    for name in platform::service_names() {
        bound.insert(name, TcpListener::bind("127.0.0.1:0").await.expect("bind"));
    }
    let listeners = Listeners(bound);
    let running = platform::start_with_bus(cfg.clone(), listeners, bus)
        .await
        .expect("platform starts");
    let addresses = Addresses {
        router: running.router_addr().expect("router address"),
        users: running.addrs["users"],
    };
    (running, addresses)
}

// ---------------------------------------------------------------------------------------

/// A running platform and a client for it.
pub struct TestApp {
    /// The router's GraphQL endpoint, as clients use it.
    pub url: String,
    /// The router's base URL (for `/`, `/health`, `/metrics`).
    pub base: String,
    /// The users subgraph's own GraphQL endpoint (to test what it accepts directly).
    pub users_url: String,
    pub client: reqwest::Client,
    pub cfg: Config,
    running: Option<Running>,
    /// What outlives the process's platform: dropped by `stop` or on `Drop`.
    leftovers: Option<Leftovers>,
    _dir: tempfile::TempDir,
}

/// What register and login hand back, for the next requests.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A database URL and schema for one fresh platform: `(None, None)` (SQLite) unless
/// `FOLIO_TEST_DATABASE_URL` is set.
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

/// A platform's PostgreSQL schema and NATS stream, which outlive it unless dropped.
struct Leftovers {
    database: Option<(String, String)>,
    nats: Option<(String, String)>,
}

impl Leftovers {
    fn of(cfg: &Config) -> Option<Leftovers> {
        let database = cfg
            .service("users")
            .database_url
            .zip(cfg.database_schema.clone());
        let nats = cfg.nats_url.clone().map(|u| (u, cfg.events_prefix.clone()));
        (database.is_some() || nats.is_some()).then_some(Leftovers { database, nats })
    }

    async fn drop_all(self) {
        if let Some((url, schema)) = &self.database {
            drop_schema(url, schema).await;
        }
        if let Some((url, prefix)) = &self.nats
            && let Ok(bus) = folio_common::events::nats::NatsBus::connect(url, prefix).await
        {
            let _ = bus.delete_stream().await;
        }
    }
}

impl TestApp {
    /// The platform with default configuration.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// The platform with `tweak` applied to its configuration (`cfg.data_dir` is the
    /// platform's own temporary directory, for files the tweak wants to write).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db_url, schema) = fresh_database();
        let unique = format!("folio_test_{}", uuid::Uuid::new_v4().simple());
        let mut cfg = Config {
            data_dir: dir.path().to_path_buf(),
            database_schema: schema,
            identity_secret: Some(format!("test-secret-{}", uuid::Uuid::new_v4().simple())),
            nats_url: std::env::var("FOLIO_TEST_NATS_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            // An S3 store (`s3://bucket`) is shared: each platform keeps its files
            // under its own prefix.
            media_store_url: std::env::var("FOLIO_TEST_MEDIA_STORE_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .map(|u| format!("{}/{unique}", u.trim_end_matches('/'))),
            events_prefix: unique,
            log: "warn".into(),
            ..Config::default()
        };
        for subgraph in platform::SUBGRAPHS {
            cfg.service_mut(subgraph.name).database_url = db_url.clone();
        }
        tweak(&mut cfg);
        folio_common::telemetry::init(
            "pretty",
            &std::env::var("FOLIO_TEST_LOG").unwrap_or_else(|_| "off".into()),
        );
        let bus = platform::event_bus(&cfg, false).await.expect("event bus");
        let mut app = TestApp {
            url: String::new(),
            base: String::new(),
            users_url: String::new(),
            // Trusting what the platform's own clients trust (FOLIO_TLS_CA_FILE).
            client: folio_common::tls::client_builder(&cfg)
                .and_then(|b| Ok(b.build()?))
                .expect("an HTTP client"),
            leftovers: Leftovers::of(&cfg),
            cfg,
            running: None,
            _dir: dir,
        };
        app.run(bus).await;
        app
    }

    /// The platform a deployment-shaped test runs against: the router at
    /// `FOLIO_TEST_ROUTER_URL` when it is set (`tools/apart/run.sh` starts every service
    /// as a `folio serve --only` process of its own, on PostgreSQL and NATS, and runs
    /// `e2e::apart` so), else a platform of its own, as [`TestApp::spawn`]. Only what
    /// goes through the router works on the former: no configuration, bus or database.
    pub async fn deployed() -> TestApp {
        let Some(url) = std::env::var("FOLIO_TEST_ROUTER_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return TestApp::spawn().await;
        };
        let base = url.trim_end_matches("/graphql").to_owned();
        TestApp {
            users_url: String::new(),
            client: reqwest::Client::new(),
            leftovers: None,
            cfg: Config::default(),
            running: None,
            _dir: tempfile::tempdir().expect("temp dir"),
            url,
            base,
        }
    }

    /// The platform whose sign-up is open to the `allowed` countries only, with
    /// 127.0.0.0/8 (where the tests' requests come from) located by `geo_csv`.
    pub async fn spawn_with_signup(allowed: &str, geo_csv: &str) -> TestApp {
        TestApp::spawn_with(|cfg| {
            let path = cfg.data_dir.join("geo.csv");
            std::fs::write(&path, geo_csv).expect("write the GeoIP CSV");
            cfg.signup_countries = allowed.to_owned();
            cfg.geoip_csv = Some(path);
        })
        .await
    }

    async fn run(&mut self, bus: Arc<dyn Bus>) {
        let (running, at) = start(&self.cfg, bus).await;
        let scheme = folio_common::tls::scheme(&self.cfg);
        self.url = format!("{scheme}://{}/graphql", at.router);
        self.base = format!("{scheme}://{}", at.router);
        self.users_url = format!("{scheme}://{}/graphql", at.users);
        self.running = Some(running);
    }

    /// A second instance of every service of this platform, as a deployment with two
    /// replicas runs them: the same configuration (databases, PostgreSQL schema, NATS
    /// stream, identity secret, signing key in the data directory), its own ports and its
    /// own bus connection. What outlives the platforms is the first one's to drop: stop
    /// the replica first.
    pub async fn replica(&self) -> TestApp {
        let bus = platform::event_bus(&self.cfg, false)
            .await
            .expect("event bus");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = self.cfg.clone();
        // Each search replica keeps an index of its own.
        cfg.search_index_dir = Some(dir.path().join("search-index"));
        let mut replica = TestApp {
            url: String::new(),
            base: String::new(),
            users_url: String::new(),
            client: reqwest::Client::new(),
            leftovers: None,
            cfg,
            running: None,
            _dir: dir,
        };
        replica.run(bus).await;
        replica
    }

    /// The GraphQL endpoint of the subgraph `name` (`users`, `content`, `interactions`),
    /// as the router reaches it (for a router started elsewhere, or a direct request).
    pub fn subgraph_url(&self, name: &str) -> String {
        let running = self.running.as_ref().expect("running");
        let addr = running
            .addrs
            .get(name)
            .unwrap_or_else(|| panic!("no subgraph named {name}"));
        format!("{}://{addr}/graphql", folio_common::tls::scheme(&self.cfg))
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
        self.run(bus).await;
    }

    /// Stops the platform gracefully (in-flight requests finish, every task ends) and
    /// drops its PostgreSQL schema and NATS stream, if it had them.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        if let Some(leftovers) = self.leftovers.take() {
            leftovers.drop_all().await;
        }
    }
}

/// A test that ends without [`TestApp::stop`] (a failed assertion, an early return)
/// still stops its platform and drops what it left outside the process.
///
/// Dropping `Running` needs no runtime: its stop sender goes (every server's graceful
/// shutdown and every consumer and relay sees the channel close) and its task set aborts
/// what is left. The schema and the stream take async work, which `Drop` cannot await:
/// blocking here on the test's runtime would panic (`block_on` inside a runtime) or
/// deadlock a current-thread runtime, and a task spawned on it dies with it when the test
/// returns. So a detached thread with a runtime of its own drops them. It is not joined:
/// a transaction of an aborted task may hold a lock that `DROP SCHEMA` waits for until
/// the test's runtime, after this `Drop`, drops that task. A process that exits first
/// leaves the schema behind; `.ci/run` sweeps those before the PostgreSQL pass.
impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.running.take());
        if let Some(leftovers) = self.leftovers.take() {
            let _ = std::thread::Builder::new()
                .name("testkit-cleanup".into())
                .spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(leftovers.drop_all());
                    }
                });
        }
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
