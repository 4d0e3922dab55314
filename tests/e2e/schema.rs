//! Golden SDL files: each subgraph's federation SDL is checked in, and its drift fails.
//!
//! On a difference the test rewrites the golden file and fails, so the change shows up
//! in `git diff` for review (the way async-graphql's own federation tests work).

use folio_testkit::TestApp;
use serde_json::json;
use std::path::Path;

fn check_golden(relative: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        std::fs::write(&path, actual).expect("rewrite the golden file");
        panic!(
            "{relative} was out of date and has been rewritten: review `git diff {relative}` and commit it"
        );
    }
}

#[test]
fn users_sdl_matches_its_golden_file() {
    check_golden(
        "subgraphs/users/schema.graphql",
        &folio_users::schema::sdl(),
    );
}

#[test]
fn content_sdl_matches_its_golden_file() {
    check_golden(
        "subgraphs/content/schema.graphql",
        &folio_content::schema::sdl(),
    );
}

#[test]
fn interactions_sdl_matches_its_golden_file() {
    check_golden(
        "subgraphs/interactions/schema.graphql",
        &folio_interactions::schema::sdl(),
    );
}

#[test]
fn search_sdl_matches_its_golden_file() {
    check_golden(
        "subgraphs/search/schema.graphql",
        &folio_search::schema::sdl(),
    );
}

#[test]
fn shop_sdl_matches_its_golden_file() {
    check_golden("subgraphs/shop/schema.graphql", &folio_shop::schema::sdl());
}

#[test]
fn media_sdl_matches_its_golden_file() {
    check_golden(
        "subgraphs/media/schema.graphql",
        &folio_media::schema::sdl(),
    );
}

#[tokio::test]
async fn users_subgraph_serves_its_golden_sdl() {
    let app = TestApp::spawn().await;
    let body: serde_json::Value = app
        .client
        .post(&app.users_url)
        .json(&json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .expect("users subgraph answers")
        .json()
        .await
        .expect("json");
    let live = body["data"]["_service"]["sdl"].as_str().expect("an SDL");
    let golden = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("subgraphs/users/schema.graphql"),
    )
    .expect("golden file");
    assert_eq!(live, golden, "the live SDL differs from the golden file");
    app.stop().await;
}
