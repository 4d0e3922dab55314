//! The search subgraph through the router: `searchContents` answered from the tantivy
//! index that content and user events feed. The index follows writes a moment after they
//! commit, so each expectation is waited for (up to `PATIENCE`); how long that moment is, the
//! content bench measures.

use folio_testkit::{PATIENCE, Session, TestApp, code, field, node_ids};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

const SEARCH: &str = "query($q: String!, $first: Int, $after: String) {
    searchContents(query: $q, first: $first, after: $after) {
        totalCount nodes { id title } pageInfo { hasNextPage endCursor } } }";

/// Waits until searching `q` finds exactly `ids`, in this order.
async fn until_found(app: &TestApp, q: &str, ids: &[&str]) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let found = app.search_contents(q, None, None).await;
        if node_ids(&found) == ids && found["totalCount"] == json!(ids.len()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "searching {q:?} should find {ids:?}; it finds {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn create(app: &TestApp, who: &Session, input: Value) -> String {
    let body = app.create_content_body(who, input).await;
    assert_eq!(code(&body), "", "{body}");
    body["data"]["createContent"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// `who` reads `content` (recordRead), asserting it succeeds.
async fn read(app: &TestApp, who: &Session, content: &str) {
    let body = app
        .gql(
            Some(&who.access_token),
            "mutation($c: ID!) { recordRead(contentId: $c) { id } }",
            json!({ "c": content }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
}

/// `who` deletes `content`, asserting it succeeds.
async fn delete(app: &TestApp, who: &Session, content: &str) {
    let body = app
        .gql(
            Some(&who.access_token),
            "mutation($id: ID!) { deleteContent(id: $id) }",
            json!({ "id": content }),
        )
        .await;
    assert_eq!(body["data"]["deleteContent"], json!(true), "{body}");
}

#[tokio::test]
async fn search_ranks_title_matches_first_and_follows_writes() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let story_only = create(&app, &ada,
        json!({ "title": "Other things", "story": "A long tale about Ferris the crab and friends." }),
    )
    .await;
    let in_title = create(
        &app,
        &ada,
        json!({ "title": "Ferris goes home", "story": "Nothing to see." }),
    )
    .await;
    let tagged = create(&app, &ada,
        json!({ "title": "Tagged", "story": "Plain.", "description": "Short", "tags": ["Async-IO"] }),
    )
    .await;

    // A title match ranks above a story-only match, case-insensitively.
    until_found(&app, "fErRiS", &[&in_title, &story_only]).await;
    let found = app.search_contents("ferris", None, None).await;
    assert_eq!(
        found["nodes"][0]["title"],
        json!("Ferris goes home"),
        "{found}"
    );
    // Words match by stem; tag words and the description are searched too.
    until_found(&app, "crabs", &[&story_only]).await;
    until_found(&app, "async", &[&tagged]).await;
    until_found(&app, "short", &[&tagged]).await;

    let update = "mutation($id: ID!, $i: UpdateContentInput!) { updateContent(id: $id, input: $i) { title } }";
    let body = app
        .gql(
            Some(&ada.access_token),
            update,
            json!({ "id": tagged, "i": { "title": "Zebra crossing" } }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    until_found(&app, "zebra", &[&tagged]).await;
    until_found(&app, "tagged", &[]).await;

    let delete = "mutation($id: ID!) { deleteContent(id: $id) }";
    let body = app
        .gql(Some(&ada.access_token), delete, json!({ "id": in_title }))
        .await;
    assert_eq!(body["data"]["deleteContent"], json!(true), "{body}");
    until_found(&app, "ferris", &[&story_only]).await;
    app.stop().await;
}

#[tokio::test]
async fn phrases_tags_authors_and_a_trailing_prefix() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Lovelace", json!({}))
        .await;
    let engine = create(
        &app,
        &ada,
        json!({
        "title": "The analytical engine", "story": "Programming a machine that weaves patterns.",
        "tags": ["history", "computing"] }),
    )
    .await;
    let loom = create(
        &app,
        &bob,
        json!({
        "title": "Looms", "story": "A machine that weaves cloth, then analytical thought about it.",
        "tags": ["craft"] }),
    )
    .await;
    // BM25: the shorter text (title and story) first.
    until_found(&app, "machine weaves", &[&engine, &loom]).await;

    // A phrase: the words next to each other, in order.
    until_found(&app, "\"analytical engine\"", &[&engine]).await;
    until_found(&app, "\"engine analytical\"", &[]).await;
    // A whole tag; a tag's part is not the tag.
    until_found(&app, "tag:computing machine", &[&engine]).await;
    until_found(&app, "tag:COMPUTING", &[&engine]).await;
    until_found(&app, "tag:comp", &[]).await;
    // An author's first or last name, whole, any case.
    until_found(&app, "machine author:ada", &[&engine]).await;
    until_found(&app, "author:LOVELACE weaves", &[&engine, &loom]).await;
    until_found(&app, "author:ad", &[]).await;
    // The last bare word is a prefix too; an earlier one is not.
    until_found(&app, "progr", &[&engine]).await;
    until_found(&app, "progr machine", &[]).await;

    // A rename reaches author: without touching a document.
    let rename =
        "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { firstName } }";
    let body = app
        .gql(
            Some(&bob.access_token),
            rename,
            json!({ "id": bob.id, "i": { "firstName": "Robert" } }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    until_found(&app, "author:robert", &[&loom]).await;
    until_found(&app, "author:bob", &[]).await;
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_users_contents_leave_the_index() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let kept = create(&app, &ada, json!({ "title": "Shared words", "story": "x" })).await;
    let gone = create(
        &app,
        &bob,
        json!({ "title": "Shared words too", "story": "x" }),
    )
    .await;
    // BM25: the shorter title first.
    until_found(&app, "shared", &[&kept, &gone]).await;
    let body = app
        .gql(
            Some(&bob.access_token),
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": bob.id }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    until_found(&app, "shared", &[&kept]).await;
    app.stop().await;
}

#[tokio::test]
async fn search_survives_hostile_input_and_codes_bad_syntax() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let id = app.create_content(&ada, "Drop table talk").await;
    until_found(&app, "drop table", &[&id]).await;
    for hostile in [
        "\"; DROP TABLE contents; --\"",
        "title:*) OR (",
        "*",
        "'",
        "a\u{0}b",
        "NEAR(x y) AND NOT -z",
        "!!! & | <-> :*",
        ".*",
        "[[[(((",
    ] {
        let found = app.search_contents(hostile, None, None).await;
        assert!(
            found["totalCount"].as_i64().is_some(),
            "{hostile:?}: {found}"
        );
    }
    for (bad, why) in [
        ("\"drop table", "closing"),
        ("drop tag:", "tag:"),
        ("author: drop", "author:"),
    ] {
        let body = app.gql(None, SEARCH, json!({ "q": bad })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad:?}: {body}");
        assert_eq!(field(&body), "query", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{bad:?}: {message}");
    }
    for empty in ["", "   \t"] {
        let body = app.gql(None, SEARCH, json!({ "q": empty })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(field(&body), "query", "{body}");
    }
    for after in ["garbage", "YzE6OTk5OTk5OTk"] {
        let body = app
            .gql(None, SEARCH, json!({ "q": "drop", "after": after }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{after}: {body}");
        assert_eq!(field(&body), "after", "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn search_pages_through_every_match_newest_first_on_ties() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(app.create_content(&ada, &format!("Paging story {i}")).await);
    }
    app.create_content(&ada, "Unrelated").await;
    created.reverse();
    let newest_first: Vec<&str> = created.iter().map(String::as_str).collect();
    until_found(&app, "paging", &newest_first).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .search_contents("paging", Some(2), after.as_deref())
            .await;
        assert_eq!(page["totalCount"], json!(5), "{page}");
        seen.extend(node_ids(&page));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, created, "equal ranks come newest first, each once");
    app.stop().await;
}

/// `searchContents` is non-null in the contract, so when search cannot answer, GraphQL's
/// null propagation takes the whole `data` with it; the error names search alone, and
/// whatever does not ask search goes on working.
#[tokio::test]
async fn search_down_fails_search_alone() {
    let dead_addr = folio_testkit::dead_addr().await;
    let app = TestApp::spawn_with(|cfg| {
        cfg.service_mut("search").url = Some(format!("http://{dead_addr}/graphql"));
    })
    .await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    app.create_content(&ada, "Still listed").await;
    let body = app
        .gql(
            None,
            "{ contents(first: 5) { nodes { title } } searchContents(query: \"listed\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(code(&body), "SUBGRAPH_UNAVAILABLE", "{body}");
    assert_eq!(
        errors[0]["extensions"]["service"],
        json!("search"),
        "{body}"
    );
    let body = app
        .gql(
            None,
            "{ contents(first: 5) { nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["contents"]["nodes"],
        json!([{ "title": "Still listed" }]),
        "{body}"
    );
    app.stop().await;
}

/// A CSV import's contents travel as `content.imported` events of many contents each,
/// recorded as claims and filled in by the relay; search indexes every one of them
/// (title and story) and interactions learns every one.
#[tokio::test]
async fn an_imports_contents_are_searchable_and_known_to_interactions() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    const ROWS: usize = 600;
    const LAST: usize = ROWS - 1;
    let filler = "words of a story that go on and on ".repeat(30);
    let mut csv = String::from("title,story\n");
    for i in 0..ROWS {
        let (title, story) = match i {
            7 => ("Quokka at dawn".to_owned(), filler.clone()),
            LAST => (format!("Row {i}"), format!("{filler} a wombat digs")),
            _ => (format!("Row {i}"), filler.clone()),
        };
        csv.push_str(&format!("{title},\"{story}\"\n"));
    }
    let report = app.import_csv(&ada, &csv).await;
    assert_eq!(
        report["data"]["importContentsCsv"]["created"],
        json!(ROWS),
        "{report}"
    );
    // More than one event, fewer than one per row.
    let imported: Vec<_> = app
        .outbox("content")
        .await
        .into_iter()
        .filter(|(e, _)| e.kind == "content.imported")
        .collect();
    assert!(
        imported.len() > 1 && imported.len() < ROWS / 10,
        "{} content.imported events for {ROWS} rows",
        imported.len()
    );
    // The outbox holds them as claims (their contents' ids), not the contents: the
    // relay fills each in as it publishes it, which is what search and interactions see.
    let claimed: usize = imported
        .iter()
        .map(|(e, _)| {
            let data = e.data.value();
            assert!(data.get("contents").is_none(), "{data}");
            data["contentIds"].as_array().expect("content ids").len()
        })
        .sum();
    assert_eq!(claimed, ROWS);
    // The first event's contents and the last one's are searchable.
    let found_alone = |q: &'static str| {
        let app = &app;
        async move {
            let deadline = std::time::Instant::now() + PATIENCE;
            loop {
                let found = app.search_contents(q, None, None).await;
                if let [id] = node_ids(&found).as_slice() {
                    return id.clone();
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "searching {q:?} should find one imported content; it finds {found}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    let first = found_alone("quokka").await;
    let last = found_alone("wombat").await;
    assert_ne!(first, last);
    folio_testkit::eventually("interactions knows every imported content", || async {
        app.count_rows("interactions", "content_stats").await == ROWS as i64
    })
    .await;
    app.stop().await;
}

const SUGGEST: &str = "query($p: String!, $first: Int) { suggest(prefix: $p, first: $first) {
    kind text content { id title } author { id firstName lastName } } }";

/// `suggest(prefix)` as `(kind, text)` pairs, asserting it succeeds.
async fn suggested(app: &TestApp, prefix: &str) -> Vec<(String, String)> {
    let body = app.gql(None, SUGGEST, json!({ "p": prefix })).await;
    body["data"]["suggest"]
        .as_array()
        .unwrap_or_else(|| panic!("suggestions for {prefix:?}: {body}"))
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().expect("a kind").to_owned(),
                s["text"].as_str().expect("a text").to_owned(),
            )
        })
        .collect()
}

/// Waits until `suggest(prefix)` answers exactly `want`, in this order.
async fn until_suggested(app: &TestApp, prefix: &str, want: &[(&str, &str)]) {
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
        .collect();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let got = suggested(app, prefix).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "suggest({prefix:?}) should be {want:?}; it is {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn suggestions_complete_titles_tags_and_authors_most_read_first() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Rustad", json!({}))
        .await;
    let carol = app.register("carol@example.com", PASSWORD).await;
    let dan = app.register("dan@example.com", PASSWORD).await;
    let old = create(
        &app,
        &ada,
        json!({ "title": "Rust in action", "story": "Ownership.", "tags": ["Lang"] }),
    )
    .await;
    let new = create(
        &app,
        &ada,
        json!({ "title": "Rusty nails", "story": "A shed.", "tags": ["diy"] }),
    )
    .await;
    // Nobody read either: the newer first; bob has published nothing, so his name is
    // not offered although it starts with "rust".
    until_suggested(
        &app,
        "RU",
        &[("TITLE", "Rusty nails"), ("TITLE", "Rust in action")],
    )
    .await;
    // Two readers of the older one put it (and its tag, and its author) first.
    for reader in [&carol, &dan] {
        read(&app, reader, &old).await;
    }
    until_suggested(
        &app,
        "rust",
        &[("TITLE", "Rust in action"), ("TITLE", "Rusty nails")],
    )
    .await;
    until_suggested(&app, "la", &[("TAG", "lang")]).await;
    // A suggestion opens its content and names its author, resolved by content and users.
    let body = app
        .gql(None, SUGGEST, json!({ "p": "rust i", "first": 1 }))
        .await;
    assert_eq!(
        body["data"]["suggest"],
        json!([{ "kind": "TITLE", "text": "Rust in action",
                 "content": { "id": old, "title": "Rust in action" },
                 "author": { "id": ada.id, "firstName": "Ada", "lastName": "Lovelace" } }]),
        "{body}"
    );
    let body = app.gql(None, SUGGEST, json!({ "p": "lov" })).await;
    assert_eq!(
        body["data"]["suggest"],
        json!([{ "kind": "AUTHOR", "text": "Ada Lovelace", "content": null,
                 "author": { "id": ada.id, "firstName": "Ada", "lastName": "Lovelace" } }]),
        "{body}"
    );
    let body = app.gql(None, SUGGEST, json!({ "p": "la" })).await;
    assert_eq!(
        body["data"]["suggest"],
        json!([{ "kind": "TAG", "text": "lang", "content": null, "author": null }]),
        "{body}"
    );
    // Once bob publishes, his name is offered too: after the read title, and before
    // the unread one, being newer.
    create(&app, &bob, json!({ "title": "Fjords", "story": "Cold." })).await;
    until_suggested(
        &app,
        "rust",
        &[
            ("TITLE", "Rust in action"),
            ("AUTHOR", "Bob Rustad"),
            ("TITLE", "Rusty nails"),
        ],
    )
    .await;
    // A deleted content leaves the suggestions, with the tag only it had.
    delete(&app, &ada, &old).await;
    until_suggested(
        &app,
        "rust",
        &[("AUTHOR", "Bob Rustad"), ("TITLE", "Rusty nails")],
    )
    .await;
    until_suggested(&app, "la", &[]).await;
    let body = app.gql(None, SUGGEST, json!({ "p": "nails" })).await;
    assert_eq!(
        body["data"]["suggest"][0]["content"]["id"],
        json!(new),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn suggest_codes_a_bad_prefix_or_first() {
    let app = TestApp::spawn().await;
    for (prefix, first, bad) in [
        ("", 8, "prefix"),
        ("   ", 8, "prefix"),
        (&*"x".repeat(101), 8, "prefix"),
        ("ok", 21, "first"),
        ("ok", -1, "first"),
    ] {
        let body = app
            .gql(None, SUGGEST, json!({ "p": prefix, "first": first }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{prefix:?} {first}: {body}");
        assert_eq!(field(&body), bad, "{body}");
    }
    // At the limits, and text that is no word at all, answer (with nothing yet).
    for (prefix, first) in [(&*"x".repeat(100), 20), ("\"*%_", 8), ("ok", 0)] {
        let body = app
            .gql(None, SUGGEST, json!({ "p": prefix, "first": first }))
            .await;
        assert_eq!(body["data"]["suggest"], json!([]), "{prefix:?}: {body}");
    }
    app.stop().await;
}

/// A new replica starts from an empty index directory: with events in-process it reads
/// what exists from the content subgraph (over NATS it replays the stream), so it finds
/// and suggests what was written before it started, reads included.
#[tokio::test]
async fn a_fresh_replica_builds_its_index_from_what_exists() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let dawn = create(
        &app,
        &ada,
        json!({ "title": "Quokka dawn", "story": "Marsupials at sunrise.", "tags": ["fauna"] }),
    )
    .await;
    let unread = create(
        &app,
        &ada,
        json!({ "title": "Quokka dusk", "story": "And at dusk." }),
    )
    .await;
    let gone = create(
        &app,
        &ada,
        json!({ "title": "Quokka gone", "story": "Soon deleted." }),
    )
    .await;
    read(&app, &bob, &dawn).await;
    delete(&app, &ada, &gone).await;
    until_found(&app, "quokka", &[&unread, &dawn]).await;
    until_suggested(
        &app,
        "quo",
        &[("TITLE", "Quokka dawn"), ("TITLE", "Quokka dusk")],
    )
    .await;

    let replica = app.replica().await;
    until_found(&replica, "quokka", &[&unread, &dawn]).await;
    until_found(&replica, "tag:fauna", &[&dawn]).await;
    until_suggested(
        &replica,
        "quo",
        &[("TITLE", "Quokka dawn"), ("TITLE", "Quokka dusk")],
    )
    .await;
    until_suggested(&replica, "lovel", &[("AUTHOR", "Ada Lovelace")]).await;
    replica.stop().await;
    app.stop().await;
}

/// `folio search reindex` (the library function behind it), into an index directory of
/// its own: every content once, and again the same after a second run (it starts from
/// an empty index).
#[tokio::test]
async fn reindex_reads_every_content_page_by_page() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    // More than one page of the content subgraph's API.
    let n = folio_search::rebuild::PAGE + 7;
    let mut csv = String::from("title,story\n");
    for i in 0..n {
        csv.push_str(&format!("Row {i},Story {i}\n"));
    }
    let report = app.import_csv(&ada, &csv).await;
    assert_eq!(
        report["data"]["importContentsCsv"]["created"],
        json!(n),
        "{report}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = app.cfg.clone();
    cfg.search_index_dir = Some(dir.path().join("index"));
    for name in ["content", "interactions"] {
        cfg.service_mut(name).url = Some(app.subgraph_url(name));
    }
    for _ in 0..2 {
        let reindexed = folio_search::reindex(&cfg).await.expect("reindex");
        assert_eq!(reindexed, n as u64);
        let index = folio_search::index::SearchIndex::open(&folio_search::index_dir(&cfg))
            .expect("the rebuilt index opens");
        assert_eq!(index.len(), n as u64);
    }
    app.stop().await;
}
