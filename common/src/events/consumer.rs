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
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use std::sync::Arc;

/// The processed-events table of `service`.
pub fn table(service: &str) -> String {
    format!("{service}_processed_events")
}

/// What a consumer does with an event's payload, inside the transaction that records
/// the event.
pub trait Apply: Send + Sync + 'static {
    fn apply<'a>(
        &'a self,
        tx: &'a DatabaseTransaction,
        payload: Payload,
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
    let payload = event.payload()?;
    let tx = begin_write(db).await?;
    let insert = Query::insert()
        .into_table(Alias::new(table(outbox.service())))
        .columns([
            Alias::new("consumer"),
            Alias::new("event_id"),
            Alias::new("processed_at"),
        ])
        .values_panic([consumer.into(), event.id.clone().into(), Utc::now().into()])
        .on_conflict(
            OnConflict::columns([Alias::new("consumer"), Alias::new("event_id")])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let inserted = tx.execute(&insert).await?.rows_affected();
    if inserted == 0 {
        // Seen before: roll back (nothing was written) and acknowledge.
        return Ok(false);
    }
    apply.apply(&tx, payload).await?;
    // The cascade's own events (a deleted content's likes) go out at once.
    outbox.commit(tx).await?;
    Ok(true)
}

/// A bus handler that applies events once through `apply`, recording them in the
/// processed-events table of `outbox`'s service and waking its relay after each commit.
pub fn handler(
    db: DatabaseConnection,
    outbox: Outbox,
    consumer: &'static str,
    apply: Arc<dyn Apply>,
) -> Handler {
    Arc::new(move |event: Event| {
        let (db, apply, outbox) = (db.clone(), apply.clone(), outbox.clone());
        Box::pin(async move {
            match process_once(&db, &outbox, consumer, &event, apply.as_ref()).await {
                Ok(applied) => {
                    tracing::debug!(consumer, id = %event.id, kind = %event.kind, applied, "event consumed");
                    Ok(())
                }
                Err(e) => {
                    // No client ever sees this error, so the log must carry its real cause.
                    tracing::warn!(consumer, id = %event.id, kind = %event.kind, error = %e.log_message(), "consuming an event failed; it will come again");
                    Err(e)
                }
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
            _payload: Payload,
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
}
