//! The schema executed in-process (as `execute` would, with a viewer and a fresh
//! dataloader), against a temporary SQLite store.

use super::*;
use crate::store::tests::temp_store;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Request, Response, Variables};
use folio_common::Id;
use folio_common::Viewer;
use serde_json::{Value, json};

struct Harness {
    schema: ContentSchema,
    state: ContentState,
    _dir: tempfile::TempDir,
}

fn viewer(id: Option<&str>, is_admin: bool) -> Viewer {
    Viewer {
        user_id: id.map(str::to_owned),
        is_admin,
        client_ip: None,
    }
}

impl Harness {
    async fn new() -> Self {
        let (store, dir) = temp_store().await;
        let state = ContentState {
            store,
            import_max_rows: 1_000,
            // Nothing listens there: topContents must fail fast with a coded error.
            interactions: folio_common::ServiceClient::new(
                &folio_common::Config::default(),
                "interactions",
                "http://127.0.0.1:9/graphql".to_owned(),
                std::time::Duration::from_millis(500),
            )
            .expect("client"),
        };
        Harness {
            schema: build_schema(state.clone()),
            state,
            _dir: dir,
        }
    }

    async fn run(&self, viewer: Viewer, query: &str, vars: Value) -> Response {
        let loader = ContentLoader::new(self.state.store.clone());
        let req = Request::new(query)
            .variables(Variables::from_json(vars))
            .data(viewer)
            .data(DataLoader::new(loader, tokio::spawn));
        self.schema.execute(req).await
    }

    async fn ok(&self, viewer: Viewer, query: &str, vars: Value) -> Value {
        let res = self.run(viewer, query, vars).await;
        assert!(res.errors.is_empty(), "errors: {:?}", res.errors);
        res.data.into_json().expect("json")
    }

    async fn code(&self, viewer: Viewer, query: &str, vars: Value) -> (String, Option<String>) {
        let res = self.run(viewer, query, vars).await;
        let err = res.errors.first().expect("an error");
        let ext = err.extensions.as_ref().expect("extensions");
        let s = |k: &str| match ext.get(k) {
            Some(async_graphql::Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        (s("code").expect("code"), s("field"))
    }

    async fn create(&self, author: &str, title: &str) -> String {
        let data = self
            .ok(
                viewer(Some(author), false),
                "mutation($t: String!) { createContent(input: { title: $t, story: \"S\" }) { id } }",
                json!({ "t": title }),
            )
            .await;
        data["createContent"]["id"].as_str().expect("id").to_owned()
    }
}

const UPDATE: &str = "mutation($id: ID!, $input: UpdateContentInput!) {
    updateContent(id: $id, input: $input) { title description story tags viewCount }
}";

#[tokio::test]
async fn create_then_view_counts_each_read() {
    let h = Harness::new().await;
    let data = h
        .ok(
            viewer(Some("u1"), false),
            r#"mutation { createContent(input: {
                title: " Hello ", description: "", story: "Story", tags: ["Rust", "rust", "web"]
            }) { id title description tags viewCount author { id } publishedAt } }"#,
            json!({}),
        )
        .await;
    let c = &data["createContent"];
    assert_eq!(c["title"], "Hello");
    assert_eq!(c["description"], Value::Null);
    assert_eq!(c["tags"], json!(["rust", "web"]));
    assert_eq!(c["viewCount"], 0);
    assert_eq!(c["author"]["id"], "u1");
    let id = c["id"].as_str().expect("id");

    let q = "query($id: ID!) { content(id: $id) { viewCount } }";
    for n in 1..=2 {
        let data = h.ok(Viewer::anonymous(), q, json!({ "id": id })).await;
        assert_eq!(data["content"]["viewCount"], n);
    }
    let data = h.ok(Viewer::anonymous(), q, json!({ "id": "nope" })).await;
    assert_eq!(data["content"], Value::Null);
}

#[tokio::test]
async fn create_needs_a_viewer_and_valid_input() {
    let h = Harness::new().await;
    let m = "mutation($input: CreateContentInput!) { createContent(input: $input) { id } }";
    let input = json!({ "input": { "title": "T", "story": "S" } });
    assert_eq!(
        h.code(Viewer::anonymous(), m, input).await.0,
        "UNAUTHENTICATED"
    );
    for (input, field) in [
        (json!({ "title": " ", "story": "S" }), "title"),
        (json!({ "title": "T", "story": "" }), "story"),
        (
            json!({ "title": "T", "story": "S", "description": "d".repeat(1001) }),
            "description",
        ),
        (
            json!({ "title": "T", "story": "S", "tags": ["no space"] }),
            "tags",
        ),
    ] {
        let got = h
            .code(viewer(Some("u"), false), m, json!({ "input": input }))
            .await;
        assert_eq!(got, ("BAD_USER_INPUT".into(), Some(field.into())));
    }
}

#[tokio::test]
async fn updates_are_partial_and_only_a_story_edit_resets_views() {
    let h = Harness::new().await;
    let id = h.create("u1", "T").await;
    let key = Id::parse(&id).expect("an id");
    h.state.store.view_content(&key).await.expect("view");
    let me = || viewer(Some("u1"), false);

    let data = h
        .ok(
            me(),
            UPDATE,
            json!({ "id": id, "input": { "title": "T2", "tags": ["a"] } }),
        )
        .await;
    assert_eq!(
        data["updateContent"],
        json!({ "title": "T2", "description": null, "story": "S", "tags": ["a"], "viewCount": 1 })
    );
    let data = h
        .ok(
            me(),
            UPDATE,
            json!({ "id": id, "input": { "story": "S2", "description": "D" } }),
        )
        .await;
    assert_eq!(data["updateContent"]["viewCount"], 0);
    assert_eq!(data["updateContent"]["description"], "D");
    let data = h
        .ok(
            me(),
            UPDATE,
            json!({ "id": id, "input": { "description": null } }),
        )
        .await;
    assert_eq!(data["updateContent"]["description"], Value::Null);
    assert_eq!(data["updateContent"]["title"], "T2");

    for field in ["title", "story", "tags"] {
        let got = h
            .code(me(), UPDATE, json!({ "id": id, "input": { field: null } }))
            .await;
        assert_eq!(got, ("BAD_USER_INPUT".into(), Some(field.into())));
    }
    let got = h
        .code(me(), UPDATE, json!({ "id": id, "input": { "title": "" } }))
        .await;
    assert_eq!(got, ("BAD_USER_INPUT".into(), Some("title".into())));
}

#[tokio::test]
async fn only_the_author_or_an_admin_may_change_content() {
    let h = Harness::new().await;
    let id = h.create("u1", "T").await;
    let input = json!({ "id": id, "input": { "title": "X" } });
    let delete = "mutation($id: ID!) { deleteContent(id: $id) }";

    let other = || viewer(Some("u2"), false);
    assert_eq!(h.code(other(), UPDATE, input.clone()).await.0, "FORBIDDEN");
    assert_eq!(
        h.code(other(), delete, json!({ "id": id })).await.0,
        "FORBIDDEN"
    );
    assert_eq!(
        h.code(Viewer::anonymous(), delete, json!({ "id": id }))
            .await
            .0,
        "UNAUTHENTICATED"
    );
    let missing = json!({ "id": "missing", "input": { "title": "X" } });
    assert_eq!(h.code(other(), UPDATE, missing).await.0, "NOT_FOUND");
    assert_eq!(
        h.code(other(), delete, json!({ "id": "missing" })).await.0,
        "NOT_FOUND"
    );

    let admin = || viewer(Some("root"), true);
    let data = h.ok(admin(), UPDATE, input).await;
    assert_eq!(data["updateContent"]["title"], "X");
    let data = h.ok(admin(), delete, json!({ "id": id })).await;
    assert_eq!(data["deleteContent"], true);
    let data = h
        .ok(
            viewer(Some("u1"), false),
            delete,
            json!({ "id": h.create("u1", "Y").await }),
        )
        .await;
    assert_eq!(data["deleteContent"], true);
}

#[tokio::test]
async fn lists_and_entities() {
    let h = Harness::new().await;
    let a1 = h.create("a", "A1").await;
    let b1 = h.create("b", "B1").await;
    let a2 = h.create("a", "A2").await;

    let data = h
        .ok(
            Viewer::anonymous(),
            r#"{ newContents(first: 2) { totalCount pageInfo { hasNextPage } nodes { id } }
                 contents(authorId: "a") { totalCount edges { node { title } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["newContents"]["totalCount"], 3);
    assert_eq!(data["newContents"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        data["newContents"]["nodes"],
        json!([{ "id": a2 }, { "id": b1 }])
    );
    assert_eq!(data["contents"]["totalCount"], 2);
    assert_eq!(
        data["contents"]["edges"],
        json!([{ "node": { "title": "A2" } }, { "node": { "title": "A1" } }])
    );

    let data = h
        .ok(
            Viewer::anonymous(),
            r#"query($reps: [_Any!]!) { _entities(representations: $reps) {
                ... on Content { id title viewCount }
                ... on User { id contents(first: 1) { totalCount nodes { title } } }
            } }"#,
            json!({ "reps": [
                { "__typename": "Content", "id": a1 },
                { "__typename": "Content", "id": "missing" },
                { "__typename": "User", "id": "a" },
                { "__typename": "Content", "id": b1 },
            ] }),
        )
        .await;
    assert_eq!(
        data["_entities"],
        json!([
            { "id": a1, "title": "A1", "viewCount": 0 },
            null,
            { "id": "a", "contents": { "totalCount": 2, "nodes": [{ "title": "A2" }] } },
            { "id": b1, "title": "B1", "viewCount": 0 },
        ])
    );
    let key = Id::parse(&a1).expect("an id");
    let row = h
        .state
        .store
        .content(&key)
        .await
        .expect("read")
        .expect("a1");
    assert_eq!(row.view_count, 0, "entity resolution counts no view");

    let bad = h
        .code(
            Viewer::anonymous(),
            "{ newContents(after: \"x\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(bad, ("BAD_USER_INPUT".into(), Some("after".into())));
}

#[test]
fn sdl_declares_the_contract_types() {
    let sdl = sdl();
    for needle in [
        "type Content @key(fields: \"id\")",
        "extend type User @key(fields: \"id\")",
        "contents(first: Int, after: String): ContentConnection!",
        "content(id: ID!): Content",
        "newContents(first: Int, after: String): ContentConnection!",
        "contents(authorId: ID, first: Int, after: String): ContentConnection!",
        "createContent(input: CreateContentInput!): Content!",
        "updateContent(id: ID!, input: UpdateContentInput!): Content!",
        "deleteContent(id: ID!): Boolean!",
    ] {
        assert!(sdl.contains(needle), "SDL lacks {needle:?}:\n{sdl}");
    }
}

#[tokio::test]
async fn top_contents_fails_with_a_code_when_interactions_is_down() {
    let h = Harness::new().await;
    let (code, _) = h
        .code(viewer(None, false), "{ topContents { id } }", json!({}))
        .await;
    assert_eq!(code, "SUBGRAPH_UNAVAILABLE");
    let (code, field) = h
        .code(
            viewer(None, false),
            "{ topContents(first: 101) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("first"))
    );
}
