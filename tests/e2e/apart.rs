//! The deployment shape: what only separate processes show (events crossing NATS between
//! processes, each service's URL and the shared identity secret). `tools/apart/run.sh`
//! (run by `.ci/run`) starts every service as its own `folio serve --only` process on
//! PostgreSQL (a schema each) and NATS, and runs these tests through that router
//! (`FOLIO_TEST_ROUTER_URL`); the rest of the time they run against a platform of their
//! own ([`TestApp::deployed`]). They share that router with each other: every name is
//! unique to the run.

use folio_testkit::{TestApp, eventually, upload_form};
use serde_json::{Value, json};

fn unique(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

/// A small PNG.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([x as u8 * 8, y as u8 * 10, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG");
    out.into_inner()
}

const CONTENT: &str = "query($id: ID!) { content(id: $id) { id title likeCount commentCount \
    author { firstName } image { url } } }";

async fn search_ids(app: &TestApp, word: &str) -> Vec<String> {
    let body = app
        .gql(
            None,
            "query($q: String!) { searchContents(query: $q, first: 5) { nodes { id } } }",
            json!({ "q": word }),
        )
        .await;
    body["data"]["searchContents"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_story_is_written_liked_commented_pictured_and_found_across_every_service() {
    let app = TestApp::deployed().await;
    let ada = app
        .register(&format!("{}@example.com", unique("ada")), "correct horse 1")
        .await;
    let bob = app
        .register(&format!("{}@example.com", unique("bob")), "correct horse 1")
        .await;
    // A word no other story of the run has, to find it by.
    let word = format!("zq{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let content = app
        .ok(
            &ada,
            "mutation($i: CreateContentInput!) { createContent(input: $i) { id } }",
            json!({ "i": { "title": format!("Apart {word}"), "story": "Across processes.", "tags": ["apart"] } }),
        )
        .await["createContent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.ok(
        &bob,
        "mutation($c: ID!) { like(contentId: $c) { id } }",
        json!({ "c": content }),
    )
    .await;
    app.ok(
        &bob,
        "mutation($c: ID!) { addComment(contentId: $c, body: \"Seen from afar\") { id } }",
        json!({ "c": content }),
    )
    .await;
    // The picture goes through the router to media, and comes back from it.
    let form = upload_form(
        "mutation($c: ID!, $f: Upload!) { setContentImage(contentId: $c, file: $f) { id } }",
        json!({ "c": content }),
        png(),
        "cover.png",
        "image/png",
    );
    let uploaded: Value = app
        .client
        .post(&app.url)
        .bearer_auth(&ada.access_token)
        .header("apollo-require-preflight", "true")
        .multipart(form)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert!(uploaded.get("errors").is_none(), "{uploaded}");

    let body = app.gql(None, CONTENT, json!({ "id": content })).await;
    let c = &body["data"]["content"];
    assert_eq!(c["likeCount"], json!(1), "{body}");
    assert_eq!(c["commentCount"], json!(1), "{body}");
    assert!(c["author"]["firstName"].is_string(), "{body}");
    let url = c["image"]["url"].as_str().expect("an image URL").to_owned();
    let absolute = if url.starts_with('/') {
        format!("{}{url}", app.base)
    } else {
        url
    };
    let picture = app.client.get(&absolute).send().await.expect("answered");
    assert_eq!(picture.status().as_u16(), 200, "{absolute}");

    // Search learns of it from content's event, over the bus.
    eventually("the story is searchable", || async {
        search_ids(&app, &word).await == vec![content.clone()]
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_user_leaves_no_story_behind_in_any_service() {
    let app = TestApp::deployed().await;
    let cy = app
        .register(&format!("{}@example.com", unique("cy")), "correct horse 1")
        .await;
    let word = format!("zq{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let content = app
        .ok(
            &cy,
            "mutation($i: CreateContentInput!) { createContent(input: $i) { id } }",
            json!({ "i": { "title": format!("Soon gone {word}"), "story": "Briefly here." } }),
        )
        .await["createContent"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    eventually("the story is searchable", || async {
        search_ids(&app, &word).await == vec![content.clone()]
    })
    .await;
    app.ok(
        &cy,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": cy.id }),
    )
    .await;
    // user.deleted crosses to content (which deletes the story) and search.
    eventually("the story and its index entry are gone", || async {
        let body = app.gql(None, CONTENT, json!({ "id": content })).await;
        body["data"]["content"].is_null() && search_ids(&app, &word).await.is_empty()
    })
    .await;
    app.stop().await;
}
