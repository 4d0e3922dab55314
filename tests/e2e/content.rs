//! The content subgraph through the router: create, read (with views), update, delete,
//! lists, and the joins with users in both directions.

use folio_testkit::{TestApp, assert_ok, code, field, node_ids};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

const CREATE: &str = "mutation($i: CreateContentInput!) { createContent(input: $i) {
    id title description story tags viewCount publishedAt updatedAt author { id firstName } } }";

#[tokio::test]
async fn create_content_makes_the_viewer_the_author() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app.create_content_body(&ada,
        json!({ "title": " Hello ", "description": "", "story": "Once upon a time", "tags": ["Rust", "web-dev", "rust"] }),
    )
    .await;
    assert_eq!(code(&body), "", "{body}");
    let c = &body["data"]["createContent"];
    assert_eq!(c["title"], json!("Hello"));
    assert_eq!(c["description"], Value::Null);
    assert_eq!(c["tags"], json!(["rust", "web-dev"]));
    assert_eq!(c["viewCount"], json!(0));
    assert_eq!(
        c["author"],
        json!({ "id": ada.id, "firstName": "Test" }),
        "the author comes from users"
    );
    assert!(c["publishedAt"].as_str().is_some_and(|t| t.ends_with('Z')));

    let anonymous = app
        .gql(None, CREATE, json!({ "i": { "title": "x", "story": "y" } }))
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    app.stop().await;
}

#[tokio::test]
async fn bad_content_input_names_its_field() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let cases = [
        (json!({ "title": "  ", "story": "s" }), "title"),
        (json!({ "title": "t".repeat(201), "story": "s" }), "title"),
        (json!({ "title": "t", "story": "" }), "story"),
        (
            json!({ "title": "t", "story": "s".repeat(100_001) }),
            "story",
        ),
        (
            json!({ "title": "t", "story": "s", "description": "d".repeat(1_001) }),
            "description",
        ),
        (
            json!({ "title": "t", "story": "s", "tags": ["no spaces"] }),
            "tags",
        ),
        (
            json!({ "title": "t", "story": "s", "tags": eleven }),
            "tags",
        ),
    ];
    for (input, expected) in cases {
        let body = app.create_content_body(&ada, input).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(field(&body), expected, "{body}");
    }
    let list = app
        .gql(
            Some(&ada.access_token),
            "{ contents { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["contents"]["totalCount"],
        json!(0),
        "nothing half-written: {list}"
    );
    app.stop().await;
}

#[tokio::test]
async fn reading_a_content_counts_a_view_atomically() {
    // Fetch sharing is on (the default), but `content(id:)` is `@sideEffect`: identical
    // reads in flight at the same moment, by one anonymous client, each count.
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let id = app.create_content(&ada, "Counted").await;
    let read = "query($id: ID!) { content(id: $id) { viewCount } }";
    for expected in 1..=3 {
        let body = app.gql(None, read, json!({ "id": id })).await;
        assert_eq!(
            body["data"]["content"]["viewCount"],
            json!(expected),
            "{body}"
        );
    }
    let reads = (0..20).map(|_| app.gql(None, read, json!({ "id": id })));
    let bodies = futures_util::future::join_all(reads).await;
    let mut seen: Vec<i64> = bodies
        .iter()
        .filter_map(|b| b["data"]["content"]["viewCount"].as_i64())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (4..=23).collect::<Vec<_>>(),
        "every concurrent read got its own count"
    );
    let unknown = app.gql(None, read, json!({ "id": "nope" })).await;
    assert_eq!(unknown["data"]["content"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn only_the_author_or_an_admin_may_change_a_content() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let admin = app.admin("root@example.com", "admin password").await;
    let id = app.create_content(&ada, "Mine").await;
    let update = "mutation($id: ID!, $i: UpdateContentInput!) { updateContent(id: $id, input: $i) { title story viewCount } }";
    let delete = "mutation($id: ID!) { deleteContent(id: $id) }";

    let body = app
        .gql(
            Some(&bob.access_token),
            update,
            json!({ "id": id, "i": { "title": "Bob's" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql(Some(&bob.access_token), delete, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql(
            Some(&ada.access_token),
            update,
            json!({ "id": "nope", "i": { "title": "x" } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = app
        .gql(
            Some(&ada.access_token),
            update,
            json!({ "id": id, "i": { "title": null } }),
        )
        .await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "title"),
        "{body}"
    );

    // Views survive a title edit and are reset by a story edit.
    app.gql(
        None,
        "query($id: ID!) { content(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let body = app
        .gql(
            Some(&admin.access_token),
            update,
            json!({ "id": id, "i": { "title": "Edited by admin" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateContent"],
        json!({ "title": "Edited by admin", "story": "The story of Mine", "viewCount": 1 }),
        "{body}"
    );
    let body = app
        .gql(
            Some(&ada.access_token),
            update,
            json!({ "id": id, "i": { "story": "A new story" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateContent"]["viewCount"],
        json!(0),
        "{body}"
    );

    let body = app
        .gql(Some(&ada.access_token), delete, json!({ "id": id }))
        .await;
    assert_eq!(body["data"]["deleteContent"], json!(true), "{body}");
    let body = app
        .gql(Some(&ada.access_token), delete, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let gone = app
        .gql(
            None,
            "query($id: ID!) { content(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(gone["data"]["content"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn lists_are_newest_first_and_join_users_both_ways() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let mut ada_ids = Vec::new();
    for i in 0..5 {
        ada_ids.push(app.create_content(&ada, &format!("Ada {i}")).await);
    }
    app.create_content(&bob, "Bob 0").await;

    let body = app
        .gql(None, "query($a: ID) { contents(authorId: $a, first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { title author { id } } } }", json!({ "a": ada.id }))
        .await;
    let page = &body["data"]["contents"];
    assert_eq!(page["totalCount"], json!(5), "{body}");
    assert_eq!(
        page["nodes"],
        json!([{ "title": "Ada 4", "author": { "id": ada.id } }, { "title": "Ada 3", "author": { "id": ada.id } }])
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));

    let body = app
        .gql(
            None,
            "{ newContents(first: 10) { totalCount nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["newContents"]["totalCount"],
        json!(6),
        "{body}"
    );
    assert_eq!(
        body["data"]["newContents"]["nodes"][0],
        json!({ "title": "Bob 0" })
    );

    // users → content: a user's contents come from the content subgraph.
    let body = app
        .gql(None, "query($id: ID!) { user(id: $id) { firstName contents(first: 1) { totalCount nodes { title } } } }", json!({ "id": ada.id }))
        .await;
    assert_eq!(
        body["data"]["user"],
        json!({ "firstName": "Test", "contents": { "totalCount": 5, "nodes": [{ "title": "Ada 4" }] } }),
        "{body}"
    );
    let body = app
        .gql(None, "{ contents(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "first"),
        "{body}"
    );
    app.stop().await;
}

const FEED: &str = "query($id: ID!, $first: Int, $after: String) { user(id: $id) {
    feed(first: $first, after: $after) {
        totalCount nodes { id title author { id } } pageInfo { hasNextPage endCursor } } } }";

#[tokio::test]
async fn feed_shows_followed_users_content_newest_first() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let cy = app.register("cy@example.com", PASSWORD).await;
    let dan = app.register("dan@example.com", PASSWORD).await;

    let empty = app.feed(&ada, None, None).await;
    assert_eq!(empty["totalCount"], json!(0), "{empty}");
    assert_eq!(node_ids(&empty), Vec::<String>::new());

    assert_ok(&app.follow(&ada, &bob.id).await);
    assert_ok(&app.follow(&ada, &cy.id).await);
    let b1 = app.create_content(&bob, "bob one").await;
    app.create_content(&ada, "ada's own").await;
    let c1 = app.create_content(&cy, "cy one").await;
    app.create_content(&dan, "dan one").await;
    let b2 = app.create_content(&bob, "bob two").await;

    let all = app.feed(&ada, None, None).await;
    assert_eq!(
        node_ids(&all),
        vec![b2.clone(), c1.clone(), b1.clone()],
        "{all}"
    );
    assert_eq!(all["totalCount"], json!(3));
    assert_eq!(all["nodes"][0]["author"]["id"], json!(bob.id));

    let first = app.feed(&ada, Some(2), None).await;
    assert_eq!(node_ids(&first), vec![b2.clone(), c1.clone()]);
    assert_eq!(first["totalCount"], json!(3));
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    let cursor = first["pageInfo"]["endCursor"].as_str().expect("cursor");
    let rest = app.feed(&ada, Some(2), Some(cursor)).await;
    assert_eq!(node_ids(&rest), vec![b1.clone()]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], json!(false));

    let me = app
        .gql(
            Some(&ada.access_token),
            "{ me { feed { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&me), "", "{me}");
    assert_eq!(me["data"]["me"]["feed"]["totalCount"], json!(3));

    // bob's content leaves ada's feed whoever blocks whom.
    assert_ok(&app.block(&bob, &ada.id).await);
    let after_block = app.feed(&ada, None, None).await;
    assert_eq!(node_ids(&after_block), vec![c1.clone()], "{after_block}");
    assert_eq!(after_block["totalCount"], json!(1));
    assert_ok(&app.unblock(&bob, &ada.id).await);
    assert_ok(&app.block(&ada, &cy.id).await);
    let none = app.feed(&ada, None, None).await;
    assert_eq!(none["totalCount"], json!(0), "{none}");
    app.stop().await;
}

#[tokio::test]
async fn only_the_user_themself_reads_their_feed() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    assert_ok(&app.follow(&bob, &ada.id).await);
    app.create_content(&ada, "ada one").await;

    let as_ada = app
        .gql(
            Some(&ada.access_token),
            FEED,
            json!({ "id": bob.id, "first": null, "after": null }),
        )
        .await;
    assert_eq!(code(&as_ada), "FORBIDDEN", "{as_ada}");

    let anonymous = app
        .gql(
            None,
            FEED,
            json!({ "id": bob.id, "first": null, "after": null }),
        )
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");

    let hidden = app
        .gql(
            Some(&bob.access_token),
            "query($id: ID!) { user(id: $id) { feedAuthorIds } }",
            json!({ "id": bob.id }),
        )
        .await;
    assert_ne!(
        code(&hidden),
        "",
        "feedAuthorIds is not in the API: {hidden}"
    );
    assert!(hidden.get("data").is_none_or(|d| d.is_null()), "{hidden}");

    let own = app.feed(&bob, None, None).await;
    assert_eq!(own["totalCount"], json!(1), "{own}");
    app.stop().await;
}

const IMPORT: &str = "mutation($f: Upload!) { importContentsCsv(file: $f) { created failed errors { line message } } }";

#[tokio::test]
async fn a_csv_import_creates_every_row_or_none() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let csv = "tags,title,story,description\nrust|Web,First,\"Once,\nupon\",\n,Second,Two,about\n,Third,Three,\n";
    let body = app.import_csv(&ada, csv).await;
    assert_eq!(
        body["data"]["importContentsCsv"],
        json!({ "created": 3, "failed": 0, "errors": [] }),
        "{body}"
    );
    let list = app
        .gql(
            None,
            "{ contents(first: 10) { nodes { title description tags author { id } } } }",
            json!({}),
        )
        .await;
    let nodes = list["data"]["contents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(nodes.len(), 3, "{list}");
    let first = nodes
        .iter()
        .find(|n| n["title"] == json!("First"))
        .expect("First");
    assert_eq!(first["tags"], json!(["rust", "web"]));
    assert_eq!(first["description"], Value::Null);
    assert_eq!(first["author"]["id"], json!(ada.id));

    // The last row is bad: nothing is created, and its line (after a two-line record) is named.
    let csv = "title,story\nA,\"one\ntwo\"\nB,ok\n,ok\n";
    let body = app.import_csv(&ada, csv).await;
    assert_eq!(
        body["data"]["importContentsCsv"],
        json!({ "created": 0, "failed": 1, "errors": [{ "line": 5, "message": "title: must not be empty" }] }),
        "{body}"
    );
    assert_eq!(app.content_count().await, 3, "nothing more was created");
    app.stop().await;
}

/// The bulk path (batches of `INSERT_CHUNK` rows written as they arrive, their events as
/// claims) is still one transaction: when the last row is bad, the batches already
/// written and their outbox rows are rolled back, on whichever database the suite runs.
#[tokio::test]
async fn a_bad_last_row_after_bulk_batches_leaves_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let good = 2 * folio_content::store::INSERT_CHUNK + 500;
    let mut csv = String::from("title,story,tags\n");
    for i in 0..good {
        csv.push_str(&format!("Title {i},Story number {i},bulk\n"));
    }
    csv.push_str(",the last row has no title,bulk\n");
    let body = app.import_csv(&ada, &csv).await;
    let last_line = good as u64 + 2;
    assert_eq!(
        body["data"]["importContentsCsv"],
        json!({ "created": 0, "failed": 1, "errors": [{ "line": last_line, "message": "title: must not be empty" }] }),
        "{body}"
    );
    assert_eq!(app.content_count().await, 0, "no row was kept");
    assert_eq!(app.count_rows("content", "contents").await, 0);
    assert!(
        app.outbox("content").await.is_empty(),
        "no event was kept for the rolled-back rows"
    );
    // The same file without its bad row goes in whole.
    let fixed = csv
        .strip_suffix(",the last row has no title,bulk\n")
        .expect("the bad row ends the file");
    let body = app.import_csv(&ada, fixed).await;
    assert_eq!(
        body["data"]["importContentsCsv"],
        json!({ "created": good, "failed": 0, "errors": [] }),
        "{body}"
    );
    assert_eq!(app.content_count().await, good as i64);
    app.stop().await;
}

#[tokio::test]
async fn a_csv_import_names_another_author_only_as_an_admin() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let admin = app.admin("root@example.com", "admin password").await;
    let csv = format!("title,story,author_id\nMine,ok,\nBob's,ok,{}\n", bob.id);

    let body = app.import_csv(&ada, &csv).await;
    let report = &body["data"]["importContentsCsv"];
    assert_eq!(report["created"], json!(0), "{body}");
    assert_eq!(report["errors"][0]["line"], json!(3), "{body}");
    assert_eq!(app.content_count().await, 0);

    let body = app.import_csv(&admin, &csv).await;
    assert_eq!(
        body["data"]["importContentsCsv"]["created"],
        json!(2),
        "{body}"
    );
    let bobs = app
        .gql(
            None,
            "query($a: ID!) { contents(authorId: $a) { nodes { title } } }",
            json!({ "a": bob.id }),
        )
        .await;
    assert_eq!(
        bobs["data"]["contents"]["nodes"],
        json!([{ "title": "Bob's" }]),
        "{bobs}"
    );

    let (_, anonymous) = app
        .post_multipart(
            None,
            folio_testkit::upload_form(
                IMPORT,
                json!({}),
                csv.into_bytes(),
                "contents.csv",
                "text/csv",
            ),
        )
        .await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    app.stop().await;
}

#[tokio::test]
async fn a_page_of_contents_fetches_its_authors_in_one_request() {
    let app = TestApp::spawn().await;
    let mut authors = Vec::new();
    for name in ["ada", "bob", "cy", "dan", "eve"] {
        let who = app.register(&format!("{name}@example.com"), PASSWORD).await;
        let mut csv = String::from("title,story\n");
        for i in 0..20 {
            csv.push_str(&format!("{name} {i},A story by {name}.\n"));
        }
        let body = app.import_csv(&who, &csv).await;
        assert_eq!(
            body["data"]["importContentsCsv"]["created"],
            json!(20),
            "{body}"
        );
        authors.push(who.id);
    }

    let users_before = app.subgraph_fetches("users").await;
    let content_before = app.subgraph_fetches("content").await;
    let body = app
        .gql(
            None,
            "{ contents(first: 100) { edges { node { title author { id firstName } } } } }",
            json!({}),
        )
        .await;
    let users_after = app.subgraph_fetches("users").await;
    let content_after = app.subgraph_fetches("content").await;

    assert_eq!(code(&body), "", "{body}");
    let edges = body["data"]["contents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(edges.len(), 100, "{body}");
    let mut seen: Vec<&str> = edges
        .iter()
        .map(|e| {
            let author = &e["node"]["author"];
            assert_eq!(author["firstName"], json!("Test"), "{e}");
            author["id"].as_str().expect("author id")
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let mut expected: Vec<&str> = authors.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(seen, expected, "the page holds all five authors");
    assert_eq!(content_after - content_before, 1, "one fetch for the page");
    assert_eq!(
        users_after - users_before,
        1,
        "one _entities fetch for all 100 authors, not one per item or per author"
    );
    app.stop().await;
}
