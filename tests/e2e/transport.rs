//! GraphQL over HTTP at the router: GET for queries only, CSRF refusals, media type
//! negotiation, and the request limits, each with its own coded error.

use folio_testkit::{TestApp, code};
use serde_json::{Value, json};

#[tokio::test]
async fn queries_work_over_get() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", "correct horse").await;
    let (status, body) = app
        .get_graphql(&[
            ("query", "query($id: ID!) { user(id: $id) { id } }"),
            ("variables", &json!({ "id": ada.id }).to_string()),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], json!(ada.id));
    app.stop().await;
}

#[tokio::test]
async fn mutations_over_get_are_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(&app.url)
        .query(&[("query", "mutation { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(
        res.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(code(&body), "METHOD_NOT_ALLOWED", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn bodies_a_foreign_page_could_send_are_refused() {
    let app = TestApp::spawn().await;
    let query = br#"{"query":"{ me { id } }"}"#.to_vec();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, _, body) = app.post_raw(ct, None, query.clone()).await;
        assert_eq!(status, 400, "{ct}: {body}");
        assert_eq!(code(&body), "CSRF_PREVENTED", "{ct}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_response_media_type_follows_accept() {
    let app = TestApp::spawn().await;
    let ok = br#"{"query":"{ me { id } }"}"#.to_vec();
    let bad = br#"{"query":"{ me { id }"}"#.to_vec();

    let (status, ct, body) = app
        .post_raw(
            "application/json",
            Some("application/graphql-response+json"),
            ok.clone(),
        )
        .await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "application/graphql-response+json"),
        "{body}"
    );
    let (status, ct, body) = app
        .post_raw(
            "application/json",
            Some("application/graphql-response+json"),
            bad.clone(),
        )
        .await;
    assert_eq!(
        (status, ct.as_str()),
        (400, "application/graphql-response+json"),
        "{body}"
    );
    assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED");

    let (status, ct, body) = app
        .post_raw("application/json", Some("application/json"), bad)
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/json"), "{body}");
    assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED");

    let (status, _, body) = app.post_raw("application/json", Some("text/xml"), ok).await;
    assert_eq!(status, 406, "{body}");
    assert_eq!(code(&body), "NOT_ACCEPTABLE");
    app.stop().await;
}

#[tokio::test]
async fn malformed_bodies_get_a_coded_error() {
    let app = TestApp::spawn().await;
    for body in [
        &b"{not json"[..],
        br#"{"query": 3}"#,
        br#"{"query":"{ me { id } }","variables":3}"#,
    ] {
        let (status, _, json) = app.post_raw("application/json", None, body.to_vec()).await;
        assert_eq!(status, 400, "{json}");
        assert_eq!(code(&json), "BAD_REQUEST", "{json}");
    }
    app.stop().await;
}

#[tokio::test]
async fn operations_beyond_the_limits_are_refused_with_their_own_codes() {
    let app = TestApp::spawn().await;
    // Depth 16 (the limit is 15): followers nested 15 times, then id.
    let deep = format!(
        "{{ me {}{} }}",
        "{ followers { nodes ".repeat(7),
        "{ id }".to_owned() + &" } }".repeat(7)
    );
    let aliases: String = (0..31).map(|i| format!("a{i}: id ")).collect();
    let roots: String = (0..21).map(|i| format!("r{i}: me {{ id }} ")).collect();
    let tokens = format!("{{ me {{ {} }} }}", "id ".repeat(15_001));
    // 40 fragments each spreading the next twice: a few hundred tokens, 2^40 fields.
    let mut bomb = String::from("{ me { ...F0 } }");
    for i in 0..40 {
        bomb.push_str(&format!(
            " fragment F{i} on User {{ ...F{j} ...F{j} }}",
            j = i + 1
        ));
    }
    bomb.push_str(" fragment F40 on User { id }");
    let introspection =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let cases = [
        (deep, "MAX_DEPTH_EXCEEDED"),
        (format!("{{ me {{ {aliases} }} }}"), "MAX_ALIASES_EXCEEDED"),
        (format!("{{ {roots} }}"), "MAX_ROOT_FIELDS_EXCEEDED"),
        (tokens, "MAX_TOKENS_EXCEEDED"),
        (bomb, "MAX_TOKENS_EXCEEDED"),
        (introspection.to_owned(), "MAX_INTROSPECTION_DEPTH_EXCEEDED"),
    ];
    for (query, expected) in cases {
        let body = app.gql(None, &query, json!({})).await;
        assert_eq!(
            code(&body),
            expected,
            "{}",
            &body.to_string()[..body.to_string().len().min(300)]
        );
        assert!(body.get("data").is_none_or(Value::is_null));
    }
    // At the limits, the same shapes are fine.
    let ok_depth = format!(
        "{{ me {}{} }}",
        "{ followers { nodes ".repeat(6),
        "{ id }".to_owned() + &" } }".repeat(6)
    );
    let body = app.gql(None, &ok_depth, json!({})).await;
    assert_eq!(code(&body), "", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_two_megabytes_are_refused() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"query":"{{ me {{ id }} }}{padding}"}}"#).into_bytes();
    let (status, _, json) = app.post_raw("application/json", None, body).await;
    assert_eq!(status, 413, "{json}");
    assert_eq!(code(&json), "PAYLOAD_TOO_LARGE");
    app.stop().await;
}

#[tokio::test]
async fn preflighted_multipart_requests_run_like_json_ones() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", "correct horse").await;
    // No file: an ordinary operation that came as multipart.
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "{ me { id } }" }).to_string(),
        )
        .text("map", "{}");
    let (status, body) = app.post_multipart(Some(&ada.access_token), form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["id"], json!(ada.id), "{body}");

    // A map path that is not one of the operation's variables.
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "query($id: ID!) { user(id: $id) { id } }", "variables": { "id": "x" } })
                .to_string(),
        )
        .text("map", json!({ "0": ["variables.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt"),
        );
    let (status, body) = app.post_multipart(None, form).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "BAD_REQUEST", "{body}");

    // More than FOLIO_MAX_UPLOAD_FILES files.
    let map: serde_json::Map<String, Value> = (0..11)
        .map(|i| (i.to_string(), json!([format!("variables.f.{i}")])))
        .collect();
    let nulls = vec![Value::Null; 11];
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "{ me { id } }", "variables": { "f": nulls } }).to_string(),
        )
        .text("map", Value::Object(map).to_string());
    let (status, body) = app.post_multipart(None, form).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE", "{body}");

    // A 3 MiB file is read past the 2 MiB body limit (uploads have their own), and
    // reaches variable coercion: a file is not an ID.
    let form = reqwest::multipart::Form::new()
        .text(
            "operations",
            json!({ "query": "query($id: ID!) { user(id: $id) { id } }", "variables": { "id": null } })
                .to_string(),
        )
        .text("map", json!({ "0": ["variables.id"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(vec![b'x'; 3 * 1024 * 1024]).file_name("big.txt"),
        );
    let (status, body) = app.post_multipart(None, form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    app.stop().await;
}
