//! The router's executor against the test kit's `social` subgraphs: the `social`
//! supergraph of three subgraphs with entities, @requires, @provides, @shareable,
//! @inaccessible, an interface and a union. Through folio-router's public API only.

use folio_common::Viewer;
use folio_router::execute::fetch::{SubgraphClient, Uploads};
use folio_router::execute::{ExecutionContext, Executor};
use folio_router::metrics::Metrics;
use folio_router::plan::{HivePlanner, PlanRequest, QueryPlanner};
use folio_testkit::subgraphs::social::{
    SocialOptions, social_supergraph_sdl, spawn_social, spawn_social_with,
};
use folio_testkit::subgraphs::{identity_key, upload_file};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn joins_entities_two_levels_deep_with_one_fetch_per_step() {
    let social = spawn_social().await;
    let body = social
        .run(
            "{ topComments(first: 3) { text author { name byline posts { title likes } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["topComments"],
        json!([
            { "text": "Nice", "author": { "name": "Bob", "byline": "by Bob", "posts": [{ "title": "Second", "likes": 0 }] } },
            { "text": "Agreed", "author": { "name": "Cy", "byline": "by Cy", "posts": [] } },
            { "text": "Hmm", "author": { "name": "Ada", "byline": "by Ada", "posts": [
                { "title": "Hello", "likes": 3 }, { "title": "Third", "likes": 1 }
            ] } },
        ])
    );
    // One _entities request per plan step, each carrying every representation once.
    let content = social.entity_requests("content");
    assert_eq!(content.len(), 1, "{content:?}");
    assert_eq!(
        content[0]["variables"]["representations"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(social.entity_requests("interactions").len(), 1);
}

#[tokio::test]
async fn provided_fields_come_with_their_parent() {
    let social = spawn_social().await;
    let body = social
        .run("{ topComments(first: 2) { author { name } } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["topComments"],
        json!([{ "author": { "name": "Bob" } }, { "author": { "name": "Cy" } }]),
        "{body}"
    );
    // @provides: the author's name came with the comment; users was not asked.
    assert!(social.requests_to("users").is_empty());
}

#[tokio::test]
async fn requires_sends_the_required_fields_in_the_representation() {
    let social = spawn_social().await;
    let body = social.run("{ me { name byline } }", json!({})).await;
    assert_eq!(
        body["data"],
        json!({ "me": { "name": "Ada", "byline": "by Ada" } }),
        "{body}"
    );
    let reps = &social.entity_requests("content")[0]["variables"]["representations"];
    assert_eq!(
        reps,
        &json!([{ "__typename": "User", "id": "u1", "name": "Ada" }])
    );
}

#[tokio::test]
async fn representations_are_deduplicated() {
    let social = spawn_social().await;
    let body = social
        .run("{ feed(first: 3) { id author { id email } } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["feed"],
        json!([
            { "id": "ph1", "author": { "id": "u2", "email": "bob@example.com" } },
            { "id": "p2", "author": { "id": "u2", "email": "bob@example.com" } },
            { "id": "p1", "author": { "id": "u1", "email": "ada@example.com" } },
        ])
    );
    let users = social.entity_requests("users");
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0]["variables"]["representations"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{users:?}"
    );
}

#[tokio::test]
async fn interfaces_unions_aliases_and_fragments_are_projected_exactly() {
    let social = spawn_social().await;
    let query = "query($n: Int) {
        items: feed(first: $n) { __typename id ... on Post { heading: title likes } ...PhotoBits }
        search(text: \"Hello\") { __typename ... on Post { id } ... on Photo { url } }
    }
    fragment PhotoBits on Photo { url author { name } }";
    let body = social.run(query, json!({ "n": 2 })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"],
        json!({
            "items": [
                { "__typename": "Photo", "id": "ph1", "url": "https://img/1.png", "author": { "name": "Bob" } },
                { "__typename": "Post", "id": "p2", "heading": "Second", "likes": 0 },
            ],
            "search": [{ "__typename": "Post", "id": "p1" }],
        })
    );
}

/// One response key selected in several places (fragments included) is one field whose
/// sub-selections merge (GraphQL's CollectFields).
#[tokio::test]
async fn a_key_selected_in_several_fragments_merges_its_sub_selections() {
    let social = spawn_social().await;
    let reference = social
        .run(
            "{ feed(first: 3) { __typename id author { id name byline } } }",
            json!({}),
        )
        .await;
    let query = "{ items: feed(first: 3) {
        author { id }
        ... on Post { id author { name } }
        ... on FeedItem { author { byline } }
    } }";
    let body = social.run(query, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let expected: Vec<Value> = reference["data"]["feed"]
        .as_array()
        .expect("feed")
        .iter()
        .map(|item| {
            let a = &item["author"];
            if item["__typename"] == "Post" {
                json!({
                    "author": { "id": a["id"], "name": a["name"], "byline": a["byline"] },
                    "id": item["id"],
                })
            } else {
                json!({ "author": { "id": a["id"], "byline": a["byline"] } })
            }
        })
        .collect();
    assert_eq!(body["data"]["items"], Value::Array(expected), "{body}");
    let post = body["data"]["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i.get("id").is_some()))
        .expect("a post in the feed");
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    // The outer keys in the order they first appear. (Inside `author`, the planner's
    // normalization of `... on FeedItem` decides the order of `name` and `byline`.)
    assert_eq!(keys(post), Some(vec!["author".into(), "id".into()]));
}

#[tokio::test]
async fn inaccessible_fields_are_not_part_of_the_api() {
    let social = spawn_social().await;
    let body = social.run("{ me { riskScore } }", json!({})).await;
    assert_eq!(body, json!({ "planError": "GRAPHQL_VALIDATION_FAILED" }));
    assert!(social.requests_to("users").is_empty());
}

#[tokio::test]
async fn a_down_subgraph_gives_partial_data_and_a_coded_error() {
    let social = spawn_social_with(SocialOptions {
        down: vec!["interactions"],
        ..SocialOptions::default()
    })
    .await;
    let body = social
        .run("{ me { name } post(id: \"p1\") { body likes } }", json!({}))
        .await;
    // likes is Int!: without it the post is null, the rest of the data stands.
    assert_eq!(
        body["data"],
        json!({ "me": { "name": "Ada" }, "post": null }),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        json!("SUBGRAPH_UNAVAILABLE")
    );
    assert_eq!(
        body["errors"][0]["extensions"]["service"],
        json!("interactions")
    );
    assert_eq!(body["errors"][0]["path"], json!(["post"]));
}

#[tokio::test]
async fn entity_errors_get_the_clients_path() {
    let social = spawn_social_with(SocialOptions {
        fail_field: Some(("Post", "likes")),
        ..SocialOptions::default()
    })
    .await;
    let body = social
        .run("{ feed(first: 3) { id ... on Post { likes } } }", json!({}))
        .await;
    let errors = body["errors"].as_array().expect("errors");
    assert!(!errors.is_empty(), "{body}");
    for e in errors {
        assert_eq!(e["extensions"]["code"], json!("TEST_FAILURE"), "{body}");
        let path = e["path"].as_array().expect("a path");
        assert_eq!(path[0], json!("feed"), "{body}");
        assert_eq!(path.last(), Some(&json!("likes")), "{body}");
    }
    // feed is [FeedItem!]!: a failed non-null item nulls the list, and the list is
    // non-null, so data is null.
    assert_eq!(body["data"], Value::Null, "{body}");
}

#[tokio::test]
async fn a_slow_subgraph_is_cut_off_at_the_timeout() {
    let social = spawn_social_with(SocialOptions {
        slow: vec![("users", Duration::from_secs(5))],
        ..SocialOptions::default()
    })
    .await;
    let body = social.run("{ me { name } }", json!({})).await;
    assert_eq!(body["data"], json!({ "me": null }), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        json!("SUBGRAPH_UNAVAILABLE")
    );
}

#[tokio::test]
async fn mutations_run_their_root_fields_in_order() {
    let social = spawn_social().await;
    let body = social.run("mutation { rename(name: \"Ada L.\") { name byline } createPost(input: { title: \"New\", body: \"x\" }) { id author { name } } }",
        json!({}),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["rename"],
        json!({ "name": "Ada L.", "byline": "by Ada L." })
    );
    assert_eq!(
        body["data"]["createPost"]["author"],
        json!({ "name": "Ada L." })
    );
}

#[tokio::test]
async fn identical_fetches_in_flight_are_sent_once_but_never_across_viewers() {
    let social = spawn_social_with(SocialOptions {
        slow: vec![("users", Duration::from_millis(200))],
        ..SocialOptions::default()
    })
    .await;
    let planner = HivePlanner::from_supergraph_sdl(social_supergraph_sdl()).expect("supergraph");
    let client = SubgraphClient::new(
        reqwest::Client::builder(),
        social.urls.clone(),
        identity_key(),
        Duration::from_secs(2),
        16,
        Arc::new(Metrics::new()),
    )
    .expect("client");
    let executor = Executor::new(client);
    let planned = planner
        .plan(&PlanRequest::new("{ me { name } }", None))
        .expect("plan");
    let variables = Map::new();
    let uploads = Uploads::default();
    let viewer = |id: &str| Viewer {
        user_id: Some(id.to_owned()),
        ..Viewer::default()
    };
    let (ada, bob) = (viewer("u1"), viewer("u2"));
    let run_as = |v: &'static Viewer| {
        let cx = ExecutionContext {
            variables: &variables,
            viewer: v,
            traceparent: None,
            uploads: &uploads,
        };
        let (executor, planned, planner) = (&executor, &planned, &planner);
        async move {
            executor
                .execute(planned, planner.introspection(), &cx)
                .await
        }
    };
    let ada: &'static Viewer = Box::leak(Box::new(ada));
    let bob: &'static Viewer = Box::leak(Box::new(bob));

    let results = async_graphql::futures_util::future::join_all((0..8).map(|_| run_as(ada))).await;
    assert!(
        results
            .iter()
            .all(|r| r.data() == json!({ "me": { "name": "Ada" } }))
    );
    assert_eq!(
        social.requests_to("users").len(),
        1,
        "eight identical fetches, one request"
    );

    let (a, b) = tokio::join!(run_as(ada), run_as(bob));
    assert_eq!(a.data(), b.data());
    assert_eq!(
        social.requests_to("users").len(),
        3,
        "two viewers, two requests"
    );
    assert_eq!(executor.client().in_flight(), 0, "nothing stays in flight");

    let mutation = planner
        .plan(&PlanRequest::new(
            "mutation { rename(name: \"Ada\") { name } }",
            None,
        ))
        .expect("plan");
    let cx = ExecutionContext {
        variables: &variables,
        viewer: ada,
        traceparent: None,
        uploads: &Default::default(),
    };
    let (m1, m2) = tokio::join!(
        executor.execute(&mutation, planner.introspection(), &cx),
        executor.execute(&mutation, planner.introspection(), &cx)
    );
    assert!(m1.errors.is_empty() && m2.errors.is_empty());
    assert_eq!(
        social.requests_to("users").len(),
        5,
        "mutations are never shared"
    );
}

#[tokio::test]
async fn uploads_go_to_the_owning_subgraph_as_multipart() {
    let social = spawn_social().await;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let uploads: Uploads = Arc::new(
        [
            (
                "0".to_owned(),
                upload_file("notes.txt", b"hello world".to_vec()),
            ),
            ("1".to_owned(), upload_file("big.bin", big.clone())),
        ]
        .into_iter()
        .collect(),
    );
    let body = social
        .run_with_uploads(
            "mutation($postId: ID!, $file: Upload!, $other: Upload!) { \
           small: attachToPost(postId: $postId, file: $file) \
           large: attachToPost(postId: \"p2\", file: $other) \
           again: attachToPost(postId: \"p3\", file: $file) }",
            json!({ "postId": "p1", "file": { "$upload": "0" }, "other": { "$upload": "1" } }),
            &uploads,
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let first16 = String::from_utf8_lossy(&big[..16]).into_owned();
    assert_eq!(
        body["data"],
        json!({
            "small": "notes.txt:11:hello world",
            "large": format!("big.bin:300000:{first16}"),
            "again": "notes.txt:11:hello world",
        })
    );
    // One multipart request to content, preflighted and signed; no one else was asked.
    let content = social.requests_to("content");
    assert_eq!(content.len(), 1, "{content:?}");
    assert_eq!(content[0]["multipart"]["preflight"], "true", "{content:?}");
    assert_eq!(content[0]["multipart"]["signed"], true, "{content:?}");
    assert!(social.requests_to("users").is_empty());
    assert!(social.requests_to("interactions").is_empty());

    // The marker satisfies `Upload!`; without a file it is a missing variable.
    let missing = social
        .run_with_uploads(
            "mutation($file: Upload!) { attachToPost(postId: \"p1\", file: $file) }",
            json!({}),
            &uploads,
        )
        .await;
    assert_eq!(
        missing["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{missing}"
    );
    // Other fetches stay JSON.
    let body = social
        .run("{ post(id: \"p1\") { title } }", json!({}))
        .await;
    assert_eq!(body["data"]["post"]["title"], "Hello", "{body}");
    let last = social.requests_to("content").pop().expect("a request");
    assert!(last.get("multipart").is_none(), "{last}");
}
