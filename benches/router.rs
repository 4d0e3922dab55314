//! Benchmark: the router's own overhead, as requests/s and p50/p99 of the same query sent
//! through the router and straight to the subgraph.
//!
//! The first part drives two users queries, each a single fetch, so the difference between
//! the two paths is the router's own cost:
//! - `users`: signed in, `{ users(first: 20) { totalCount nodes { id firstName lastName
//!   followerCount viewerIsFollowing } } }` over 201 registered users, each following three;
//! - `me`: the cheap `{ me { id firstName } }`.
//!
//! Each query runs twice: through the router (`Authorization: Bearer <token>`), and posted
//! to the users subgraph directly with the signed identity headers the router would add.
//! Each worker signs in as a different user: the router shares identical subgraph fetches
//! that are in flight at once for the same viewer, so with one viewer for all workers
//! (`FOLIO_BENCH_ONE_VIEWER=1`) the router row shows that sharing, not its overhead.
//! The platform runs in-process (SQLite in a temporary directory; PostgreSQL when
//! `FOLIO_TEST_DATABASE_URL` is set), and so does the load generator: a closed loop of
//! `FOLIO_BENCH_CONCURRENCY` workers (default 32) on one keep-alive client, for
//! `FOLIO_BENCH_SECS` seconds (default 5) after a 1 s warm-up. Every response must be
//! HTTP 200 with the same `data` as a reference answer and no `errors`; failures are
//! counted and the first few printed.
//!
//! A second part drives a cross-subgraph query over the router's test subgraphs (the
//! `social` fixture of `folio_testkit::subgraphs::social`, in memory; `benches/interactions.rs`
//! measures a cross-subgraph query over Folio's own subgraphs):
//! `{ topComments(first: 3) { text author { name byline posts { title likes } } } }`,
//! anonymous, is four fetches: interactions, then users and content, then interactions again
//! (`Post.likes`). It runs
//! through the router with `dedupe_subgraph_requests` off (every request pays every fetch)
//! and on (identical anonymous requests in flight at once share fetches), and, for
//! comparison, the interactions subgraph's own part (`{ topComments(first: 3) { text author
//! { id name } } }`) is posted to that subgraph directly. Same workers, duration and checks.
//!
//! A third part, "Folio's subgraphs, router in its own process", measures the router the
//! way a deployment runs it, over Folio's own subgraphs and without any peer router:
//! - A fresh platform starts in-process (`TestApp`: SQLite in a temporary directory, or
//!   PostgreSQL as above) and is seeded through its in-process router, as
//!   `tools/side-by-side/run.sh` does: 20 users register, create 200 contents (title,
//!   story, tags), and send 1,000 `like` + `recordRead` pairs on contents drawn from a
//!   Pareto distribution (the same every run).
//! - The router under test is a separate process: this package's binary, `folio serve
//!   --only router`, configured by environment variables only (`FOLIO_<SUBGRAPH>_URL` to
//!   the in-process subgraphs, `FOLIO_JWKS_URL` to the users subgraph's, the platform's
//!   `FOLIO_IDENTITY_SECRET`, a free port, `FOLIO_LOG=warn`), once with
//!   `FOLIO_DEDUPE_SUBGRAPH_REQUESTS=true` and once `false`; it is killed when its part
//!   ends (or on a panic). A third process (`on+poll`: sharing on,
//!   `FOLIO_ROUTER_BUSY_POLL_US=500`) runs `content20` only, to show what busy polling
//!   buys in latency and costs in CPU.
//! - Three anonymous queries: `top` (`{ topContents(first: 10) { id title author {
//!   firstName lastName } likeCount readCount } }`), `new20` (`{ newContents(first: 20) {
//!   nodes { id title tags author { id firstName lastName } likeCount commentCount } } }`)
//!   and `content20` (`{ newContents(first: 20) { nodes { id title tags publishedAt } }
//!   }`, a single fetch to the content subgraph), each at one connection and at
//!   `FOLIO_BENCH_CONCURRENCY`, with the same closed loop and checks (the reference is the
//!   in-process router's answer, which both router processes and the content subgraph must
//!   match). `content20` is also posted straight to the content subgraph (`direct`), and
//!   "router overhead at p50, one connection" is the router's content20 p50 minus that,
//!   for each router process.
//! - "router CPU µs/req" is the router process's own CPU time (user + system, all threads,
//!   from fields 14 and 15 of `/proc/<pid>/stat`, in clock ticks of `getconf CLK_TCK`)
//!   grown between the end of the warm-up and the end of the run, divided by the requests
//!   counted in that window; "RSS MB" is its `VmRSS` at the end of the run (`n/a` without
//!   `/proc`). Neither counts the subgraphs or the load generator, which share the bench
//!   process (and its cores) with each other and compete with the router for them: the
//!   latencies and req/s are those of the whole machine, the CPU per request the router's.
//!   With two cores or more and `taskset`, the part places them as the side-by-side
//!   script does: the bench process (every thread) on CPU 1, each router process on CPU 0.
//!
//! A fourth part, "gateway features", measures what each of the router's gateway features
//! costs per request when on: `content20` through a router process (as in the third part,
//! over the same seeded platform) started once per setting — the baseline (`FOLIO_APQ=false`,
//! nothing else on), APQ (hash-only requests after one registration), trusted documents
//! (`documentId` under `FOLIO_PERSISTED_DOCUMENTS_ONLY`), `FOLIO_MAX_COST`,
//! `FOLIO_RATE_LIMIT_RPS` (high enough never to refuse: every request takes a token), a
//! batch of one under `FOLIO_MAX_BATCH`, and all of them at once — at one connection and
//! at `FOLIO_BENCH_CONCURRENCY`, over `FOLIO_BENCH_ROUNDS` rounds (default 2) with the
//! settings interleaved. It prints p50/p99, the router's CPU per request, and both against
//! the baseline. The cost estimate runs for every request (it feeds the
//! `folio_router_operation_cost` metric), so it is in every row; its own time is measured
//! in-process (`content20` planned once, estimated 200,000 times).
//!
//! `cargo bench --bench router`.

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_common::graphql::now_unix;
use folio_common::{Config, IdentityKey, Viewer};
use folio_testkit::TestApp;
use folio_testkit::load::{RouterProcess, clock_ticks, cpu_time, env_or, ms, percentile, rss_mb};
use folio_testkit::subgraphs::social::{Social, social_supergraph_sdl, spawn_social};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const USERS: usize = 200;
const PASSWORD: &str = "benchmark password";
const WARM_UP: Duration = Duration::from_secs(1);
/// Proofs expire after 60 s; re-sign well before.
const RESIGN_EVERY: Duration = Duration::from_secs(20);
const SHOWN_FAILURES: usize = 5;

const USERS_QUERY: &str = "{ users(first: 20) { totalCount nodes { id firstName lastName followerCount viewerIsFollowing } } }";
const ME_QUERY: &str = "{ me { id firstName } }";
/// Through the router: interactions' `topComments`, then `User.byline` and `User.posts` from
/// users and content in parallel entity fetches, then `Post.likes` from interactions.
const CROSS_QUERY: &str =
    "{ topComments(first: 3) { text author { name byline posts { title likes } } } }";
/// The interactions subgraph's own part of `CROSS_QUERY`, posted to it directly.
const INTERACTIONS_QUERY: &str = "{ topComments(first: 3) { text author { id name } } }";

/// Where requests go and how they prove who is asking.
#[derive(Clone)]
enum Target {
    Router {
        url: String,
        token: String,
    },
    Direct {
        url: String,
        key: IdentityKey,
        viewer: Viewer,
    },
    /// No credentials: the router anonymously, or a test subgraph (which needs none).
    Anonymous {
        url: String,
    },
}

impl Target {
    fn url(&self) -> &str {
        match self {
            Target::Router { url, .. } | Target::Direct { url, .. } | Target::Anonymous { url } => {
                url
            }
        }
    }

    /// The headers for a request (identity proofs signed now).
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, "application/json".parse().expect("header"));
        match self {
            Target::Router { token, .. } => {
                let v = format!("Bearer {token}").parse().expect("header");
                h.insert(reqwest::header::AUTHORIZATION, v);
            }
            Target::Direct { key, viewer, .. } => h.extend(key.sign(viewer, now_unix())),
            Target::Anonymous { .. } => {}
        }
        h
    }
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    failures: u64,
    shown: Vec<String>,
    last_done: Option<Instant>,
    /// Every request sent, warm-up included.
    sent: u64,
}

/// One request; `Err` says what was wrong with the answer.
async fn send(
    client: &reqwest::Client,
    target: &Target,
    headers: &HeaderMap,
    body: &str,
    expected: &Value,
) -> Result<(), String> {
    let res = client
        .post(target.url())
        .headers(headers.clone())
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = res.status();
    let mut v: Value = res.json().await.map_err(|e| format!("{status}: {e}"))?;
    // A batch of one answers with an array of one.
    if let Value::Array(answers) = &mut v
        && answers.len() == 1
    {
        v = answers.remove(0);
    }
    if status != 200 || v.get("errors").is_some() || &v["data"] != expected {
        return Err(format!("{status}: {v}"));
    }
    Ok(())
}

/// One closed-loop worker: sends until `end`, recording what started after `measure_from`.
async fn worker(
    client: reqwest::Client,
    target: Target,
    body: Arc<str>,
    expected: Arc<Value>,
    measure_from: Instant,
    end: Instant,
) -> Outcome {
    let mut out = Outcome::default();
    let mut headers = target.headers();
    let mut signed = Instant::now();
    loop {
        let start = Instant::now();
        if start >= end {
            break;
        }
        if start - signed > RESIGN_EVERY {
            headers = target.headers();
            signed = start;
        }
        let result = send(&client, &target, &headers, &body, &expected).await;
        let done = Instant::now();
        out.sent += 1;
        if start < measure_from {
            continue;
        }
        match result {
            Ok(()) => out.latencies.push(done - start),
            Err(e) => {
                out.failures += 1;
                if out.shown.len() < SHOWN_FAILURES {
                    out.shown.push(e);
                }
            }
        }
        out.last_done = Some(done);
    }
    out
}

struct Stats {
    ok: usize,
    failures: u64,
    shown: Vec<String>,
    rps: f64,
    p50: Duration,
    p99: Duration,
    sent: u64,
}

/// Runs one closed-loop worker per `(target, expected data)` for the warm-up plus `secs`.
async fn load(
    client: &reqwest::Client,
    query: &str,
    workers: Vec<(Target, Arc<Value>)>,
    secs: Duration,
) -> Stats {
    load_probed(client, query, workers, secs, || None).await.0
}

/// `load`, and what `probe` (a process's CPU time so far) grew by over the measured
/// window: sampled when the warm-up ends and again once the last worker has finished.
async fn load_probed(
    client: &reqwest::Client,
    query: &str,
    workers: Vec<(Target, Arc<Value>)>,
    secs: Duration,
    probe: impl Fn() -> Option<Duration>,
) -> (Stats, Option<Duration>) {
    let body = json!({ "query": query }).to_string();
    load_body_probed(client, body.into(), workers, secs, probe).await
}

/// `load_probed` with the request body as given (a persisted query's, a batch).
async fn load_body_probed(
    client: &reqwest::Client,
    body: Arc<str>,
    workers: Vec<(Target, Arc<Value>)>,
    secs: Duration,
    probe: impl Fn() -> Option<Duration>,
) -> (Stats, Option<Duration>) {
    let measure_from = Instant::now() + WARM_UP;
    let end = measure_from + secs;
    let mut set = JoinSet::new();
    for (target, expected) in workers {
        set.spawn(worker(
            client.clone(),
            target,
            body.clone(),
            expected,
            measure_from,
            end,
        ));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_from = probe();
    let mut lat = Vec::new();
    let (mut failures, mut shown, mut last) = (0, Vec::new(), measure_from);
    let mut sent = 0;
    while let Some(o) = set.join_next().await {
        let o = o.expect("worker");
        sent += o.sent;
        lat.extend(o.latencies);
        failures += o.failures;
        shown.extend(o.shown);
        last = last.max(o.last_done.unwrap_or(measure_from));
    }
    let cpu = cpu_from
        .zip(probe())
        .map(|(from, to)| to.saturating_sub(from));
    lat.sort();
    shown.truncate(SHOWN_FAILURES);
    let window = (last - measure_from).as_secs_f64().max(f64::EPSILON);
    let stats = Stats {
        ok: lat.len(),
        failures,
        shown,
        rps: lat.len() as f64 / window,
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        sent,
    };
    (stats, cpu)
}

/// One row of the table; `base` is the direct path the overhead is measured against.
fn table_line(
    name: &str,
    path: &str,
    s: &Stats,
    base: Option<&Stats>,
    fetches: Option<f64>,
) -> String {
    let mut extra = match base {
        Some(d) => format!(
            "   p50 {:+.3} ms, p99 {:+.3} ms, req/s x{:.2}",
            ms(s.p50) - ms(d.p50),
            ms(s.p99) - ms(d.p99),
            s.rps / d.rps.max(f64::EPSILON)
        ),
        None => String::new(),
    };
    if let Some(f) = fetches {
        extra.push_str(&format!("   {f:.2} subgraph fetches/req"));
    }
    format!(
        "{name:<18} {path:<7} {:>8} {:>9.0} {:>9.3} {:>9.3} {:>6}{extra}",
        s.ok,
        s.rps,
        ms(s.p50),
        ms(s.p99),
        s.failures
    )
}

/// Registers the viewer and `USERS` more, each following three others (the viewer also
/// every third user); returns every session, the viewer's first.
async fn seed(app: &Arc<TestApp>) -> Vec<folio_testkit::Session> {
    let mut sessions = vec![app.register("viewer@example.com", PASSWORD).await];
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(16) {
        let mut set = JoinSet::new();
        for &i in chunk {
            let app = app.clone();
            set.spawn(async move {
                let email = format!("user{i:03}@example.com");
                (i, app.register(&email, PASSWORD).await)
            });
        }
        let mut done = Vec::new();
        while let Some(r) = set.join_next().await {
            done.push(r.expect("register"));
        }
        done.sort_by_key(|(i, _)| *i);
        sessions.extend(done.into_iter().map(|(_, s)| s));
    }
    let n = sessions.len();
    let mut follows: Vec<Vec<usize>> = (0..n)
        .map(|i| [1, 7, 30].iter().map(|d| (i + d) % n).collect())
        .collect();
    follows[0].extend((1..n).step_by(3).filter(|j| ![1, 7, 30].contains(j)));
    let follow = "mutation($u: ID!) { follow(userId: $u) { id } }";
    let mut set = JoinSet::new();
    for (who, targets) in follows.into_iter().enumerate() {
        let token = sessions[who].access_token.clone();
        let ids: Vec<String> = targets.iter().map(|&t| sessions[t].id.clone()).collect();
        let app = app.clone();
        set.spawn(async move {
            for id in ids {
                let body = app.gql(Some(&token), follow, json!({ "u": id })).await;
                assert!(body["data"]["follow"]["id"].is_string(), "follow: {body}");
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("follow");
    }
    sessions
}

/// Counts the requests the test subgraphs receive (all of them, warm-up included) and
/// empties their log as it goes, so that it does not grow for the whole benchmark.
fn count_subgraph_requests(social: &Social) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let (log, counted) = (social.log.clone(), count.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let n = std::mem::take(&mut *log.lock().expect("log")).len();
            counted.fetch_add(n as u64, Ordering::Relaxed);
        }
    });
    count
}

/// Starts a router over the social test subgraphs; returns its `/graphql` URL.
async fn spawn_social_router(social: &Social, dedupe: bool, dir: &std::path::Path) -> String {
    let mut sdl = social_supergraph_sdl().to_owned();
    for (name, url) in &social.urls {
        let tag = format!("@join__graph(name: \"{name}\", url: \"");
        let start = sdl.find(&tag).expect("subgraph in the supergraph") + tag.len();
        let end = start + sdl[start..].find('"').expect("url ends");
        sdl.replace_range(start..end, url);
    }
    let supergraph = dir.join("social.supergraph.graphql");
    std::fs::write(&supergraph, sdl).expect("write supergraph");
    // The router verifies tokens with these keys; none is sent, but it needs a JWKS.
    let key = folio_users::auth::tokens::load_or_generate_key(&dir.join("signing.pem"))
        .expect("signing key");
    let issuer = folio_users::auth::tokens::TokenIssuer::new(&key, "folio", "folio-api", 900)
        .expect("issuer");
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, issuer.jwks().to_string()).expect("write jwks");
    let mut cfg = Config {
        data_dir: dir.to_path_buf(),
        supergraph_file: Some(supergraph),
        jwks_file: Some(jwks),
        identity_secret: Some("benchmark-identity-secret-0123456789abcd".into()),
        dedupe_subgraph_requests: dedupe,
        ..Config::default()
    };
    // The router takes the subgraphs' URLs from here, not from the supergraph.
    for (name, url) in &social.urls {
        cfg.service_mut(name).url = Some(url.clone());
    }
    let state = folio_router::init(&cfg, Duration::from_secs(5))
        .await
        .expect("router starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = folio_router::app(state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{addr}/graphql")
}

/// One anonymous request: the HTTP status and the JSON answer.
async fn post_anonymous(client: &reqwest::Client, url: &str, query: &str) -> (u16, Value) {
    let res = client
        .post(url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("reference request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("reference answer"))
}

/// The `data` of one anonymous answer, checked to be a non-empty object without errors.
async fn reference(client: &reqwest::Client, url: &str, query: &str) -> Value {
    let (status, v) = post_anonymous(client, url, query).await;
    let data = &v["data"];
    assert!(
        status == 200
            && v.get("errors").is_none()
            && data.as_object().is_some_and(|o| !o.is_empty())
            && data.to_string().contains("author"),
        "{url}: {status} {v}"
    );
    data.clone()
}

/// A table row: query, path, its numbers, and subgraph fetches per request where counted.
type Row = (&'static str, &'static str, Stats, Option<f64>);

/// Runs `load` and counts the subgraph requests it caused (per request sent).
async fn load_counting(
    client: &reqwest::Client,
    query: &str,
    workers: Vec<(Target, Arc<Value>)>,
    secs: Duration,
    fetched: &AtomicU64,
) -> (Stats, Option<f64>) {
    // Let the counter catch up with what came before (it drains every 50 ms).
    let settle = || tokio::time::sleep(Duration::from_millis(120));
    settle().await;
    let before = fetched.load(Ordering::Relaxed);
    let stats = load(client, query, workers, secs).await;
    settle().await;
    let n = fetched.load(Ordering::Relaxed) - before;
    let per = n as f64 / (stats.sent.max(1) as f64);
    (stats, Some(per))
}

/// One row per path of the cross-subgraph query, with subgraph fetches per request.
async fn social_rows(client: &reqwest::Client, workers: usize, secs: Duration) -> Vec<Row> {
    let social = spawn_social().await;
    let fetched = count_subgraph_requests(&social);
    let dir = tempfile::tempdir().expect("temp dir");
    let direct_url = social.urls["interactions"].clone();
    let expected = Arc::new(reference(client, &direct_url, INTERACTIONS_QUERY).await);
    let target = Target::Anonymous { url: direct_url };
    let (direct, per) = load_counting(
        client,
        INTERACTIONS_QUERY,
        vec![(target, expected); workers],
        secs,
        &fetched,
    )
    .await;
    let mut rows = vec![("topComments(3)", "direct", direct, per)];
    let mut router_expected: Option<Arc<Value>> = None;
    for (path, dedupe) in [("router", false), ("dedupe", true)] {
        let sub = dir.path().join(path);
        std::fs::create_dir_all(&sub).expect("dir");
        let url = spawn_social_router(&social, dedupe, &sub).await;
        // The first router answer is the reference for both routers.
        let got = Arc::new(reference(client, &url, CROSS_QUERY).await);
        let expected = router_expected.get_or_insert(got.clone());
        assert_eq!(got, *expected, "the routers disagree");
        let target = Target::Anonymous { url };
        let (stats, per) = load_counting(
            client,
            CROSS_QUERY,
            vec![(target, expected.clone()); workers],
            secs,
            &fetched,
        )
        .await;
        rows.push(("topComments(3)", path, stats, per));
    }
    rows
}

// ---------------------------------------------------------------------------------------
// Third part: Folio's own subgraphs, the router in a process of its own.

/// Users, contents and like + recordRead pairs the third part seeds.
const OWN_USERS: usize = 20;
/// The busy-polling window of the third part's `on+poll` router: longer than the content
/// subgraph's answer takes, so the router does not sleep between request and answer.
const BUSY_POLL_US: u64 = 500;
const OWN_CONTENTS: usize = 200;
const OWN_ACTIVITY: usize = 1000;
/// Seeding requests in flight at once.
const SEED_TASKS: usize = 16;

const CREATE_CONTENT: &str =
    "mutation($i: CreateContentInput!) { createContent(input: $i) { id } }";
const LIKE_AND_READ: &str =
    "mutation($c: ID!) { like(contentId: $c) { id } recordRead(contentId: $c) { id } }";

/// content's `topContents` (on interactions' `contentRanking`), then users and
/// interactions entity fetches.
const TOP_QUERY: &str =
    "{ topContents(first: 10) { id title author { firstName lastName } likeCount readCount } }";
/// content's `newContents`, then users and interactions entity fetches.
const NEW20_QUERY: &str = "{ newContents(first: 20) { nodes { id title tags author { id firstName lastName } likeCount commentCount } } }";
/// A single fetch to the content subgraph: posted to it directly, the baseline.
const CONTENT20_QUERY: &str = "{ newContents(first: 20) { nodes { id title tags publishedAt } } }";
/// The third part's queries, by name, with the list in `data` and its expected length.
const OWN_QUERIES: [(&str, &str, &str, usize); 3] = [
    ("top", TOP_QUERY, "/topContents", 10),
    ("new20", NEW20_QUERY, "/newContents/nodes", 20),
    ("content20", CONTENT20_QUERY, "/newContents/nodes", 20),
];

/// Runs `op` through the in-process router (as `token`'s holder), asserting it had no
/// error; its `data`.
async fn seed_op(app: &TestApp, token: &str, op: &str, variables: Value) -> Value {
    let body = app.gql(Some(token), op, variables).await;
    assert!(
        body.get("errors").is_none() && body["data"].is_object(),
        "{op}: {body}"
    );
    body["data"].clone()
}

/// `f(i)` for every `i` in `0..n`, `SEED_TASKS` at a time; the results in order of `i`.
async fn for_each_concurrently<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let mut set = JoinSet::new();
    for w in 0..SEED_TASKS.min(n) {
        let f = f.clone();
        set.spawn(async move {
            let mut done = Vec::new();
            for i in (w..n).step_by(SEED_TASKS) {
                done.push((i, f(i).await));
            }
            done
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        all.extend(done.expect("a seeding task"));
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// Through the platform's in-process router, as `tools/side-by-side/run.sh` does: registers
/// `OWN_USERS` users, has them create `OWN_CONTENTS` contents (title, story, tags), and
/// sends `OWN_ACTIVITY` like + recordRead pairs, each by the next user on a content drawn
/// from a Pareto distribution (a few contents get most of them; the same seed every run).
async fn seed_own(app: &Arc<TestApp>) {
    let a = app.clone();
    let tokens = for_each_concurrently(OWN_USERS, move |i| {
        let a = a.clone();
        async move {
            let email = format!("writer{i:02}@example.com");
            let (first, last) = (format!("First{i}"), format!("Last{i}"));
            let s = a
                .register_named(&email, PASSWORD, &first, &last, json!({}))
                .await;
            s.access_token
        }
    })
    .await;
    let tokens = Arc::new(tokens);
    let (a, t) = (app.clone(), tokens.clone());
    let contents = for_each_concurrently(OWN_CONTENTS, move |i| {
        let (a, t) = (a.clone(), t.clone());
        async move {
            let input = json!({
                "title": format!("Story {i}"),
                "story": "word ".repeat(80),
                "tags": [format!("t{}", i % 7), "bench"],
            });
            let data = seed_op(&a, &t[i % OWN_USERS], CREATE_CONTENT, json!({ "i": input })).await;
            data["createContent"]["id"]
                .as_str()
                .expect("a content id")
                .to_owned()
        }
    })
    .await;
    // Python's `paretovariate(1.2)`, less one, as run.sh draws them.
    let mut rng = folio_testkit::load::Rng(7);
    let picks: Vec<String> = (0..OWN_ACTIVITY)
        .map(|_| {
            let pareto = (1.0 - rng.unit()).powf(-1.0 / 1.2);
            contents[((pareto as usize).saturating_sub(1)).min(OWN_CONTENTS - 1)].clone()
        })
        .collect();
    let (a, picks) = (app.clone(), Arc::new(picks));
    for_each_concurrently(OWN_ACTIVITY, move |k| {
        let (a, t, picks) = (a.clone(), tokens.clone(), picks.clone());
        async move {
            let vars = json!({ "c": picks[k] });
            seed_op(&a, &t[k % OWN_USERS], LIKE_AND_READ, vars).await;
        }
    })
    .await;
}

/// The `data` of one anonymous answer, checked to be free of errors and to hold a list of
/// `len` items at `list` (a JSON pointer).
async fn own_answer(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    list: &str,
    len: usize,
) -> Value {
    let (status, v) = post_anonymous(client, url, query).await;
    let items = v["data"].pointer(list).and_then(Value::as_array);
    assert!(
        status == 200 && v.get("errors").is_none() && items.is_some_and(|l| l.len() == len),
        "{url}: {status} {v}"
    );
    v["data"].clone()
}

/// One row of the third part's table.
struct OwnRow {
    query: &'static str,
    /// `on`/`off` (the router's fetch sharing), or `direct`.
    sharing: &'static str,
    conns: usize,
    stats: Stats,
    /// The router process's CPU time per request of the window; `None`: not measured
    /// (`direct`) or no `/proc`.
    cpu_per_req: Option<Duration>,
    rss_mb: Option<f64>,
}

impl OwnRow {
    fn line(&self) -> String {
        let na = |direct: bool| if direct { "-" } else { "n/a" }.to_owned();
        let direct = self.sharing == "direct";
        let cpu = self
            .cpu_per_req
            .map_or_else(|| na(direct), |d| format!("{:.1}", d.as_secs_f64() * 1e6));
        let rss = self
            .rss_mb
            .map_or_else(|| na(direct), |m| format!("{m:.1}"));
        let s = &self.stats;
        format!(
            "{:<10} {:<7} {:>5} {:>8.0} {:>8.3} {:>8.3} {:>17} {:>7} {:>8}",
            self.query,
            self.sharing,
            self.conns,
            s.rps,
            ms(s.p50),
            ms(s.p99),
            cpu,
            rss,
            s.failures
        )
    }
}

/// The third part: a fresh platform in-process, seeded; content20 straight to the content
/// subgraph; then each query through a router process with fetch sharing on, then off, at
/// one connection and at `conns`. Returns the rows and a line on the seeding.
async fn own_rows(
    client: &reqwest::Client,
    conns: usize,
    secs: Duration,
) -> (Vec<OwnRow>, Vec<GatewayRow>, String, bool) {
    let app = Arc::new(TestApp::spawn().await);
    let pinned = pin_apart();
    let seeding = Instant::now();
    seed_own(&app).await;
    let seeded = format!(
        "seeded {OWN_USERS} users, {OWN_CONTENTS} contents, {OWN_ACTIVITY} like + recordRead \
         pairs in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    // The in-process router's answers are the reference every path must match.
    let mut expected = Vec::new();
    for (_, query, list, len) in OWN_QUERIES {
        expected.push(Arc::new(
            own_answer(client, &app.url, query, list, len).await,
        ));
    }
    let mut counts = vec![1, conns];
    counts.dedup();
    let mut rows = Vec::new();

    let content = app.subgraph_url("content");
    let (_, _, list, len) = OWN_QUERIES[2];
    let direct = own_answer(client, &content, CONTENT20_QUERY, list, len).await;
    assert_eq!(
        direct, *expected[2],
        "the content subgraph and the router disagree"
    );
    for &n in &counts {
        let target = Target::Anonymous {
            url: content.clone(),
        };
        let workers = vec![(target, expected[2].clone()); n];
        let stats = load(client, CONTENT20_QUERY, workers, secs).await;
        rows.push(OwnRow {
            query: "content20",
            sharing: "direct",
            conns: n,
            stats,
            cpu_per_req: None,
            rss_mb: None,
        });
    }

    let ticks = clock_ticks();
    let modes = [
        ("on", true, 0),
        ("off", false, 0),
        ("on+poll", true, BUSY_POLL_US),
    ];
    for (sharing, dedupe, busy_poll_us) in modes {
        let settings = [
            ("FOLIO_DEDUPE_SUBGRAPH_REQUESTS", dedupe.to_string()),
            ("FOLIO_ROUTER_BUSY_POLL_US", busy_poll_us.to_string()),
        ];
        let router =
            RouterProcess::start(env!("CARGO_BIN_EXE_folio"), &app, &settings, pinned, client)
                .await;
        let pid = router.pid();
        for ((name, query, list, len), expected) in OWN_QUERIES.into_iter().zip(&expected) {
            // Busy polling is measured where it matters, the single-fetch query.
            if busy_poll_us > 0 && name != "content20" {
                continue;
            }
            let got = own_answer(client, &router.url, query, list, len).await;
            assert_eq!(got, **expected, "{name}: the router processes disagree");
            for &n in &counts {
                let target = Target::Anonymous {
                    url: router.url.clone(),
                };
                let workers = vec![(target, expected.clone()); n];
                let probe = || cpu_time(pid, ticks);
                let (stats, cpu) = load_probed(client, query, workers, secs, probe).await;
                let done = stats.ok as u32 + stats.failures as u32;
                rows.push(OwnRow {
                    query: name,
                    sharing,
                    conns: n,
                    cpu_per_req: cpu.map(|c| c / done.max(1)),
                    rss_mb: rss_mb(pid),
                    stats,
                });
            }
        }
        drop(router);
    }
    let gateway = gateway_rows(client, &app, &counts, secs, pinned, &expected[2]).await;
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    (rows, gateway, seeded, pinned)
}

/// One feature of the fourth part: its name, the router's settings for it, and the
/// request body `content20` is sent as.
struct Feature {
    name: &'static str,
    settings: Vec<(&'static str, String)>,
    body: String,
}

/// The gateway features, each alone and then all at once, after the baseline (APQ off,
/// nothing else on). `manifest` is a trusted-documents file listing `content20`.
fn features(manifest: &std::path::Path) -> Vec<Feature> {
    let hash = folio_router::pipeline::documents::sha256_hex(CONTENT20_QUERY);
    let query = json!({ "query": CONTENT20_QUERY }).to_string();
    let apq = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
        .to_string();
    let by_id = json!({ "documentId": hash }).to_string();
    let off = || ("FOLIO_APQ", "false".to_owned());
    let file = manifest.display().to_string();
    vec![
        Feature {
            name: "baseline",
            settings: vec![off()],
            body: query.clone(),
        },
        Feature {
            name: "apq",
            settings: vec![("FOLIO_APQ", "true".to_owned())],
            body: apq,
        },
        Feature {
            name: "trusted docs",
            settings: vec![
                off(),
                ("FOLIO_PERSISTED_DOCUMENTS_FILE", file.clone()),
                ("FOLIO_PERSISTED_DOCUMENTS_ONLY", "true".to_owned()),
            ],
            body: by_id.clone(),
        },
        Feature {
            name: "max cost",
            settings: vec![off(), ("FOLIO_MAX_COST", "1000".to_owned())],
            body: query.clone(),
        },
        Feature {
            name: "rate limit",
            settings: vec![off(), ("FOLIO_RATE_LIMIT_RPS", "1000000".to_owned())],
            body: query.clone(),
        },
        Feature {
            name: "batch of 1",
            settings: vec![off(), ("FOLIO_MAX_BATCH", "8".to_owned())],
            body: format!("[{query}]"),
        },
        Feature {
            name: "all",
            settings: vec![
                off(),
                ("FOLIO_PERSISTED_DOCUMENTS_FILE", file),
                ("FOLIO_PERSISTED_DOCUMENTS_ONLY", "true".to_owned()),
                ("FOLIO_MAX_COST", "1000".to_owned()),
                ("FOLIO_RATE_LIMIT_RPS", "1000000".to_owned()),
                ("FOLIO_MAX_BATCH", "8".to_owned()),
            ],
            body: format!("[{by_id}]"),
        },
    ]
}

/// One row of the fourth part: a feature at a number of connections, averaged over the
/// rounds.
struct GatewayRow {
    feature: &'static str,
    conns: usize,
    p50: Vec<Duration>,
    p99: Vec<Duration>,
    cpu_per_req: Vec<Duration>,
    failures: u64,
    shown: Vec<String>,
}

/// The mean of `d` (zero when empty).
fn mean(d: &[Duration]) -> Duration {
    d.iter().sum::<Duration>() / (d.len().max(1) as u32)
}

/// The fourth part: `content20` through a router process per feature, at each of
/// `counts` connections, `FOLIO_BENCH_ROUNDS` rounds (default 2) with the features
/// interleaved, so a drift of the machine spreads over all of them.
async fn gateway_rows(
    client: &reqwest::Client,
    app: &TestApp,
    counts: &[usize],
    secs: Duration,
    pinned: bool,
    expected: &Arc<Value>,
) -> Vec<GatewayRow> {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("persisted-documents.json");
    let hash = folio_router::pipeline::documents::sha256_hex(CONTENT20_QUERY);
    std::fs::write(&manifest, json!({ hash: CONTENT20_QUERY }).to_string()).expect("manifest");
    let features = features(&manifest);
    let mut rows: Vec<GatewayRow> = Vec::new();
    let ticks = clock_ticks();
    for _ in 0..env_or("FOLIO_BENCH_ROUNDS", 2) {
        for feature in &features {
            let router = RouterProcess::start(
                env!("CARGO_BIN_EXE_folio"),
                app,
                &feature.settings,
                pinned,
                client,
            )
            .await;
            if feature.name == "apq" {
                // Apollo Client's second request: the hash with the text registers it.
                let mut register: Value = serde_json::from_str(&feature.body).expect("JSON");
                register["query"] = json!(CONTENT20_QUERY);
                let res = client.post(&router.url).json(&register).send().await;
                let v: Value = res.expect("answered").json().await.expect("JSON");
                assert_eq!(v["data"], **expected, "APQ registration: {v}");
            }
            let pid = router.pid();
            for &n in counts {
                let target = Target::Anonymous {
                    url: router.url.clone(),
                };
                let workers = vec![(target, expected.clone()); n];
                let probe = || cpu_time(pid, ticks);
                let body: Arc<str> = feature.body.clone().into();
                let (stats, cpu) = load_body_probed(client, body, workers, secs, probe).await;
                let done = stats.ok as u32 + stats.failures as u32;
                let row = match rows
                    .iter_mut()
                    .position(|r| r.feature == feature.name && r.conns == n)
                {
                    Some(i) => &mut rows[i],
                    None => {
                        rows.push(GatewayRow {
                            feature: feature.name,
                            conns: n,
                            p50: Vec::new(),
                            p99: Vec::new(),
                            cpu_per_req: Vec::new(),
                            failures: 0,
                            shown: Vec::new(),
                        });
                        rows.last_mut().expect("pushed")
                    }
                };
                row.p50.push(stats.p50);
                row.p99.push(stats.p99);
                row.cpu_per_req.extend(cpu.map(|c| c / done.max(1)));
                row.failures += stats.failures;
                row.shown.extend(stats.shown);
            }
            drop(router);
        }
    }
    rows
}

/// What estimating an operation's cost takes, measured in-process: `content20` planned
/// once over the built-in supergraph, then estimated `n` times. Nanoseconds per estimate.
fn cost_estimate_ns(n: u32) -> f64 {
    use folio_router::plan::{HivePlanner, PlanRequest, QueryPlanner};
    let planner =
        HivePlanner::from_supergraph_sdl(folio_router::EMBEDDED_SUPERGRAPH).expect("planner");
    let planned = planner
        .plan(&PlanRequest::new(CONTENT20_QUERY, None))
        .expect("planned");
    let variables = serde_json::Map::new();
    let started = Instant::now();
    let mut total = 0u64;
    for _ in 0..n {
        total = total.wrapping_add(folio_router::pipeline::cost::estimate(
            std::hint::black_box(&planned),
            &variables,
            10,
        ));
    }
    std::hint::black_box(total);
    started.elapsed().as_nanos() as f64 / f64::from(n)
}

/// As `tools/side-by-side/run.sh` places them: with two cores or more and `taskset`,
/// this process (the subgraphs and the load generator, every thread) moves to CPU 1 and
/// each router process starts on CPU 0, so the router's CPU is its own. Whether it did.
fn pin_apart() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores >= 2
        && std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

#[tokio::main]
async fn main() {
    let secs = Duration::from_secs(env_or("FOLIO_BENCH_SECS", 5));
    let workers = env_or("FOLIO_BENCH_CONCURRENCY", 32) as usize;
    let one_viewer = std::env::var("FOLIO_BENCH_ONE_VIEWER").is_ok_and(|v| v == "1");
    let app = Arc::new(TestApp::spawn().await);
    let sessions = seed(&app).await;
    let viewers = if one_viewer {
        &sessions[..1]
    } else {
        &sessions[..]
    };

    let secret = app.cfg.identity_secret.as_ref().expect("identity secret");
    let key = IdentityKey::new(secret.as_bytes()).expect("identity key");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workers)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    let mut rows = Vec::new();
    for (name, query) in [("me", ME_QUERY), ("users(first: 20)", USERS_QUERY)] {
        let (mut direct, mut router) = (Vec::new(), Vec::new());
        for s in viewers.iter().take(workers) {
            // The router's answer is the reference both paths must match.
            let reference = app.gql(Some(&s.access_token), query, json!({})).await;
            assert!(
                reference.get("errors").is_none() && reference["data"].is_object(),
                "{name}: {reference}"
            );
            let expected = Arc::new(reference["data"].clone());
            let router_target = Target::Router {
                url: app.url.clone(),
                token: s.access_token.clone(),
            };
            let direct_target = Target::Direct {
                url: app.users_url.clone(),
                key: key.clone(),
                viewer: Viewer {
                    user_id: Some(s.id.clone()),
                    is_admin: false,
                    client_ip: Some("127.0.0.1".parse().expect("ip")),
                },
            };
            router.push((router_target, expected.clone()));
            direct.push((direct_target, expected));
        }
        let cycle =
            |v: Vec<(Target, Arc<Value>)>| v.iter().cycle().take(workers).cloned().collect();
        let d = load(&client, query, cycle(direct), secs).await;
        let r = load(&client, query, cycle(router), secs).await;
        rows.push((name, d, r));
    }
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    let social = social_rows(&client, workers, secs).await;
    let (own, gateway, seeded, pinned) = own_rows(&client, workers, secs).await;

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut out = vec![
        format!(
            "{workers} workers as {} viewer(s), {} s after a 1 s warm-up, {cores} cores \
             (load generator in-process)",
            workers.min(viewers.len()),
            secs.as_secs()
        ),
        format!(
            "{:<18} {:<7} {:>8} {:>9} {:>9} {:>9} {:>6}   router overhead",
            "query", "path", "ok", "req/s", "p50 ms", "p99 ms", "failed"
        ),
    ];
    let mut failures = Vec::new();
    for (name, d, r) in &rows {
        for (path, s) in [("direct", d), ("router", r)] {
            let base = (path == "router").then_some(d);
            out.push(table_line(name, path, s, base, None));
            failures.extend(s.shown.iter().map(|e| format!("{name} via {path}: {e}")));
        }
    }
    out.push(String::new());
    out.push(format!(
        "cross-subgraph query over the in-memory test subgraphs, {workers} anonymous workers:"
    ));
    out.push(
        "direct = interactions' own part, posted to it; router = the whole query (1 root + 3 \
         entity fetches); dedupe = the same with dedupe_subgraph_requests on"
            .into(),
    );
    let direct = social.first().map(|(_, _, s, _)| s);
    for (name, path, s, fetches) in &social {
        let base = if *path == "direct" { None } else { direct };
        out.push(table_line(name, path, s, base, *fetches));
        failures.extend(s.shown.iter().map(|e| format!("{name} via {path}: {e}")));
    }
    out.push(String::new());
    let placement = if pinned {
        "the router on CPU 0, the subgraphs and the load generator in this process on CPU 1"
    } else {
        "not pinned: the subgraphs and the load generator share this process and the cores"
    };
    out.push(format!(
        "Folio's subgraphs, router in its own process (`folio serve --only router`; \
         {placement}), anonymous; {seeded}:"
    ));
    out.push(
        "router CPU = the router process's own user + system time over the measured window, \
         per request in it; RSS at the end of the run; direct = content20 posted to the \
         content subgraph"
            .into(),
    );
    out.push(format!(
        "{:<10} {:<7} {:>5} {:>8} {:>8} {:>8} {:>17} {:>7} {:>8}",
        "query",
        "sharing",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "router CPU µs/req",
        "RSS MB",
        "failures"
    ));
    for row in &own {
        out.push(row.line());
        let (q, path) = (row.query, row.sharing);
        failures.extend(
            row.stats
                .shown
                .iter()
                .map(|e| format!("{q} via {path}: {e}")),
        );
    }
    let p50_at_one = |sharing: &str| {
        own.iter()
            .find(|r| r.query == "content20" && r.sharing == sharing && r.conns == 1)
            .map(|r| r.stats.p50)
    };
    if let Some(direct) = p50_at_one("direct") {
        let overheads: Vec<String> = ["on", "off", "on+poll"]
            .iter()
            .filter_map(|&s| p50_at_one(s).map(|r| (s, r)))
            .map(|(s, r)| {
                let us = (r.as_secs_f64() - direct.as_secs_f64()) * 1e6;
                match s.strip_suffix("+poll") {
                    Some(s) => format!(
                        "{us:+.0} µs (sharing {s}, FOLIO_ROUTER_BUSY_POLL_US={BUSY_POLL_US})"
                    ),
                    None => format!("{us:+.0} µs (sharing {s})"),
                }
            })
            .collect();
        out.push(format!(
            "router overhead at p50, one connection (content20 through the router − direct): {}",
            overheads.join(", ")
        ));
    }
    out.push(String::new());
    out.push(format!(
        "Gateway features, content20 through a router process per setting (as above), \
         anonymous; mean of {} rounds, the settings interleaved; Δ = against the baseline \
         (FOLIO_APQ=false, nothing else on) at the same connections:",
        env_or("FOLIO_BENCH_ROUNDS", 2)
    ));
    out.push(
        "apq = hash-only requests after one registration; trusted docs = documentId under \
         FOLIO_PERSISTED_DOCUMENTS_ONLY; max cost = FOLIO_MAX_COST=1000; rate limit = \
         FOLIO_RATE_LIMIT_RPS=1000000 (every request takes a token); batch of 1 = a JSON \
         array of one request, FOLIO_MAX_BATCH=8; all = those together, by documentId in a \
         batch"
            .into(),
    );
    out.push(format!(
        "{:<13} {:>5} {:>8} {:>8} {:>10} {:>17} {:>10} {:>8}",
        "feature",
        "conns",
        "p50 ms",
        "p99 ms",
        "Δp50 µs",
        "router CPU µs/req",
        "ΔCPU µs",
        "failures"
    ));
    for row in &gateway {
        let base = gateway
            .iter()
            .find(|b| b.feature == "baseline" && b.conns == row.conns)
            .expect("a baseline row");
        let cpu = |r: &GatewayRow| {
            (!r.cpu_per_req.is_empty()).then(|| mean(&r.cpu_per_req).as_secs_f64() * 1e6)
        };
        let (cpu_text, delta_cpu) = match (cpu(row), cpu(base)) {
            (Some(c), Some(b)) => (format!("{c:.1}"), format!("{:+.1}", c - b)),
            _ => ("n/a".to_owned(), "n/a".to_owned()),
        };
        let delta_p50 = (mean(&row.p50).as_secs_f64() - mean(&base.p50).as_secs_f64()) * 1e6;
        out.push(format!(
            "{:<13} {:>5} {:>8.3} {:>8.3} {:>+10.0} {:>17} {:>10} {:>8}",
            row.feature,
            row.conns,
            ms(mean(&row.p50)),
            ms(mean(&row.p99)),
            delta_p50,
            cpu_text,
            delta_cpu,
            row.failures
        ));
        let name = row.feature;
        failures.extend(
            row.shown
                .iter()
                .take(SHOWN_FAILURES)
                .map(|e| format!("{name}: {e}")),
        );
    }
    out.push(format!(
        "cost estimation (every request, for folio_router_operation_cost; on in every row \
         above): {:.0} ns per estimate of content20, in-process",
        cost_estimate_ns(200_000)
    ));
    out.extend(failures);
    // A bench binary's output is its result.
    #[allow(clippy::print_stdout)]
    {
        for line in out {
            println!("{line}");
        }
    }
}
