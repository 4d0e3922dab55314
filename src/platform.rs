//! Starting the services: all of them in one process, or one of them alone.

use anyhow::Context as _;
use folio_common::Config;
use folio_common::events::local::LocalBus;
use folio_common::events::nats::NatsBus;
use folio_common::events::outbox::Relay;
use folio_common::events::{Bus, consumer, retention};
use folio_common::kit::Subgraph;
use folio_common::tls::TlsListener;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Folio's subgraphs, in start order. Adding a subgraph is one line here (and its crate,
/// migrator and place in `tools/compose`).
pub const SUBGRAPHS: &[&Subgraph] = &[
    &folio_users::SUBGRAPH,
    &folio_content::SUBGRAPH,
    &folio_interactions::SUBGRAPH,
    &folio_search::SUBGRAPH,
    &folio_shop::SUBGRAPH,
    &folio_media::SUBGRAPH,
];

/// The subgraphs' names, in start order.
pub fn subgraph_names() -> Vec<&'static str> {
    SUBGRAPHS.iter().map(|s| s.name).collect()
}

/// The configuration from defaults, the TOML file and `FOLIO_*` variables, each
/// subgraph's address defaulting to its own port on 127.0.0.1.
pub fn load_config() -> Result<Config, folio_common::config::ConfigError> {
    let mut cfg = Config::load(&subgraph_names())?;
    with_default_addresses(&mut cfg);
    Ok(cfg)
}

/// Gives every subgraph without a configured address its default one.
pub fn with_default_addresses(cfg: &mut Config) {
    for subgraph in SUBGRAPHS {
        cfg.service_mut(subgraph.name)
            .addr
            .get_or_insert(([127, 0, 0, 1], subgraph.port).into());
    }
}

/// The router's name among the services (`--only router`).
pub const ROUTER: &str = "router";

/// Every service `--only` may name: the subgraphs, then the router.
pub fn service_names() -> Vec<&'static str> {
    SUBGRAPHS.iter().map(|s| s.name).chain([ROUTER]).collect()
}

/// The sockets the services will serve on, bound before anything starts (so tests can
/// bind port 0 and learn the real addresses), by service name.
pub struct Listeners(pub BTreeMap<&'static str, TcpListener>);

impl Listeners {
    /// Binds the configured addresses of the services that `only` selects (all by default).
    pub async fn bind(cfg: &Config, only: Option<&str>) -> anyhow::Result<Self> {
        let mut bound = BTreeMap::new();
        for name in service_names() {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let addr = cfg
                .service_addr(name)
                .with_context(|| format!("no address is configured for {name}"))?;
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            bound.insert(name, listener);
        }
        Ok(Listeners(bound))
    }
}

/// The services of this process, running.
pub struct Running {
    /// Where each service of this process listens, by name.
    pub addrs: BTreeMap<&'static str, SocketAddr>,
    /// The bus this process publishes and consumes events on.
    pub bus: Arc<dyn Bus>,
    tasks: JoinSet<std::io::Result<()>>,
    stop: watch::Sender<bool>,
}

impl Running {
    /// The router's address, when this process runs it.
    pub fn router_addr(&self) -> Option<SocketAddr> {
        self.addrs.get(ROUTER).copied()
    }
}

/// The event bus the configuration asks for: NATS JetStream at `nats_url`, or the
/// in-process bus.
pub async fn event_bus(cfg: &Config, services_apart: bool) -> anyhow::Result<Arc<dyn Bus>> {
    Ok(match &cfg.nats_url {
        Some(url) => {
            let bus = NatsBus::connect(url, &cfg.events_prefix)
                .await
                .with_context(|| format!("connecting to NATS at {url}"))?;
            tracing::info!(%url, stream = %folio_common::events::nats::stream_name(&cfg.events_prefix), "events travel over NATS JetStream");
            Arc::new(bus)
        }
        None => {
            if services_apart {
                tracing::warn!(
                    "FOLIO_NATS_URL is not set: events stay inside this process, so services running elsewhere never see them (deleting a user will not remove their content there)"
                );
            }
            Arc::new(LocalBus::new())
        }
    })
}

/// Starts every service that has a listener, on the bus the configuration asks for.
pub async fn start(cfg: Config, listeners: Listeners) -> anyhow::Result<Running> {
    let apart = SUBGRAPHS.iter().any(|s| !listeners.0.contains_key(s.name));
    let bus = event_bus(&cfg, apart).await?;
    start_with_bus(cfg, listeners, bus).await
}

/// Starts every service that has a listener. In one process the services are pointed
/// at each other's actual addresses (known before any starts: the sockets are bound).
/// Each service's consumers subscribe to `bus` before any relay publishes on it.
pub async fn start_with_bus(
    mut cfg: Config,
    listeners: Listeners,
    bus: Arc<dyn Bus>,
) -> anyhow::Result<Running> {
    let tls = folio_common::tls::server_config(&cfg)?;
    let scheme = folio_common::tls::scheme(&cfg);
    let mut addrs = BTreeMap::new();
    for (name, listener) in &listeners.0 {
        let addr = listener.local_addr()?;
        addrs.insert(*name, addr);
        cfg.default_service_url(name, format!("{scheme}://{addr}/graphql"));
    }
    if let Some(users) = addrs.get("users") {
        cfg.jwks_url
            .get_or_insert_with(|| format!("{scheme}://{users}/.well-known/jwks.json"));
    }
    let mut listeners = listeners.0;

    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    // Every service first, then their consumers, then the relays: no event is
    // published before the consumers in this process listen.
    let mut started = Vec::new();
    for subgraph in SUBGRAPHS {
        if let Some(listener) = listeners.remove(subgraph.name) {
            started.push((subgraph.name, listener, subgraph.start(&cfg).await?));
        }
    }
    for (name, _, built) in &started {
        if let Some(consumer) = &built.consumer {
            let consumer_name: Arc<str> = consumer.name.as_deref().unwrap_or(name).into();
            let handler = consumer::handler(
                built.db.connection().clone(),
                built.db.outbox().clone(),
                consumer_name.clone(),
                consumer.apply.clone(),
            );
            bus.subscribe(&consumer_name, &consumer.kinds, handler, stopped.clone())
                .await
                .map_err(|_| anyhow::anyhow!("subscribing the {name} service to events"))?;
        }
    }
    for (name, _, built) in &started {
        let mut expiring = retention::event_tables(name);
        expiring.extend(built.expiring.iter().cloned());
        let (db, age) = (built.db.connection().clone(), cfg.retention_secs);
        let stopped_too = stopped.clone();
        tasks.spawn(async move {
            retention::run(db, expiring, Duration::from_secs(age), stopped_too).await;
            Ok(())
        });
        let relay = Relay {
            db: built.db.connection().clone(),
            outbox: built.db.outbox().clone(),
            bus: bus.clone(),
            fill: built.fill.clone(),
        };
        let stopped = stopped.clone();
        tasks.spawn(async move {
            relay.run(stopped).await;
            Ok(())
        });
    }
    for (name, listener, built) in started {
        tracing::info!(addr = ?addrs.get(name), "{name} subgraph listening");
        tasks.spawn(serve(listener, tls.clone(), built.app, stopped.clone()));
    }
    if let Some(listener) = listeners.remove(ROUTER) {
        let state = folio_router::init(&cfg, Duration::from_secs(30)).await?;
        tracing::info!(addr = ?addrs.get(ROUTER), "router listening");
        tasks.spawn(serve(
            listener,
            tls.clone(),
            folio_router::app(state),
            stopped.clone(),
        ));
    }
    Ok(Running {
        addrs,
        bus,
        tasks,
        stop,
    })
}

/// Serves `app` on `listener` (TLS only, with `tls`) until `stopped`, letting requests
/// in flight finish.
async fn serve(
    listener: TcpListener,
    tls: Option<Arc<folio_common::tls::ServerConfig>>,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let stop = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    match tls {
        None => {
            axum::serve(listener, make)
                .with_graceful_shutdown(stop)
                .await
        }
        // `tap_io` (doing nothing) is what gives a listener other than TCP's the peer
        // address as `ConnectInfo<SocketAddr>`.
        Some(config) => {
            axum::serve(TlsListener::new(listener, config)?.tap_io(|_| ()), make)
                .with_graceful_shutdown(stop)
                .await
        }
    }
}

impl Running {
    /// Serves until `signal` resolves (or a service fails), then shuts every service
    /// down gracefully: in-flight requests finish, new connections are refused.
    pub async fn wait(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let result = tokio::select! {
            () = signal => Ok(()),
            Some(done) = self.tasks.join_next() => match done {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(anyhow::Error::from(e).context("a service stopped")),
                Err(e) => Err(anyhow::Error::from(e).context("a service crashed")),
            },
        };
        self.shutdown().await;
        result
    }

    /// Stops every service and waits for them to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Resolves on Ctrl-C (or SIGTERM on Unix).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

/// Runs every pending migration of the selected subgraphs' databases; the names of
/// those migrated.
pub async fn migrate(cfg: &Config, only: Option<&str>) -> anyhow::Result<Vec<&'static str>> {
    let mut migrated = Vec::new();
    for subgraph in SUBGRAPHS
        .iter()
        .filter(|s| only.is_none_or(|o| o == s.name))
    {
        subgraph.open_database(cfg).await?;
        tracing::info!("{} database migrated", subgraph.name);
        migrated.push(subgraph.name);
    }
    Ok(migrated)
}
