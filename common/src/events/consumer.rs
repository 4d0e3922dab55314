//! Idempotent consumers: a consumer applies an event in a transaction of its own
//! database that also records the event's id in `<service>_processed_events`; an event
//! seen before (a redelivery, a duplicate publish) is skipped. Effects therefore happen
//! once however often an event arrives. The event is decoded into its catalog
//! [`Payload`] before anything is written, and the consumer sees only that: what it reads
//! of an event is checked by the compiler, not looked up by name in JSON.

use super::outbox::Outbox;
use super::{BoxFuture, Event, Handler, Payload};
use crate::db::begin_write;
use crate::{Id, Result};
use chrono::Utc;
use sea_orm::sea_query::{Alias, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Statement,
};
use std::collections::HashSet;
use std::sync::Arc;

/// The processed-events table of `service`.
pub fn table(service: &str) -> String {
    format!("{service}_processed_events")
}

/// What a consumer does with events' payloads, in order, inside the transaction that
/// records the events: one payload for an event applied alone, several for a batch (so
/// that a consumer may apply a run of alike events with one statement).
pub trait Apply: Send + Sync + 'static {
    fn apply<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        payloads: Vec<Payload>,
    ) -> BoxFuture<'a, Result<()>>;
}

/// An id an event carries, as a consumer looks rows up by it. One that no row can have
/// names nothing, so the event changes nothing: `None`, with a warning, since a service
/// never publishes such an id.
pub fn event_id(raw: String) -> Option<Id> {
    match Id::try_from(raw) {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!(reason = %e, "an event names an id no row can have; it changes nothing");
            None
        }
    }
}

/// Applies `event` once for `consumer`; `Ok(false)` when it had been applied before.
/// An event whose payload does not decode is an error (it comes again, and is logged
/// with the reason), before any transaction begins.
#[tracing::instrument(
    name = "consume",
    skip_all,
    fields(service = %outbox.service(), consumer = %consumer, event_id = %event.id, kind = %event.kind)
)]
pub async fn process_once(
    db: &DatabaseConnection,
    outbox: &Outbox,
    consumer: &str,
    event: &Event,
    apply: &dyn Apply,
) -> Result<bool> {
    let events = std::slice::from_ref(event);
    Ok(process_batch(db, outbox, consumer, events, apply).await? == 1)
}

/// Applies `events` (one publisher's, in order) for `consumer` in one transaction, each
/// once: those seen before are skipped. Returns how many were applied. All or nothing:
/// an event that does not decode or fails to apply fails the batch before anything
/// commits.
#[tracing::instrument(
    name = "consume_batch",
    skip_all,
    fields(otel.kind = "consumer", service = %outbox.service(), consumer = %consumer, events = events.len(), applied = tracing::field::Empty)
)]
pub async fn process_batch(
    db: &DatabaseConnection,
    outbox: &Outbox,
    consumer: &str,
    events: &[Event],
    apply: &dyn Apply,
) -> Result<usize> {
    // Linked to the operations that caused the events, when traces are on.
    crate::telemetry::link_to(
        &tracing::Span::current(),
        events.iter().filter_map(|e| e.traceparent.as_deref()),
    );
    let payloads = events
        .iter()
        .map(Event::payload)
        .collect::<Result<Vec<Payload>>>()?;
    let tx = begin_write(db).await?;
    let mut new = first_times(&tx, outbox.service(), consumer, events).await?;
    // Each new event once (a batch may hold an event twice), in the batch's order.
    let fresh: Vec<Payload> = events
        .iter()
        .zip(payloads)
        .filter(|(event, _)| new.remove(event.id.as_str()))
        .map(|(_, payload)| payload)
        .collect();
    let applied = fresh.len();
    if applied == 0 {
        // All seen before: roll back (nothing was written) and acknowledge.
        return Ok(0);
    }
    apply.apply(&tx, fresh).await?;
    // The cascade's own events (a deleted content's likes) go out at once.
    outbox.commit(tx).await?;
    tracing::Span::current().record("applied", applied);
    Ok(applied)
}

/// Records in `tx` that `consumer` processed `events`, with one statement (PostgreSQL) or
/// one per [`ROWS_PER_INSERT`] (SQLite); the ids of those processed for the first time.
async fn first_times(
    tx: &DatabaseTransaction,
    service: &str,
    consumer: &str,
    events: &[Event],
) -> Result<HashSet<String>> {
    let now = Utc::now();
    let mut new = HashSet::with_capacity(events.len());
    if tx.get_database_backend() == DatabaseBackend::Postgres {
        // The ids as one array parameter: one statement, whatever the batch's size.
        let ids = crate::db::pg_array(
            sea_orm::sea_query::ArrayType::String,
            events.iter().map(|e| e.id.as_str()),
        );
        let sql = format!(
            "INSERT INTO \"{}\" (consumer, event_id, processed_at) \
             SELECT $1, e, $2 FROM UNNEST($3::text[]) AS e \
             ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id",
            table(service)
        );
        let rows = tx
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                [consumer.into(), now.into(), ids],
            ))
            .await?;
        for row in rows {
            new.insert(row.try_get::<String>("", "event_id")?);
        }
        return Ok(new);
    }
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new(table(service))).columns([
            Alias::new("consumer"),
            Alias::new("event_id"),
            Alias::new("processed_at"),
        ]);
        for event in chunk {
            insert.values_panic([consumer.into(), event.id.clone().into(), now.into()]);
        }
        insert
            .on_conflict(
                OnConflict::columns([Alias::new("consumer"), Alias::new("event_id")])
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(Alias::new("event_id"));
        for row in tx.query_all(&insert).await? {
            new.insert(row.try_get::<String>("", "event_id")?);
        }
    }
    Ok(new)
}

/// Rows per multi-row INSERT of processed-event ids (3 values each, well within both
/// databases' bound-parameter limits).
const ROWS_PER_INSERT: usize = 500;

/// A bus handler that applies events once through `apply`, recording them in the
/// processed-events table of `outbox`'s service and waking its relay after each commit.
/// A batch is applied in one transaction ([`process_batch`]); if that fails, each event
/// is tried on its own, so that one event that cannot be applied holds back only itself
/// (the batch comes again, and what was applied is skipped then).
pub fn handler(
    db: DatabaseConnection,
    outbox: Outbox,
    consumer: Arc<str>,
    apply: Arc<dyn Apply>,
) -> Handler {
    Arc::new(move |events: Vec<Event>| {
        let (db, apply, outbox) = (db.clone(), apply.clone(), outbox.clone());
        let consumer = consumer.clone();
        Box::pin(async move {
            let consumer = &*consumer;
            if events.len() > 1 {
                match process_batch(&db, &outbox, consumer, &events, apply.as_ref()).await {
                    Ok(applied) => {
                        tracing::debug!(
                            consumer,
                            events = events.len(),
                            applied,
                            "events consumed"
                        );
                        return Ok(());
                    }
                    Err(e) => {
                        tracing::warn!(consumer, events = events.len(), error = %e.log_message(), "consuming a batch failed; trying each event alone");
                    }
                }
            }
            let mut failed = None;
            for event in &events {
                match process_once(&db, &outbox, consumer, event, apply.as_ref()).await {
                    Ok(applied) => {
                        tracing::debug!(consumer, id = %event.id, kind = %event.kind, applied, "event consumed");
                    }
                    Err(e) => {
                        // No client ever sees this error, so the log must carry its real cause.
                        tracing::warn!(consumer, id = %event.id, kind = %event.kind, error = %e.log_message(), "consuming an event failed; it will come again");
                        failed = Some(e);
                    }
                }
            }
            match failed {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::catalog::UserDeleted;
    use crate::events::test_spans::SeenSpans;

    struct Nothing;

    impl Apply for Nothing {
        fn apply<'a>(
            &'a self,
            _tx: &'a DatabaseTransaction,
            _payloads: Vec<Payload>,
        ) -> BoxFuture<'a, Result<()>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn an_event_id_no_row_can_have_names_nothing() {
        assert_eq!(event_id("u1".into()), Id::parse("u1").ok());
        assert_eq!(event_id("nul\0".into()), None);
        assert_eq!(event_id(String::new()), None);
    }

    #[tokio::test]
    async fn each_event_is_applied_once_in_a_span_naming_it() {
        let db = crate::events::test_db::content_event_tables().await;
        let event = Event::new(None, Payload::UserDeleted(UserDeleted { id: "u1".into() }))
            .expect("an event");
        let outbox = Outbox::new("content");
        let seen = SeenSpans::default();
        let _guard = seen.watch();
        let first = process_once(&db, &outbox, "content", &event, &Nothing).await;
        assert!(first.expect("applied"));
        let again = process_once(&db, &outbox, "content", &event, &Nothing).await;
        assert!(!again.expect("skipped"));
        seen.assert_seen(&format!(
            "consume service=content consumer=content event_id={} kind=user.deleted",
            event.id
        ));
    }

    /// Fails on the user it names, applies every other event.
    struct FailsOn(&'static str);

    impl Apply for FailsOn {
        fn apply<'a>(
            &'a self,
            _tx: &'a DatabaseTransaction,
            payloads: Vec<Payload>,
        ) -> BoxFuture<'a, Result<()>> {
            let fails = payloads
                .iter()
                .any(|p| matches!(p, Payload::UserDeleted(u) if u.id == self.0));
            Box::pin(async move {
                if fails {
                    Err(crate::Error::internal("cannot apply"))
                } else {
                    Ok(())
                }
            })
        }
    }

    fn deleted(user: &str) -> Event {
        Event::new(None, Payload::UserDeleted(UserDeleted { id: user.into() })).expect("an event")
    }

    #[tokio::test]
    async fn a_batch_applies_what_is_new_once_in_one_transaction() {
        let db = crate::events::test_db::content_event_tables().await;
        let outbox = Outbox::new("content");
        let (a, b, c) = (deleted("a"), deleted("b"), deleted("c"));
        assert!(
            process_once(&db, &outbox, "content", &a, &Nothing)
                .await
                .expect("a")
        );
        let batch = [a.clone(), b.clone(), c.clone(), b.clone()];
        let applied = process_batch(&db, &outbox, "content", &batch, &Nothing).await;
        assert_eq!(applied.expect("applied"), 2, "b and c, once each");
        let again = process_batch(&db, &outbox, "content", &batch, &Nothing).await;
        assert_eq!(again.expect("skipped"), 0);
    }

    #[tokio::test]
    async fn an_event_that_fails_holds_back_only_itself() {
        let db = crate::events::test_db::content_event_tables().await;
        let outbox = Outbox::new("content");
        let batch = vec![deleted("a"), deleted("poison"), deleted("c")];
        // All or nothing as one transaction...
        let whole = process_batch(&db, &outbox, "content", &batch, &FailsOn("poison")).await;
        assert!(whole.is_err());
        for e in &batch {
            assert!(
                process_once(&db, &outbox, "content", e, &Nothing)
                    .await
                    .is_ok()
            );
        }
        // ...and through the handler, the others are applied and the batch comes again.
        let db = crate::events::test_db::content_event_tables().await;
        let h = handler(
            db.clone(),
            outbox.clone(),
            "content".into(),
            Arc::new(FailsOn("poison")),
        );
        assert!(h(batch.clone()).await.is_err(), "the batch must come again");
        let applied_alone = |e: Event| {
            let (db, outbox) = (db.clone(), outbox.clone());
            async move {
                process_once(&db, &outbox, "content", &e, &Nothing)
                    .await
                    .expect("ok")
            }
        };
        assert!(!applied_alone(batch[0].clone()).await, "a was applied");
        assert!(!applied_alone(batch[2].clone()).await, "c was applied");
        assert!(
            applied_alone(batch[1].clone()).await,
            "the poison one was not"
        );
    }
}
