//! Benchmark: the content subgraph's CSV import, and `searchContents` and `suggest` over its contents.
//!
//! **Import.** Generated CSV files of 10,000 and 1,000,000 rows (`BENCH_IMPORT_ROWS`, a
//! comma-separated list, overrides the sizes: `BENCH_IMPORT_ROWS=10000,100000` for a quick
//! run) go through the engine behind `folio import-csv` (`folio_content::import::import_csv`
//! reading the file through a `BufReader`, the operator an admin), into a fresh database:
//! SQLite in a temporary data directory, then PostgreSQL at `FOLIO_TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) in a fresh schema
//! `folio_bench_<uuid>` dropped at the end (skipped, with one line saying so, when
//! PostgreSQL cannot be reached). Rows are realistic-looking: a title, half of them a
//! description, a story of 500 to 1,000 characters and 0 to 3 tags, of words drawn by
//! Zipf's law from a 20,000-word vocabulary (a few in every story, most rare) by a small
//! deterministic PRNG, so every run imports the same files. Each file is written before the clock starts. For each import:
//! rows, seconds, rows/s, the process's resident memory before, and its peak during the
//! import (Linux: `/proc/self/clear_refs` resets the high-water mark, `VmHWM` reads it), so
//! that memory staying flat while the file grows is visible.
//!
//! **Search.** The whole platform in-process (`TestApp`: SQLite by default, PostgreSQL when
//! `FOLIO_TEST_DATABASE_URL` is set), seeded with 1,000,000 contents
//! (`BENCH_SEARCH_CONTENTS`) by five registered authors, the last one titled with a word
//! no other content has. The seed goes through the import engine against the platform's
//! own content database (`folio_content::init` on its configuration), like `folio
//! import-csv` next to a running server: one transaction, no 10 MiB upload limit to split
//! around, and the same rows the import part measures. The search subgraph indexes the
//! import's `content.imported` events; the bench waits until a search finds the last
//! content (so every content is searchable: events apply in order, a commit shows all)
//! and prints how long that took after the commit (contents/s, relay, consumer and
//! commit included) and the index's size on disk (suggestions included). Then, each for
//! `FOLIO_BENCH_SECS` (default 5) after a 1 s warm-up, a closed loop of
//! `FOLIO_BENCH_CONCURRENCY` workers (default 8) on one keep-alive client sends through
//! the router `searchContents(query: $q, first: 10) { totalCount edges { node { id title
//! author { firstName } } } }` (three fetches: search, then the contents from content,
//! then the authors from users) with one-word, two-word and phrase queries from the same
//! vocabulary, and `suggest(prefix: $p, first: 8)` with prefixes of 1 to 4 letters,
//! printing requests/s, p50, p99 and how many each found on average. Every response must
//! be HTTP 200 without `errors`; failures are counted and the first few printed. Last,
//! the index is rebuilt from nothing into a directory of its own, as `folio search
//! reindex` does (reading content's API page by page while the platform serves), and the
//! time printed (`BENCH_SEARCH_REBUILD=0` skips it). Finally, with the platform stopped,
//! the same rows are handed straight to a new search index (no events), which prints what
//! the index alone costs (contents/s and CPU seconds). Each kind of query is a list of 64
//! that the workers go through in turn, so the search replica's answer cache (valid
//! until the next commit) answers repeats: `BENCH_SEARCH_CACHE_ENTRIES=0` turns it off,
//! which measures every query computed afresh.
//!
//! `BENCH_PARTS` (a comma-separated list of `sqlite`, `postgres`, `search` and `index`;
//! default all four) runs only the parts named (`index`: only the search index alone, on
//! `BENCH_SEARCH_CONTENTS` rows, without starting the platform: the quick loop for
//! profiling the indexer), so that one database's import can be measured
//! in a process of its own (its peak memory then owes nothing to an earlier part).
//!
//! `cargo bench --bench content`. The load generator runs in the same process as the
//! platform, so on a small machine both compete for the same cores.

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_common::Config;
use folio_content::import::{ImportOptions, import_csv};
use folio_testkit::TestApp;
use folio_testkit::load::{Rng, clock_ticks, closed_loop, cpu_time, env_or, graphql, ms, stat_cpu};
use serde_json::{Value, json};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_secs(1);
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The id the import runs `--as` (rows of the import part have no `author_id`).
const OPERATOR: &str = "00000000-0000-7000-8000-000000000001";
const AUTHORS: usize = 5;

const SEARCH: &str = "query($q: String!) { searchContents(query: $q, first: 10) { totalCount edges { node { id title author { firstName } } } } }";

/// The most frequent words of the vocabulary, most frequent first (see [`vocabulary`]).
const WORDS: &[&str] = &[
    "the",
    "river",
    "night",
    "garden",
    "city",
    "letter",
    "winter",
    "house",
    "window",
    "light",
    "road",
    "market",
    "music",
    "summer",
    "forest",
    "station",
    "harbour",
    "bridge",
    "mountain",
    "island",
    "kitchen",
    "library",
    "teacher",
    "sister",
    "brother",
    "father",
    "mother",
    "stranger",
    "soldier",
    "painter",
    "doctor",
    "captain",
    "engine",
    "storm",
    "silence",
    "promise",
    "secret",
    "journey",
    "morning",
    "evening",
    "shadow",
    "mirror",
    "candle",
    "orchard",
    "valley",
    "harvest",
    "lantern",
    "compass",
    "voyage",
    "meadow",
    "thunder",
    "ribbon",
    "violin",
    "castle",
    "chapel",
    "tavern",
    "ferry",
    "glacier",
    "desert",
    "canyon",
    "lighthouse",
    "carnival",
    "festival",
    "archive",
    "observatory",
    "telescope",
    "notebook",
    "typewriter",
    "postcard",
    "suitcase",
    "umbrella",
    "bicycle",
    "tramway",
    "railway",
    "workshop",
    "bakery",
    "pharmacy",
    "cathedral",
    "monastery",
    "vineyard",
    "lagoon",
    "marsh",
    "quarry",
    "foundry",
    "granary",
    "windmill",
    "aqueduct",
    "parchment",
    "saffron",
    "cinnamon",
    "juniper",
    "lavender",
    "marigold",
    "sparrow",
    "heron",
    "falcon",
    "otter",
    "badger",
    "walrus",
    "octopus",
    "jellyfish",
    "nightingale",
    "albatross",
    "chameleon",
    "quartz",
    "obsidian",
    "amber",
    "cobalt",
    "vermilion",
    "turquoise",
    "indigo",
    "crimson",
    "ferris",
    "rustacean",
    "borrow",
    "lifetime",
    "compiler",
    "kernel",
    "protocol",
    "algorithm",
    "database",
    "network",
    "satellite",
    "submarine",
    "zeppelin",
    "gondola",
    "kaleidoscope",
    "labyrinth",
    "mosaic",
    "origami",
    "tapestry",
    "symphony",
    "sonata",
    "requiem",
    "ballad",
    "haiku",
    "sonnet",
    "epilogue",
    "prologue",
    "manuscript",
    "cartographer",
    "astronomer",
    "botanist",
    "alchemist",
    "locksmith",
    "blacksmith",
    "clockmaker",
    "beekeeper",
    "shepherd",
    "fisherman",
    "lumberjack",
    "glassblower",
    "puppeteer",
    "ventriloquist",
    "acrobat",
    "juggler",
    "magician",
    "detective",
    "smuggler",
    "pirate",
    "hermit",
    "pilgrim",
    "nomad",
    "wanderer",
    "dreamer",
];

const TAGS: &[&str] = &[
    "fiction",
    "poetry",
    "travel",
    "history",
    "science",
    "rust",
    "web-dev",
    "cooking",
    "nature",
    "music",
    "essay",
    "memoir",
    "mystery",
    "fantasy",
    "sci-fi",
    "humour",
    "art",
    "photography",
    "philosophy",
    "sport",
    "gardening",
    "design",
    "databases",
    "async-io",
    "teaching",
    "family",
    "city-life",
    "sea",
    "mountains",
    "letters",
];

/// Words for generated stories.
trait Words {
    fn word(&mut self) -> &'static str;
    fn words(&mut self, out: &mut String, n: usize);
}

impl Words for Rng {
    /// A word of the vocabulary by Zipf's law (rank `r` with probability ∝ 1/r, drawn
    /// log-uniformly): the first words are in nearly every story, a word of rank 1,000
    /// in about 1% of them, the rarest in a few per 10,000.
    fn word(&mut self) -> &'static str {
        let vocab = vocabulary();
        let u = self.unit();
        let rank = ((u * (vocab.len() as f64 + 1.0).ln()).exp() as usize).saturating_sub(1);
        &vocab[rank.min(vocab.len() - 1)]
    }

    fn words(&mut self, out: &mut String, n: usize) {
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.word());
        }
    }
}

/// Words in the generated texts.
const VOCABULARY: usize = 20_000;

/// The vocabulary, most frequent first: the English [`WORDS`], then made-up words of two
/// or three syllables (deterministic).
fn vocabulary() -> &'static [String] {
    static VOCAB: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    VOCAB.get_or_init(|| {
        const SYLLABLES: &[&str] = &[
            "ka", "lo", "mi", "ren", "tor", "va", "sel", "bri", "dun", "fa", "gor", "hal", "ith",
            "jo", "kem", "lun", "mar", "nel", "op", "pra", "quin", "ros", "sta", "tev", "ul",
            "vor", "wen", "xa", "yel", "zu", "bel", "cor", "dra", "el", "fin", "gla",
        ];
        let mut rng = Rng(1);
        let mut seen: std::collections::HashSet<String> =
            WORDS.iter().map(|w| (*w).to_owned()).collect();
        let mut vocab: Vec<String> = WORDS.iter().map(|w| (*w).to_owned()).collect();
        while vocab.len() < VOCABULARY {
            let mut w = String::new();
            for _ in 0..2 + rng.below(2) {
                w.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
            }
            if seen.insert(w.clone()) {
                vocab.push(w);
            }
        }
        vocab
    })
}

/// Writes a CSV file of `rows` contents; with `authors`, rows name them in turn in an
/// `author_id` column. The columns are in a different order from the schema's, as real
/// exports are.
fn write_csv(path: &Path, rows: usize, authors: &[String], seed: u64) -> u64 {
    let mut rng = Rng(seed);
    let file = std::fs::File::create(path).expect("create the CSV file");
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut header = String::from("title,tags,description,story");
    if !authors.is_empty() {
        header.push_str(",author_id");
    }
    writeln!(w, "{header}").expect("write");
    let mut line = String::with_capacity(2048);
    for i in 0..rows {
        line.clear();
        let n = 3 + rng.below(5);
        let start = line.len();
        rng.words(&mut line, n);
        // Capitalised, as titles are.
        if let Some(first) = line[start..].chars().next() {
            let upper: String = first.to_uppercase().collect();
            line.replace_range(start..start + first.len_utf8(), &upper);
        }
        line.push(',');
        for t in 0..rng.below(4) {
            if t > 0 {
                line.push('|');
            }
            line.push_str(TAGS[rng.below(TAGS.len())]);
        }
        line.push(',');
        if rng.below(2) == 0 {
            let n = 8 + rng.below(13);
            rng.words(&mut line, n);
        }
        // The story, quoted (it has commas), 500 to 1,000 characters of sentences.
        line.push_str(",\"");
        let target = 500 + rng.below(501);
        let story_start = line.len();
        while line.len() - story_start < target {
            let n = 5 + rng.below(12);
            rng.words(&mut line, n);
            line.push_str(if rng.below(4) == 0 { ", " } else { ". " });
        }
        line.truncate(story_start + target);
        let kept = line[story_start..].trim_end().len();
        line.truncate(story_start + kept);
        line.push('"');
        if !authors.is_empty() {
            line.push(',');
            line.push_str(&authors[i % authors.len()]);
        }
        line.push('\n');
        w.write_all(line.as_bytes()).expect("write");
    }
    w.flush().expect("flush");
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A line of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`); `None` off Linux.
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets the peak-RSS mark to the current RSS (Linux).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0}", k as f64 / 1024.0))
}

struct ImportRun {
    rows: u64,
    secs: f64,
    rss_before: Option<u64>,
    peak: Option<u64>,
}

/// One timed import of `file` into `cfg`'s (fresh) content database.
async fn timed_import(cfg: &Config, file: &Path, authors: bool) -> ImportRun {
    let service = folio_content::init(cfg).await.expect("content database");
    let reader = std::io::BufReader::new(std::fs::File::open(file).expect("open the CSV file"));
    let opts = ImportOptions {
        viewer_id: OPERATOR.to_owned(),
        is_admin: true,
        max_rows: cfg.import_max_rows,
    };
    let rss_before = status_kib("VmRSS");
    let peak_ok = reset_peak_rss();
    let start = Instant::now();
    let report = import_csv(&service.store, reader, opts)
        .await
        .expect("the import runs");
    let secs = start.elapsed().as_secs_f64();
    let peak = if peak_ok { status_kib("VmHWM") } else { None };
    assert!(
        report.failed == 0 && report.errors.is_empty() && report.created > 0,
        "the generated file {} imports cleanly (authors: {authors}): {:?}",
        file.display(),
        &report.errors[..report.errors.len().min(3)]
    );
    service.store.connection().clone().close().await.ok();
    ImportRun {
        rows: report.created,
        secs,
        rss_before,
        peak,
    }
}

/// Waits (up to 5 minutes) until no SQLite database under `dir` has a WAL file: the
/// import's background checkpoint is done and its connection closed (closing the last
/// connection removes the WAL), so it no longer competes with what is measured next.
async fn settle_sqlite(dir: &Path) {
    let has_wal = || {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with("-wal"))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while has_wal() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn import_line(db: &str, size_mib: f64, r: &ImportRun) -> String {
    format!(
        "{db:<10} {:>9} {:>8.0} {:>9.2} {:>10.0} {:>10} {:>10}",
        r.rows,
        size_mib,
        r.secs,
        r.rows as f64 / r.secs.max(f64::EPSILON),
        mib(r.rss_before),
        mib(r.peak),
    )
}

/// Whether PostgreSQL answers at `url` (within a few seconds).
async fn postgres_reachable(url: &str) -> bool {
    let connect = sea_orm::Database::connect(url);
    match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(db)) => {
            db.close().await.ok();
            true
        }
        _ => false,
    }
}

async fn import_part(out: &mut Vec<String>, dir: &Path) {
    let sizes: Vec<usize> = std::env::var("BENCH_IMPORT_ROWS")
        .ok()
        .map(|s| {
            s.split(',')
                .filter_map(|n| n.trim().replace('_', "").parse().ok())
                .filter(|&n| n > 0)
                .collect::<Vec<usize>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec![10_000, 1_000_000]);
    let mut files: Vec<(usize, PathBuf, f64)> = Vec::new();
    for &rows in &sizes {
        let path = dir.join(format!("import-{rows}.csv"));
        let bytes = write_csv(&path, rows, &[], 42);
        files.push((rows, path, bytes as f64 / (1024.0 * 1024.0)));
    }
    out.push(format!(
        "CSV import (the `folio import-csv` engine, one transaction, batches of {}):",
        folio_content::store::INSERT_CHUNK
    ));
    out.push(format!(
        "{:<10} {:>9} {:>8} {:>9} {:>10} {:>10} {:>10}",
        "database", "rows", "file MiB", "seconds", "rows/s", "RSS0 MiB", "peak MiB"
    ));
    for (rows, file, size) in files.iter().filter(|_| part("sqlite")) {
        let data = dir.join(format!("sqlite-{rows}"));
        let cfg = Config {
            data_dir: data.clone(),
            identity_secret: Some("benchmark-identity-secret-0123456789abcd".into()),
            import_max_rows: (*rows as u64).max(1_000_000),
            ..Config::default()
        };
        let run = timed_import(&cfg, file, false).await;
        out.push(import_line("sqlite", *size, &run));
        print_now(out.last());
        // The commit answered before the WAL was copied into the database file (a
        // background checkpoint); let that finish before the next import is timed.
        settle_sqlite(&data).await;
        std::fs::remove_dir_all(&data).ok();
    }
    let url = std::env::var("FOLIO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_PG.to_owned());
    if !part("postgres") {
        return;
    }
    if !postgres_reachable(&url).await {
        out.push(format!(
            "postgres   skipped: cannot connect to {url} (set FOLIO_TEST_DATABASE_URL)"
        ));
        print_now(out.last());
        return;
    }
    for (rows, file, size) in &files {
        let schema = format!("folio_bench_{}", uuid::Uuid::new_v4().simple());
        let mut cfg = Config {
            data_dir: dir.to_path_buf(),
            database_schema: Some(schema.clone()),
            identity_secret: Some("benchmark-identity-secret-0123456789abcd".into()),
            import_max_rows: (*rows as u64).max(1_000_000),
            ..Config::default()
        };
        cfg.service_mut("content").database_url = Some(url.clone());
        let run = timed_import(&cfg, file, false).await;
        folio_testkit::drop_schema(&url, &schema).await;
        out.push(import_line("postgres", *size, &run));
        print_now(out.last());
    }
}

/// Progress on stderr as each figure is known (a 1 M-row import takes minutes); the
/// table goes to stdout at the end.
fn print_now(line: Option<&String>) {
    if let Some(l) = line {
        eprintln!("{l}");
    }
}

/// The title of the search seed's last row: a word no other content has.
const MARKER: &str = "Xylomarker";

const SUGGEST: &str = "query($p: String!) { suggest(prefix: $p, first: 8) { kind text content { id } author { id } } }";

/// One `suggest` through the router; how many suggestions, or what was wrong.
async fn suggest_once(client: &reqwest::Client, url: &str, prefix: &str) -> Result<u64, String> {
    let data = graphql(client, url, None, SUGGEST, json!({ "p": prefix })).await?;
    let list = data["suggest"]
        .as_array()
        .ok_or_else(|| format!("{prefix:?}: no list: {data}"))?;
    if list.len() > 8 || list.iter().any(|s| !s["text"].is_string()) {
        return Err(format!("{prefix:?}: {data}"));
    }
    Ok(list.len() as u64)
}

/// One search through the router; the total count, or what was wrong with the answer.
async fn search_once(client: &reqwest::Client, url: &str, q: &str) -> Result<u64, String> {
    let res = client
        .post(url)
        .json(&json!({ "query": SEARCH, "variables": { "q": q } }))
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = res.status();
    let v: Value = res.json().await.map_err(|e| format!("{status}: {e}"))?;
    let found = &v["data"]["searchContents"];
    let edges = found["edges"].as_array();
    let complete = edges.is_some_and(|e| {
        e.len() <= 10
            && e.iter().all(|e| {
                e["node"]["id"].is_string() && e["node"]["author"]["firstName"].is_string()
            })
    });
    match found["totalCount"].as_u64() {
        Some(total) if status == 200 && v.get("errors").is_none() && complete => Ok(total),
        _ => Err(format!("{q:?}: {status}: {v}")),
    }
}

async fn search_part(out: &mut Vec<String>, dir: &Path) {
    let contents = env_or("BENCH_SEARCH_CONTENTS", 1_000_000) as usize;
    let workers = env_or("FOLIO_BENCH_CONCURRENCY", 8) as usize;
    let secs = Duration::from_secs(env_or("FOLIO_BENCH_SECS", 5));
    // Not `env_or`: 0 (the cache off) is a value here.
    let cache = std::env::var("BENCH_SEARCH_CACHE_ENTRIES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let app = TestApp::spawn_with(|cfg| {
        if let Some(n) = cache {
            cfg.search_cache_entries = n;
        }
    })
    .await;
    let database = if app.cfg.database_schema.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let mut authors = Vec::new();
    for i in 0..AUTHORS {
        let s = app
            .register(&format!("author{i}@example.com"), "benchmark password")
            .await;
        authors.push(s.id);
    }
    let file = dir.join("search-seed.csv");
    write_csv(&file, contents - 1, &authors, 7);
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .expect("open the CSV file");
        writeln!(f, "{MARKER},,,The end.,{}", authors[0]).expect("write the last row");
    }
    let mut cfg = app.cfg.clone();
    cfg.import_max_rows = cfg.import_max_rows.max(contents as u64);
    let seeded = Instant::now();
    let run = timed_import(&cfg, &file, true).await;
    std::fs::remove_file(&file).ok();
    eprintln!(
        "search: seeded {} contents on {database} in {:.1} s",
        run.rows,
        seeded.elapsed().as_secs_f64()
    );
    // The search subgraph indexes what the import's events carry. The last row holds a
    // word nothing else has: once a search finds it, every content is searchable (events
    // apply in order, and a commit makes everything before it visible at once).
    let indexing = Instant::now();
    let probe = reqwest::Client::new();
    while search_once(&probe, &app.url, MARKER).await != Ok(1) {
        assert!(
            indexing.elapsed() < Duration::from_secs(1_800),
            "search has not indexed the import after 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let indexed = indexing.elapsed().as_secs_f64();
    eprintln!(
        "search: indexed {} contents in {indexed:.1} s after the import's commit",
        run.rows
    );

    let index_bytes = dir_bytes(&folio_search::index_dir(&app.cfg));
    out.push(String::new());
    out.push(format!(
        "search index: {} contents searchable {indexed:.1} s after the import's commit \
         ({:.0} contents/s, relay, consumer and commit included), {:.0} MiB on disk (suggestions included)",
        run.rows,
        run.rows as f64 / indexed.max(f64::EPSILON),
        index_bytes as f64 / (1024.0 * 1024.0)
    ));
    print_now(out.last());

    // Queries: Zipf-drawn words (as common as in the texts) and words of the 2,000 most
    // frequent drawn evenly (most match a few hundred contents); phrases of two
    // Zipf-drawn words; suggestion prefixes of 1 to 4 letters of Zipf-drawn words.
    let mut rng = Rng(99);
    let mut one = Vec::new();
    let mut two = Vec::new();
    let mut phrases = Vec::new();
    let mut prefixes = Vec::new();
    for i in 0..64 {
        let even = vocabulary()[rng.below(2_000)].as_str();
        let zipf = rng.word();
        one.push(if i % 2 == 0 { even } else { zipf }.to_owned());
        two.push(if i % 2 == 0 {
            format!("{zipf} {even}")
        } else {
            format!("{zipf} {}", rng.word())
        });
        phrases.push(format!("\"{} {}\"", rng.word(), rng.word()));
        let word = rng.word();
        prefixes.push(word.chars().take(1 + i % 4).collect::<String>());
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workers)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url: Arc<str> = app.url.clone().into();
    out.push(format!(
        "through the router, over {} contents on {database}: {workers} workers, {} s after a \
         1 s warm-up each; searchContents(first: 10) with authors, suggest(first: 8); \
         answer cache {} entries",
        run.rows,
        secs.as_secs(),
        app.cfg.search_cache_entries,
    ));
    out.push(format!(
        "{:<22} {:>8} {:>9} {:>9} {:>9} {:>7} {:>14}",
        "queries", "ok", "req/s", "p50 ms", "p99 ms", "failed", "avg found"
    ));
    for (label, queries, suggest) in [
        ("one word", one, false),
        ("two words", two, false),
        ("phrase", phrases, false),
        ("suggest (1-4 letters)", prefixes, true),
    ] {
        // Found counts of the measured requests only (as closed_loop's latencies).
        let load = Arc::new(Load {
            client: client.clone(),
            url: url.clone(),
            queries,
            suggest,
            next: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            measure_from: Instant::now() + WARM_UP,
        });
        let stats = {
            let load = load.clone();
            closed_loop(workers, WARM_UP, secs, move |_| {
                let load = load.clone();
                async move { load.once().await }
            })
            .await
        };
        let hits = load.hits.load(Ordering::Relaxed);
        out.push(format!(
            "{:<22} {:>8} {:>9.0} {:>9.3} {:>9.3} {:>7} {:>14.0}",
            label,
            stats.ok,
            stats.rps,
            ms(stats.p50),
            ms(stats.p99),
            stats.failures,
            hits as f64 / stats.ok.max(1) as f64
        ));
        print_now(out.last());
        out.extend(stats.shown);
    }

    // Rebuilding from nothing, as `folio search reindex` does, into a directory of its
    // own, reading the platform's content and interactions subgraphs while it serves.
    if std::env::var("BENCH_SEARCH_REBUILD").is_ok_and(|v| v.trim() == "0") {
        app.stop().await;
        indexer_alone(out, dir, contents, &authors).await;
        return;
    }
    let mut cfg = app.cfg.clone();
    cfg.search_index_dir = Some(dir.join("rebuilt-index"));
    for name in ["content", "interactions"] {
        cfg.service_mut(name).url = Some(app.subgraph_url(name));
    }
    let started = Instant::now();
    let rebuilt = folio_search::reindex(&cfg).await.expect("reindex");
    let took = started.elapsed().as_secs_f64();
    out.push(format!(
        "rebuilt from nothing (folio search reindex, through content's API): {rebuilt} contents in \
         {took:.1} s ({:.0} contents/s)",
        rebuilt as f64 / took.max(f64::EPSILON)
    ));
    print_now(out.last());
    app.stop().await;
    indexer_alone(out, dir, contents, &authors).await;
}

/// A row of the generated CSV file, as the search index is given it here.
#[derive(serde::Deserialize)]
struct Row {
    title: String,
    tags: String,
    description: String,
    story: String,
    author_id: String,
}

/// The search index alone, with the platform stopped: the same `contents` rows as the
/// import's (same generator and seed) handed straight to a new index, 1,000 at a time
/// (as content's import writes them), until a commit makes the last one searchable. What the
/// indexing figure above costs beyond this is the event path (relay, fill, bus,
/// consumers, the other subgraphs' share of the events) and the import's checkpoint.
async fn indexer_alone(out: &mut Vec<String>, dir: &Path, contents: usize, authors: &[String]) {
    let file = dir.join("alone.csv");
    write_csv(&file, contents, authors, 7);
    let mut reader = csv::Reader::from_path(&file).expect("read the CSV file back");
    let published_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_millis() as i64);
    let rows: Vec<folio_search::index::IndexedContent> = reader
        .deserialize::<Row>()
        .map(|row| {
            let row = row.expect("a generated row");
            folio_search::index::IndexedContent {
                id: folio_common::new_id(),
                author_id: row.author_id,
                title: row.title,
                description: Some(row.description).filter(|d| !d.is_empty()),
                story: row.story,
                tags: row
                    .tags
                    .split('|')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                published_ms,
                author_name: Some("Bench Author".to_owned()),
            }
        })
        .collect();
    std::fs::remove_file(&file).ok();
    let n = rows.len();
    let index =
        folio_search::index::SearchIndex::open(&dir.join("alone-index")).expect("open a new index");
    let (pid, ticks) = (std::process::id(), clock_ticks());
    let cpu = || cpu_time(pid, ticks).unwrap_or_default();
    let (started, cpu_before) = (Instant::now(), cpu());
    let threads_before = thread_cpu(ticks);
    let mut rows = rows.into_iter();
    loop {
        let batch: Vec<folio_search::index::Change> = rows
            .by_ref()
            .take(1_000)
            .map(folio_search::index::Change::Put)
            .collect();
        if batch.is_empty() {
            break;
        }
        index.apply(batch).await.expect("indexing a batch");
    }
    index.commit().await.expect("the last commit");
    let took = started.elapsed().as_secs_f64();
    let cpu = cpu().saturating_sub(cpu_before).as_secs_f64();
    let threads = thread_cpu(ticks).since(&threads_before);
    assert_eq!(index.len(), n as u64, "the index holds every content");
    out.push(format!(
        "the search index alone (fed directly, no events; platform stopped): {n} contents \
         searchable in {took:.1} s ({:.0} contents/s, {cpu:.1} CPU-s; by thread: {threads})",
        n as f64 / took.max(f64::EPSILON)
    ));
    print_now(out.last());
}

/// The CPU time of each live thread of this process, by thread id, with its name
/// (`/proc/self/task/<tid>/stat`; empty without `/proc`).
struct ThreadCpu(std::collections::HashMap<u32, (String, f64)>);

fn thread_cpu(ticks: f64) -> ThreadCpu {
    let mut threads = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, cpu)) = stat_cpu(&stat, ticks) {
            threads.insert(tid, (name.to_owned(), cpu.as_secs_f64()));
        }
    }
    ThreadCpu(threads)
}

impl ThreadCpu {
    /// CPU-s used since `before`, summed by thread name (digits dropped, so a pool's
    /// threads are one line), largest first. Threads that ended in between are not seen.
    fn since(&self, before: &ThreadCpu) -> String {
        let mut by_name: std::collections::BTreeMap<String, f64> = Default::default();
        for (tid, (name, now)) in &self.0 {
            let then = before.0.get(tid).map_or(0.0, |(_, t)| *t);
            let name = name.trim_end_matches(|c: char| c.is_ascii_digit());
            *by_name.entry(name.to_owned()).or_default() += now - then;
        }
        let mut sorted: Vec<_> = by_name.into_iter().filter(|(_, t)| *t >= 0.05).collect();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
        sorted
            .iter()
            .map(|(name, t)| format!("{name} {t:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One kind of query, sent by every worker of a closed loop in turn.
struct Load {
    client: reqwest::Client,
    url: Arc<str>,
    queries: Vec<String>,
    /// `suggest` prefixes rather than `searchContents` queries.
    suggest: bool,
    next: AtomicUsize,
    /// What the measured requests found, in all.
    hits: AtomicU64,
    measure_from: Instant,
}

impl Load {
    async fn once(&self) -> Result<(), String> {
        let measured = Instant::now() >= self.measure_from;
        let q = &self.queries[self.next.fetch_add(1, Ordering::Relaxed) % self.queries.len()];
        let found = if self.suggest {
            suggest_once(&self.client, &self.url, q).await?
        } else {
            search_once(&self.client, &self.url, q).await?
        };
        if measured {
            self.hits.fetch_add(found, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// The bytes of the files under `dir`, subdirectories included.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

/// Whether `BENCH_PARTS` names `name` (or is unset: every part runs).
fn part(name: &str) -> bool {
    match std::env::var("BENCH_PARTS") {
        Ok(parts) => parts
            .split(',')
            .any(|p| p.trim().eq_ignore_ascii_case(name)),
        Err(_) => true,
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut out = vec![format!(
        "{cores} cores; the load generator and the platform share this process"
    )];
    if part("sqlite") || part("postgres") {
        import_part(&mut out, dir.path()).await;
    }
    if part("search") {
        search_part(&mut out, dir.path()).await;
    }
    if part("index") && !part("search") {
        let contents = env_or("BENCH_SEARCH_CONTENTS", 1_000_000) as usize;
        let authors: Vec<String> = (0..AUTHORS).map(|_| folio_common::new_id()).collect();
        indexer_alone(&mut out, dir.path(), contents, &authors).await;
    }
    // A bench binary's output is its result.
    #[allow(clippy::print_stdout)]
    {
        for line in out {
            println!("{line}");
        }
    }
}
