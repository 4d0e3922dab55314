//! Demo data (`folio demo`, `folio serve --demo`): what a newcomer sees after it, through
//! the router, and what the commands print.

use folio_testkit::process::{Served, folio_command};
use folio_testkit::{TestApp, eventually};
use serde_json::{Value, json};
use std::process::Stdio;

const STORIES: &str = "{ newContents(first: 20) { totalCount nodes { title tags \
    author { firstName lastName } likeCount readCount commentCount image { url } } } }";

#[tokio::test]
async fn demo_data_fills_every_subgraph_through_the_api() {
    let app = TestApp::spawn().await;
    let users = folio_users::init(&app.cfg).await.expect("users service");
    assert!(folio::demo::is_empty(&users).await.expect("counted"));
    let report = folio::demo::seed(&app.cfg, &users, &app.url)
        .await
        .expect("seeded");
    assert!(!folio::demo::is_empty(&users).await.expect("counted"));
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

/// `folio <args>` on `data`, logging at info.
fn folio(data: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = folio_command(env!("CARGO_BIN_EXE_folio"), data, args);
    cmd.env("FOLIO_LOG", "info");
    cmd
}

/// `folio serve --demo` on `data`, every service on a free port, up.
fn serve_demo(data: &std::path::Path) -> Served {
    let bin = env!("CARGO_BIN_EXE_folio");
    Served::start(
        bin,
        data,
        &["--demo"],
        &[("FOLIO_LOG", "info")],
        Stdio::null(),
    )
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
    let served = serve_demo(dir.path());
    assert_eq!(
        served.printed,
        vec!["--demo: the platform already has users; no demo data added".to_owned()]
    );
    assert!(
        served.url.starts_with("http://127.0.0.1:"),
        "{}",
        served.url
    );
    let body = stories(&served.url).await;
    assert_eq!(
        body["data"]["newContents"]["totalCount"],
        json!(10),
        "{body}"
    );
}

async fn stories(url: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": STORIES }))
        .send()
        .await
        .expect("the router answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn serve_demo_fills_an_empty_platform_and_it_serves_the_stories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = serve_demo(dir.path());
    let text = served.printed.join("\n");
    assert!(text.contains(folio::demo::PASSWORD), "{text}");
    let body = stories(&served.url).await;
    assert_eq!(
        body["data"]["newContents"]["totalCount"],
        json!(10),
        "{body}"
    );
}

#[tokio::test]
async fn commands_say_what_they_did_on_stdout_whatever_the_log_level() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let mut cmd = folio_command(env!("CARGO_BIN_EXE_folio"), dir.path(), args);
        cmd.env("FOLIO_LOG", "warn")
            .env("FOLIO_ADMIN_PASSWORD", "a long admin password");
        let out = cmd.output().expect("folio runs");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let migrated = run(&["migrate"]);
    for subgraph in folio::platform::subgraph_names() {
        assert!(
            migrated.contains(&format!("{subgraph}: database migrated")),
            "{migrated}"
        );
    }
    let created = run(&["admin", "create", "--email", "root@example.com"]);
    assert!(
        created.starts_with("admin ready: root@example.com (id "),
        "{created}"
    );
}
