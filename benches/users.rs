//! Benchmark: login throughput, and whether cheap queries keep their latency while
//! logins (argon2, tens of milliseconds of CPU each) run.
//!
//! Runs the whole platform in-process (SQLite in a temporary directory; PostgreSQL when `FOLIO_TEST_DATABASE_URL` is set) and prints p50/p99 of
//! `{ me { id } }` alone and with 50 clients logging in concurrently.
//! `cargo bench --bench users`; `FOLIO_BENCH_SECS` sets each phase's length (default 5).

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_testkit::TestApp;
use folio_testkit::load::percentile;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const LOGIN_CLIENTS: usize = 50;
const PASSWORD: &str = "benchmark password";

/// Sends `me` queries one after another until `stop`, returning each latency.
async fn me_latencies(app: &TestApp, token: &str, stop: &AtomicBool) -> Vec<Duration> {
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let body = app
            .gql(Some(token), "{ me { id firstName } }", json!({}))
            .await;
        out.push(t.elapsed());
        assert!(body["data"]["me"]["id"].is_string(), "me failed: {body}");
    }
    out.sort();
    out
}

fn report(label: &str, lat: &[Duration], secs: f64) {
    let line = format!(
        "{label:<32} n={:<6} rps={:<8.0} p50={:>8.2?} p99={:>8.2?}",
        lat.len(),
        lat.len() as f64 / secs,
        percentile(lat, 0.50),
        percentile(lat, 0.99),
    );
    // A bench binary's output is its result.
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
    }
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("FOLIO_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let phase = Duration::from_secs(secs);
    let app = Arc::new(TestApp::spawn().await);
    let me = app.register("reader@example.com", PASSWORD).await;
    for i in 0..LOGIN_CLIENTS {
        app.register(&format!("login{i}@example.com"), PASSWORD)
            .await;
    }

    // Phase 1: `me` alone.
    let stop = Arc::new(AtomicBool::new(false));
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(phase).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let alone = me_latencies(&app, &me.access_token, &stop).await;
    timer.await.expect("timer");
    report("me, alone", &alone, phase.as_secs_f64());

    // Phase 2: `me` while 50 clients log in as fast as they can.
    let stop = Arc::new(AtomicBool::new(false));
    let logins = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for i in 0..LOGIN_CLIENTS {
        let (app, stop, logins) = (app.clone(), stop.clone(), logins.clone());
        clients.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                app.login(&format!("login{i}@example.com"), PASSWORD).await;
                lat.push(t.elapsed());
                logins.fetch_add(1, Ordering::Relaxed);
            }
            lat
        }));
    }
    let started = Instant::now();
    let timer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(phase).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let loaded = me_latencies(&app, &me.access_token, &stop).await;
    timer.await.expect("timer");
    let mut login_lat = Vec::new();
    for c in clients {
        login_lat.extend(c.await.expect("login client"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    login_lat.sort();
    report(
        "me, with 50 concurrent logins",
        &loaded,
        phase.as_secs_f64(),
    );
    report("login (50 clients)", &login_lat, elapsed);
    #[allow(clippy::print_stdout)]
    {
        println!(
            "login throughput: {:.1} logins/s on {} cores",
            logins.load(Ordering::Relaxed) as f64 / elapsed,
            std::thread::available_parallelism().map_or(1, usize::from)
        );
    }
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}
