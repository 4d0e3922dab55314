//! Starting the services: all of them in one process, or one of them alone.

use anyhow::Context as _;
use folio_common::Config;
use folio_common::events::local::LocalBus;
use folio_common::events::nats::NatsBus;
use folio_common::events::outbox::Relay;
use folio_common::events::{Bus, consumer};
use folio_migrations::MigratorTrait;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// One of Folio's services.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Users,
    Content,
    Interactions,
    Router,
}

/// The sockets the services will serve on, bound before anything starts (so tests can
/// bind port 0 and learn the real addresses).
pub struct Listeners {
    pub router: Option<TcpListener>,
    pub users: Option<TcpListener>,
    pub content: Option<TcpListener>,
    pub interactions: Option<TcpListener>,
}

impl Listeners {
    /// Binds the configured addresses of the services that `only` selects (all by default).
    pub async fn bind(cfg: &Config, only: Option<Service>) -> anyhow::Result<Self> {
        let wanted = |s: Service| only.is_none_or(|o| o == s);
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))
        };
        Ok(Listeners {
            router: if wanted(Service::Router) {
                Some(bind(cfg.router_addr).await?)
            } else {
                None
            },
            users: if wanted(Service::Users) {
                Some(bind(cfg.users_addr).await?)
            } else {
                None
            },
            content: if wanted(Service::Content) {
                Some(bind(cfg.content_addr).await?)
            } else {
                None
            },
            interactions: if wanted(Service::Interactions) {
                Some(bind(cfg.interactions_addr).await?)
            } else {
                None
            },
        })
    }
}

/// The services of this process, running.
pub struct Running {
    pub router_addr: Option<SocketAddr>,
    pub users_addr: Option<SocketAddr>,
    pub content_addr: Option<SocketAddr>,
    pub interactions_addr: Option<SocketAddr>,
    /// The bus this process publishes and consumes events on.
    pub bus: Arc<dyn Bus>,
    tasks: JoinSet<std::io::Result<()>>,
    stop: watch::Sender<bool>,
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
    let apart = listeners.users.is_none()
        || listeners.content.is_none()
        || listeners.interactions.is_none();
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
    let addr = |l: &Option<TcpListener>| l.as_ref().map(TcpListener::local_addr).transpose();
    let users_addr = addr(&listeners.users)?;
    let content_addr = addr(&listeners.content)?;
    let interactions_addr = addr(&listeners.interactions)?;
    let url = |a: SocketAddr| format!("http://{a}/graphql");
    if let Some(a) = users_addr {
        cfg.users_url.get_or_insert_with(|| url(a));
        cfg.jwks_url
            .get_or_insert_with(|| format!("http://{a}/.well-known/jwks.json"));
    }
    if let Some(a) = content_addr {
        cfg.content_url.get_or_insert_with(|| url(a));
    }
    if let Some(a) = interactions_addr {
        cfg.interactions_url.get_or_insert_with(|| url(a));
    }

    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    // Every service first, then their consumers, then the relays: no event is
    // published before the consumers in this process listen.
    let mut relays = Vec::new();
    let users = match listeners.users {
        Some(listener) => Some((listener, folio_users::init(&cfg).await?)),
        None => None,
    };
    let content = match listeners.content {
        Some(listener) => Some((listener, folio_content::init(&cfg).await?)),
        None => None,
    };
    let interactions = match listeners.interactions {
        Some(listener) => Some((listener, folio_interactions::init(&cfg).await?)),
        None => None,
    };
    if let Some((_, users)) = &users {
        let store = &users.state.store;
        relays.push(Relay {
            db: store.connection().clone(),
            outbox: store.outbox().clone(),
            bus: bus.clone(),
        });
    }
    if let Some((_, content)) = &content {
        let store = &content.state.store;
        let apply = Arc::new(folio_content::consumer::Consumer {
            store: store.clone(),
        });
        let handler = consumer::handler(store.connection().clone(), "content", "content", apply);
        bus.subscribe(
            "content",
            &folio_content::consumer::KINDS,
            handler,
            stopped.clone(),
        )
        .await
        .map_err(|_| anyhow::anyhow!("subscribing the content service to events"))?;
        relays.push(Relay {
            db: store.connection().clone(),
            outbox: store.outbox().clone(),
            bus: bus.clone(),
        });
    }
    if let Some((_, interactions)) = &interactions {
        let store = &interactions.state.store;
        let apply = Arc::new(folio_interactions::consumer::Consumer {
            store: store.clone(),
        });
        let handler = consumer::handler(
            store.connection().clone(),
            "interactions",
            "interactions",
            apply,
        );
        bus.subscribe(
            "interactions",
            &folio_interactions::consumer::KINDS,
            handler,
            stopped.clone(),
        )
        .await
        .map_err(|_| anyhow::anyhow!("subscribing the interactions service to events"))?;
        relays.push(Relay {
            db: store.connection().clone(),
            outbox: store.outbox().clone(),
            bus: bus.clone(),
        });
    }
    for relay in relays {
        let stopped = stopped.clone();
        tasks.spawn(async move {
            relay.run(stopped).await;
            Ok(())
        });
    }
    if let Some((listener, users)) = users {
        tasks.spawn(serve(listener, folio_users::app(users), stopped.clone()));
        tracing::info!(addr = ?users_addr, "users subgraph listening");
    }
    if let Some((listener, content)) = content {
        tasks.spawn(serve(
            listener,
            folio_content::app(content),
            stopped.clone(),
        ));
        tracing::info!(addr = ?content_addr, "content subgraph listening");
    }
    if let Some((listener, interactions)) = interactions {
        tasks.spawn(serve(
            listener,
            folio_interactions::app(interactions),
            stopped.clone(),
        ));
        tracing::info!(addr = ?interactions_addr, "interactions subgraph listening");
    }
    let mut router_addr = None;
    if let Some(listener) = listeners.router {
        let addr = listener.local_addr()?;
        let state = folio_router::init(&cfg, Duration::from_secs(30)).await?;
        tasks.spawn(serve(listener, folio_router::app(state), stopped.clone()));
        tracing::info!(%addr, "router listening");
        router_addr = Some(addr);
    }
    Ok(Running {
        router_addr,
        users_addr,
        content_addr,
        interactions_addr,
        bus,
        tasks,
        stop,
    })
}

async fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, make)
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })
        .await
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

/// Runs every pending migration of the selected services' databases.
pub async fn migrate(cfg: &Config, only: Option<Service>) -> anyhow::Result<()> {
    let wanted = |s: Service| only.is_none_or(|o| o == s);
    let schema = cfg.database_schema.as_deref();
    if wanted(Service::Users) {
        let db = folio_common::db::connect(&cfg.users_database(), schema).await?;
        folio_migrations::users::Migrator::up(&db, None).await?;
        tracing::info!("users database migrated");
    }
    if wanted(Service::Content) {
        let db = folio_common::db::connect(&cfg.content_database(), schema).await?;
        folio_migrations::content::Migrator::up(&db, None).await?;
        tracing::info!("content database migrated");
    }
    if wanted(Service::Interactions) {
        let db = folio_common::db::connect(&cfg.interactions_database(), schema).await?;
        folio_migrations::interactions::Migrator::up(&db, None).await?;
        tracing::info!("interactions database migrated");
    }
    Ok(())
}
