//! Watching and disturbing events in tests: the next event of a kind, a service's outbox
//! and processed events as its database holds them, a bus whose publishing can be
//! switched off, and a TCP proxy that cuts a platform off its NATS server.
//!
//! To show that something did *not* happen, wait for a later event of the same source as
//! a barrier ([`TestApp::wait_processed`]): a consumer takes one source's events in order,
//! so once it has processed the later one it has processed (or skipped) the earlier.

use crate::app::TestApp;
use crate::{PATIENCE, eventually};
use folio_common::events::{BoxFuture, Bus, Event, Handler, StoredEvent};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::sync::{Mutex, mpsc, watch};

/// The NATS server the tests' platforms use (`FOLIO_TEST_NATS_URL`), if any.
pub fn nats_url() -> Option<String> {
    std::env::var("FOLIO_TEST_NATS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Now, in microseconds since the Unix epoch (as `Event::occurred_at.timestamp_micros()`
/// counts them).
pub fn unix_micros() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_micros()).expect("in range")
}

/// The next event of `kind`, skipping others (which are returned too, in order).
pub async fn next_of(rx: &mut mpsc::Receiver<Event>, kind: &str, seen: &mut Vec<Event>) -> Event {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(e)) => {
                seen.push(e.clone());
                if e.kind == kind {
                    return e;
                }
            }
            _ => panic!(
                "no {kind} event within {PATIENCE:?}; saw {:?}",
                seen.iter().map(|e| &e.kind).collect::<Vec<_>>()
            ),
        }
    }
}

impl TestApp {
    /// A connection to `service`'s database ("users", "content", "interactions"); a
    /// caller that asks again and again keeps it rather than connecting each time.
    pub async fn database(&self, service: &str) -> DatabaseConnection {
        let url = self.cfg.service_database(service);
        folio_common::db::connect(&url, self.cfg.database_schema.as_deref())
            .await
            .expect("connect")
    }

    /// The events `service`'s outbox holds, oldest first, and whether each was published.
    pub async fn outbox(&self, service: &str) -> Vec<(Event, bool)> {
        let db = self.database(service).await;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT payload, published_at IS NOT NULL AS published FROM {service}_outbox ORDER BY seq"),
            ))
            .await
            .expect("read the outbox");
        let out = rows
            .iter()
            .map(|r| {
                let payload: String = r.try_get("", "payload").expect("payload");
                let published: bool = r.try_get("", "published").expect("published");
                (serde_json::from_str(&payload).expect("an event"), published)
            })
            .collect();
        let _ = db.close().await;
        out
    }

    /// How many rows `table` of `service`'s database holds.
    pub async fn count_rows(&self, service: &str, table: &str) -> i64 {
        let db = self.database(service).await;
        let n = count_rows_on(&db, table).await;
        let _ = db.close().await;
        n
    }

    /// Whether `service`'s consumer has processed the event `event_id` (applied it, or
    /// skipped it as seen before).
    pub async fn processed(&self, service: &str, event_id: &str) -> bool {
        let db = self.database(service).await;
        let backend = db.get_database_backend();
        let placeholder = match backend {
            sea_orm::DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT 1 AS one FROM {} WHERE event_id = {placeholder}",
                    folio_common::events::consumer::table(service)
                ),
                [event_id.into()],
            ))
            .await
            .expect("read the processed events");
        let _ = db.close().await;
        row.is_some()
    }

    /// Waits until each of `services` has processed the event `event_id`: a barrier
    /// behind which every earlier event of the same source has been handled too.
    pub async fn wait_processed(&self, services: &[&str], event_id: &str) {
        for service in services {
            eventually(&format!("{service} processes event {event_id}"), || {
                self.processed(service, event_id)
            })
            .await;
        }
    }
}

/// A bus whose publishing can be switched off, as if the broker were unreachable.
pub struct Switchable {
    pub inner: Arc<dyn Bus>,
    pub down: AtomicBool,
}

impl Switchable {
    /// `inner`, publishing unless `down`.
    pub fn new(inner: Arc<dyn Bus>, down: bool) -> Arc<Switchable> {
        Arc::new(Switchable {
            inner,
            down: AtomicBool::new(down),
        })
    }

    /// Switches publishing off (`true`) or on.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

impl Bus for Switchable {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, folio_common::Result<()>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(folio_common::Error::Unavailable("test broker")) });
        }
        self.inner.publish(event)
    }
    fn publish_all<'a>(
        &'a self,
        events: &'a [Event],
    ) -> BoxFuture<'a, (usize, Option<folio_common::Error>)> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { (0, Some(folio_common::Error::Unavailable("test broker"))) });
        }
        self.inner.publish_all(events)
    }
    fn publish_stored<'a>(
        &'a self,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, (usize, Option<folio_common::Error>)> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { (0, Some(folio_common::Error::Unavailable("test broker"))) });
        }
        self.inner.publish_stored(events)
    }
    fn subscribe<'a>(
        &'a self,
        name: &'a str,
        kinds: &'a [&'a str],
        handler: Handler,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, folio_common::Result<()>> {
        self.inner.subscribe(name, kinds, handler, stop)
    }
    fn observe(&self) -> BoxFuture<'_, folio_common::Result<mpsc::Receiver<Event>>> {
        self.inner.observe()
    }
}

/// A TCP proxy in front of the NATS server that can cut every connection and refuse new
/// ones (the broker "unreachable"), then let them through again.
pub struct NatsProxy {
    /// Where the platform should find "NATS".
    pub url: String,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl NatsProxy {
    /// A proxy to the NATS server at `upstream` (`nats://host:port`), on 127.0.0.1:0.
    pub async fn start(upstream: &str) -> NatsProxy {
        let upstream = upstream
            .trim_start_matches("nats://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let url = format!("nats://{}", listener.local_addr().expect("addr"));
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (d, l) = (down.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, in effect
                }
                let upstream = upstream.clone();
                l.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        NatsProxy { url, down, links }
    }

    /// Cuts every connection and refuses new ones.
    pub async fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// How many rows `table` holds, on `db` (a connection of [`TestApp::database`]).
pub async fn count_rows_on(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count the rows")
        .expect("a count");
    row.try_get("", "n").expect("n")
}

/// Whether `table` has a row whose `column` is `value`, on `db`: an index lookup where
/// [`count_rows_on`] scans the whole table (a probe polled while something is measured
/// must not be what the database spends its time on).
pub async fn has_row_on(db: &DatabaseConnection, table: &str, column: &str, value: &str) -> bool {
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    db.query_one_raw(Statement::from_sql_and_values(
        backend,
        format!("SELECT 1 AS found FROM {table} WHERE {column} = {placeholder}"),
        [value.into()],
    ))
    .await
    .expect("look for the row")
    .is_some()
}
