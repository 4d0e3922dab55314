//! Configuration: defaults, then an optional TOML file, then `FOLIO_*` environment variables.
//!
//! Every key is a flat field of [`Config`]; its environment variable is `FOLIO_` plus the
//! field name in upper case (`users_database_url` ↔ `FOLIO_USERS_DATABASE_URL`). The TOML
//! file (path in `FOLIO_CONFIG`, default `folio.toml` when it exists) uses the field names.
//! [`KEYS`] documents every key; a test keeps it, the struct and the README in step.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
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
    /// Address of the users subgraph.
    pub users_addr: SocketAddr,
    /// Address of the content subgraph.
    pub content_addr: SocketAddr,
    /// Address of the interactions subgraph.
    pub interactions_addr: SocketAddr,
    /// URL the router uses to reach the users subgraph (default: from `users_addr`).
    pub users_url: Option<String>,
    /// URL the router and the interactions subgraph use to reach the content subgraph
    /// (default: from `content_addr`).
    pub content_url: Option<String>,
    /// URL the router and the content subgraph use to reach the interactions subgraph
    /// (default: from `interactions_addr`).
    pub interactions_url: Option<String>,
    /// URL of the users subgraph's JWKS that the router verifies tokens with
    /// (default: `/.well-known/jwks.json` on the users subgraph).
    pub jwks_url: Option<String>,

    /// Whether the router answers introspection (`__schema`, `__type`). When off, field
    /// suggestions ("Did you mean …?") are left out of validation errors too.
    pub introspection: bool,
    /// Whether identical subgraph fetches in flight at the same moment (same subgraph,
    /// operation, variables and identity) are sent once and shared.
    pub dedupe_subgraph_requests: bool,
    /// How long the router waits for a subgraph fetch, in milliseconds.
    pub subgraph_timeout_ms: u64,
    /// How long a subgraph waits for another one it calls directly (content's
    /// `topContents` → interactions' `contentRanking`), in milliseconds.
    pub service_timeout_ms: u64,
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
    /// A directory holding GraphiQL's assets (`npm --prefix tools/graphiql ci` fills
    /// `tools/graphiql/node_modules`) so the playground works offline; unset means a CDN
    /// serves them.
    pub graphiql_assets_dir: Option<PathBuf>,

    /// A JWKS file the router verifies access tokens with, instead of fetching `jwks_url`.
    pub jwks_file: Option<PathBuf>,

    /// Database of the users subgraph (default: SQLite under `data_dir`).
    pub users_database_url: Option<String>,
    /// Database of the content subgraph (default: SQLite under `data_dir`).
    pub content_database_url: Option<String>,
    /// Database of the interactions subgraph (default: SQLite under `data_dir`).
    pub interactions_database_url: Option<String>,
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
            users_addr: ([127, 0, 0, 1], 4001).into(),
            content_addr: ([127, 0, 0, 1], 4002).into(),
            interactions_addr: ([127, 0, 0, 1], 4003).into(),
            users_url: None,
            content_url: None,
            interactions_url: None,
            jwks_url: None,
            introspection: true,
            dedupe_subgraph_requests: true,
            subgraph_timeout_ms: 5_000,
            service_timeout_ms: 2_000,
            subgraph_max_in_flight: 256,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            max_upload_files: 10,
            import_max_rows: 1_000_000,
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
            supergraph_file: None,
            jwks_file: None,
            graphiql_assets_dir: None,
            users_database_url: None,
            content_database_url: None,
            interactions_database_url: None,
            database_schema: None,
            identity_secret: None,
            nats_url: None,
            events_prefix: "folio".into(),
            jwt_private_key_file: None,
            jwt_issuer: "folio".into(),
            jwt_audience: "folio-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            signup_countries: String::new(),
            geoip_csv: None,
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
        }
    }
}

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
        env: "FOLIO_USERS_ADDR",
        default: "127.0.0.1:4001",
        doc: "Users subgraph listen address.",
    },
    Key {
        env: "FOLIO_CONTENT_ADDR",
        default: "127.0.0.1:4002",
        doc: "Content subgraph listen address.",
    },
    Key {
        env: "FOLIO_INTERACTIONS_ADDR",
        default: "127.0.0.1:4003",
        doc: "Interactions subgraph listen address.",
    },
    Key {
        env: "FOLIO_USERS_URL",
        default: "http://{users_addr}/graphql",
        doc: "Where the router reaches the users subgraph.",
    },
    Key {
        env: "FOLIO_CONTENT_URL",
        default: "http://{content_addr}/graphql",
        doc: "Where the router and the interactions subgraph reach the content subgraph.",
    },
    Key {
        env: "FOLIO_INTERACTIONS_URL",
        default: "http://{interactions_addr}/graphql",
        doc: "Where the router and the content subgraph reach the interactions subgraph.",
    },
    Key {
        env: "FOLIO_JWKS_URL",
        default: "http://{users_addr}/.well-known/jwks.json",
        doc: "JWKS the router verifies access tokens with.",
    },
    Key {
        env: "FOLIO_INTROSPECTION",
        default: "true",
        doc: "Whether the router answers introspection; off also removes field suggestions from errors.",
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
        env: "FOLIO_GRAPHIQL_ASSETS_DIR",
        default: "(none: CDN)",
        doc: "Directory with GraphiQL's pinned npm packages (npm --prefix tools/graphiql ci fills tools/graphiql/node_modules) to serve the playground offline.",
    },
    Key {
        env: "FOLIO_JWKS_FILE",
        default: "(none: fetch FOLIO_JWKS_URL)",
        doc: "A JWKS file the router verifies access tokens with, instead of fetching it.",
    },
    Key {
        env: "FOLIO_USERS_DATABASE_URL",
        default: "sqlite://{data_dir}/users.db",
        doc: "Users database (`sqlite://…` or `postgres://…`).",
    },
    Key {
        env: "FOLIO_CONTENT_DATABASE_URL",
        default: "sqlite://{data_dir}/content.db",
        doc: "Content database.",
    },
    Key {
        env: "FOLIO_INTERACTIONS_DATABASE_URL",
        default: "sqlite://{data_dir}/interactions.db",
        doc: "Interactions database.",
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
    pub fn load() -> Result<Config, ConfigError> {
        let file = std::env::var("FOLIO_CONFIG").unwrap_or_else(|_| "folio.toml".into());
        let explicit = std::env::var_os("FOLIO_CONFIG").is_some();
        if explicit && !Path::new(&file).exists() {
            return Err(ConfigError(format!(
                "FOLIO_CONFIG names {file}, which does not exist"
            )));
        }
        let fields = Config::field_names();
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            // Other FOLIO_ variables (a command's own, the test suite's) are not
            // configuration; `unknown_env_vars` reports the ones nothing reads.
            .merge(
                Env::prefixed("FOLIO_")
                    .filter(move |k| fields.iter().any(|f| k.as_str().eq_ignore_ascii_case(f))),
            )
            .extract()
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// The configuration keys as TOML spells them (`users_database_url`).
    pub fn field_names() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// `FOLIO_*` environment variables that no part of Folio reads: most likely typos.
    pub fn unknown_env_vars() -> Vec<String> {
        let fields = Config::field_names();
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("FOLIO_"))
            .filter(|k| !NON_CONFIG_VARS.iter().any(|p| k.starts_with(p)))
            .filter(|k| {
                !fields
                    .iter()
                    .any(|f| k["FOLIO_".len()..].eq_ignore_ascii_case(f))
            })
            .collect()
    }

    /// The database URL of the service `name`, defaulting to a SQLite file under
    /// `data_dir` (`<name>.db`).
    pub fn service_database(&self, name: &str) -> String {
        let configured = match name {
            "users" => &self.users_database_url,
            "content" => &self.content_database_url,
            "interactions" => &self.interactions_database_url,
            _ => &None,
        };
        self.database_or_default(configured, name)
    }

    /// The address the service `name` listens on (`router` or a subgraph).
    pub fn service_addr(&self, name: &str) -> Option<SocketAddr> {
        match name {
            "router" => Some(self.router_addr),
            "users" => Some(self.users_addr),
            "content" => Some(self.content_addr),
            "interactions" => Some(self.interactions_addr),
            _ => None,
        }
    }

    /// Where the subgraph `name` is reached (its configured URL, or its address's
    /// `/graphql`); `None` for a service this configuration does not know.
    pub fn service_url(&self, name: &str) -> Option<String> {
        match name {
            "users" => Some(self.users_graphql_url()),
            "content" => Some(self.content_graphql_url()),
            "interactions" => Some(self.interactions_graphql_url()),
            _ => None,
        }
    }

    /// Points the subgraph `name` at `url` unless a URL is configured for it already.
    pub fn default_service_url(&mut self, name: &str, url: String) {
        let slot = match name {
            "users" => &mut self.users_url,
            "content" => &mut self.content_url,
            "interactions" => &mut self.interactions_url,
            _ => return,
        };
        slot.get_or_insert(url);
    }

    /// The users database URL, defaulting to a SQLite file under `data_dir`.
    pub fn users_database(&self) -> String {
        self.database_or_default(&self.users_database_url, "users")
    }
    /// The content database URL, defaulting to a SQLite file under `data_dir`.
    pub fn content_database(&self) -> String {
        self.database_or_default(&self.content_database_url, "content")
    }
    /// The interactions database URL, defaulting to a SQLite file under `data_dir`.
    pub fn interactions_database(&self) -> String {
        self.database_or_default(&self.interactions_database_url, "interactions")
    }

    fn database_or_default(&self, url: &Option<String>, service: &str) -> String {
        url.clone()
            .unwrap_or_else(|| format!("sqlite://{}/{service}.db", self.data_dir.display()))
    }

    /// The users subgraph's GraphQL endpoint as the router reaches it.
    pub fn users_graphql_url(&self) -> String {
        self.users_url
            .clone()
            .unwrap_or_else(|| format!("http://{}/graphql", self.users_addr))
    }

    /// The content subgraph's GraphQL endpoint as the router reaches it.
    pub fn content_graphql_url(&self) -> String {
        self.content_url
            .clone()
            .unwrap_or_else(|| format!("http://{}/graphql", self.content_addr))
    }

    /// The interactions subgraph's GraphQL endpoint as the router and content reach it.
    pub fn interactions_graphql_url(&self) -> String {
        self.interactions_url
            .clone()
            .unwrap_or_else(|| format!("http://{}/graphql", self.interactions_addr))
    }

    /// The JWKS endpoint the router verifies access tokens with.
    pub fn jwks_endpoint(&self) -> String {
        self.jwks_url
            .clone()
            .unwrap_or_else(|| format!("http://{}/.well-known/jwks.json", self.users_addr))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_a_documented_key() {
        let fields: Vec<String> = Config::field_names()
            .iter()
            .map(|k| format!("FOLIO_{}", k.to_ascii_uppercase()))
            .collect();
        assert!(fields.len() > 20);
        for f in &fields {
            assert!(KEYS.iter().any(|k| k.env == *f), "{f} is not in KEYS");
        }
        for k in KEYS.iter().filter(|k| k.env != "FOLIO_CONFIG") {
            assert!(
                fields.contains(&k.env.to_owned()),
                "{} is in KEYS but not a field",
                k.env
            );
        }
    }
}
