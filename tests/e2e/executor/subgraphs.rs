//! The `social` fixture subgraphs of the test kit, on their own: what each answers, that
//! they serve the fixture's SDL, and what their options (down, slow, failing) do.

use async_graphql::parser::types::{
    ConstDirective, ServiceDocument, TypeKind, TypeSystemDefinition,
};
use folio_testkit::subgraphs::post;
use folio_testkit::subgraphs::social::{
    SocialOptions, social_supergraph_sdl, spawn_social, spawn_social_with,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;
use std::time::Instant;

#[tokio::test]
async fn each_subgraph_answers_a_root_query() {
    let social = spawn_social().await;
    let users = post(
        &social.urls["users"],
        "{ me { id name email legacyHandle } user(id: \"u9\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        users,
        json!({ "data": { "me": { "id": "u1", "name": "Ada", "email": "ada@example.com",
            "legacyHandle": "ada" }, "user": null } })
    );
    let content = post(
        &social.urls["content"],
        "{ feed(first: 2) { __typename id createdAt author { id } }
           search(text: \"1\") { ... on Photo { url } ... on Post { title } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        content,
        json!({ "data": {
            "feed": [
                { "__typename": "Photo", "id": "ph1", "createdAt": "2026-01-03", "author": { "id": "u2" } },
                { "__typename": "Post", "id": "p2", "createdAt": "2026-01-02", "author": { "id": "u2" } },
            ],
            "search": [{ "url": "https://img/1.png" }],
        } })
    );
    let interactions = post(
        &social.urls["interactions"],
        "query($n: Int!) { topComments(first: $n) { id text author { id name } } }",
        json!({ "n": 2 }),
    )
    .await;
    assert_eq!(
        interactions,
        json!({ "data": { "topComments": [
            { "id": "c1", "text": "Nice", "author": { "id": "u2", "name": "Bob" } },
            { "id": "c2", "text": "Agreed", "author": { "id": "u3", "name": "Cy" } },
        ] } })
    );
    assert_eq!(social.requests_to("users").len(), 1);
    assert_eq!(
        social.requests_to("interactions")[0]["variables"],
        json!({ "n": 2 })
    );
}

#[tokio::test]
async fn mutations_change_the_store() {
    let social = spawn_social().await;
    let renamed = post(
        &social.urls["users"],
        "mutation { rename(name: \"Ada L\") { id name } }",
        json!({}),
    )
    .await;
    assert_eq!(
        renamed,
        json!({ "data": { "rename": { "id": "u1", "name": "Ada L" } } })
    );
    let created = post(
        &social.urls["content"],
        "mutation { createPost(input: { title: \"New\", body: \"B\" }) { id title author { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        created,
        json!({ "data": { "createPost": { "id": "p4", "title": "New", "author": { "id": "u1" } } } })
    );
    let likes = post(
        &social.urls["interactions"],
        "{ _entities(representations: [{ __typename: \"Post\", id: \"p4\" }]) { ... on Post { title likes comments { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        likes,
        json!({ "data": { "_entities": [{ "title": "New", "likes": 0, "comments": [] }] } })
    );
}

const DIRECTIVES: [&str; 7] = [
    "key",
    "external",
    "requires",
    "provides",
    "shareable",
    "inaccessible",
    "deprecated",
];

fn directives(list: &[async_graphql::Positioned<ConstDirective>]) -> String {
    let mut out: Vec<String> = list
        .iter()
        .filter(|d| DIRECTIVES.contains(&d.node.name.node.as_str()))
        .map(|d| {
            let args: Vec<String> = d
                .node
                .arguments
                .iter()
                .map(|(n, v)| format!("{}: {}", n.node, v.node))
                .collect();
            format!(" @{}({})", d.node.name.node, args.join(", "))
        })
        .collect();
    out.sort();
    out.concat()
}

/// Type name -> one line per field (with arguments, type and federation directives),
/// interface, union member, enum value or the type's own directives. `_`-prefixed
/// types and fields (federation plumbing) are left out.
fn shape(doc: &ServiceDocument) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.to_string();
        if name.starts_with('_') {
            continue;
        }
        let mut lines = BTreeSet::new();
        lines.insert(format!("type{}", directives(&t.directives)));
        match &t.kind {
            TypeKind::Object(o) => {
                for i in &o.implements {
                    lines.insert(format!("implements {}", i.node));
                }
                for f in &o.fields {
                    let f = &f.node;
                    if f.name.node.starts_with('_') {
                        continue;
                    }
                    let args: Vec<String> = f
                        .arguments
                        .iter()
                        .map(|a| {
                            let a = &a.node;
                            let default = a
                                .default_value
                                .as_ref()
                                .map(|d| format!(" = {}", d.node))
                                .unwrap_or_default();
                            format!("{}: {}{default}", a.name.node, a.ty.node)
                        })
                        .collect();
                    lines.insert(format!(
                        "{}({}): {}{}",
                        f.name.node,
                        args.join(", "),
                        f.ty.node,
                        directives(&f.directives)
                    ));
                }
            }
            TypeKind::Interface(o) => {
                for f in &o.fields {
                    lines.insert(format!("{}: {}", f.node.name.node, f.node.ty.node));
                }
            }
            TypeKind::Union(u) => {
                for m in &u.members {
                    lines.insert(format!("| {}", m.node));
                }
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    lines.insert(v.node.value.node.to_string());
                }
            }
            TypeKind::InputObject(i) => {
                for f in &i.fields {
                    let f = &f.node;
                    let default = f
                        .default_value
                        .as_ref()
                        .map(|d| format!(" = {}", d.node))
                        .unwrap_or_default();
                    lines.insert(format!("{}: {}{default}", f.name.node, f.ty.node));
                }
            }
            TypeKind::Scalar => continue,
        }
        out.insert(name, lines);
    }
    out
}

#[tokio::test]
async fn served_sdl_matches_the_fixture() {
    let social = spawn_social().await;
    let fixtures = [
        (
            "users",
            include_str!("../../../router/src/plan/fixtures/social/users.graphql"),
        ),
        (
            "content",
            include_str!("../../../router/src/plan/fixtures/social/content.graphql"),
        ),
        (
            "interactions",
            include_str!("../../../router/src/plan/fixtures/social/interactions.graphql"),
        ),
    ];
    for (name, fixture) in fixtures {
        let resp = post(&social.urls[name], "{ _service { sdl } }", json!({})).await;
        let sdl = resp["data"]["_service"]["sdl"].as_str().unwrap();
        let served = shape(&async_graphql::parser::parse_schema(sdl).unwrap());
        let mut expected = shape(&async_graphql::parser::parse_schema(fixture).unwrap());
        // Subscriptions are not served.
        expected.remove("Subscription");
        assert_eq!(served, expected, "{name} subgraph SDL:\n{sdl}");
    }
    // The supergraph names the same types.
    assert!(
        social_supergraph_sdl()
            .contains("byline: String! @join__field(graph: CONTENT, requires: \"name\")")
    );
}

#[tokio::test]
async fn content_resolves_byline_from_the_required_name() {
    let social = spawn_social().await;
    let resp = post(
        &social.urls["content"],
        "query($r: [_Any!]!) { _entities(representations: $r) {
            ... on User { id byline posts { id } } ... on Post { title } } }",
        json!({ "r": [
            { "__typename": "User", "id": "u1", "name": "Ada" },
            { "__typename": "Post", "id": "p9" },
            { "__typename": "Post", "id": "p2" },
        ] }),
    )
    .await;
    // An unknown entity is null, without an error.
    assert_eq!(
        resp,
        json!({ "data": { "_entities": [
            { "id": "u1", "byline": "by Ada", "posts": [{ "id": "p1" }, { "id": "p3" }] },
            null,
            { "title": "Second" },
        ] } })
    );
}

#[tokio::test]
async fn options_take_down_slow_and_fail() {
    let social = spawn_social_with(SocialOptions {
        down: vec!["users"],
        slow: vec![("content", Duration::from_millis(300))],
        fail_field: Some(("Post", "likes")),
    })
    .await;
    let err = reqwest::Client::new()
        .post(&social.urls["users"])
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    let start = Instant::now();
    let resp = post(
        &social.urls["content"],
        "{ post(id: \"p1\") { title } }",
        json!({}),
    )
    .await;
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp["data"]["post"]["title"], "Hello");

    let resp = post(
        &social.urls["interactions"],
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Post { id likes } } }",
        json!({ "r": [{ "__typename": "Post", "id": "p1" }, { "__typename": "Post", "id": "p3" }] }),
    )
    .await;
    let errors = resp["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{resp}");
    assert_eq!(errors[0]["message"], "boom");
    assert_eq!(errors[0]["extensions"]["code"], "TEST_FAILURE");
    assert_eq!(errors[0]["path"], json!(["_entities", 0, "likes"]));
    assert_eq!(errors[1]["path"], json!(["_entities", 1, "likes"]));
    // async-graphql leaves a failed field out (no null propagation, even when non-null).
    assert_eq!(
        resp["data"]["_entities"],
        json!([{ "id": "p1" }, { "id": "p3" }])
    );
}
