//! Demo data (`folio demo`, `folio serve --demo`): what a newcomer sees after it, through
//! the router, and what the commands print.

use folio_testkit::{TestApp, eventually};
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STORIES: &str = "{ newContents(first: 20) { totalCount nodes { title tags \
    author { firstName lastName } likeCount readCount commentCount image { url } } } }";

#[tokio::test]
async fn demo_data_fills_every_subgraph_through_the_api() {
    let app = TestApp::spawn().await;
    assert!(folio::demo::is_empty(&app.cfg).await.expect("counted"));
    let report = folio::demo::seed(&app.cfg, &app.url).await.expect("seeded");
    assert!(!folio::demo::is_empty(&app.cfg).await.expect("counted"));
    assert_eq!(report.accounts.len(), 6);

    // Anyone sees the stories, with tags, authors, counts and pictures.
    let body = app.gql(None, STORIES, json!({})).await;
    let stories = &body["data"]["newContents"];
    assert_eq!(stories["totalCount"], json!(report.contents), "{body}");
    let nodes = stories["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), report.contents);
    let total = |field: &str| {
        nodes
            .iter()
            .map(|n| n[field].as_i64().expect("a count"))
            .sum::<i64>()
    };
    assert!(total("likeCount") > 0 && total("readCount") > 0 && total("commentCount") > 0);
    for n in nodes {
        assert!(n["author"]["firstName"].is_string(), "{n}");
        assert!(!n["tags"].as_array().expect("tags").is_empty(), "{n}");
        assert!(n["image"]["url"].is_string(), "{n}");
    }

    // The printed credentials sign in: an admin sees every product, a user their cart
    // and their order, and each is followed by others.
    let admin = app.login(&report.accounts[0], folio::demo::PASSWORD).await;
    let products = app
        .gql(
            Some(&admin.access_token),
            "{ products(first: 20) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        products["data"]["products"]["totalCount"],
        json!(report.products)
    );
    let user = app.login(&report.accounts[2], folio::demo::PASSWORD).await;
    let me = app
        .gql(
            Some(&user.access_token),
            "{ me { followerCount followingCount cart { items { quantity } } orders { totalCount } } }",
            json!({}),
        )
        .await;
    let me = &me["data"]["me"];
    assert_eq!(me["orders"]["totalCount"], json!(1), "{me}");
    assert!(
        !me["cart"]["items"].as_array().expect("items").is_empty(),
        "{me}"
    );
    assert_eq!(me["followerCount"], json!(2), "{me}");
    assert_eq!(me["followingCount"], json!(2), "{me}");

    // Search caught up with the stories (fed by their events).
    eventually("the demo stories are searchable", || async {
        let body = app
            .gql(
                None,
                "{ searchContents(query: \"engine\", first: 5) { totalCount } }",
                json!({}),
            )
            .await;
        body["data"]["searchContents"]["totalCount"].as_i64() == Some(1)
    })
    .await;
    app.stop().await;
}

/// `folio` with only these `FOLIO_` variables (and a data directory of the test's own).
fn folio(data: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FOLIO_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args)
        .env("FOLIO_DATA_DIR", data)
        .env("FOLIO_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

/// `folio serve --demo` on `data`, every service on a free port, its stdout piped.
fn serve_demo(data: &std::path::Path) -> std::process::Child {
    let mut cmd = folio(data, &["serve", "--demo"]);
    for service in folio::platform::service_names() {
        cmd.env(
            format!("FOLIO_{}_ADDR", service.to_ascii_uppercase()),
            "127.0.0.1:0",
        );
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("folio serve runs")
}

#[tokio::test]
async fn folio_demo_then_serve_demo_print_how_to_sign_in_without_colour_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = folio(dir.path(), &["demo"])
        .output()
        .expect("folio demo runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(folio::demo::PASSWORD), "{stdout}");
    assert!(stdout.contains("ada@example.com"), "{stdout}");
    // Logs written to a pipe are plain text.
    assert!(!stderr.is_empty() && !stderr.contains('\u{1b}'), "{stderr}");

    // `serve --demo` on a platform that has users adds nothing, and says so; on ports
    // of its own it serves the stories `folio demo` wrote.
    let mut child = serve_demo(dir.path());
    let stdout = child.stdout.take().expect("stdout");
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take(2)
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lines.is_finished() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let lines = lines.join().expect("read stdout");
    assert!(
        lines
            .first()
            .is_some_and(|l| l.contains("no demo data added")),
        "{lines:?}"
    );
    let url = lines
        .get(1)
        .and_then(|l| l.strip_prefix("folio is up: "))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
}

#[tokio::test]
async fn serve_demo_fills_an_empty_platform_and_it_serves_the_stories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = serve_demo(dir.path());
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut printed = Vec::new();
    let url = loop {
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("folio is up: ") {
                    break url.to_owned();
                }
                printed.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                panic!("no `folio is up` line: {printed:?}");
            }
        }
    };
    let text = printed.join("\n");
    assert!(text.contains(folio::demo::PASSWORD), "{text}");
    let body: Value = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": STORIES }))
        .send()
        .await
        .expect("the router answers")
        .json()
        .await
        .expect("JSON");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        body["data"]["newContents"]["totalCount"],
        json!(10),
        "{body}"
    );
}
