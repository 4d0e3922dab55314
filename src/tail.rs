//! `folio events tail`: the events as they happen, for an operator.
//!
//! With `FOLIO_NATS_URL` it subscribes to the stream's subjects (every event any service
//! publishes from now on). Without NATS there is no broker to listen to, so it reads the
//! services' outboxes (the same databases `folio serve` uses) for rows recorded from now
//! on, every quarter of a second (an import's `content.imported` then shows as the outbox
//! holds it: a claim naming its contents' ids, which the relay fills in when it
//! publishes). Either way only events whose type matches the pattern
//! (`user.*`, `*.deleted`, `content.created`, `*`) come out.

use anyhow::Context as _;
use folio_common::Config;
use folio_common::events::nats::NatsBus;
use folio_common::events::{Bus, Event, matches};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::time::Duration;
use tokio::sync::mpsc;

const POLL: Duration = Duration::from_millis(250);

/// The events matching `pattern` from now on, until the receiver is dropped.
pub async fn follow(cfg: &Config, pattern: &str) -> anyhow::Result<mpsc::Receiver<Event>> {
    let (tx, rx) = mpsc::channel(1_024);
    let pattern = pattern.to_owned();
    if let Some(url) = &cfg.nats_url {
        let bus = NatsBus::connect(url, &cfg.events_prefix)
            .await
            .with_context(|| format!("connecting to NATS at {url}"))?;
        let mut events = bus
            .observe()
            .await
            .map_err(|_| anyhow::anyhow!("subscribing to the events on NATS"))?;
        tokio::spawn(async move {
            let _keep = bus;
            while let Some(e) = events.recv().await {
                if matches(&pattern, &e.kind) && tx.send(e).await.is_err() {
                    break;
                }
            }
        });
        return Ok(rx);
    }
    let mut sources = Vec::new();
    for service in crate::platform::subgraph_names() {
        let url = cfg.service_database(service);
        let db = folio_common::db::connect(&url, cfg.database_schema.as_deref())
            .await
            .with_context(|| format!("opening the {service} database"))?;
        let table = folio_common::events::outbox::table(service);
        let last = last_seq(&db, &table).await?;
        sources.push((db, table, last));
    }
    tokio::spawn(async move {
        loop {
            let mut batch = Vec::new();
            for (db, table, last) in &mut sources {
                match since(db, table, *last).await {
                    Ok(rows) => {
                        for (seq, event) in rows {
                            *last = seq;
                            batch.push(event);
                        }
                    }
                    Err(e) => tracing::warn!(%table, error = %e, "reading an outbox failed"),
                }
            }
            batch.sort_by_key(|e| e.occurred_at);
            for e in batch {
                if matches(&pattern, &e.kind) && tx.send(e).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Ok(rx)
}

async fn last_seq(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COALESCE(MAX(seq), 0) AS last FROM {table}"),
        ))
        .await
        .with_context(|| format!("reading {table} (is the database migrated?)"))?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "last"))
        .transpose()?
        .unwrap_or(0))
}

async fn since(
    db: &DatabaseConnection,
    table: &str,
    after: i64,
) -> anyhow::Result<Vec<(i64, Event)>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT seq, payload FROM {table} WHERE seq > {after} ORDER BY seq LIMIT 1000"),
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let seq: i64 = r.try_get("", "seq")?;
        let payload: String = r.try_get("", "payload")?;
        out.push((seq, serde_json::from_str(&payload)?));
    }
    Ok(out)
}
