//! Retention: the event machinery's bookkeeping is kept for a while, then pruned in the
//! background, in bounded batches (`FOLIO_RETENTION_SECS`, default 7 days, longer than
//! any redelivery window).
//!
//! Every service prunes its `<service>_outbox` rows published before the cutoff (a row
//! not yet published has no `published_at`, so it is never older than anything and is
//! never pruned) and its `<service>_processed_events` ids recorded before it. A subgraph
//! adds tables of its own with [`Expiring`] (content's tombstones, interactions'
//! forgotten contents).

use crate::Result;
use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::time::Duration;
use tokio::sync::watch;

/// Most rows one statement deletes, so that pruning never holds a long write lock.
pub const BATCH: u64 = 1_000;

/// A table whose rows expire: keyed by `keys`, aged by the timestamp column `time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiring {
    pub table: String,
    pub keys: &'static [&'static str],
    pub time: &'static str,
}

impl Expiring {
    pub fn new(
        table: impl Into<String>,
        keys: &'static [&'static str],
        time: &'static str,
    ) -> Self {
        Expiring {
            table: table.into(),
            keys,
            time,
        }
    }
}

/// The event tables of `service` every service prunes: published outbox rows, by when
/// they were published, and processed-event ids, by when they were processed.
pub fn event_tables(service: &str) -> Vec<Expiring> {
    vec![
        Expiring::new(super::outbox::table(service), &["seq"], "published_at"),
        Expiring::new(
            super::consumer::table(service),
            &["consumer", "event_id"],
            "processed_at",
        ),
    ]
}

/// Deletes up to [`BATCH`] rows of `table` older than `age`; how many went.
pub async fn prune_batch<C: ConnectionTrait>(
    db: &C,
    table: &Expiring,
    age: Duration,
) -> Result<u64> {
    let age = chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
    let cutoff = Utc::now()
        .checked_sub_signed(age)
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
    let name = Alias::new(&table.table);
    let old = Query::select()
        .columns(table.keys.iter().map(|k| Alias::new(*k)))
        .from(name.clone())
        .and_where(Expr::col(Alias::new(table.time)).lt(cutoff))
        .limit(BATCH)
        .to_owned();
    let keys: SimpleExpr = match table.keys {
        [one] => Expr::col(Alias::new(*one)),
        many => Expr::tuple(many.iter().map(|k| Expr::col(Alias::new(*k)))),
    };
    let delete = Query::delete()
        .from_table(name)
        .and_where(keys.in_subquery(old))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected())
}

/// Prunes every table of `tables` (each to the end, a batch at a time), now and then
/// every quarter of `age` (at least a second, at most ten minutes), until `stop`.
pub async fn run(
    db: DatabaseConnection,
    tables: Vec<Expiring>,
    age: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let every = (age / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
    loop {
        for table in &tables {
            loop {
                if *stop.borrow() {
                    return;
                }
                match prune_batch(&db, table, age).await {
                    Ok(n) if n == BATCH => tokio::task::yield_now().await,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(table = %table.table, error = %e.log_message(), "pruning failed; will retry");
                        break;
                    }
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use sea_orm::Statement;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    use crate::events::test_db::content_event_tables as event_tables_db;

    fn ago(days: u32) -> DateTime<Utc> {
        Utc::now() - chrono::Duration::days(days.into())
    }

    async fn outbox_row(db: &DatabaseConnection, id: &str, created: u32, published: Option<u32>) {
        let insert = Query::insert()
            .into_table(Alias::new("content_outbox"))
            .columns(["event_id", "kind", "payload", "created_at", "published_at"].map(Alias::new))
            .values_panic([
                id.into(),
                "content.created".into(),
                "{}".into(),
                ago(created).into(),
                published.map(ago).into(),
            ])
            .to_owned();
        db.execute(&insert).await.expect("an outbox row");
    }

    async fn ids(db: &DatabaseConnection, sql: &str) -> Vec<String> {
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("rows")
            .iter()
            .map(|r| r.try_get::<String>("", "id").expect("id"))
            .collect()
    }

    #[tokio::test]
    async fn pruning_takes_old_published_rows_and_old_ids_never_a_pending_row() {
        let db = event_tables_db().await;
        outbox_row(&db, "old-published", 10, Some(10)).await;
        outbox_row(&db, "old-pending", 10, None).await;
        outbox_row(&db, "old-but-published-lately", 10, Some(1)).await;
        outbox_row(&db, "new-published", 0, Some(0)).await;
        for (id, days) in [("old-id", 8), ("new-id", 6)] {
            let insert = Query::insert()
                .into_table(Alias::new("content_processed_events"))
                .columns(["consumer", "event_id", "processed_at"].map(Alias::new))
                .values_panic(["content".into(), id.into(), ago(days).into()])
                .to_owned();
            db.execute(&insert).await.expect("a processed id");
        }
        for table in event_tables("content") {
            prune_batch(&db, &table, 7 * DAY).await.expect("pruned");
        }
        assert_eq!(
            ids(
                &db,
                "SELECT event_id AS id FROM content_outbox ORDER BY seq"
            )
            .await,
            ["old-pending", "old-but-published-lately", "new-published"]
        );
        assert_eq!(
            ids(&db, "SELECT event_id AS id FROM content_processed_events").await,
            ["new-id"]
        );
    }

    #[tokio::test]
    async fn each_statement_deletes_one_batch_at_most() {
        let db = event_tables_db().await;
        let n = BATCH * 2 + 7;
        for i in 0..n {
            outbox_row(&db, &format!("e{i}"), 9, Some(9)).await;
        }
        let outbox = &event_tables("content")[0];
        let mut counts = Vec::new();
        loop {
            let pruned = prune_batch(&db, outbox, 7 * DAY).await.expect("pruned");
            counts.push(pruned);
            if pruned < BATCH {
                break;
            }
        }
        assert_eq!(counts, [BATCH, BATCH, 7]);
    }
}
