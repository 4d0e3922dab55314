//! Benchmark: pictures — how long a 12-megapixel photo takes from upload to thumbnails,
//! how many thumbnails per second the renderer makes, and the router's memory while 20
//! clients upload 10 MiB images at once.
//!
//! - **upload → thumbnails** (the platform in-process, SQLite in a temporary directory, or
//!   PostgreSQL when `FOLIO_TEST_DATABASE_URL` is set): one client uploads
//!   `FOLIO_BENCH_PICTURES` (default 5) different 4000 × 3000 JPEGs (gradients and noise,
//!   quality 90, as a phone's photo) one after the other with `setContentImage`, and for
//!   each polls `content { image { placeholder } }` every 10 ms until it is there. It
//!   prints the upload's time (the answer, with the original stored) and the time from
//!   sending the upload to its thumbnails being visible, p50 and max.
//! - **thumbnails/s**: `FOLIO_BENCH_BURST` (default 8) different 12-megapixel JPEGs are
//!   uploaded at once, one client each; from the first byte sent to the last placeholder
//!   seen, thumbnails (three per picture: 160, 480 and 1080 wide) per second, and the
//!   process's CPU seconds per picture (parse, store and render).
//! - **router memory under uploads**: the router runs in its own process (`folio serve
//!   --only router`, pointed at the in-process subgraphs); 20 clients
//!   (`FOLIO_BENCH_UPLOADERS`) each upload a different PNG of just under 10 MiB (random
//!   pixels: incompressible) at the same moment, for `FOLIO_BENCH_ROUNDS` rounds (default
//!   5). The router's resident memory (`VmRSS`) is sampled every 10 ms: before the first
//!   round, the peak of each round and after each round, so growth from round to round
//!   would show. Every upload must be answered without errors.
//!
//! `cargo bench --bench media`.

// What a benchmark prints is its report.
#![allow(clippy::print_stdout)]

/// The allocator the `folio` binary ships with (`src/main.rs`), so the figures are
/// the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use folio_testkit::load::{RouterProcess, clock_ticks, cpu_time, env_or, ms, rss_mb};
use folio_testkit::{Session, TestApp, upload_form};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const PASSWORD: &str = "correct horse battery";
const SET_IMAGE: &str = "mutation($c: ID!, $f: Upload!) { setContentImage(contentId: $c, file: $f) { id image { bytes } } }";
const PLACEHOLDER: &str =
    "query($id: ID!) { content(id: $id) { image { placeholder thumbnails { width } } } }";
/// The largest upload the default limits take (`FOLIO_MAX_IMAGE_BYTES`).
const TEN_MIB: usize = 10 * 1024 * 1024;

/// A deterministic pseudo-random sequence (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A 4000 × 3000 photo-like JPEG (smooth gradients under a little noise), different for
/// each `seed`.
fn photo(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (w, h) = (4000u32, 3000u32);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let noise = (rng.next() % 25) as i32 - 12;
        let base = [
            (x * 255 / w) as i32,
            (y * 255 / h) as i32,
            ((x + y + seed as u32 * 97) % 256) as i32,
        ];
        image::Rgb(base.map(|c| (c + noise).clamp(0, 255) as u8))
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .expect("encode");
    out
}

/// A PNG of random pixels (incompressible), different for each `seed`, just under 10 MiB.
fn ten_mib_png(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Three bytes a pixel, a filter byte a row, and a little for the chunks and zlib.
    let (w, h) = (1900u32, 1830u32);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    for chunk in pixels.chunks_mut(8) {
        let r = rng.next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let mut out = Vec::new();
    PngEncoder::new_with_quality(
        &mut out,
        CompressionType::Uncompressed,
        FilterType::NoFilter,
    )
    .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
    .expect("encode");
    assert!(
        out.len() <= TEN_MIB - 4096 && out.len() > TEN_MIB - 512 * 1024,
        "{} bytes",
        out.len()
    );
    out
}

/// Sets `file` as `content`'s image through the router at `url`; panics on an error.
async fn upload(
    client: &reqwest::Client,
    url: &str,
    who: &Session,
    content: &str,
    file: Vec<u8>,
) -> Value {
    let form = upload_form(
        SET_IMAGE,
        json!({ "c": content }),
        file,
        "picture",
        "application/octet-stream",
    );
    let res = client
        .post(url)
        .header("apollo-require-preflight", "true")
        .bearer_auth(&who.access_token)
        .multipart(form)
        .send()
        .await
        .expect("answered");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON");
    assert!(
        status == 200 && body["errors"].is_null(),
        "{status}: {body}"
    );
    body
}

/// Waits until `content`'s thumbnails are visible.
async fn rendered(app: &TestApp, content: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        let read = app.gql(None, PLACEHOLDER, json!({ "id": content })).await;
        let image = &read["data"]["content"]["image"];
        if image["placeholder"].is_string() {
            assert_eq!(
                image["thumbnails"].as_array().map(Vec::len),
                Some(3),
                "{read}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{content}'s thumbnails never came");
}

fn p50_max(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (ms(times[times.len() / 2]), ms(times[times.len() - 1]))
}

async fn upload_to_thumbnails(app: &Arc<TestApp>, who: &Session) {
    let pictures = env_or("FOLIO_BENCH_PICTURES", 5).max(1);
    let files: Vec<Vec<u8>> = (0..pictures).map(photo).collect();
    let mib = files.iter().map(Vec::len).sum::<usize>() as f64 / files.len() as f64 / 1048576.0;
    let (mut answered, mut visible) = (Vec::new(), Vec::new());
    for (n, file) in files.into_iter().enumerate() {
        let content = app.create_content(who, &format!("Photo {n}")).await;
        let start = Instant::now();
        upload(&app.client, &app.url, who, &content, file).await;
        answered.push(start.elapsed());
        rendered(app, &content).await;
        visible.push(start.elapsed());
    }
    let (a50, amax) = p50_max(answered);
    let (v50, vmax) = p50_max(visible);
    println!(
        "12-megapixel JPEG ({mib:.1} MiB average), {pictures} one after the other:\n  \
         upload answered      p50 {a50:8.1} ms   max {amax:8.1} ms\n  \
         thumbnails visible   p50 {v50:8.1} ms   max {vmax:8.1} ms  (from sending the upload)"
    );
}

async fn thumbnails_per_second(app: &Arc<TestApp>, who: &Session) {
    let burst = env_or("FOLIO_BENCH_BURST", 8).max(1);
    let mut work = Vec::new();
    for n in 0..burst {
        let content = app.create_content(who, &format!("Burst {n}")).await;
        work.push((content, photo(1000 + n)));
    }
    let ticks = clock_ticks();
    let pid = std::process::id();
    let cpu_before = cpu_time(pid, ticks);
    let start = Instant::now();
    let mut uploads = JoinSet::new();
    for (content, file) in work.clone() {
        let (app, who) = (app.clone(), who.clone());
        uploads.spawn(async move {
            upload(&app.client, &app.url, &who, &content, file).await;
        });
    }
    while let Some(done) = uploads.join_next().await {
        done.expect("an upload");
    }
    for (content, _) in &work {
        rendered(app, content).await;
    }
    let took = start.elapsed();
    let cpu = cpu_time(pid, ticks)
        .zip(cpu_before)
        .map(|(after, before)| (after - before).as_secs_f64() / burst as f64);
    println!(
        "{burst} 12-megapixel JPEGs at once: all thumbnails visible after {:.2} s = {:.1} thumbnails/s ({:.2} pictures/s); CPU {} per picture",
        took.as_secs_f64(),
        (3 * burst) as f64 / took.as_secs_f64(),
        burst as f64 / took.as_secs_f64(),
        cpu.map_or("n/a".to_owned(), |s| format!("{s:.2} s")),
    );
}

async fn router_memory(app: &Arc<TestApp>, who: &Session) {
    let uploaders = env_or("FOLIO_BENCH_UPLOADERS", 20).max(1);
    let rounds = env_or("FOLIO_BENCH_ROUNDS", 5).max(1);
    let client = reqwest::Client::new();
    let router = RouterProcess::start(env!("CARGO_BIN_EXE_folio"), app, &[], false, &client).await;
    let pid = router.pid();
    let mut contents = Vec::new();
    for n in 0..uploaders {
        contents.push(app.create_content(who, &format!("Large {n}")).await);
    }
    // Memory is sampled all along; each round keeps its own peak.
    let peak = Arc::new(std::sync::Mutex::new(0f64));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(mb) = rss_mb(pid) {
                    let mut p = peak
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    *p = p.max(mb);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_mb(pid).unwrap_or(f64::NAN);
    println!(
        "router process, {uploaders} clients each uploading a different PNG of just under 10 MiB at once:\n  \
         RSS before: {before:.1} MB"
    );
    let mut seed = 0;
    for round in 1..=rounds {
        let files: Vec<Vec<u8>> = (0..uploaders)
            .map(|_| {
                seed += 1;
                ten_mib_png(seed)
            })
            .collect();
        *peak
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = 0.0;
        let start = Instant::now();
        let mut uploads = JoinSet::new();
        for (content, file) in contents.iter().cloned().zip(files) {
            let (client, url, who) = (client.clone(), router.url.clone(), who.clone());
            uploads.spawn(async move {
                let body = upload(&client, &url, &who, &content, file).await;
                assert!(
                    body["data"]["setContentImage"]["image"]["bytes"].as_u64()
                        > Some(TEN_MIB as u64 - 524_288)
                );
            });
        }
        while let Some(done) = uploads.join_next().await {
            done.expect("an upload");
        }
        let took = start.elapsed();
        let round_peak = *peak
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_mb(pid).unwrap_or(f64::NAN);
        println!(
            "  round {round}: {uploaders} uploads in {:.2} s; RSS peak {round_peak:.1} MB, after {after:.1} MB",
            took.as_secs_f64()
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
}

#[tokio::main]
async fn main() {
    let app = Arc::new(TestApp::spawn().await);
    let who = app.register("photographer@example.com", PASSWORD).await;
    upload_to_thumbnails(&app, &who).await;
    thumbnails_per_second(&app, &who).await;
    router_memory(&app, &who).await;
}
