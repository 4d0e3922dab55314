//! The router's own GraphQL work on Folio's supergraph: validation against the API schema,
//! introspection answered by the router, projection of the client's exact selection
//! (aliases, fragments, `__typename`, `@skip`/`@include`) and null propagation.

use crate::support::{TestApp, code};
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
