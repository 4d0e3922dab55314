//! The transactional outbox: an event row is written in the transaction of the change
//! it describes ([`Outbox::record`]), so it exists exactly when the change committed;
//! the [`Relay`] publishes pending rows in order and marks them published only once the
//! bus has them. Rows are kept after publishing (`folio events tail` reads them when
//! there is no broker).
//!
//! Each service's table is `<service>_outbox` (services may share one database or
//! PostgreSQL schema): `seq` (order), `event_id`, `kind`, `payload` (the event's JSON),
//! `created_at`, `published_at` (null while pending).

use super::{Bus, Event};
use crate::{Error, Result};
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Most rows one relay round publishes.
const BATCH: u64 = 256;
/// How often the relay looks for pending rows when nothing woke it.
const POLL: Duration = Duration::from_millis(250);
/// The longest pause after a failed publish.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The outbox table of `service`.
pub fn table(service: &str) -> String {
    format!("{service}_outbox")
}

/// Where a service records its events (cheap to clone).
#[derive(Clone, Debug)]
pub struct Outbox {
    service: &'static str,
    table: Arc<str>,
    wake: Arc<Notify>,
}

impl Outbox {
    /// The outbox of `service` ("users", "content", "interactions").
    pub fn new(service: &'static str) -> Self {
        Outbox {
            service,
            table: table(service).into(),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    /// Writes `events` on `db`, which should be the transaction of the change.
    pub async fn record<C: ConnectionTrait>(&self, db: &C, events: &[Event]) -> Result<()> {
        for chunk in events.chunks(500) {
            let mut insert = Query::insert();
            insert.into_table(Alias::new(&*self.table)).columns([
                Alias::new("event_id"),
                Alias::new("kind"),
                Alias::new("payload"),
                Alias::new("created_at"),
            ]);
            for e in chunk {
                let payload = serde_json::to_string(e).map_err(Error::internal)?;
                insert.values_panic([
                    e.id.clone().into(),
                    e.kind.clone().into(),
                    payload.into(),
                    e.occurred_at.into(),
                ]);
            }
            db.execute(&insert).await?;
        }
        // The relay may look before the transaction commits; it polls again shortly.
        self.wake.notify_one();
        Ok(())
    }

    /// The pending rows, oldest first.
    async fn pending<C: ConnectionTrait>(&self, db: &C) -> Result<Vec<(i64, Event)>> {
        let select = Query::select()
            .columns([Alias::new("seq"), Alias::new("payload")])
            .from(Alias::new(&*self.table))
            .and_where(Expr::col(Alias::new("published_at")).is_null())
            .order_by(Alias::new("seq"), Order::Asc)
            .limit(BATCH)
            .to_owned();
        let rows = db.query_all(&select).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let seq: i64 = r.try_get("", "seq")?;
            let payload: String = r.try_get("", "payload")?;
            let event: Event = serde_json::from_str(&payload).map_err(Error::internal)?;
            out.push((seq, event));
        }
        Ok(out)
    }

    async fn mark_published<C: ConnectionTrait>(&self, db: &C, seqs: &[i64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let update = Query::update()
            .table(Alias::new(&*self.table))
            .value(Alias::new("published_at"), Utc::now())
            .and_where(Expr::col(Alias::new("seq")).is_in(seqs.iter().copied()))
            .to_owned();
        db.execute(&update).await?;
        Ok(())
    }
}

/// Publishes a service's outbox, in order, for as long as the service runs.
pub struct Relay {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub bus: Arc<dyn Bus>,
}

impl Relay {
    /// Runs until `stop` turns true: publishes what is pending, then waits to be woken
    /// (or polls); after a failure, backs off and tries again from the same event.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            if *stop.borrow() {
                return;
            }
            let pause = match self.round().await {
                Ok(n) if n as u64 == BATCH => Duration::ZERO,
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    POLL
                }
                Err(e) => {
                    tracing::warn!(
                        service = self.outbox.service,
                        error = %e.log_message(),
                        retry_in_ms = backoff.as_millis() as u64,
                        "publishing events failed; will retry"
                    );
                    let pause = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    pause
                }
            };
            if pause.is_zero() {
                continue;
            }
            tokio::select! {
                () = self.outbox.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// One round: the pending events, published in order. Returns how many went out.
    /// On PostgreSQL the round holds a transaction-scoped advisory lock, so that of
    /// several replicas of a service one relays at a time and the order holds.
    pub async fn round(&self) -> Result<usize> {
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let tx = self.db.begin().await?;
            let key = format!("folio-relay:{}", self.outbox.table);
            let locked = tx
                .query_one_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked",
                    [key.into()],
                ))
                .await?
                .map(|r| r.try_get::<bool>("", "locked"))
                .transpose()?
                .unwrap_or(false);
            if !locked {
                tx.commit().await?;
                return Ok(0);
            }
            let result = self.publish_pending(&tx).await;
            tx.commit().await?;
            result
        } else {
            self.publish_pending(&self.db).await
        }
    }

    async fn publish_pending<C: ConnectionTrait>(&self, db: &C) -> Result<usize> {
        let pending = self.outbox.pending(db).await?;
        let (seqs, events): (Vec<i64>, Vec<Event>) = pending.into_iter().unzip();
        let (published, failure) = self.bus.publish_all(&events).await;
        let done = &seqs[..published.min(seqs.len())];
        self.outbox.mark_published(db, done).await?;
        match failure {
            Some(e) => Err(e),
            None => Ok(done.len()),
        }
    }
}
