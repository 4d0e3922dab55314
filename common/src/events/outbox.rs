//! The transactional outbox: an event row is written in the transaction of the change
//! it describes ([`Outbox::emit`]), so it exists exactly when the change committed;
//! the [`Relay`] publishes pending rows in order and marks them published only once the
//! bus has them. Rows are kept after publishing (`folio events tail` reads them when
//! there is no broker) for `FOLIO_RETENTION_SECS`, then pruned (`retention`).
//!
//! Each service's table is `<service>_outbox` (services may share one database or
//! PostgreSQL schema): `seq` (order), `event_id`, `kind`, `payload` (the event's JSON),
//! `created_at`, `published_at` (null while pending).

use super::{BoxFuture, Bus, Event, EventType, Payload, StoredEvent};
use crate::db::{BulkColumn, BulkTransaction};
use crate::{Error, Result};
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Statement,
    TransactionTrait,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::Instrument as _;

/// Most rows one relay batch publishes.
const BATCH: u64 = 1000;
/// The bytes of events one relay batch aims at: its row count follows the size of the
/// rows just read, so that a backlog of large events (an import's `content.imported`,
/// 128 KiB each) is read a few dozen at a time, and small ones a thousand at a time.
const BATCH_BYTES: usize = 4 << 20;
/// Rows of a round's first batch, before their size is known.
const FIRST_BATCH: u64 = 64;
/// Most batches one relay round publishes (in one transaction, holding the relay lock
/// on PostgreSQL).
const ROUND_BATCHES: usize = 10;
/// How often the relay looks for pending rows when nothing woke it.
const POLL: Duration = Duration::from_millis(250);
/// The longest pause after a failed publish.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The outbox table of `service`.
pub fn table(service: &str) -> String {
    format!("{service}_outbox")
}

/// Events made ready to be written ([`Outbox::prepare`]), column by column.
#[derive(Debug, Default)]
pub struct PreparedEvents {
    ids: Vec<String>,
    kinds: Vec<String>,
    payloads: Vec<String>,
    times: Vec<chrono::DateTime<Utc>>,
}

impl PreparedEvents {
    fn push(&mut self, id: String, kind: &str, json: String, at: chrono::DateTime<Utc>) {
        self.ids.push(id);
        self.kinds.push(kind.to_owned());
        self.payloads.push(json);
        self.times.push(at);
    }

    /// The outbox columns they fill (`seq` and `published_at` take their defaults).
    fn into_columns(self) -> Vec<BulkColumn> {
        vec![
            BulkColumn::Text("event_id", self.ids),
            BulkColumn::Text("kind", self.kinds),
            BulkColumn::Text("payload", self.payloads),
            BulkColumn::Time("created_at", self.times),
        ]
    }
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

    /// Records the event of `payload`, caused by `actor` (`None`: the system), on `db`,
    /// which must be the transaction of the change it describes. This is how a store
    /// emits an event.
    pub async fn emit<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: Option<&str>,
        payload: Payload,
    ) -> Result<()> {
        self.emit_all(db, actor, [payload]).await
    }

    /// Records one event per payload, in order, all caused by `actor`, on `db` (the
    /// transaction of the change): a cascade's or an import's events.
    pub async fn emit_all<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: Option<&str>,
        payloads: impl IntoIterator<Item = Payload>,
    ) -> Result<()> {
        let prepared = self.prepare(actor, payloads)?;
        self.record(db, prepared).await
    }

    /// The events of `payloads`, made ready to [`record`](Self::record): ids given and
    /// JSON written. Pure work, so a bulk load can do it off the task that talks to
    /// the database.
    pub fn prepare(
        &self,
        actor: Option<&str>,
        payloads: impl IntoIterator<Item = Payload>,
    ) -> Result<PreparedEvents> {
        let mut prepared = PreparedEvents::default();
        for payload in payloads {
            self.check_owner(payload.event_type())?;
            let (id, occurred_at, json) = Event::new_json(actor, &payload)?;
            prepared.push(id, payload.kind(), json, occurred_at);
        }
        Ok(prepared)
    }

    /// Events of type `kind` made ready to [`record`](Self::record) as claims, one per
    /// item of `claims`: each row holds the event's envelope with the claim as its
    /// `data`, and the service's [`Fill`] writes the event it stands for when the relay
    /// publishes it. For a bulk load, whose events would otherwise repeat every row it
    /// writes (an import's `content.imported`).
    pub fn prepare_claims<T: serde::Serialize>(
        &self,
        actor: Option<&str>,
        kind: EventType,
        claims: impl IntoIterator<Item = T>,
    ) -> Result<PreparedEvents> {
        self.check_owner(kind)?;
        let mut prepared = PreparedEvents::default();
        for claim in claims {
            let event = Event {
                id: crate::new_id(),
                kind: kind.as_str().to_owned(),
                occurred_at: Utc::now(),
                actor_id: actor.map(str::to_owned),
                data: claim,
                traceparent: crate::telemetry::traceparent(),
            };
            let json = event.to_json()?;
            prepared.push(event.id, kind.as_str(), json, event.occurred_at);
        }
        Ok(prepared)
    }

    /// An event in another service's outbox would travel on that service's subject out
    /// of order with its own events; the catalog says whose each type is.
    fn check_owner(&self, kind: EventType) -> Result<()> {
        let owner = kind.service();
        if owner != self.service {
            return Err(Error::internal(format!(
                "{} is published by {owner}, not recorded in the {} outbox",
                kind.as_str(),
                self.service
            )));
        }
        Ok(())
    }

    /// Writes `events` on `db`, which should be the transaction of the change, in as
    /// few statements as the database allows (`db::insert_columns`).
    pub async fn record<C: ConnectionTrait>(&self, db: &C, events: PreparedEvents) -> Result<()> {
        crate::db::insert_columns(db, &self.table, events.into_columns()).await?;
        Ok(())
    }

    /// [`record`](Self::record) in a bulk load's transaction (`BulkTransaction::insert`).
    pub async fn record_bulk(
        &self,
        tx: &mut BulkTransaction,
        events: PreparedEvents,
    ) -> Result<()> {
        tx.insert(&self.table, events.into_columns()).await?;
        Ok(())
    }

    /// Commits `tx`, the transaction of a change that recorded events here, then wakes
    /// the relay: it looks once the rows are visible, not before (a relay woken inside
    /// the transaction found nothing and slept until its next poll). Every transaction
    /// that emits ends with this; one that ends with a plain commit is still published,
    /// at the relay's next poll.
    pub async fn commit(&self, tx: DatabaseTransaction) -> Result<()> {
        tx.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// [`commit`](Self::commit) for a bulk load's transaction.
    pub async fn commit_bulk(&self, tx: BulkTransaction) -> Result<()> {
        tx.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Up to `limit` pending rows (after `after`, when given), oldest first.
    async fn pending<C: ConnectionTrait>(
        &self,
        db: &C,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<(i64, StoredEvent)>> {
        let mut select = Query::select()
            .columns([
                Alias::new("seq"),
                Alias::new("event_id"),
                Alias::new("kind"),
                Alias::new("payload"),
            ])
            .from(Alias::new(&*self.table))
            .and_where(Expr::col(Alias::new("published_at")).is_null())
            .order_by(Alias::new("seq"), Order::Asc)
            .limit(limit)
            .to_owned();
        if let Some(after) = after {
            select.and_where(Expr::col(Alias::new("seq")).gt(after));
        }
        let rows = db.query_all(&select).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let seq: i64 = r.try_get("", "seq")?;
            out.push((
                seq,
                StoredEvent {
                    id: r.try_get("", "event_id")?,
                    kind: r.try_get("", "kind")?,
                    json: r.try_get("", "payload")?,
                },
            ));
        }
        Ok(out)
    }

    async fn mark_published<C: ConnectionTrait>(&self, db: &C, seqs: &[i64]) -> Result<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        if db.get_database_backend() == DatabaseBackend::Postgres {
            // One array parameter, not a thousand: nothing for the server to parse or
            // plan per row.
            let seqs =
                crate::db::pg_array(sea_orm::sea_query::ArrayType::BigInt, seqs.iter().copied());
            db.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                format!(
                    "UPDATE \"{}\" SET published_at = $1 WHERE seq = ANY($2)",
                    self.table
                ),
                [Utc::now().into(), seqs],
            ))
            .await?;
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

/// Fills in the claims a service's outbox holds ([`Outbox::prepare_claims`]) as its
/// relay publishes them.
pub trait Fill: Send + Sync + 'static {
    /// `events` (pending rows, in order), each claim replaced by the event it stands for
    /// as of now ([`super::Claim::fill`]), the other rows as they are: as many as given,
    /// in the same order.
    fn fill(&self, events: Vec<StoredEvent>) -> BoxFuture<'_, Result<Vec<StoredEvent>>>;
}

/// Publishes a service's outbox, in order, for as long as the service runs.
pub struct Relay {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub bus: Arc<dyn Bus>,
    /// Fills in the outbox's claims, for a service that records any.
    pub fill: Option<Arc<dyn Fill>>,
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
                // The round stopped with rows still pending.
                Ok(round) if round.more => Duration::ZERO,
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

    /// One round: the pending events, published in order: how many went out, and
    /// whether more were left.
    /// On PostgreSQL the round holds a transaction-scoped advisory lock, so that of
    /// several replicas of a service one relays at a time and the order holds.
    // At trace level: a round that finds nothing is no span worth exporting; each batch
    // that goes out has a `publish` span of its own.
    #[tracing::instrument(
        name = "relay_round",
        level = "trace",
        skip_all,
        fields(service = self.outbox.service, published = tracing::field::Empty)
    )]
    pub async fn round(&self) -> Result<Round> {
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
                return Ok(Round::default());
            }
            let result = self.publish_pending(&tx).await;
            tx.commit().await?;
            result
        } else {
            self.publish_pending(&self.db).await
        }
    }

    /// Publishes up to [`ROUND_BATCHES`] batches, pipelined: while the bus takes batch
    /// N, the database marks batch N-1 published and reads batch N+1 (the rows after
    /// N's last `seq`; a row that commits later with a smaller `seq` waits for the next
    /// round). A row is marked only once the bus confirmed it.
    async fn publish_pending<C: ConnectionTrait>(&self, db: &C) -> Result<Round> {
        let first = self.outbox.pending(db, None, FIRST_BATCH).await?;
        let mut batch = self.filled(first).await?;
        let mut confirmed: Vec<i64> = Vec::new();
        let mut total = 0;
        let mut failure = None;
        for _ in 0..ROUND_BATCHES {
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            let (seqs, events): (Vec<i64>, Vec<StoredEvent>) =
                std::mem::take(&mut batch).into_iter().unzip();
            let previous = std::mem::take(&mut confirmed);
            let limit = next_limit(&events);
            let database = async {
                self.outbox.mark_published(db, &previous).await?;
                let next = self.outbox.pending(db, Some(last), limit).await?;
                self.filled(next).await
            };
            // One span per batch published, linked to the operations that caused its
            // events (their `traceparent`), when traces are on.
            let span = tracing::info_span!(
                "publish",
                otel.kind = "producer",
                service = self.outbox.service,
                events = events.len()
            );
            if crate::telemetry::tracing_enabled() {
                let causes: Vec<String> =
                    events.iter().filter_map(StoredEvent::traceparent).collect();
                crate::telemetry::link_to(&span, causes.iter().map(String::as_str));
            }
            let ((published, failed), next) =
                tokio::join!(self.bus.publish_stored(&events).instrument(span), database);
            confirmed = seqs[..published.min(seqs.len())].to_vec();
            total += confirmed.len();
            match (failed, next) {
                (None, Ok(next)) => batch = next,
                // Rows the bus confirmed but the database could not mark go out again
                // in a later round (the broker and the consumers drop the duplicates).
                (_, Err(e)) => {
                    tracing::Span::current().record("published", total);
                    return Err(e);
                }
                (Some(e), Ok(_)) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.outbox.mark_published(db, &confirmed).await?;
        // Inside the round's span: how many went out, also when the bus failed midway.
        tracing::Span::current().record("published", total);
        match failure {
            Some(e) => Err(e),
            // Rows read ahead but not published: the round ended before they did.
            None => Ok(Round {
                published: total,
                more: !batch.is_empty(),
            }),
        }
    }

    /// `rows` with their claims filled in ([`Fill`]), ready to publish.
    async fn filled(&self, rows: Vec<(i64, StoredEvent)>) -> Result<Vec<(i64, StoredEvent)>> {
        let Some(fill) = &self.fill else {
            return Ok(rows);
        };
        if rows.is_empty() {
            return Ok(rows);
        }
        let (seqs, events): (Vec<i64>, Vec<StoredEvent>) = rows.into_iter().unzip();
        let filled = fill.fill(events).await?;
        if filled.len() != seqs.len() {
            return Err(Error::internal(format!(
                "the {} outbox's fill returned {} events for {} rows",
                self.outbox.service,
                filled.len(),
                seqs.len()
            )));
        }
        Ok(seqs.into_iter().zip(filled).collect())
    }
}

/// What a relay round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Events published.
    pub published: usize,
    /// Whether the round left pending rows behind (then the next starts at once).
    pub more: bool,
}

/// The row count of the batch after `events`: as many rows of their average size as
/// fit in [`BATCH_BYTES`], between 1 and [`BATCH`].
fn next_limit(events: &[StoredEvent]) -> u64 {
    let bytes: usize = events.iter().map(|e| e.json.len()).sum();
    let average = (bytes / events.len().max(1)).max(1);
    ((BATCH_BYTES / average) as u64).clamp(1, BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::catalog::{
        ContentData, ContentDeleted, ContentsImported, ContentsImportedClaim, UserDeleted,
    };
    use crate::events::local::LocalBus;
    use crate::events::test_spans::SeenSpans;

    /// An in-memory SQLite database (one connection, so one database) with the content
    /// outbox as the migration creates it.
    async fn content_outbox() -> (DatabaseConnection, Outbox) {
        let db = crate::events::test_db::content_event_tables().await;
        (db, Outbox::new("content"))
    }

    /// A relay over `outbox` on an in-process bus, and what that bus delivers.
    async fn observed_relay(
        db: &DatabaseConnection,
        outbox: &Outbox,
    ) -> (Relay, tokio::sync::mpsc::Receiver<Event>) {
        let bus = Arc::new(LocalBus::new());
        let seen = bus.observe().await.expect("observe");
        let relay = Relay {
            db: db.clone(),
            outbox: outbox.clone(),
            bus,
            fill: None,
        };
        (relay, seen)
    }

    fn created() -> Payload {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
            .expect("a time")
            .with_timezone(&Utc);
        Payload::ContentCreated(ContentData {
            id: "c1".into(),
            author_id: "u1".into(),
            title: "T".into(),
            description: None,
            story: "S".into(),
            tags: Vec::new(),
            published_at: at,
            updated_at: at,
        })
    }

    #[tokio::test]
    async fn emitted_payloads_are_pending_in_order_and_relayed() {
        let (db, outbox) = content_outbox().await;
        let deleted = Payload::ContentDeleted(ContentDeleted { id: "c1".into() });
        outbox.emit(&db, Some("u1"), created()).await.expect("emit");
        outbox
            .emit_all(&db, None, [deleted.clone()])
            .await
            .expect("emit_all");
        let pending = outbox.pending(&db, None, BATCH).await.expect("pending");
        let got: Vec<(Payload, Option<String>)> = pending
            .iter()
            .map(|(_, stored)| {
                let e: Event = serde_json::from_str(&stored.json).expect("an event");
                assert_eq!((&e.id, &e.kind), (&stored.id, &stored.kind));
                (e.payload().expect("decodes"), e.actor_id)
            })
            .collect();
        assert_eq!(
            got,
            [(created(), Some("u1".to_owned())), (deleted.clone(), None)]
        );

        let (relay, mut seen) = observed_relay(&db, &outbox).await;
        assert_eq!(relay.round().await.expect("a round").published, 2);
        let first = seen.recv().await.expect("an event");
        let second = seen.recv().await.expect("an event");
        assert_eq!(first.payload().expect("decodes"), created());
        assert_eq!(second.payload().expect("decodes"), deleted);
        assert!(nothing_pending(&db, &outbox).await);
    }

    async fn nothing_pending(db: &DatabaseConnection, outbox: &Outbox) -> bool {
        let pending = outbox.pending(db, None, BATCH).await.expect("pending");
        pending.is_empty()
    }

    /// The `content.deleted` payload of content `c<i>`.
    fn deleted(i: usize) -> Payload {
        Payload::ContentDeleted(ContentDeleted {
            id: format!("c{i}"),
        })
    }

    /// Records `n` deletions, `c0` to `c<n-1>`, in `outbox`.
    async fn emit_deletions(db: &DatabaseConnection, outbox: &Outbox, n: usize) {
        outbox
            .emit_all(db, None, (0..n).map(deleted))
            .await
            .expect("emit_all");
    }

    #[tokio::test]
    async fn a_round_publishes_batch_after_batch_in_order_and_marks_them_all() {
        let (db, outbox) = content_outbox().await;
        let n = 2 * BATCH as usize + 500;
        emit_deletions(&db, &outbox, n).await;
        let (relay, mut seen) = observed_relay(&db, &outbox).await;
        assert_eq!(
            relay.round().await.expect("a round"),
            Round {
                published: n,
                more: false
            }
        );
        for i in 0..n {
            let event = seen.recv().await.expect("an event");
            assert_eq!(event.payload().expect("decodes"), deleted(i));
        }
        assert!(nothing_pending(&db, &outbox).await);
        assert_eq!(
            relay.round().await.expect("a round"),
            Round::default(),
            "nothing is left"
        );
    }

    #[tokio::test]
    async fn a_round_that_stops_with_rows_pending_says_so() {
        let (db, outbox) = content_outbox().await;
        // More than a round's batches hold: the first batch (64), then 9 of 1,000.
        let per_round = FIRST_BATCH as usize + (ROUND_BATCHES - 1) * BATCH as usize;
        let n = per_round + 10;
        emit_deletions(&db, &outbox, n).await;
        let relay = Relay {
            db: db.clone(),
            outbox: outbox.clone(),
            bus: Arc::new(LocalBus::new()),
            fill: None,
        };
        let first = relay.round().await.expect("a round");
        assert_eq!(
            first,
            Round {
                published: per_round,
                more: true
            }
        );
        let second = relay.round().await.expect("a round");
        assert_eq!(
            second,
            Round {
                published: 10,
                more: false
            }
        );
        assert!(nothing_pending(&db, &outbox).await);
    }

    #[test]
    fn a_batch_of_large_events_is_followed_by_a_smaller_one() {
        let stored = |bytes: usize| StoredEvent {
            id: "e".into(),
            kind: "content.imported".into(),
            json: "x".repeat(bytes),
        };
        assert_eq!(
            next_limit(&[stored(200)]),
            BATCH,
            "small rows: a full batch"
        );
        assert_eq!(next_limit(&[stored(128 << 10), stored(128 << 10)]), 32);
        assert_eq!(next_limit(&[stored(16 << 20)]), 1, "at least one row");
        assert_eq!(next_limit(&[]), BATCH);
    }

    #[tokio::test]
    async fn a_relay_round_is_a_span_that_says_how_many_it_published() {
        let seen = SeenSpans::default();
        let _guard = seen.watch();
        let (db, outbox) = content_outbox().await;
        outbox.emit(&db, None, created()).await.expect("emit");
        let relay = Relay {
            db,
            outbox,
            bus: Arc::new(LocalBus::new()),
            fill: None,
        };
        assert_eq!(relay.round().await.expect("a round").published, 1);
        seen.assert_seen(r#"relay_round service="content" published=1"#);
    }

    /// Fills `content.imported` claims with contents made from their ids
    /// ([`content`]); with `lose`, returns no events at all (a broken fill).
    struct TestFill {
        lose: bool,
    }

    impl Fill for TestFill {
        fn fill(&self, events: Vec<StoredEvent>) -> BoxFuture<'_, Result<Vec<StoredEvent>>> {
            Box::pin(async move {
                if self.lose {
                    return Ok(Vec::new());
                }
                events
                    .into_iter()
                    .map(
                        |e| match e.claim::<ContentsImportedClaim>(EventType::ContentImported) {
                            None => Ok(e),
                            Some(claim) => {
                                let contents = claim.data.content_ids.iter().map(|id| content(id));
                                claim.fill(&Payload::ContentImported(ContentsImported {
                                    contents: contents.collect(),
                                }))
                            }
                        },
                    )
                    .collect()
            })
        }
    }

    /// The content `id` as [`created`] has it.
    fn content(id: &str) -> ContentData {
        let Payload::ContentCreated(mut c) = created() else {
            unreachable!("created() is a content.created")
        };
        c.id = id.to_owned();
        c
    }

    /// Records a `content.imported` claim for `ids`, by `u2`; returns its event id.
    async fn record_claim(db: &DatabaseConnection, outbox: &Outbox, ids: &[&str]) -> String {
        let claim = ContentsImportedClaim {
            content_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
        };
        let prepared = outbox
            .prepare_claims(Some("u2"), EventType::ContentImported, [claim])
            .expect("prepare_claims");
        let id = prepared.ids[0].clone();
        outbox.record(db, prepared).await.expect("record");
        id
    }

    #[tokio::test]
    async fn a_claim_is_published_as_the_event_its_fill_writes_in_its_place() {
        let (db, outbox) = content_outbox().await;
        outbox.emit(&db, Some("u1"), created()).await.expect("emit");
        let claim_id = record_claim(&db, &outbox, &["c2", "c3"]).await;
        emit_deletions(&db, &outbox, 1).await;
        let (mut relay, mut seen) = observed_relay(&db, &outbox).await;
        relay.fill = Some(Arc::new(TestFill { lose: false }));
        assert_eq!(relay.round().await.expect("a round").published, 3);
        let first = seen.recv().await.expect("an event");
        assert_eq!(first.payload().expect("decodes"), created());
        let filled = seen.recv().await.expect("an event");
        assert_eq!(
            (filled.id.as_str(), filled.actor_id.as_deref()),
            (claim_id.as_str(), Some("u2")),
            "the claim's id and actor"
        );
        assert_eq!(
            filled.payload().expect("decodes"),
            Payload::ContentImported(ContentsImported {
                contents: vec![content("c2"), content("c3")]
            })
        );
        let third = seen.recv().await.expect("an event");
        assert_eq!(third.payload().expect("decodes"), deleted(0));
        assert!(nothing_pending(&db, &outbox).await);
    }

    #[tokio::test]
    async fn a_fill_that_loses_events_fails_the_round_and_publishes_nothing() {
        let (db, outbox) = content_outbox().await;
        record_claim(&db, &outbox, &["c1"]).await;
        let (mut relay, mut seen) = observed_relay(&db, &outbox).await;
        relay.fill = Some(Arc::new(TestFill { lose: true }));
        let err = relay.round().await.expect_err("the fill lost the claim");
        assert!(
            err.log_message().contains("1 rows"),
            "{}",
            err.log_message()
        );
        assert!(seen.try_recv().is_err(), "nothing published");
        assert!(
            !nothing_pending(&db, &outbox).await,
            "the claim is still pending"
        );
    }

    #[tokio::test]
    async fn an_outbox_refuses_claims_of_another_services_events() {
        let (_db, outbox) = content_outbox().await;
        let err = outbox
            .prepare_claims(
                None,
                EventType::UserDeleted,
                [ContentsImportedClaim {
                    content_ids: Vec::new(),
                }],
            )
            .expect_err("user.deleted is the users service's");
        assert!(err.log_message().contains("users"), "{}", err.log_message());
    }

    #[tokio::test]
    async fn an_outbox_refuses_another_services_events() {
        let (db, outbox) = content_outbox().await;
        let foreign = Payload::UserDeleted(UserDeleted { id: "u1".into() });
        let err = outbox
            .emit_all(&db, None, [created(), foreign])
            .await
            .expect_err("user.deleted is the users service's");
        let cause = err.log_message();
        assert!(
            cause.contains("user.deleted") && cause.contains("users"),
            "{cause}"
        );
        assert_eq!(err.client_message(), "internal error");
        assert!(
            outbox
                .pending(&db, None, BATCH)
                .await
                .expect("pending")
                .is_empty(),
            "nothing of the batch is written"
        );
    }
}
