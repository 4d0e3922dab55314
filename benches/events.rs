//! Benchmark: how long a cascade takes to be visible through the router.
//!
//! For each of `BENCH_DELETIONS` contents (default 300): ada creates it, bob likes it,
//! and once interactions counts the like, ada deletes it. The lag is the time from
//! `deleteContent`'s answer to the moment the router's `contentRanking(by: LIKES)` no
//! longer lists the content (interactions applied `content.deleted`), polled back to
//! back. Printed as p50, p99 and max, for the in-process bus and, when
//! `FOLIO_BENCH_NATS_URL` names a NATS server with JetStream (or `FOLIO_TEST_NATS_URL`
//! does), over NATS. The platform runs in-process on SQLite in a temporary directory, or
//! on PostgreSQL when `FOLIO_TEST_DATABASE_URL` is set.
//!
//! Then bulk events: `BENCH_IMPORT_EVENTS` contents (default 100,000; the figure
//! is 1,000,000) are imported in one transaction through the engine behind `folio
//! import-csv`, against the platform's own content database, which records them in
//! `content.imported` events of a few hundred contents each. Printed: the import's time, and the time from its commit
//! until interactions knows every one of them (its `content_stats` holds the last one,
//! polled every 50 ms by its key; as events are applied in order that means all, which
//! a count then checks), with the in-process bus (or NATS when `FOLIO_TEST_NATS_URL` is
//! set). `cargo bench --bench events`.

// What a benchmark prints is its report.
#![allow(clippy::print_stdout)]

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_content::import::{ImportOptions, import_csv};
use folio_testkit::TestApp;
use folio_testkit::events::{count_rows_on, has_row_on};
use folio_testkit::load::{env_or, ms, percentile};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";
const RANKING: &str = "{ contentRanking(first: 5, by: LIKES) { content { id } } }";

/// Whether the router's ranking lists `content`.
async fn ranked(app: &TestApp, content: &str) -> bool {
    let body = app.gql(None, RANKING, json!({})).await;
    let list = body["data"]["contentRanking"]
        .as_array()
        .unwrap_or_else(|| panic!("a ranking: {body}"));
    list.iter().any(|s| s["content"]["id"] == json!(content))
}

/// Polls `ranked` until it equals `want`; how long that took. Panics after 10 s.
async fn until_ranked(app: &TestApp, content: &str, want: bool) -> Duration {
    let start = Instant::now();
    while ranked(app, content).await != want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{content} still {}ranked after 10 s",
            if want { "not " } else { "" }
        );
    }
    start.elapsed()
}

/// The lags of `n` deletions on a fresh platform over `nats` (`None`: in process).
async fn lags(nats: Option<String>, n: u64) -> Vec<Duration> {
    let app = TestApp::spawn_with(|cfg| cfg.nats_url = nats).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let mut lags = Vec::with_capacity(n as usize);
    for i in 0..n {
        let c = app.create_content(&ada, &format!("Doomed {i}")).await;
        app.like(&bob, &c).await;
        until_ranked(&app, &c, true).await;
        app.ok(
            &ada,
            "mutation($id: ID!) { deleteContent(id: $id) }",
            json!({ "id": c }),
        )
        .await;
        lags.push(until_ranked(&app, &c, false).await);
    }
    app.stop().await;
    lags.sort();
    lags
}

fn line(bus: &str, lags: &[Duration]) -> String {
    format!(
        "{bus:<12} {:>6} {:>9.2} {:>9.2} {:>9.2}",
        lags.len(),
        ms(percentile(lags, 0.5)),
        ms(percentile(lags, 0.99)),
        ms(lags.last().copied().unwrap_or_default()),
    )
}

/// Imports `n` contents as one user, then waits until interactions knows them all.
/// Returns the import's duration and the time from its commit until then.
async fn import_known(n: u64) -> (Duration, Duration) {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("import.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(w, "title,tags,description,story").expect("write");
    for i in 0..n {
        writeln!(
            w,
            "Imported {i},bulk,,The story of imported content number {i}."
        )
        .expect("write");
    }
    w.flush().expect("flush");
    drop(w);
    let service = folio_content::init(&app.cfg)
        .await
        .expect("content database");
    let reader = std::io::BufReader::new(std::fs::File::open(&path).expect("open"));
    let opts = ImportOptions {
        viewer_id: ada.id.clone(),
        is_admin: true,
        max_rows: n,
    };
    let start = Instant::now();
    let report = import_csv(&service.store, reader, opts)
        .await
        .expect("the import runs");
    let imported = start.elapsed();
    let committed = Instant::now();
    eprintln!(
        "imported {n} rows in {:.1} s; waiting for interactions",
        imported.as_secs_f64()
    );
    assert_eq!(
        report.created,
        n,
        "{:?}",
        &report.errors[..report.errors.len().min(3)]
    );
    // Interactions applies content's events in order, a batch per transaction, so once
    // it knows the last imported content it knows them all (checked below). Polling that
    // one row is an index lookup; counting the table every 50 ms would itself keep the
    // database busy (a full scan of up to 1,000,000 rows each time).
    let last_title = format!("Imported {}", n - 1);
    let content = service.store.connection();
    let backend = content.get_database_backend();
    let last = content
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            if backend == DatabaseBackend::Postgres {
                "SELECT id FROM contents WHERE title = $1"
            } else {
                "SELECT id FROM contents WHERE title = ?"
            },
            [last_title.clone().into()],
        ))
        .await
        .expect("find the last imported content")
        .expect("the last imported content");
    let last: String = last.try_get("", "id").expect("its id");
    // One connection for every probe (a new one each time would cost PostgreSQL a backend
    // process per probe, competing with what is measured).
    let interactions = app.database("interactions").await;
    while !has_row_on(&interactions, "content_stats", "content_id", &last).await {
        assert!(
            committed.elapsed() < Duration::from_secs(600),
            "interactions does not know {last_title} after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let known = committed.elapsed();
    assert_eq!(
        count_rows_on(&interactions, "content_stats").await as u64,
        n,
        "interactions knows the last imported content, so it knows them all"
    );
    interactions.close().await.ok();
    service.store.connection().clone().close().await.ok();
    app.stop().await;
    (imported, known)
}

#[tokio::main]
async fn main() {
    let n = env_or("BENCH_DELETIONS", 300);
    let nats = std::env::var("FOLIO_BENCH_NATS_URL")
        .or_else(|_| std::env::var("FOLIO_TEST_NATS_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    println!(
        "cascade lag: deleteContent's answer → contentRanking no longer lists it (through the router)"
    );
    println!(
        "{:<12} {:>6} {:>9} {:>9} {:>9}",
        "bus", "n", "p50 ms", "p99 ms", "max ms"
    );
    println!("{}", line("in process", &lags(None, n).await));
    match nats {
        Some(url) => println!("{}", line("NATS", &lags(Some(url), n).await)),
        None => println!("NATS: skipped (set FOLIO_BENCH_NATS_URL=nats://127.0.0.1:4222)"),
    }
    let n = env_or("BENCH_IMPORT_EVENTS", 100_000);
    let (imported, known) = import_known(n).await;
    println!(
        "bulk events: {n} contents imported in {:.1} s; interactions knew all of them {:.1} s after the commit",
        imported.as_secs_f64(),
        known.as_secs_f64()
    );
}
