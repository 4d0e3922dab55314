//! The subgraph kit: how a subgraph is declared, opened, built and served, written once.
//!
//! A subgraph crate declares itself as one [`Subgraph`] value: its name, its migrator and
//! a builder that turns its opened database into a [`Built`] service (the HTTP surface,
//! the outbox its relay publishes, the events it consumes). The platform starts the list
//! of them in a loop; everything else every subgraph needs is here too: the federated
//! schema ([`federated_schema`]), the HTTP surface ([`graphql_app`]) and the store's
//! database handle ([`ServiceDb`]).

use crate::config::Config;
use crate::events::BoxFuture;
use crate::events::consumer::Apply;
use crate::events::outbox::{Fill, Outbox};
pub use crate::events::retention::Expiring;
use crate::identity::{IdentityKey, Viewer};
use anyhow::Context as _;
use async_graphql::{EmptySubscription, ObjectType, Schema};
use async_graphql_axum::GraphQLRequest;
use async_graphql_axum::rejection::GraphQLRejection;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
pub use sea_orm::DatabaseConnection;
use sea_orm::DbErr;
use std::sync::Arc;

/// A subgraph as the platform knows it: declared once, in its own crate
/// (`folio_content::SUBGRAPH`), and listed once, in the platform's list.
pub struct Subgraph {
    /// Its name: `folio serve --only <name>`, its configuration keys
    /// (`FOLIO_<NAME>_ADDR`, `…_URL`, `…_DATABASE_URL`), its outbox and processed-events
    /// tables, and the durable consumer it reads events as.
    pub name: &'static str,
    /// The port it listens on by default (on 127.0.0.1; `FOLIO_<NAME>_ADDR` moves it).
    pub port: u16,
    /// The page size its SQLite database file is created with
    /// ([`crate::db::SQLITE_PAGE_SIZE`] unless its rows are long texts).
    pub sqlite_page_size: u32,
    /// Runs the pending migrations of its database.
    pub migrate: for<'a> fn(&'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>>,
    /// Builds the service from its opened database.
    pub build: for<'a> fn(&'a Config, Opened) -> BoxFuture<'a, anyhow::Result<Built>>,
}

/// What every subgraph starts from: its migrated database and the key that proves the
/// router's identity headers.
pub struct Opened {
    pub db: DatabaseConnection,
    pub identity: IdentityKey,
}

/// A subgraph ready to serve.
pub struct Built {
    /// Its HTTP surface: at least [`graphql_app`]'s `POST /graphql` and `GET /health`.
    pub app: Router,
    /// Its store's database and outbox (the same outbox, so that a change wakes the
    /// relay that publishes its events).
    pub db: ServiceDb,
    /// The events it follows, if any.
    pub consumer: Option<EventConsumer>,
    /// Tables of its own whose rows expire like its event bookkeeping
    /// (`FOLIO_RETENTION_SECS`; `events::retention`).
    pub expiring: Vec<Expiring>,
    /// What fills in the claims its outbox holds, if it records any
    /// ([`Outbox::prepare_claims`]).
    pub fill: Option<Arc<dyn Fill>>,
}

/// The events a subgraph follows and what it does with each (applied once, in a
/// transaction that records the event: `events::consumer`).
pub struct EventConsumer {
    /// The event types it subscribes to.
    pub kinds: Vec<&'static str>,
    pub apply: Arc<dyn Apply>,
    /// The name it consumes as (its durable consumers, its processed-events rows). By
    /// default the service's name, so that its replicas share the work: each event is
    /// applied by one of them. [`each_replica`](Self::each_replica) gives every replica
    /// every event instead.
    pub name: Option<String>,
}

/// How a subgraph applies events' payloads (in order: one, or a batch), given its store,
/// inside the transaction that records the events. Write it as an `async fn` and box it:
/// `|store, tx, payloads| Box::pin(consumer::apply(store, tx, payloads))`.
pub type ApplyFn<S> = for<'a> fn(
    &'a S,
    &'a sea_orm::DatabaseTransaction,
    Vec<crate::events::Payload>,
) -> BoxFuture<'a, crate::Result<()>>;

impl EventConsumer {
    /// A consumer of `kinds` that applies each with `apply` over `store`.
    pub fn new<S: Send + Sync + 'static>(
        kinds: &[&'static str],
        store: S,
        apply: ApplyFn<S>,
    ) -> Self {
        EventConsumer {
            kinds: kinds.to_vec(),
            apply: Arc::new(ApplyWith { store, apply }),
            name: None,
        }
    }

    /// The same consumer, consuming as `name` (stable across restarts, unique to this
    /// replica), so that this replica applies every event itself: for state each replica
    /// keeps apart from the shared database (the search index).
    pub fn each_replica(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }
}

struct ApplyWith<S> {
    store: S,
    apply: ApplyFn<S>,
}

impl<S: Send + Sync + 'static> Apply for ApplyWith<S> {
    fn apply<'a>(
        &'a self,
        tx: &'a sea_orm::DatabaseTransaction,
        payloads: Vec<crate::events::Payload>,
    ) -> BoxFuture<'a, crate::Result<()>> {
        (self.apply)(&self.store, tx, payloads)
    }
}

impl Subgraph {
    /// Connects to its database and runs its pending migrations.
    pub async fn open_database(&self, cfg: &Config) -> anyhow::Result<DatabaseConnection> {
        let url = cfg.service_database(self.name);
        let schema = cfg.database_schema.as_deref();
        let connecting = || format!("connecting to the {} database", self.name);
        let migrations = crate::db::connect_for_migrations(&url, schema, self.sqlite_page_size)
            .await
            .with_context(connecting)?;
        (self.migrate)(&migrations)
            .await
            .with_context(|| format!("migrating the {} database", self.name))?;
        migrations.close().await.with_context(connecting)?;
        crate::db::connect(&url, schema)
            .await
            .with_context(connecting)
    }

    /// Opens its database (migrated) and the identity key.
    pub async fn open(&self, cfg: &Config) -> anyhow::Result<Opened> {
        let db = self.open_database(cfg).await?;
        let identity = crate::identity::load_key(cfg.identity_secret.as_deref(), &cfg.data_dir)
            .map_err(anyhow::Error::msg)?;
        Ok(Opened { db, identity })
    }

    /// Opens and builds the service.
    pub async fn start(&self, cfg: &Config) -> anyhow::Result<Built> {
        let opened = self.open(cfg).await?;
        let mut built = (self.build)(cfg, opened).await?;
        // Every request in a span of its own, the child of the caller's `traceparent`.
        built.app = crate::telemetry::trace_requests(self.name, built.app);
        Ok(built)
    }
}

/// A service's database: its connection pool and the outbox its changes record events
/// in. Every store is built on one (cheap to clone).
#[derive(Clone, Debug)]
pub struct ServiceDb {
    pub db: DatabaseConnection,
    /// Where every change records its event, in the change's transaction.
    pub outbox: Outbox,
}

impl ServiceDb {
    /// The database of the service `name`, with its outbox.
    pub fn new(name: &'static str, db: DatabaseConnection) -> Self {
        ServiceDb {
            db,
            outbox: Outbox::new(name),
        }
    }

    /// The service's outbox (its relay publishes what the store records).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The underlying connection, for migrations, health checks and the relay.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Declares a subgraph's store: a handle on its [`ServiceDb`] (derefs to it, so the
/// store reads `self.db` and `self.outbox`), built with `Store::new(connection)`.
///
/// ```ignore
/// folio_common::service_store! {
///     /// Handle on the content database (cheap to clone: a connection pool).
///     pub struct Store("content");
/// }
/// ```
#[macro_export]
macro_rules! service_store {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($service:literal);) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        $vis struct $name($crate::kit::ServiceDb);

        impl ::std::ops::Deref for $name {
            type Target = $crate::kit::ServiceDb;
            fn deref(&self) -> &$crate::kit::ServiceDb {
                &self.0
            }
        }

        impl $name {
            /// The store over the service's database, with its outbox.
            pub fn new(db: $crate::kit::DatabaseConnection) -> Self {
                $name($crate::kit::ServiceDb::new($service, db))
            }
        }
    };
}

/// A subgraph's executable schema: federation enabled (entities, `_service`), `data`
/// shared by every resolver.
pub fn federated_schema<Q, M, D>(query: Q, mutation: M, data: D) -> Schema<Q, M, EmptySubscription>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    D: std::any::Any + Send + Sync,
{
    Schema::build(query, mutation, EmptySubscription)
        .enable_federation()
        .extension(RootFieldSpans)
        .data(data)
        .finish()
}

/// Puts every root field's resolution (a query, a mutation, `_entities`) in a `resolve`
/// span naming the field, so traces show which resolver a store call or an outgoing
/// request belongs to. Nested fields get no span of their own: a page of a hundred
/// contents would otherwise make a thousand.
struct RootFieldSpans;

impl async_graphql::extensions::ExtensionFactory for RootFieldSpans {
    fn create(&self) -> Arc<dyn async_graphql::extensions::Extension> {
        Arc::new(RootFieldSpans)
    }
}

// `Extension` is an `#[async_trait]`; this is its desugared `resolve` (the kit does not
// depend on the async-trait crate).
impl async_graphql::extensions::Extension for RootFieldSpans {
    fn resolve<'life0, 'life1, 'life2, 'life3, 'life4, 'async_trait>(
        &'life0 self,
        ctx: &'life1 async_graphql::extensions::ExtensionContext<'life2>,
        info: async_graphql::extensions::ResolveInfo<'life3>,
        next: async_graphql::extensions::NextResolve<'life4>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = async_graphql::ServerResult<Option<async_graphql::Value>>,
                > + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        'life4: 'async_trait,
        Self: 'async_trait,
    {
        use tracing::Instrument as _;
        if info.path_node.parent.is_some() {
            return Box::pin(next.run(ctx, info));
        }
        let span = tracing::info_span!("resolve", field = info.name, parent = info.parent_type);
        Box::pin(next.run(ctx, info).instrument(span))
    }
}

/// Adds a request's own data (its dataloaders) for the viewer it runs as.
pub type PerRequest =
    Arc<dyn Fn(async_graphql::Request, &Viewer) -> async_graphql::Request + Send + Sync>;

struct Endpoint<Q, M>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    schema: Schema<Q, M, EmptySubscription>,
    identity: IdentityKey,
    per_request: PerRequest,
}

impl<Q, M> Clone for Endpoint<Q, M>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    fn clone(&self) -> Self {
        Endpoint {
            schema: self.schema.clone(),
            identity: self.identity.clone(),
            per_request: self.per_request.clone(),
        }
    }
}

/// A subgraph's HTTP surface: `POST /graphql` (the viewer proven by the router's identity
/// headers, `per_request` data added, every error coded: [`crate::graphql::execute`]) and
/// `GET /health`. Merge further routes into it (the users subgraph's JWKS).
pub fn graphql_app<Q, M>(
    schema: Schema<Q, M, EmptySubscription>,
    identity: IdentityKey,
    per_request: impl Fn(async_graphql::Request, &Viewer) -> async_graphql::Request
    + Send
    + Sync
    + 'static,
) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    let endpoint = Endpoint {
        schema,
        identity,
        per_request: Arc::new(per_request),
    };
    Router::new()
        .route("/graphql", post(graphql::<Q, M>))
        .route("/health", get(|| async { "ok" }))
        .with_state(endpoint)
}

async fn graphql<Q, M>(
    State(endpoint): State<Endpoint<Q, M>>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    let per_request = endpoint.per_request.clone();
    crate::graphql::execute(
        &endpoint.schema,
        &endpoint.identity,
        &headers,
        request,
        move |req, viewer| per_request(req, viewer),
    )
    .await
}
