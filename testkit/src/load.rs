//! A closed-loop load generator for the benchmarks: `workers` tasks each send one request,
//! wait for its answer, and send the next, for a warm-up and then a measured window.
//! Latencies are those of requests started inside the window; an answer the caller's
//! check rejects is a failure (counted, the first few kept to print).

use crate::TestApp;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How many failure descriptions a run keeps.
const SHOWN_FAILURES: usize = 5;

/// What a run measured.
pub struct Stats {
    pub ok: usize,
    pub failures: u64,
    pub shown: Vec<String>,
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Clock ticks per second, the unit of `/proc/<pid>/stat`'s times: `getconf CLK_TCK`, or
/// 100 (Linux's value everywhere it runs) if that cannot say.
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t: &f64| t > 0.0)
        .unwrap_or(100.0)
}

/// The CPU time (user + system, every thread) process `pid` has used so far: fields 14
/// and 15 of `/proc/<pid>/stat`; `None` without `/proc`.
pub fn cpu_time(pid: u32, ticks_per_sec: f64) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_cpu(&stat, ticks_per_sec).map(|(_, cpu)| cpu)
}

/// The name and CPU time (user + system) in a `/proc/<pid>/stat` or
/// `/proc/<pid>/task/<tid>/stat` line: fields 2, 14 and 15.
pub fn stat_cpu(stat: &str, ticks_per_sec: f64) -> Option<(&str, Duration)> {
    // Field 2, the command, is in parentheses and may hold spaces: count from after it
    // (field 3 first).
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    let cpu = Duration::from_secs_f64((utime + stime) as f64 / ticks_per_sec);
    Some((stat.get(open + 1..close)?, cpu))
}

/// The `p` quantile (0..=1) of sorted latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A positive number from the environment (`1_000_000` allowed), or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().replace('_', "").parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// Sends one GraphQL request to `url` (as `token`'s user when given): its `data`, or
/// why it failed (no answer, a status other than 200, or `errors` in the body).
pub async fn graphql(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let mut request = client
        .post(url)
        .json(&serde_json::json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let mut body: serde_json::Value = res.json().await.map_err(|e| format!("{status}: {e}"))?;
    if status != 200 || body.get("errors").is_some() {
        return Err(format!("{status}: {body}"));
    }
    Ok(body["data"].take())
}

/// A small deterministic generator (SplitMix64): the same data every run, no crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runs `workers` closed loops of `request(worker index)` for `warm_up` + `secs`.
pub async fn closed_loop<F, Fut>(
    workers: usize,
    warm_up: Duration,
    secs: Duration,
    request: F,
) -> Stats
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let measure_from = Instant::now() + warm_up;
    let end = measure_from + secs;
    let mut set = JoinSet::new();
    for w in 0..workers {
        let request = request.clone();
        set.spawn(async move {
            let (mut lat, mut failures, mut shown, mut last) = (Vec::new(), 0u64, Vec::new(), None);
            loop {
                let start = Instant::now();
                if start >= end {
                    break;
                }
                let result = request(w).await;
                let done = Instant::now();
                if start < measure_from {
                    continue;
                }
                match result {
                    Ok(()) => lat.push(done - start),
                    Err(e) => {
                        failures += 1;
                        if shown.len() < SHOWN_FAILURES {
                            shown.push(e);
                        }
                    }
                }
                last = Some(done);
            }
            (lat, failures, shown, last)
        });
    }
    let (mut lat, mut failures, mut shown, mut last) = (Vec::new(), 0, Vec::new(), measure_from);
    while let Some(done) = set.join_next().await {
        let (l, f, s, d) = done.expect("a load worker panicked");
        lat.extend(l);
        failures += f;
        shown.extend(s);
        last = last.max(d.unwrap_or(measure_from));
    }
    lat.sort();
    shown.truncate(SHOWN_FAILURES);
    let window = (last - measure_from).as_secs_f64().max(f64::EPSILON);
    Stats {
        ok: lat.len(),
        failures,
        shown,
        rps: lat.len() as f64 / window,
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
    }
}

/// `folio serve --only router` in a process of its own (`bin`: a bench's
/// `env!("CARGO_BIN_EXE_folio")`), pointed at the in-process subgraphs of a [`TestApp`];
/// killed when dropped, a panic included.
pub struct RouterProcess {
    child: std::process::Child,
    pub url: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl RouterProcess {
    /// Starts it with the `settings` (`FOLIO_*` variables) on top of what points it at
    /// `app`, on core 0 when `pinned`, and waits until it is ready.
    pub async fn start(
        bin: &str,
        app: &TestApp,
        settings: &[(&str, String)],
        pinned: bool,
        client: &reqwest::Client,
    ) -> RouterProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        // A free port: bound, read, released for the router to bind.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let log = dir.path().join("router.log");
        let out = std::fs::File::create(&log).expect("log file");
        let mut cmd = if pinned {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", "0", bin]);
            c
        } else {
            std::process::Command::new(bin)
        };
        cmd.args(["serve", "--only", "router"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        // Configured by what is set here only, not by the bench's own FOLIO_ variables.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FOLIO_") {
                cmd.env_remove(key);
            }
        }
        for name in folio::platform::subgraph_names() {
            let var = format!("FOLIO_{}_URL", name.to_ascii_uppercase());
            cmd.env(var, app.subgraph_url(name));
        }
        let users = app.subgraph_url("users");
        let jwks = users.replace("/graphql", "/.well-known/jwks.json");
        let secret = app.cfg.identity_secret.as_ref().expect("identity secret");
        cmd.env("FOLIO_ROUTER_ADDR", addr.to_string())
            .env("FOLIO_JWKS_URL", jwks)
            .env("FOLIO_IDENTITY_SECRET", secret)
            .env("FOLIO_DATA_DIR", dir.path())
            .env("FOLIO_LOG", "warn");
        for (key, value) in settings {
            cmd.env(key, value);
        }
        let child = cmd.spawn().expect("the folio binary starts");
        let mut router = RouterProcess {
            child,
            url: format!("http://{addr}/graphql"),
            log,
            _dir: dir,
        };
        router.wait_up(client).await;
        router
    }

    /// Polls `/ready` (every subgraph reachable; unlike `{__typename}`, answered under
    /// `FOLIO_PERSISTED_DOCUMENTS_ONLY` too) for up to 30 s; panics with the router's log
    /// if it exits or never is.
    async fn wait_up(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the router exited ({status}): {}", self.log_text());
            }
            let ready = self.url.replace("/graphql", "/ready");
            if let Ok(res) = client.get(&ready).send().await
                && res.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the router did not answer within 30 s: {}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RouterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident memory of process `pid` (`VmRSS` of `/proc/<pid>/status`), in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
