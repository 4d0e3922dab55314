//! Benchmark: `topContents` through the router as interactions grow.
//!
//! Loads 100,000 contents (`BENCH_CONTENTS`) by 50 registered authors, then 10,000,
//! 100,000 and 1,000,000 interactions (`BENCH_INTERACTIONS=10000,100000,1000000`), and at
//! each size prints req/s, p50 and p99 of
//! `{ topContents(first: 10) { title author { firstName } likeCount readCount } }`, sent
//! anonymously through the router: content asks interactions' `contentRanking`, loads the
//! ten contents, then the router fetches the authors from users and the counts from
//! interactions (four subgraph fetches per request). It runs with one client (latency
//! alone) and with `FOLIO_BENCH_CONCURRENCY` clients (default 8), for `FOLIO_BENCH_SECS`
//! seconds each (default 5) after a 1 s warm-up. The router's sharing of identical
//! in-flight fetches is off, so every request pays every fetch.
//!
//! Seeding goes around the API, for speed: contents through the CSV import engine (the
//! one behind `folio import-csv`), interactions as multi-row INSERTs into the
//! interactions database, with the counters then computed by SQL from those rows, which
//! is what the subgraph's own transactions maintain one interaction at a time. Users
//! who interact are synthetic ids (the interactions subgraph stores ids only); content
//! popularity is skewed, so the top of the ranking is contested. Each size's answer is
//! checked once against the ranking computed here (total, then newer content, then id),
//! and every measured answer must equal it.
//!
//! The platform runs in-process on SQLite in a temporary directory, or on PostgreSQL
//! when `FOLIO_TEST_DATABASE_URL` is set. `cargo bench --bench interactions`.

// What a benchmark prints is its report.
#![allow(clippy::print_stdout)]

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_interactions::store::entity::{content_stats, interactions};
use folio_testkit::TestApp;
use folio_testkit::load::{Rng, closed_loop, env_or, graphql, ms};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryResult, Set, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AUTHORS: usize = 50;
const PASSWORD: &str = "benchmark password";
const RATERS: u64 = 50_000;
const QUERY: &str = "{ topContents(first: 10) { title author { firstName } likeCount readCount } }";
const CHECK: &str = "{ topContents(first: 10) { id likeCount readCount } }";

fn sizes() -> Vec<u64> {
    std::env::var("BENCH_INTERACTIONS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

async fn connect(app: &TestApp, url: String) -> DatabaseConnection {
    folio_common::db::connect(&url, app.cfg.database_schema.as_deref())
        .await
        .expect("connect to a service database")
}

/// Imports `n` contents spread over `authors` through the CSV engine.
async fn load_contents(db: &DatabaseConnection, authors: &[String], n: usize) {
    let mut csv = String::from("title,story,author_id,tags\n");
    for i in 0..n {
        let author = &authors[i % authors.len()];
        csv.push_str(&format!(
            "Story number {i},\"Once upon a time, story {i} was told.\",{author},bench\n"
        ));
    }
    let store = folio_content::store::Store::new(db.clone());
    let report = folio_content::import::import_csv(
        &store,
        std::io::Cursor::new(csv.into_bytes()),
        folio_content::import::ImportOptions {
            viewer_id: authors[0].clone(),
            is_admin: true,
            max_rows: n as u64,
        },
    )
    .await
    .expect("import");
    assert_eq!(report.created, n as u64, "{:?}", report.errors.first());
}

/// A content as the ranking sees it.
#[derive(Clone)]
struct Known {
    id: String,
    author_id: String,
    published_at: DateTimeUtc,
}

async fn read_contents(db: &DatabaseConnection) -> Vec<Known> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, author_id, published_at FROM contents ORDER BY id",
        ))
        .await
        .expect("read contents");
    rows.iter()
        .map(|r: &QueryResult| Known {
            id: r.try_get("", "id").expect("id"),
            author_id: r.try_get("", "author_id").expect("author_id"),
            published_at: r.try_get("", "published_at").expect("published_at"),
        })
        .collect()
}

/// Inserts rows in chunks inside one transaction.
async fn insert_chunks<A, I>(db: &DatabaseConnection, rows: I, chunk: usize)
where
    A: sea_orm::ActiveModelTrait + Send,
    I: IntoIterator<Item = A>,
{
    let tx = db.begin().await.expect("begin");
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(chunk).collect();
        A::Entity::insert_many(batch)
            .exec_without_returning(&tx)
            .await
            .expect("insert a chunk");
    }
    tx.commit().await.expect("commit");
}

/// Recomputes every counter from the interactions rows.
async fn recount(db: &DatabaseConnection) {
    let sql = "UPDATE content_stats SET
        reads = (SELECT COUNT(*) FROM interactions i WHERE i.content_id = content_stats.content_id AND i.kind = 'READ'),
        likes = (SELECT COUNT(*) FROM interactions i WHERE i.content_id = content_stats.content_id AND i.kind = 'LIKE'),
        total = (SELECT COUNT(*) FROM interactions i WHERE i.content_id = content_stats.content_id)";
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("recount");
}

/// The expected top ten ids: total, then newer content, then the larger id.
fn expected_top(
    contents: &[Known],
    counts: &HashMap<usize, (u64, u64)>,
) -> Vec<(String, u64, u64)> {
    let mut ranked: Vec<(usize, u64, u64)> = counts.iter().map(|(&i, &(r, l))| (i, r, l)).collect();
    ranked.sort_by(|a, b| {
        (b.1 + b.2)
            .cmp(&(a.1 + a.2))
            .then(contents[b.0].published_at.cmp(&contents[a.0].published_at))
            .then(contents[b.0].id.cmp(&contents[a.0].id))
    });
    ranked
        .into_iter()
        .take(10)
        .map(|(i, r, l)| (contents[i].id.clone(), l, r))
        .collect()
}

async fn post(client: &reqwest::Client, url: &str, query: &str) -> Result<Value, String> {
    graphql(client, url, None, query, json!({})).await
}

#[tokio::main]
async fn main() {
    let workers = env_or("FOLIO_BENCH_CONCURRENCY", 8) as usize;
    let secs = Duration::from_secs(env_or("FOLIO_BENCH_SECS", 5));
    let n_contents = env_or("BENCH_CONTENTS", 100_000) as usize;
    let app = TestApp::spawn_with(|cfg| cfg.dedupe_subgraph_requests = false).await;
    let database = if std::env::var("FOLIO_TEST_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "topContents through the router ({database}, {n_contents} contents, 2 cores shared with the load generator)"
    );

    let started = Instant::now();
    let mut authors = Vec::new();
    for i in 0..AUTHORS {
        authors.push(
            app.register(&format!("author{i}@example.com"), PASSWORD)
                .await
                .id,
        );
    }
    let content_db = connect(&app, app.cfg.service_database("content")).await;
    load_contents(&content_db, &authors, n_contents).await;
    let contents = read_contents(&content_db).await;
    let interactions_db = connect(&app, app.cfg.service_database("interactions")).await;
    insert_chunks(
        &interactions_db,
        contents.iter().map(|c| content_stats::ActiveModel {
            content_id: Set(c.id.clone()),
            author_id: Set(c.author_id.clone()),
            published_at: Set(c.published_at),
            reads: Set(0),
            likes: Set(0),
            total: Set(0),
            comments: Set(0),
        }),
        500,
    )
    .await;
    println!(
        "seeded {} contents by {AUTHORS} authors in {:.1} s",
        contents.len(),
        started.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::new();
    let url: Arc<str> = app.url.clone().into();
    let mut rng = Rng(42);
    let mut seen: HashSet<(u32, u32, bool)> = HashSet::new();
    let mut counts: HashMap<usize, (u64, u64)> = HashMap::new();
    println!(
        "{:>13} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "interactions", "clients", "requests", "req/s", "p50 ms", "p99 ms"
    );
    for target in sizes() {
        let t = Instant::now();
        let mut new_rows = Vec::new();
        while (seen.len() as u64) < target {
            // Skewed popularity: low indices (older contents) are liked far more often.
            let content = ((contents.len() as f64) * rng.unit().powi(3)) as usize;
            let user = (rng.next_u64() % RATERS) as u32;
            let like = rng.next_u64().is_multiple_of(2);
            if seen.insert((content as u32, user, like)) {
                let c = counts.entry(content).or_default();
                if like {
                    c.1 += 1;
                } else {
                    c.0 += 1;
                }
                new_rows.push(interactions::ActiveModel {
                    id: Set(folio_common::new_id()),
                    content_id: Set(contents[content].id.clone()),
                    user_id: Set(format!("bench-user-{user}")),
                    kind: Set(if like { "LIKE" } else { "READ" }.to_owned()),
                    created_at: Set(chrono_now()),
                });
            }
        }
        insert_chunks(&interactions_db, new_rows, 1_000).await;
        recount(&interactions_db).await;
        let seeded = t.elapsed();

        // The answer must be the ranking computed here.
        let check = post(&client, &url, CHECK)
            .await
            .expect("topContents answers");
        let got: Vec<(String, u64, u64)> = check["topContents"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().expect("id").to_owned(),
                    c["likeCount"].as_u64().expect("likes"),
                    c["readCount"].as_u64().expect("reads"),
                )
            })
            .collect();
        assert_eq!(
            got,
            expected_top(&contents, &counts),
            "topContents is not the ranking"
        );
        let reference = Arc::new(post(&client, &url, QUERY).await.expect("reference"));

        for clients in [1, workers] {
            let (client, url, reference) = (client.clone(), url.clone(), reference.clone());
            let stats = closed_loop(clients, Duration::from_secs(1), secs, move |_| {
                let (client, url, reference) = (client.clone(), url.clone(), reference.clone());
                async move {
                    let data = post(&client, &url, QUERY).await?;
                    if data != *reference {
                        return Err(format!("a different answer: {data}"));
                    }
                    Ok(())
                }
            })
            .await;
            println!(
                "{:>13} {:>8} {:>9} {:>9.0} {:>9.2} {:>9.2}{}",
                target,
                clients,
                stats.ok,
                stats.rps,
                ms(stats.p50),
                ms(stats.p99),
                if stats.failures > 0 {
                    format!("   {} FAILED: {:?}", stats.failures, stats.shown)
                } else {
                    String::new()
                }
            );
        }
        println!("{:>13} (seeded in {:.1} s)", "", seeded.as_secs_f64());
    }
    app.stop().await;
}

fn chrono_now() -> DateTimeUtc {
    DateTimeUtc::from(std::time::SystemTime::now())
}
