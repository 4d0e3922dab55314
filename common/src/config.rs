//! Configuration: defaults, then an optional TOML file, then `FOLIO_*` environment variables.
//!
//! Every key is a flat field of [`Config`]; its environment variable is `FOLIO_` plus the
//! field name in upper case (`log_format` ↔ `FOLIO_LOG_FORMAT`). Each subgraph's own
//! settings are in [`Config::services`] under its name: `FOLIO_<NAME>_ADDR`, `…_URL`,
//! `…_DATABASE_URL` (`users_database_url` ↔ `services.users.database_url`), so a new
//! subgraph needs no new field. The TOML file (path in `FOLIO_CONFIG`, default
//! `folio.toml` when it exists) uses the field names and `[services.<name>]` tables.
//! [`KEYS`] documents every key; a test keeps it, the struct and the README in step.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration of the platform, every service reading what it needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the embedded run keeps its SQLite files and generated keys.
    pub data_dir: PathBuf,
    /// `pretty` or `json`.
    pub log_format: String,
    /// A `tracing` filter such as `info` or `folio_users=debug,info`.
    pub log: String,

    /// Address of the router (the public API).
    pub router_addr: SocketAddr,
    /// Each subgraph's settings, by its name: `FOLIO_<NAME>_ADDR`, `FOLIO_<NAME>_URL` and
    /// `FOLIO_<NAME>_DATABASE_URL` (`[services.<name>]` in the TOML file). The platform
    /// fills in each subgraph's default address.
    pub services: BTreeMap<String, ServiceConfig>,
    /// URL of the users subgraph's JWKS that the router verifies tokens with
    /// (default: `/.well-known/jwks.json` on the users subgraph).
    pub jwks_url: Option<String>,

    /// Whether the router answers introspection (`__schema`, `__type`). When off, field
    /// suggestions ("Did you mean …?") are left out of validation errors too.
    pub introspection: bool,
    /// Proxies (comma-separated CIDRs or addresses) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: String,
    /// Requests a second each client may make (a token bucket); unset: no limit.
    pub rate_limit_rps: Option<u32>,
    /// How many requests a client may make at once before the rate applies (default: the
    /// rate).
    pub rate_limit_burst: Option<u32>,
    /// The most an operation's estimated cost may be (demand control); unset: no limit.
    pub max_cost: Option<u64>,
    /// The size a list counts for in cost estimates when no argument or `@listSize`
    /// says.
    pub cost_default_list_size: u64,
    /// Most operations one batched POST (a JSON array) may carry; 0 refuses batches.
    pub max_batch: usize,
    /// A manifest of trusted documents (persisted operations) clients may name by id.
    pub persisted_documents_file: Option<PathBuf>,
    /// Whether only the manifest's operations may run (production lock-down).
    pub persisted_documents_only: bool,
    /// Whether automatic persisted queries (Apollo's protocol) are answered.
    pub apq: bool,
    /// Whether identical subgraph fetches in flight at the same moment (same subgraph,
    /// operation, variables and identity) are sent once and shared.
    pub dedupe_subgraph_requests: bool,
    /// How long the router waits for a subgraph fetch, in milliseconds.
    pub subgraph_timeout_ms: u64,
    /// How long a subgraph waits for another one it calls directly (content's
    /// `topContents` → interactions' `contentRanking`), in milliseconds.
    pub service_timeout_ms: u64,
    /// Microseconds the router keeps polling its sockets instead of sleeping after each
    /// request or subgraph fetch (0: off). Lowers latency where waking a sleeping thread
    /// is slow (virtual machines without guest halt polling), at the cost of CPU.
    pub router_busy_poll_us: u64,
    /// Most fetches the router has in flight to one subgraph at once.
    pub subgraph_max_in_flight: usize,
    /// Largest request body the router reads, in bytes.
    pub max_body_bytes: usize,
    /// Largest file a multipart upload may carry, in bytes (each file).
    pub max_upload_bytes: usize,
    /// Most files one multipart upload may carry.
    pub max_upload_files: usize,
    /// Most data rows one CSV import (`importContentsCsv`, `folio import-csv`) may hold.
    pub import_max_rows: u64,
    /// The shop's currency (ISO 4217, upper case): every price is in it.
    pub shop_currency: String,
    /// Where the media subgraph keeps image files (an `object_store` URL such as
    /// `file:///srv/folio/media` or `s3://bucket/prefix`); unset means `<data dir>/media`.
    pub media_store_url: Option<String>,
    /// Lifetime of the presigned URLs handed out for images in an S3 store; 0 serves
    /// them through the router at `/media/<key>` instead.
    pub media_url_ttl_secs: u64,
    /// How often the media subgraph deletes the files no image names, and how old such a
    /// file must be to go; 0 turns the sweep off.
    pub media_sweep_secs: u64,
    /// Largest image `setContentImage` and `setAvatar` accept, in bytes.
    pub max_image_bytes: usize,
    /// Most lexical tokens an operation may have.
    pub max_tokens: usize,
    /// Deepest selection nesting an operation may have.
    pub max_depth: usize,
    /// Most aliases an operation may use.
    pub max_aliases: usize,
    /// Most root fields an operation may select.
    pub max_root_fields: usize,
    /// A supergraph file for the router to plan with instead of the one built into the
    /// binary (the repository's `schema.graphql`, composed by `tools/compose`).
    pub supergraph_file: Option<PathBuf>,
    /// The directory of the search subgraph's index (default: `data_dir/search-index`).
    /// Each replica of the search service keeps an index of its own.
    pub search_index_dir: Option<PathBuf>,
    /// How many answers of recent searches (and, apart, of suggestions) a search replica
    /// keeps, each until the index's next commit; 0 keeps none.
    pub search_cache_entries: usize,

    /// A JWKS file the router verifies access tokens with, instead of fetching `jwks_url`.
    pub jwks_file: Option<PathBuf>,

    /// PostgreSQL schema each service's tables live in (default: the database's own
    /// `search_path`). Ignored on SQLite.
    pub database_schema: Option<String>,

    /// Shared secret (at least 32 characters) that proves identity headers come from
    /// the router. Default: generated on first start into `data_dir/identity.secret`.
    pub identity_secret: Option<String>,
    /// NATS server carrying the events (JetStream); `None` means the in-process bus.
    pub nats_url: Option<String>,
    /// First word of every event subject (`<prefix>.<service>.<type>`); the JetStream
    /// stream is named after it (`FOLIO` for `folio`).
    pub events_prefix: String,
    /// PKCS#8 PEM file of the Ed25519 key that signs access tokens. Default:
    /// `data_dir/jwt-ed25519.pem`, generated on first start.
    pub jwt_private_key_file: Option<PathBuf>,
    /// `iss` of access tokens.
    pub jwt_issuer: String,
    /// `aud` of access tokens.
    pub jwt_audience: String,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl_secs: u64,

    /// How long, in seconds, published outbox rows, processed-event ids and deletion
    /// tombstones are kept before a background task prunes them.
    pub retention_secs: u64,

    /// Where traces go: an OTLP/HTTP endpoint (`http://collector:4318`); unset: none.
    pub otlp_endpoint: Option<String>,

    /// PEM file of CAs the services trust for outbound HTTPS besides the system's roots.
    pub tls_ca_file: Option<PathBuf>,
    /// PEM certificate chain every listener of the process serves TLS with (with the key).
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,

    /// `login`, `register` and `refreshToken` attempts a minute per email and per client
    /// address (users subgraph); 0: no limit.
    pub auth_limit_per_minute: u32,

    /// Comma-separated ISO 3166 country codes allowed to register; empty means anyone.
    pub signup_countries: String,
    /// CSV of `first_ip,last_ip,country_code` ranges (DB-IP "IP to Country Lite"
    /// format) used to locate clients when `signup_countries` is set.
    pub geoip_csv: Option<PathBuf>,

    /// When set with the password, `serve` makes sure this admin exists.
    pub bootstrap_admin_email: Option<String>,
    /// Password of the bootstrap admin.
    pub bootstrap_admin_password: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            log_format: "pretty".into(),
            log: "info".into(),
            router_addr: ([127, 0, 0, 1], 4000).into(),
            services: BTreeMap::new(),
            jwks_url: None,
            introspection: true,
            max_batch: 0,
            trusted_proxies: String::new(),
            rate_limit_rps: None,
            rate_limit_burst: None,
            max_cost: None,
            cost_default_list_size: 10,
            persisted_documents_file: None,
            persisted_documents_only: false,
            apq: true,
            dedupe_subgraph_requests: true,
            subgraph_timeout_ms: 5_000,
            service_timeout_ms: 2_000,
            router_busy_poll_us: 0,
            subgraph_max_in_flight: 256,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            max_upload_files: 10,
            import_max_rows: 1_000_000,
            shop_currency: "EUR".to_owned(),
            media_store_url: None,
            media_url_ttl_secs: 86_400,
            media_sweep_secs: 3600,
            max_image_bytes: 10 * 1024 * 1024,
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
            supergraph_file: None,
            jwks_file: None,
            search_index_dir: None,
            search_cache_entries: 1024,
            database_schema: None,
            identity_secret: None,
            nats_url: None,
            events_prefix: "folio".into(),
            jwt_private_key_file: None,
            jwt_issuer: "folio".into(),
            jwt_audience: "folio-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            retention_secs: 7 * 24 * 60 * 60,
            otlp_endpoint: None,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            auth_limit_per_minute: 10,
            signup_countries: String::new(),
            geoip_csv: None,
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
        }
    }
}

/// One subgraph's settings (each unset by default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    /// Where it listens (the platform's default for the subgraph when unset).
    pub addr: Option<SocketAddr>,
    /// Where the router and other subgraphs reach its GraphQL endpoint (default:
    /// `http://<addr>/graphql`).
    pub url: Option<String>,
    /// Its database (default: SQLite, `<data_dir>/<name>.db`).
    pub database_url: Option<String>,
}

/// The settings every subgraph has, as `FOLIO_<NAME>_<KEY>` spells them (lower case).
pub const SERVICE_KEYS: [&str; 3] = ["database_url", "addr", "url"];

/// One documented configuration key: its environment variable, default and meaning.
pub struct Key {
    pub env: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

/// Every configuration key, as the README's table lists them.
pub const KEYS: &[Key] = &[
    Key {
        env: "FOLIO_CONFIG",
        default: "folio.toml (if present)",
        doc: "Path of an optional TOML file with the keys below (lower case, without the prefix).",
    },
    Key {
        env: "FOLIO_DATA_DIR",
        default: "./data",
        doc: "Where the embedded run keeps its SQLite files and generated keys.",
    },
    Key {
        env: "FOLIO_LOG_FORMAT",
        default: "pretty",
        doc: "`pretty` or `json` logs.",
    },
    Key {
        env: "FOLIO_LOG",
        default: "info",
        doc: "Log filter (`tracing` EnvFilter syntax).",
    },
    Key {
        env: "FOLIO_ROUTER_ADDR",
        default: "127.0.0.1:4000",
        doc: "Router (public API, GraphiQL) listen address.",
    },
    Key {
        env: "FOLIO_<SUBGRAPH>_ADDR",
        default: "127.0.0.1:4001 users, 4002 content, 4003 interactions",
        doc: "A subgraph's listen address; `<SUBGRAPH>` is its name in upper case (`FOLIO_USERS_ADDR`).",
    },
    Key {
        env: "FOLIO_<SUBGRAPH>_URL",
        default: "http://{addr}/graphql",
        doc: "Where the router and other subgraphs reach a subgraph (`FOLIO_CONTENT_URL`).",
    },
    Key {
        env: "FOLIO_JWKS_URL",
        default: "http://{users addr}/.well-known/jwks.json",
        doc: "JWKS the router verifies access tokens with.",
    },
    Key {
        env: "FOLIO_INTROSPECTION",
        default: "true",
        doc: "Whether the router answers introspection; off also removes field suggestions from errors.",
    },
    Key {
        env: "FOLIO_TRUSTED_PROXIES",
        default: "(empty: none)",
        doc: "Comma-separated CIDRs (or addresses) of the proxies in front of the router. A request from one has its client address read from X-Forwarded-For: the right-most entry that is not a trusted proxy. Rate limits and the sign-up country rule use that address.",
    },
    Key {
        env: "FOLIO_RATE_LIMIT_RPS",
        default: "(none: no limit)",
        doc: "Requests a second each client may make (a token bucket per user id when signed in, else per client address); over it: HTTP 429 with Retry-After and RATE_LIMITED.",
    },
    Key {
        env: "FOLIO_RATE_LIMIT_BURST",
        default: "(the rate)",
        doc: "How many requests a client may make at once before FOLIO_RATE_LIMIT_RPS applies.",
    },
    Key {
        env: "FOLIO_MAX_COST",
        default: "(none: no limit)",
        doc: "Demand control: the most an operation's estimated cost may be, checked before any fetch (a composite field 1, a list its `first`/`last` (or that argument's schema default) or its default size times its items, nested lists multiplying; `@cost` and `@listSize` in the supergraph count); more is COST_ESTIMATED_TOO_EXPENSIVE with the estimate in `extensions.cost`. Every request's cost is in the metrics (folio_router_operation_cost).",
    },
    Key {
        env: "FOLIO_COST_DEFAULT_LIST_SIZE",
        default: "10",
        doc: "The size a list counts for in cost estimates when neither a slicing argument (`first`, `last`) nor `@listSize(assumedSize:)` says.",
    },
    Key {
        env: "FOLIO_MAX_BATCH",
        default: "0",
        doc: "Most operations a batched POST (a JSON array of requests, as Apollo Client's BatchHttpLink sends) may carry; each gets its own result, in order. 0 refuses batches (BATCHING_NOT_ENABLED); a longer batch is BATCH_LIMIT_EXCEEDED.",
    },
    Key {
        env: "FOLIO_PERSISTED_DOCUMENTS_FILE",
        default: "(none)",
        doc: "A manifest of trusted documents (persisted operations), as graphql-codegen's client preset (`{\"<sha256>\": \"<document>\"}`) or Apollo's persisted query manifest (`{\"operations\": [{\"id\", \"body\", …}]}`) writes it; clients send `{\"documentId\": \"<sha256>\"}` instead of the text. Each id must be its document's SHA-256.",
    },
    Key {
        env: "FOLIO_PERSISTED_DOCUMENTS_ONLY",
        default: "false",
        doc: "Production lock-down: only the manifest's operations run (by id or by their exact text); anything else, introspection and APQ included, is PERSISTED_QUERY_REQUIRED.",
    },
    Key {
        env: "FOLIO_APQ",
        default: "true",
        doc: "Automatic persisted queries (Apollo Client's protocol): a hash alone runs the text registered before, else PERSISTED_QUERY_NOT_FOUND; the texts are kept in memory (32 MiB, least recently used out).",
    },
    Key {
        env: "FOLIO_DEDUPE_SUBGRAPH_REQUESTS",
        default: "true",
        doc: "Send identical in-flight subgraph fetches (same operation, variables and identity) once.",
    },
    Key {
        env: "FOLIO_SUBGRAPH_TIMEOUT_MS",
        default: "5000",
        doc: "How long the router waits for a subgraph fetch before answering with SUBGRAPH_UNAVAILABLE.",
    },
    Key {
        env: "FOLIO_SERVICE_TIMEOUT_MS",
        default: "2000",
        doc: "How long a subgraph waits for another it calls directly (topContents asking interactions' contentRanking) before a SUBGRAPH_UNAVAILABLE error.",
    },
    Key {
        env: "FOLIO_ROUTER_BUSY_POLL_US",
        default: "0 (off)",
        doc: "Microseconds the router keeps polling its sockets instead of sleeping after each request or subgraph fetch: lower latency where waking a sleeping thread is slow (virtual machines without guest halt polling), paid in CPU time.",
    },
    Key {
        env: "FOLIO_SUBGRAPH_MAX_IN_FLIGHT",
        default: "256",
        doc: "Most fetches in flight to one subgraph; more wait (within the timeout).",
    },
    Key {
        env: "FOLIO_MAX_BODY_BYTES",
        default: "2097152",
        doc: "Largest request body the router reads (2 MiB); more is HTTP 413.",
    },
    Key {
        env: "FOLIO_MAX_UPLOAD_BYTES",
        default: "10485760",
        doc: "Largest file in a multipart upload (10 MiB each); more is HTTP 413.",
    },
    Key {
        env: "FOLIO_MAX_UPLOAD_FILES",
        default: "10",
        doc: "Most files in one multipart upload; more is HTTP 413.",
    },
    Key {
        env: "FOLIO_IMPORT_MAX_ROWS",
        default: "1000000",
        doc: "Most data rows in one CSV import; a longer file is rejected whole (a line-1 error).",
    },
    Key {
        env: "FOLIO_SHOP_CURRENCY",
        default: "EUR",
        doc: "The shop's currency (ISO 4217, three upper-case letters): every product is priced in it, and a product in another is BAD_USER_INPUT.",
    },
    Key {
        env: "FOLIO_MEDIA_STORE_URL",
        default: "(none: <data dir>/media)",
        doc: "Where the media subgraph keeps image files, as an object_store URL: `file:///srv/folio/media`, or `s3://bucket/prefix` for any S3-compatible store, with the credentials, region and endpoint from the standard `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`).",
    },
    Key {
        env: "FOLIO_MEDIA_URL_TTL_SECS",
        default: "86400",
        doc: "With an S3 store: how long the presigned image URLs handed out stay valid (one day; the same URL is handed out for the first half of it, so clients can cache); 0 serves the files through the router at `/media/<key>` instead.",
    },
    Key {
        env: "FOLIO_MEDIA_SWEEP_SECS",
        default: "3600",
        doc: "How often the media subgraph deletes the files no image names (left by a deletion that failed, or a crash between storing a file and its row), and how long since such a file was written before it goes; 0 turns the sweep off.",
    },
    Key {
        env: "FOLIO_MAX_IMAGE_BYTES",
        default: "10485760",
        doc: "Largest image an upload may be (10 MiB); a larger one is BAD_USER_INPUT and nothing is stored.",
    },
    Key {
        env: "FOLIO_MAX_TOKENS",
        default: "15000",
        doc: "Most lexical tokens in an operation.",
    },
    Key {
        env: "FOLIO_MAX_DEPTH",
        default: "15",
        doc: "Deepest field nesting in an operation.",
    },
    Key {
        env: "FOLIO_MAX_ALIASES",
        default: "30",
        doc: "Most aliases in an operation.",
    },
    Key {
        env: "FOLIO_MAX_ROOT_FIELDS",
        default: "20",
        doc: "Most root fields an operation selects.",
    },
    Key {
        env: "FOLIO_SUPERGRAPH_FILE",
        default: "(built in: schema.graphql)",
        doc: "Supergraph SDL the router plans with instead of the one built into the binary.",
    },
    Key {
        env: "FOLIO_SEARCH_INDEX_DIR",
        default: "{data_dir}/search-index",
        doc: "Directory of the search subgraph's tantivy index; each search replica needs its own.",
    },
    Key {
        env: "FOLIO_SEARCH_CACHE_ENTRIES",
        default: "1024",
        doc: "Answers of recent searches (and as many suggestions) a search replica keeps, each until the index's next commit; 0 keeps none.",
    },
    Key {
        env: "FOLIO_JWKS_FILE",
        default: "(none: fetch FOLIO_JWKS_URL)",
        doc: "A JWKS file the router verifies access tokens with, instead of fetching it.",
    },
    Key {
        env: "FOLIO_<SUBGRAPH>_DATABASE_URL",
        default: "sqlite://{data_dir}/<subgraph>.db",
        doc: "A subgraph's database, `sqlite://…` or `postgres://…` (`FOLIO_USERS_DATABASE_URL`).",
    },
    Key {
        env: "FOLIO_DATABASE_SCHEMA",
        default: "(search_path)",
        doc: "PostgreSQL schema for the service's tables, created if missing.",
    },
    Key {
        env: "FOLIO_IDENTITY_SECRET",
        default: "generated into {data_dir}/identity.secret",
        doc: "Secret (≥ 32 chars) shared by router and subgraphs to prove forwarded identity. Set the same value on every service when they run apart.",
    },
    Key {
        env: "FOLIO_NATS_URL",
        default: "(none: in-process bus)",
        doc: "NATS server (JetStream) the services publish and consume events on; unset, events travel only inside this process.",
    },
    Key {
        env: "FOLIO_EVENTS_PREFIX",
        default: "folio",
        doc: "First word of every event subject (folio.users.user.created); the JetStream stream is named after it (FOLIO).",
    },
    Key {
        env: "FOLIO_JWT_PRIVATE_KEY_FILE",
        default: "{data_dir}/jwt-ed25519.pem (generated)",
        doc: "Ed25519 PKCS#8 PEM key the users subgraph signs access tokens with.",
    },
    Key {
        env: "FOLIO_JWT_ISSUER",
        default: "folio",
        doc: "`iss` of access tokens.",
    },
    Key {
        env: "FOLIO_JWT_AUDIENCE",
        default: "folio-api",
        doc: "`aud` of access tokens.",
    },
    Key {
        env: "FOLIO_ACCESS_TOKEN_TTL_SECS",
        default: "900",
        doc: "Access token lifetime in seconds.",
    },
    Key {
        env: "FOLIO_REFRESH_TOKEN_TTL_SECS",
        default: "2592000",
        doc: "Refresh token lifetime in seconds (30 days).",
    },
    Key {
        env: "FOLIO_RETENTION_SECS",
        default: "604800",
        doc: "How long published outbox rows, processed-event ids and deletion tombstones are kept (7 days, longer than any redelivery window) before a background task prunes them, in batches.",
    },
    Key {
        env: "FOLIO_OTLP_ENDPOINT",
        default: "(none: no traces)",
        doc: "OpenTelemetry: export traces over OTLP/HTTP with JSON bodies to this collector (`http://collector:4318`; `/v1/traces` is appended). One trace per client request: the router's stages and subgraph fetches, each subgraph's request and resolvers, SQL statements, subgraph-to-subgraph calls, and the publication and application of events (linked to the operation that caused them); W3C `traceparent` is read and written. The OTEL_BSP_* variables tune the batching.",
    },
    Key {
        env: "FOLIO_TLS_CA_FILE",
        default: "(none: the system's roots only)",
        doc: "PEM file of certificate authorities trusted for outbound HTTPS (router to subgraphs and JWKS, subgraph to subgraph, the CLI), besides the system's roots: a private CA.",
    },
    Key {
        env: "FOLIO_TLS_CERT_FILE",
        default: "(none: plain HTTP)",
        doc: "PEM certificate chain; with FOLIO_TLS_KEY_FILE, every listener of the process (router and subgraphs) serves HTTPS only (HTTP/1.1), and the services of one process reach each other at https:// URLs.",
    },
    Key {
        env: "FOLIO_TLS_KEY_FILE",
        default: "(none)",
        doc: "PEM private key (PKCS#8, PKCS#1 or SEC1) of FOLIO_TLS_CERT_FILE.",
    },
    Key {
        env: "FOLIO_AUTH_LIMIT_PER_MINUTE",
        default: "10",
        doc: "Against password guessing: `login`, `register` and `refreshToken` attempts a minute per email and per client address (each a token bucket of that size refilling over a minute; every attempt counts, right password or not, before any password is hashed); over it: RATE_LIMITED with `extensions.retryAfter`. A loopback address is counted by email only. Counted in each users replica. 0: no limit.",
    },
    Key {
        env: "FOLIO_SIGNUP_COUNTRIES",
        default: "(empty: anyone)",
        doc: "Comma-separated country codes allowed to register.",
    },
    Key {
        env: "FOLIO_GEOIP_CSV",
        default: "(none)",
        doc: "CSV of `first_ip,last_ip,country` ranges used to locate clients for sign-up.",
    },
    Key {
        env: "FOLIO_BOOTSTRAP_ADMIN_EMAIL",
        default: "(none)",
        doc: "With the password, `serve` makes sure this admin exists.",
    },
    Key {
        env: "FOLIO_BOOTSTRAP_ADMIN_PASSWORD",
        default: "(none)",
        doc: "Password of the bootstrap admin.",
    },
];

/// `FOLIO_` variables (or prefixes) that are read elsewhere and are not configuration:
/// the config file's path, `folio admin create`'s password, the test suite's and CI's.
pub const NON_CONFIG_VARS: &[&str] = &[
    "FOLIO_CONFIG",
    "FOLIO_ADMIN_PASSWORD",
    "FOLIO_TEST_",
    "FOLIO_BENCH_",
    "FOLIO_CI_",
];

/// Why the configuration could not be loaded.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration: {}", self.0)
    }
}
impl std::error::Error for ConfigError {}

impl Config {
    /// Loads defaults, then the TOML file, then `FOLIO_*` variables (later wins).
    /// `subgraphs` names the subgraphs whose `FOLIO_<NAME>_ADDR`, `_URL` and
    /// `_DATABASE_URL` variables are read into [`Config::services`].
    pub fn load(subgraphs: &[&str]) -> Result<Config, ConfigError> {
        let file = std::env::var("FOLIO_CONFIG").unwrap_or_else(|_| "folio.toml".into());
        let explicit = std::env::var_os("FOLIO_CONFIG").is_some();
        if explicit && !Path::new(&file).exists() {
            return Err(ConfigError(format!(
                "FOLIO_CONFIG names {file}, which does not exist"
            )));
        }
        let fields = Config::field_names();
        let names: Vec<String> = subgraphs.iter().map(|n| n.to_ascii_lowercase()).collect();
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            // Other FOLIO_ variables (a command's own, the test suite's) are not
            // configuration; `unknown_env_vars` reports the ones nothing reads. A
            // subgraph's variable lands in its `services` entry.
            .merge(Env::prefixed("FOLIO_").filter_map(move |k| {
                let key = k.as_str().to_ascii_lowercase();
                if key != "services" && fields.contains(&key) {
                    return Some(key.into());
                }
                service_key(&names, &key)
                    .map(|(name, setting)| format!("services.{name}.{setting}").into())
            }))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// The configuration keys as TOML spells them (`log_format`; `services` holds the
    /// subgraphs' own).
    pub fn field_names() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// `FOLIO_*` environment variables that no part of Folio reads (most likely typos),
    /// given the subgraphs there are.
    pub fn unknown_env_vars(subgraphs: &[&str]) -> Vec<String> {
        let fields = Config::field_names();
        let names: Vec<String> = subgraphs.iter().map(|n| n.to_ascii_lowercase()).collect();
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("FOLIO_"))
            .filter(|k| !NON_CONFIG_VARS.iter().any(|p| k.starts_with(p)))
            .filter(|k| {
                let key = k["FOLIO_".len()..].to_ascii_lowercase();
                !(key != "services" && fields.contains(&key)) && service_key(&names, &key).is_none()
            })
            .collect()
    }

    /// The settings of the subgraph `name` (all unset if it has none).
    pub fn service(&self, name: &str) -> ServiceConfig {
        self.services.get(name).cloned().unwrap_or_default()
    }

    /// The settings of the subgraph `name`, to change them.
    pub fn service_mut(&mut self, name: &str) -> &mut ServiceConfig {
        self.services.entry(name.to_owned()).or_default()
    }

    /// The database URL of the subgraph `name`, defaulting to a SQLite file under
    /// `data_dir` (`<name>.db`).
    pub fn service_database(&self, name: &str) -> String {
        self.service(name)
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}/{name}.db", self.data_dir.display()))
    }

    /// The address the service `name` listens on (`router`, or a subgraph).
    pub fn service_addr(&self, name: &str) -> Option<SocketAddr> {
        if name == "router" {
            return Some(self.router_addr);
        }
        self.service(name).addr
    }

    /// Where the subgraph `name` is reached: its configured URL, or its address's
    /// `/graphql` (over `https` when this process's services listen with TLS); `None`
    /// when neither is known.
    pub fn service_url(&self, name: &str) -> Option<String> {
        let service = self.service(name);
        service.url.or_else(|| {
            let scheme = crate::tls::scheme(self);
            service.addr.map(|a| format!("{scheme}://{a}/graphql"))
        })
    }

    /// Points the subgraph `name` at `url` unless a URL is configured for it already.
    pub fn default_service_url(&mut self, name: &str, url: String) {
        self.service_mut(name).url.get_or_insert(url);
    }

    /// The JWKS endpoint the router verifies access tokens with (default: the users
    /// subgraph's `/.well-known/jwks.json`).
    pub fn jwks_endpoint(&self) -> String {
        self.jwks_url.clone().unwrap_or_else(|| {
            let users = self
                .service("users")
                .addr
                .map_or_else(|| "127.0.0.1:4001".to_owned(), |a| a.to_string());
            format!(
                "{}://{users}/.well-known/jwks.json",
                crate::tls::scheme(self)
            )
        })
    }

    /// The country codes allowed to register, upper-cased; empty means anyone may.
    pub fn signup_country_list(&self) -> Vec<String> {
        self.signup_countries
            .split(',')
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect()
    }
}

/// `(subgraph, setting)` when `key` (lower case, without `folio_`) is one of a subgraph's
/// settings, such as `users_database_url`.
fn service_key<'a>(names: &'a [String], key: &str) -> Option<(&'a str, &'static str)> {
    names.iter().find_map(|name| {
        let setting = key.strip_prefix(name.as_str())?.strip_prefix('_')?;
        SERVICE_KEYS
            .iter()
            .find(|s| **s == setting)
            .map(|s| (name.as_str(), *s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_a_documented_key() {
        let fields: Vec<String> = Config::field_names()
            .iter()
            .filter(|k| *k != "services")
            .map(|k| format!("FOLIO_{}", k.to_ascii_uppercase()))
            .collect();
        assert!(fields.len() > 20);
        for f in &fields {
            assert!(KEYS.iter().any(|k| k.env == *f), "{f} is not in KEYS");
        }
        let per_subgraph: Vec<String> = SERVICE_KEYS
            .iter()
            .map(|k| format!("FOLIO_<SUBGRAPH>_{}", k.to_ascii_uppercase()))
            .collect();
        for k in KEYS.iter().filter(|k| k.env != "FOLIO_CONFIG") {
            assert!(
                fields.contains(&k.env.to_owned()) || per_subgraph.contains(&k.env.to_owned()),
                "{} is in KEYS but not a field",
                k.env
            );
        }
        for k in &per_subgraph {
            assert!(KEYS.iter().any(|key| key.env == *k), "{k} is not in KEYS");
        }
    }

    #[test]
    fn a_subgraphs_variables_land_in_its_services_entry() {
        let names = ["users".to_owned(), "search".to_owned()];
        assert_eq!(service_key(&names, "users_addr"), Some(("users", "addr")));
        assert_eq!(
            service_key(&names, "search_database_url"),
            Some(("search", "database_url"))
        );
        assert_eq!(service_key(&names, "users_url"), Some(("users", "url")));
        assert_eq!(service_key(&names, "usersaddr"), None);
        assert_eq!(service_key(&names, "shop_addr"), None);
        let mut cfg = Config::default();
        cfg.service_mut("search").addr = Some(([127, 0, 0, 1], 4009).into());
        assert_eq!(
            cfg.service_url("search").as_deref(),
            Some("http://127.0.0.1:4009/graphql")
        );
        assert_eq!(cfg.service_database("search"), "sqlite://./data/search.db");
        cfg.default_service_url("search", "http://elsewhere/graphql".into());
        cfg.default_service_url("search", "http://ignored/graphql".into());
        assert_eq!(
            cfg.service_url("search").as_deref(),
            Some("http://elsewhere/graphql")
        );
    }
}
