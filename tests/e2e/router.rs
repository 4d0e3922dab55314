//! The router's own GraphQL work on Folio's supergraph: validation against the API schema,
//! introspection answered by the router, projection of the client's exact selection
//! (aliases, fragments, `__typename`, `@skip`/`@include`) and null propagation.

use folio_testkit::{TestApp, code};
use serde_json::{Value, json};

#[tokio::test]
async fn introspection_shows_the_api_schema_without_federation_internals() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(None, "{ __schema { queryType { name } types { name } } __type(name: \"User\") { fields { name } } }", json!({}))
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"],
        json!("Query")
    );
    let types: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        types.contains(&"User") && types.contains(&"AuthPayload"),
        "{types:?}"
    );
    for internal in [
        "join__Graph",
        "link__Purpose",
        "_Any",
        "_Entity",
        "_Service",
    ] {
        assert!(
            !types.contains(&internal),
            "{internal} leaked into {types:?}"
        );
    }
    let fields: Vec<&str> = body["data"]["__type"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(
        fields.contains(&"viewerIsFollowing") && fields.contains(&"email"),
        "{fields:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_response_has_exactly_the_clients_selection() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", "correct horse").await;
    let query = "query($id: ID!, $withName: Boolean!, $skipId: Boolean!) {
        __typename
        first: user(id: $id) { ...Who kind: __typename }
        second: user(id: $id) { name: firstName @include(if: $withName) id @skip(if: $skipId) lastName }
        me { __typename }
    }
    fragment Who on User { id family: lastName }";
    let body = app
        .gql(
            None,
            query,
            json!({ "id": ada.id, "withName": false, "skipId": true }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"],
        json!({
            "__typename": "Query",
            "first": { "id": ada.id, "family": "ada", "kind": "User" },
            "second": { "lastName": "ada" },
            "me": null,
        })
    );
    let keys: Vec<&String> = body["data"].as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["__typename", "first", "second", "me"],
        "fields keep the query's order"
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_operations_fail_validation_at_the_router() {
    let app = TestApp::spawn().await;
    for query in [
        "{ me { password } }",
        "{ user { id } }",
        "{ me { id(format: 1) } }",
        "query($x: Int) { me { id } }",
    ] {
        let body = app.gql(None, query, json!({})).await;
        assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{query}: {body}");
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }
    // With introspection on, validation may suggest what was meant.
    let body = app.gql(None, "{ me }", json!({})).await;
    assert!(body.to_string().contains("Did you mean"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_non_null_root_field_nulls_the_data() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, "{ users { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["users"]));
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn introspection_can_be_turned_off_with_its_suggestions() {
    let app = TestApp::spawn_with(|cfg| cfg.introspection = false).await;
    let body = app
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let body = app
        .gql(
            None,
            "{ alias: __type(name: \"User\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    // __typename is not introspection of the schema.
    let body = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(body["data"], json!({ "__typename": "Query" }), "{body}");
    // No "Did you mean" hints that would reveal the schema.
    let body = app.gql(None, "{ me }", json!({})).await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(!body.to_string().contains("Did you mean"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn variables_are_checked_against_their_declared_types_before_any_fetch() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": null }),
        ),
        ("query($id: ID!) { user(id: $id) { id } }", json!({})),
        (
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": { "x": 1 } }),
        ),
        (
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "email": "a@example.com", "password": "12345678", "firstName": "A" } }),
        ),
        (
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "email": "a@example.com", "password": "12345678", "firstName": "A", "lastName": "B", "admin": true } }),
        ),
        (
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": "a@example.com", "p": 12345678 }),
        ),
    ];
    for (query, variables) in cases {
        let body = app.gql(None, query, variables.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{query} {variables}: {body}");
        assert!(
            body.get("data").is_none(),
            "no data for a request error: {body}"
        );
    }
    // Nothing was registered by the refused mutations.
    let fresh = app.register("a@example.com", "12345678").await;
    assert!(!fresh.id.is_empty());

    // Under the GraphQL response media type, a request error is HTTP 400.
    let res = app
        .client
        .post(&app.url)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "query($id: ID!) { user(id: $id) { id } }", "variables": { "id": null } }))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 400);

    // Defaults apply, and an Int where an ID is expected is an ID.
    let body = app
        .gql(
            None,
            "query($id: ID! = \"nobody\") { user(id: $id) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], json!({ "user": null }), "{body}");
    let body = app
        .gql(
            None,
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": 42 }),
        )
        .await;
    assert_eq!(body["data"], json!({ "user": null }), "{body}");
    app.stop().await;
}

/// A subscriber that only counts ERROR events (of the current thread's code: the
/// platform's tasks run on the test's single-threaded runtime). It keeps no spans, so
/// spans that move to other threads cannot trip it.
struct ErrorLines(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::Subscriber for ErrorLines {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.is_span() || *metadata.level() == tracing::Level::ERROR
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn no_client_request_gets_a_500_an_internal_error_or_an_error_log_line() {
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let _logs = tracing::subscriber::set_default(ErrorLines(errors.clone()));
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", "correct horse").await;
    let created = app
        .gql(
            Some(&ada.access_token),
            "mutation { createContent(input: { title: \"T\", story: \"S\" }) { id } }",
            json!({}),
        )
        .await;
    let id = created["data"]["createContent"]["id"].clone();
    app.gql(
        Some(&ada.access_token),
        "mutation($c: ID!) { like(contentId: $c) { id } }",
        json!({ "c": id }),
    )
    .await;
    let mut bomb = String::from("{ me { ...F0 } }");
    for i in 0..40 {
        bomb.push_str(&format!(
            " fragment F{i} on User {{ ...F{j} ...F{j} }}",
            j = i + 1
        ));
    }
    bomb.push_str(" fragment F40 on User { id }");
    let operations: Vec<(String, Value)> = vec![
        ("{".into(), json!({})),
        ("query {".into(), json!({})),
        ("}}}}".into(), json!({})),
        ("{ me(x: ) { id } }".into(), json!({})),
        ("query q($x: ) { me { id } }".into(), json!({})),
        ("{ nope }".into(), json!({})),
        ("{ me { nope } }".into(), json!({})),
        ("{ content { id } }".into(), json!({})),
        ("{ content(id: 5) { id } }".into(), json!({})),
        ("subscription { me { id } }".into(), json!({})),
        (
            "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }".into(),
            json!({}),
        ),
        (
            "query($id: ID!) { content(id: $id) { id } }".into(),
            json!({}),
        ),
        (
            "query($id: ID!) { content(id: $id) { id } }".into(),
            json!({ "id": { "a": [1] } }),
        ),
        (
            "query($n: Int) { contents(first: $n) { totalCount } }".into(),
            json!({ "n": 1e40 }),
        ),
        (
            "query($n: Int) { contents(first: $n) { totalCount } }".into(),
            json!({ "n": -1 }),
        ),
        (
            "{ contents(first: 100000) { totalCount } }".into(),
            json!({}),
        ),
        (
            "{ contents(after: \"garbage\") { totalCount } }".into(),
            json!({}),
        ),
        // A well-formed cursor whose key holds a NUL, which PostgreSQL cannot compare.
        (
            "{ contents(after: \"YzE6AHg\") { totalCount } }".into(),
            json!({}),
        ),
        ("{ content(id: \"\\u0000\") { id } }".into(), json!({})),
        (
            "{ content(id: \"x\") { id title author { id } } }".into(),
            json!({}),
        ),
        (
            "query A { me { id } } query B { me { id } }".into(),
            json!({}),
        ),
        ("{ me { id } @skip(if: $nope) }".into(), json!({})),
        ("{ me @skip(if: $nope) { id } }".into(), json!({})),
        (
            "{ __type(name: \"Nope\") { name } __typename }".into(),
            json!({}),
        ),
        (
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
                .into(),
            json!({}),
        ),
        (bomb, json!({})),
        (
            "{ topContents(first: 2) { id comments(after: \"x\") { totalCount } } }".into(),
            json!({}),
        ),
        ("{ topContents(first: -5) { id } }".into(), json!({})),
        ("mutation { deleteContent(id: \"x\") }".into(), json!({})),
        (
            "mutation($f: Upload!) { importContentsCsv(file: $f) { created } }".into(),
            json!({ "f": { "$upload": "0" } }),
        ),
        (
            "{ searchContents(query: \"\\\"((\") { totalCount } }".into(),
            json!({}),
        ),
    ];
    let mut seen = Vec::new();
    for (query, variables) in &operations {
        for accept in ["application/json", "application/graphql-response+json"] {
            let res = app
                .client
                .post(&app.url)
                .header("accept", accept)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await
                .expect("answered");
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            assert!(status < 500, "{query}: HTTP {status} {body}");
            for e in body["errors"].as_array().into_iter().flatten() {
                let code = e["extensions"]["code"].as_str().unwrap_or("");
                assert!(!code.is_empty(), "{query}: an error without a code: {body}");
                assert_ne!(code, "INTERNAL_SERVER_ERROR", "{query}: {body}");
                seen.push(code.to_owned());
            }
        }
    }
    for raw in [
        "not json",
        "[]",
        "{\"query\": 1}",
        "{\"query\": \"{ me { id } }\", \"variables\": \"x\"}",
        "{\"query\": \"{ me { id } }\", \"operationName\": 7}",
        "{\"query\": \"{ me { id } }\", \"extensions\": 5}",
        "{}",
    ] {
        let res = app
            .client
            .post(&app.url)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .expect("answered");
        let status = res.status().as_u16();
        assert!(status < 500, "{raw}: HTTP {status}");
    }
    assert!(seen.len() >= operations.len(), "{seen:?}");
    assert_eq!(
        errors.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no request of a client logs an ERROR line"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_router_starts_on_any_composed_supergraph_and_introspects_it() {
    // Every fixture supergraph, from both composers (among them an interface field an
    // implementation narrows, which once kept the router from starting). The subgraphs
    // they name do not exist here: only the router's own answers are asked for.
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("router/src/plan/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".supergraph.graphql"))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .expect("a fixture name")
            .to_owned();
        let golden: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures.join(format!("{name}.introspection.json")))
                .expect("golden introspection"),
        )
        .expect("json");
        let supergraph = file.clone();
        let app = TestApp::spawn_with(move |cfg| cfg.supergraph_file = Some(supergraph)).await;
        let body = app
            .gql(
                None,
                "{ __schema { queryType { name } types { name } } }",
                json!({}),
            )
            .await;
        let names = |v: &Value| {
            let mut n: Vec<String> = v["__schema"]["types"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect();
            n.sort();
            n
        };
        assert_eq!(code(&body), "", "{}: {body}", file.display());
        assert_eq!(names(&body["data"]), names(&golden), "{}", file.display());
        app.stop().await;
    }
}

/// `FOLIO_ROUTER_BUSY_POLL_US` changes when the router's thread sleeps, never what it
/// answers: a query joining two subgraphs gets the same answer while the poller polls
/// (right after a request) and after it has gone back to sleep (a quiet window later).
#[tokio::test]
async fn busy_polling_changes_no_answer_while_polling_or_after_sleeping() {
    let app = TestApp::spawn_with(|cfg| cfg.router_busy_poll_us = 2_000).await;
    let ada = app.register("ada@example.com", "correct horse").await;
    let created = app
        .ok(
            &ada,
            "mutation { createContent(input: { title: \"Polled\", story: \"S\" }) { id } }",
            json!({}),
        )
        .await;
    let id = created["createContent"]["id"].clone();
    let query = "query($id: ID!) { content(id: $id) { title author { email } } }";
    let expected =
        json!({ "content": { "title": "Polled", "author": { "email": "ada@example.com" } } });
    for pause_ms in [0, 0, 50, 0, 50] {
        tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
        let body = app.ok(&ada, query, json!({ "id": id })).await;
        assert_eq!(body, expected, "after a {pause_ms} ms pause");
    }
    app.stop().await;
}
