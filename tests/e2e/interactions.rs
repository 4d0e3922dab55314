//! The interactions subgraph through the router: reads, likes, comments, the counters
//! on `Content`, `contentRanking` and `topContents` built on it.

use folio_testkit::{TestApp, code, field};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

const LIKE: &str = "mutation($c: ID!) { like(contentId: $c) { id kind createdAt user { id firstName } content { id title } } }";
const READ: &str =
    "mutation($c: ID!) { recordRead(contentId: $c) { id kind user { id } content { id } } }";
const UNLIKE: &str = "mutation($c: ID!) { unlike(contentId: $c) }";
#[tokio::test]
async fn likes_and_reads_count_once_per_user() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Liked").await;

    let first = app
        .gql(Some(&bob.access_token), LIKE, json!({ "c": c }))
        .await;
    assert_eq!(code(&first), "", "{first}");
    let like = &first["data"]["like"];
    assert_eq!(like["kind"], json!("LIKE"));
    assert_eq!(like["user"], json!({ "id": bob.id, "firstName": "Test" }));
    assert_eq!(like["content"], json!({ "id": c, "title": "Liked" }));
    let again = app
        .gql(Some(&bob.access_token), LIKE, json!({ "c": c }))
        .await;
    assert_eq!(
        again["data"]["like"]["id"], like["id"],
        "a repeated like returns the first"
    );

    let read = app
        .gql(Some(&bob.access_token), READ, json!({ "c": c }))
        .await;
    assert_eq!(read["data"]["recordRead"]["kind"], json!("READ"), "{read}");
    let reread = app
        .gql(Some(&bob.access_token), READ, json!({ "c": c }))
        .await;
    assert_eq!(
        reread["data"]["recordRead"]["id"],
        read["data"]["recordRead"]["id"]
    );
    assert_ne!(read["data"]["recordRead"]["id"], like["id"]);

    assert_eq!(
        app.interaction_counts(Some(&bob), &c).await,
        json!({ "likeCount": 1, "readCount": 1, "commentCount": 0, "viewerHasRead": true, "viewerHasLiked": true })
    );
    assert_eq!(
        app.interaction_counts(Some(&ada), &c).await,
        json!({ "likeCount": 1, "readCount": 1, "commentCount": 0, "viewerHasRead": false, "viewerHasLiked": false })
    );
    assert_eq!(
        app.interaction_counts(None, &c).await["viewerHasLiked"],
        json!(false)
    );

    let unliked = app
        .gql(Some(&bob.access_token), UNLIKE, json!({ "c": c }))
        .await;
    assert_eq!(unliked["data"]["unlike"], json!(true), "{unliked}");
    let unliked = app
        .gql(Some(&bob.access_token), UNLIKE, json!({ "c": c }))
        .await;
    assert_eq!(unliked["data"]["unlike"], json!(false), "{unliked}");
    assert_eq!(
        app.interaction_counts(Some(&bob), &c).await,
        json!({ "likeCount": 0, "readCount": 1, "commentCount": 0, "viewerHasRead": true, "viewerHasLiked": false })
    );
    // A like after an unlike counts again.
    app.gql(Some(&bob.access_token), LIKE, json!({ "c": c }))
        .await;
    assert_eq!(
        app.interaction_counts(None, &c).await["likeCount"],
        json!(1)
    );
    app.stop().await;
}

#[tokio::test]
async fn interactions_need_a_viewer_and_an_existing_content() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Real").await;
    for op in [LIKE, READ, UNLIKE] {
        let anonymous = app.gql(None, op, json!({ "c": c })).await;
        assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
        for missing in ["0192f0c0-0000-7000-8000-000000000000", "", "nul\u{0}id"] {
            let body = app
                .gql(Some(&ada.access_token), op, json!({ "c": missing }))
                .await;
            assert_eq!(code(&body), "NOT_FOUND", "{op} on {missing:?}: {body}");
        }
    }
    let comment = app
        .gql(
            Some(&ada.access_token),
            "mutation($c: ID!) { addComment(contentId: $c, body: \"hi\") { id } }",
            json!({ "c": "0192f0c0-0000-7000-8000-000000000000" }),
        )
        .await;
    assert_eq!(code(&comment), "NOT_FOUND", "{comment}");
    // Nothing was counted for the real content.
    assert_eq!(
        app.interaction_counts(None, &c).await,
        json!({ "likeCount": 0, "readCount": 0, "commentCount": 0, "viewerHasRead": false, "viewerHasLiked": false })
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_likes_are_counted_exactly() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Popular").await;
    let mut fans = Vec::new();
    for i in 0..16 {
        fans.push(app.register(&format!("fan{i}@example.com"), PASSWORD).await);
    }
    // Every fan likes three times at once, all fans at once.
    let likes = fans
        .iter()
        .flat_map(|fan| (0..3).map(|_| app.gql(Some(&fan.access_token), LIKE, json!({ "c": c }))));
    let answers = futures_util::future::join_all(likes).await;
    for body in &answers {
        assert_eq!(code(body), "", "{body}");
    }
    for (fan, answers) in fans.iter().zip(answers.chunks(3)) {
        let ids: Vec<&Value> = answers.iter().map(|b| &b["data"]["like"]["id"]).collect();
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "{}: one like, whatever the race: {ids:?}",
            fan.id
        );
    }
    let reads = fans
        .iter()
        .map(|fan| app.gql(Some(&fan.access_token), READ, json!({ "c": c })));
    futures_util::future::join_all(reads).await;
    let unlikes = fans.iter().take(5).flat_map(|fan| {
        (0..2).map(|_| app.gql(Some(&fan.access_token), UNLIKE, json!({ "c": c })))
    });
    let removed = futures_util::future::join_all(unlikes)
        .await
        .iter()
        .filter(|b| b["data"]["unlike"] == json!(true))
        .count();
    assert_eq!(removed, 5, "each of the five likes is removed once");
    let got = app.interaction_counts(None, &c).await;
    assert_eq!(got["likeCount"], json!(11), "{got}");
    assert_eq!(got["readCount"], json!(16), "{got}");
    let top = app
        .gql(
            None,
            "{ contentRanking(first: 1) { content { id } reads likes total } }",
            json!({}),
        )
        .await;
    assert_eq!(
        top["data"]["contentRanking"],
        json!([{ "content": { "id": c }, "reads": 16, "likes": 11, "total": 27 }]),
        "{top}"
    );
    app.stop().await;
}

const ADD: &str = "mutation($c: ID!, $b: String!) { addComment(contentId: $c, body: $b) {
    id body createdAt updatedAt author { id firstName } content { id title } } }";
const EDIT: &str = "mutation($id: ID!, $b: String!) { editComment(id: $id, body: $b) { id body createdAt updatedAt } }";
const DELETE: &str = "mutation($id: ID!) { deleteComment(id: $id) }";

#[tokio::test]
async fn comments_are_listed_oldest_first_and_joined() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Discussed").await;

    let added = app
        .gql(
            Some(&bob.access_token),
            ADD,
            json!({ "c": c, "b": "  First!  " }),
        )
        .await;
    assert_eq!(code(&added), "", "{added}");
    let first = &added["data"]["addComment"];
    assert_eq!(first["body"], json!("First!"));
    assert_eq!(
        first["author"],
        json!({ "id": bob.id, "firstName": "Test" })
    );
    assert_eq!(first["content"], json!({ "id": c, "title": "Discussed" }));
    assert_eq!(first["createdAt"], first["updatedAt"]);
    let mut ids = vec![first["id"].as_str().expect("id").to_owned()];
    for i in 2..=5 {
        ids.push(
            app.comment(
                if i % 2 == 0 { &ada } else { &bob },
                &c,
                &format!("comment {i}"),
            )
            .await,
        );
    }

    let page = "query($c: ID!, $after: String) { content(id: $c) { commentCount
        comments(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id body author { id } } } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app.gql(None, page, json!({ "c": c, "after": after })).await;
        assert_eq!(code(&body), "", "{body}");
        let content = &body["data"]["content"];
        assert_eq!(content["commentCount"], json!(5));
        let conn = &content["comments"];
        assert_eq!(conn["totalCount"], json!(5));
        for edge in conn["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["id"].as_str().expect("id").to_owned());
        }
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids, "oldest first, every comment once");

    let bad_cursor = app
        .gql(None, page, json!({ "c": c, "after": "nope" }))
        .await;
    assert_eq!(code(&bad_cursor), "BAD_USER_INPUT", "{bad_cursor}");
    app.stop().await;
}

#[tokio::test]
async fn comment_bodies_and_permissions_follow_the_contract() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let eve = app.register("eve@example.com", PASSWORD).await;
    let admin = app.admin("root@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Ada's").await;

    for bad in ["", "   ", &"x".repeat(1_001), "bell\u{7}"] {
        let body = app
            .gql(Some(&bob.access_token), ADD, json!({ "c": c, "b": bad }))
            .await;
        assert_eq!(
            (code(&body), field(&body)),
            ("BAD_USER_INPUT", "body"),
            "{body}"
        );
    }
    let anonymous = app.gql(None, ADD, json!({ "c": c, "b": "hi" })).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let longest = app.comment(&bob, &c, &"é".repeat(1_000)).await;
    assert!(!longest.is_empty());

    // Editing: the comment's author only (not the content's author, not an admin).
    let bobs = app.comment(&bob, &c, "Bob was here").await;
    for who in [&ada, &eve, &admin] {
        let body = app
            .gql(
                Some(&who.access_token),
                EDIT,
                json!({ "id": bobs, "b": "hijacked" }),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
    }
    let edited = app
        .gql(
            Some(&bob.access_token),
            EDIT,
            json!({ "id": bobs, "b": "Bob was here (edited)" }),
        )
        .await;
    assert_eq!(code(&edited), "", "{edited}");
    let e = &edited["data"]["editComment"];
    assert_eq!(e["body"], json!("Bob was here (edited)"));
    assert!(e["updatedAt"].as_str() > e["createdAt"].as_str(), "{e}");
    let bad_edit = app
        .gql(
            Some(&bob.access_token),
            EDIT,
            json!({ "id": bobs, "b": "" }),
        )
        .await;
    assert_eq!(field(&bad_edit), "body", "{bad_edit}");
    let missing = app
        .gql(
            Some(&bob.access_token),
            EDIT,
            json!({ "id": "no-such-comment", "b": "x" }),
        )
        .await;
    assert_eq!(code(&missing), "NOT_FOUND", "{missing}");

    // Deleting: the comment's author, the content's author, or an admin.
    let eves_try = app
        .gql(Some(&eve.access_token), DELETE, json!({ "id": bobs }))
        .await;
    assert_eq!(code(&eves_try), "FORBIDDEN", "{eves_try}");
    let by_content_author = app
        .gql(Some(&ada.access_token), DELETE, json!({ "id": bobs }))
        .await;
    assert_eq!(
        by_content_author["data"]["deleteComment"],
        json!(true),
        "{by_content_author}"
    );
    let gone = app
        .gql(Some(&ada.access_token), DELETE, json!({ "id": bobs }))
        .await;
    assert_eq!(code(&gone), "NOT_FOUND", "{gone}");
    let eves = app.comment(&eve, &c, "Eve's").await;
    let by_admin = app
        .gql(Some(&admin.access_token), DELETE, json!({ "id": eves }))
        .await;
    assert_eq!(by_admin["data"]["deleteComment"], json!(true), "{by_admin}");
    let by_author = app
        .gql(Some(&bob.access_token), DELETE, json!({ "id": longest }))
        .await;
    assert_eq!(
        by_author["data"]["deleteComment"],
        json!(true),
        "{by_author}"
    );
    assert_eq!(
        app.interaction_counts(None, &c).await["commentCount"],
        json!(0)
    );
    app.stop().await;
}

#[tokio::test]
async fn top_contents_follow_the_interactions_ranking() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let cat = app.register("cat@example.com", PASSWORD).await;
    let c1 = app.create_content(&ada, "One").await;
    let c2 = app.create_content(&ada, "Two").await;
    let c3 = app.create_content(&bob, "Three").await;
    let _quiet = app.create_content(&bob, "Nobody cares").await;
    // c1: 2 likes + 1 read = 3; c3: 2 reads = 2; c2: 1 read = 1.
    for (who, op, c) in [
        (&bob, LIKE, &c1),
        (&cat, LIKE, &c1),
        (&bob, READ, &c1),
        (&bob, READ, &c3),
        (&cat, READ, &c3),
        (&cat, READ, &c2),
    ] {
        let body = app
            .gql(Some(&who.access_token), op, json!({ "c": c }))
            .await;
        assert_eq!(code(&body), "", "{body}");
    }

    let top = "query($by: RankingMetric, $first: Int) { topContents(first: $first, by: $by) {
        id title author { firstName } likeCount readCount } }";
    fn ids(body: &Value) -> Vec<&str> {
        body["data"]["topContents"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect()
    }
    let total = app.gql(None, top, json!({})).await;
    assert_eq!(code(&total), "", "{total}");
    assert_eq!(ids(&total), [&c1, &c3, &c2], "TOTAL by default, no zero");
    assert_eq!(
        total["data"]["topContents"][0],
        json!({ "id": c1, "title": "One", "author": { "firstName": "Test" }, "likeCount": 2, "readCount": 1 })
    );
    let likes = app.gql(None, top, json!({ "by": "LIKES" })).await;
    assert_eq!(ids(&likes), [&c1]);
    // Reads: c3 has 2; c1 and c2 tie at 1, and the newer (c2) comes first.
    let reads = app.gql(None, top, json!({ "by": "READS" })).await;
    assert_eq!(ids(&reads), [&c3, &c2, &c1]);
    let one = app.gql(None, top, json!({ "first": 1 })).await;
    assert_eq!(ids(&one), [&c1]);
    let none = app.gql(None, top, json!({ "first": 0 })).await;
    assert_eq!(ids(&none), Vec::<&str>::new());
    for first in [101, -1] {
        let body = app.gql(None, top, json!({ "first": first })).await;
        assert_eq!(
            (code(&body), field(&body)),
            ("BAD_USER_INPUT", "first"),
            "{body}"
        );
        let body = app
            .gql(
                None,
                "query($f: Int) { contentRanking(first: $f) { total } }",
                json!({ "f": first }),
            )
            .await;
        assert_eq!(
            (code(&body), field(&body)),
            ("BAD_USER_INPUT", "first"),
            "{body}"
        );
    }
    let bad_metric = app.gql(None, top, json!({ "by": "VIEWS" })).await;
    assert_eq!(code(&bad_metric), "BAD_USER_INPUT", "{bad_metric}");

    let ranking = app
        .gql(
            None,
            "{ contentRanking(by: READS) { content { id title } reads likes total } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ranking["data"]["contentRanking"][0],
        json!({ "content": { "id": c3, "title": "Three" }, "reads": 2, "likes": 0, "total": 2 }),
        "{ranking}"
    );
    app.stop().await;
}

#[tokio::test]
async fn top_contents_fails_fast_when_interactions_is_unreachable() {
    // The content subgraph asks interactions at an address where nothing listens.
    let app = TestApp::spawn_with(|cfg| {
        cfg.service_mut("interactions").url = Some("http://127.0.0.1:9/graphql".into());
    })
    .await;
    let body = app.gql(None, "{ topContents { id } }", json!({})).await;
    assert_eq!(code(&body), "SUBGRAPH_UNAVAILABLE", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["service"],
        json!("interactions")
    );
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internal address leaks: {body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_cursor_in_an_entity_fetch_is_one_coded_error_per_content_at_its_place() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    for title in ["One", "Two"] {
        let c = app.create_content(&ada, title).await;
        let body = app
            .gql(Some(&ada.access_token), LIKE, json!({ "c": c }))
            .await;
        assert_eq!(code(&body), "", "{body}");
    }
    let body = app
        .gql(
            None,
            "{ topContents(first: 2) { id comments(after: \"x\") { totalCount } } }",
            json!({}),
        )
        .await;
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let placed: Vec<(&Value, &Value)> = errors
        .iter()
        .map(|e| (&e["path"], &e["extensions"]["code"]))
        .collect();
    assert_eq!(
        placed,
        [
            (
                &json!(["topContents", 0, "comments"]),
                &json!("BAD_USER_INPUT")
            ),
            (
                &json!(["topContents", 1, "comments"]),
                &json!("BAD_USER_INPUT")
            ),
        ],
        "{body}"
    );
    assert_eq!(body["data"], Value::Null, "{body}");
    app.stop().await;
}
