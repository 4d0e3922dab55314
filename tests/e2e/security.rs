//! Security at the edges: the router refuses bad bearer tokens (401), clients cannot
//! smuggle identity headers through the router, the users subgraph accepts identity
//! only with a fresh HMAC proof from the router, and errors never leak SQL or internals.

use folio_common::{IdentityKey, Viewer};
use folio_testkit::{TestApp, code};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";
const PUBLIC_QUERY: &str = r#"{ user(id: "x") { id } }"#;

/// The identity headers that prove `viewer`, signed with `key` at `now`.
fn signed(key: &IdentityKey, viewer: &Viewer, now: i64) -> Vec<(String, String)> {
    key.sign(viewer, now)
        .into_iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().expect("ASCII").to_owned()))
        .collect()
}

fn viewer(id: &str, admin: bool) -> Viewer {
    Viewer {
        user_id: Some(id.to_owned()),
        is_admin: admin,
        client_ip: Some("127.0.0.1".parse().expect("ip")),
    }
}

fn app_key(app: &TestApp) -> IdentityKey {
    IdentityKey::new(
        app.cfg
            .identity_secret
            .as_ref()
            .expect("the test secret")
            .as_bytes(),
    )
    .expect("a valid key")
}

fn now() -> i64 {
    folio_common::graphql::now_unix()
}

/// Asserts the router refused the request as HTTP 401 with UNAUTHENTICATED and no data.
fn assert_refused(status: u16, body: &Value) {
    assert_eq!(status, 401, "{body}");
    assert_eq!(code(body), "UNAUTHENTICATED", "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
}

/// `token` with one character of its signature (the third part) changed.
fn tamper_signature(token: &str) -> String {
    let start = token.rfind('.').expect("a JWT") + 1;
    let i = start + 10;
    let replacement = if &token[i..=i] == "A" { "B" } else { "A" };
    let mut t = token.to_owned();
    t.replace_range(i..=i, replacement);
    t
}

#[tokio::test]
async fn a_garbage_bearer_token_is_refused_even_for_a_public_query() {
    let app = TestApp::spawn().await;
    for token in ["garbage", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"] {
        let (status, body) = app.post(Some(token), PUBLIC_QUERY, json!({})).await;
        assert_refused(status, &body);
    }
    // Without any token the same query is fine.
    let (status, body) = app.post(None, PUBLIC_QUERY, json!({})).await;
    assert_eq!((status, body), (200, json!({ "data": { "user": null } })));
    app.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::spawn_with(|cfg| cfg.access_token_ttl_secs = 1).await;
    let body = app
        .gql(
            None,
            "mutation { register(input: { email: \"ada@example.com\", password: \"correct horse\", firstName: \"Ada\", lastName: \"L\" }) { accessToken expiresIn user { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["register"]["expiresIn"], json!(1), "{body}");
    let token = body["data"]["register"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, body) = app.post(Some(&token), PUBLIC_QUERY, json!({})).await;
    assert_refused(status, &body);
    let body = app
        .gql(
            None,
            "mutation($t: String!) { verifyToken(token: $t) { valid userId } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(
        body["data"]["verifyToken"],
        json!({ "valid": false, "userId": null }),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_authorization_header_that_is_not_bearer_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    for value in [
        "Basic xyz",
        "Basic YWRhOmNvcnJlY3QgaG9yc2U=",
        "Bearer",
        "Bearer   ",
        &ada.access_token,
        &format!("Token {}", ada.access_token),
    ] {
        let headers = [("authorization".to_owned(), value.to_owned())];
        let (status, body) = app
            .post_with_headers(&app.url, &headers, PUBLIC_QUERY)
            .await;
        assert_refused(status, &body);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_token_with_a_tampered_signature_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let tampered = tamper_signature(&ada.access_token);
    assert_ne!(tampered, ada.access_token);
    let (status, body) = app.post(Some(&tampered), "{ me { id } }", json!({})).await;
    assert_refused(status, &body);
    // The genuine token still works.
    let (status, body) = app
        .post(Some(&ada.access_token), "{ me { id } }", json!({}))
        .await;
    assert_eq!((status, &body["data"]["me"]["id"]), (200, &json!(ada.id)));
    app.stop().await;
}

#[tokio::test]
async fn a_token_with_swapped_claims_no_algorithm_or_no_signature_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let parts = |t: &str| t.split('.').map(str::to_owned).collect::<Vec<_>>();
    let (a, b) = (parts(&ada.access_token), parts(&bob.access_token));
    // Bob's claims under ada's signature: would make the bearer bob.
    let swapped = format!("{}.{}.{}", a[0], b[1], a[2]);
    // {"alg":"none","typ":"JWT"} with real claims and no signature.
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", b[1]);
    // A refresh token is not an access token either.
    for token in [swapped, unsigned, ada.refresh_token.clone()] {
        let (status, body) = app.post(Some(&token), "{ me { id } }", json!({})).await;
        assert_refused(status, &body);
    }
    app.stop().await;
}

#[tokio::test]
async fn identity_headers_sent_to_the_router_are_ignored() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let smuggled = vec![
        ("x-folio-user-id".to_owned(), ada.id.clone()),
        ("x-folio-user-admin".to_owned(), "1".to_owned()),
        ("x-folio-client-ip".to_owned(), "203.0.113.7".to_owned()),
        ("x-folio-identity-ts".to_owned(), now().to_string()),
        (
            "x-folio-identity-sig".to_owned(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        ),
    ];
    let query = r#"{ me { id } }"#;
    let (status, body) = app.post_with_headers(&app.url, &smuggled, query).await;
    assert_eq!((status, body), (200, json!({ "data": { "me": null } })));

    // Even a proof the subgraph would accept is dropped by the router.
    let genuine = signed(&app_key(&app), &viewer(&ada.id, true), now());
    let (status, body) = app.post_with_headers(&app.url, &genuine, query).await;
    assert_eq!((status, body), (200, json!({ "data": { "me": null } })));

    // A signed-in client stays themself, and gains no admin power.
    let mut as_bob = smuggled.clone();
    as_bob.push((
        "authorization".to_owned(),
        format!("Bearer {}", bob.access_token),
    ));
    let (status, body) = app.post_with_headers(&app.url, &as_bob, query).await;
    assert_eq!(
        (status, &body["data"]["me"]["id"]),
        (200, &json!(bob.id)),
        "{body}"
    );
    let q = format!(r#"{{ user(id: "{}") {{ email }} }}"#, ada.id);
    let (_, body) = app.post_with_headers(&app.url, &as_bob, &q).await;
    assert_eq!(body["data"]["user"]["email"], Value::Null, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn identity_headers_without_a_proof_are_anonymous_at_the_subgraph() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let headers = vec![
        ("x-folio-user-id".to_owned(), ada.id.clone()),
        ("x-folio-user-admin".to_owned(), "1".to_owned()),
        ("x-folio-identity-ts".to_owned(), now().to_string()),
    ];
    let (status, body) = app
        .post_with_headers(&app.users_url, &headers, "{ me { id } }")
        .await;
    assert_eq!((status, body), (200, json!({ "data": { "me": null } })));
    let (_, body) = app
        .post_with_headers(&app.users_url, &headers, "{ users { totalCount } }")
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_forged_or_foreign_proof_is_refused_by_the_subgraph() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let ts = now();
    let forged = vec![
        ("x-folio-user-id".to_owned(), ada.id.clone()),
        ("x-folio-user-admin".to_owned(), "0".to_owned()),
        ("x-folio-client-ip".to_owned(), "127.0.0.1".to_owned()),
        ("x-folio-identity-ts".to_owned(), ts.to_string()),
        (
            "x-folio-identity-sig".to_owned(),
            "c2lnbmVkIGJ5IG5vYm9keSBpbiBwYXJ0aWN1bGFy".to_owned(),
        ),
    ];
    let foreign_key = IdentityKey::new(b"some-other-secret-that-is-long-enough-1234").expect("key");
    let foreign = signed(&foreign_key, &viewer(&ada.id, false), ts);
    // A genuine proof for bob, with the user id then changed to ada, or the admin flag raised.
    let mut retargeted = signed(&app_key(&app), &viewer(&bob.id, false), ts);
    retargeted[0].1 = ada.id.clone();
    let mut elevated = signed(&app_key(&app), &viewer(&bob.id, false), ts);
    elevated[1].1 = "1".to_owned();
    assert_eq!(
        (retargeted[0].0.as_str(), elevated[1].0.as_str()),
        ("x-folio-user-id", "x-folio-user-admin")
    );
    for headers in [forged, foreign, retargeted, elevated] {
        let (status, body) = app
            .post_with_headers(&app.users_url, &headers, "{ me { id } }")
            .await;
        assert_refused(status, &body);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_fresh_genuine_proof_is_accepted_but_a_stale_one_is_not() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let key = app_key(&app);
    let headers = signed(&key, &viewer(&ada.id, false), now());
    let (status, body) = app
        .post_with_headers(&app.users_url, &headers, "{ me { id email } }")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["me"],
        json!({ "id": ada.id, "email": "ada@example.com" })
    );
    // The admin flag is honoured when the router signed it.
    let headers = signed(&key, &viewer(&ada.id, true), now());
    let q = format!(r#"{{ user(id: "{}") {{ email }} }}"#, bob.id);
    let (_, body) = app.post_with_headers(&app.users_url, &headers, &q).await;
    assert_eq!(
        body["data"]["user"]["email"],
        json!("bob@example.com"),
        "{body}"
    );

    for ts in [now() - 120, now() + 120] {
        let headers = signed(&key, &viewer(&ada.id, false), ts);
        let (status, body) = app
            .post_with_headers(&app.users_url, &headers, "{ me { id } }")
            .await;
        assert_refused(status, &body);
    }
    app.stop().await;
}

/// Words that would betray SQL, the database or the code behind an error message.
fn assert_no_internals(body: &Value) {
    let Some(errors) = body["errors"].as_array() else {
        return;
    };
    for e in errors {
        let m = e["message"].as_str().unwrap_or_default().to_lowercase();
        for word in [
            "select ",
            "insert ",
            "sql",
            "syntax",
            "constraint",
            "postgres",
            "database",
            "sea_orm",
            "dberr",
            "panick",
            ".rs:",
            "stack",
            "0x00",
        ] {
            assert!(!m.contains(word), "message leaks {word:?}: {body}");
        }
    }
}

#[tokio::test]
async fn sql_in_search_and_filters_is_just_text() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let obrien = app
        .register_named("ob@example.com", PASSWORD, "Conan", "O'Brien", json!({}))
        .await;
    let q = "query($s: String, $f: UserFilter) { users(search: $s, filter: $f) { totalCount nodes { id } } }";
    let t = Some(ada.access_token.as_str());
    for injection in [
        r#"'"; DROP TABLE users; --"#,
        "' OR '1'='1",
        "\" OR 1=1 --",
        "%' OR 1=1 --",
    ] {
        let body = app.gql(t, q, json!({ "s": injection })).await;
        assert_eq!(
            body,
            json!({ "data": { "users": { "totalCount": 0, "nodes": [] } } }),
            "{injection}"
        );
        let body = app
            .gql(t, q, json!({ "f": { "lastName": injection } }))
            .await;
        assert_eq!(
            body,
            json!({ "data": { "users": { "totalCount": 0, "nodes": [] } } }),
            "{injection}"
        );
    }
    // A quote in a name is matched as itself, and the table is still there.
    let body = app.gql(t, q, json!({ "s": "o'b" })).await;
    assert_eq!(
        body["data"]["users"]["nodes"],
        json!([{ "id": obrien.id }]),
        "{body}"
    );
    let body = app.gql(t, q, json!({})).await;
    assert_eq!(body["data"]["users"]["totalCount"], json!(2), "{body}");
    let body = app
        .gql(None, "mutation($e: String!) { login(email: $e, password: \"x' OR '1'='1\") { accessToken } }", json!({ "e": "ada@example.com' --" }))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_no_internals(&body);
    app.stop().await;
}

#[tokio::test]
async fn hostile_inputs_never_leak_internal_details() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let t = Some(ada.access_token.as_str());
    let long = "x".repeat(20_000);
    let cases = [
        (
            r#"query($id: ID!) { user(id: $id) { id } }"#,
            json!({ "id": "nul\u{0}byte" }),
        ),
        (
            r#"query($id: ID!) { user(id: $id) { id } }"#,
            json!({ "id": long }),
        ),
        (
            r#"query($s: String) { users(search: $s) { totalCount } }"#,
            json!({ "s": "nul\u{0}byte" }),
        ),
        (
            r#"query($s: String) { users(search: $s) { totalCount } }"#,
            json!({ "s": long }),
        ),
        (
            r#"mutation($id: ID!) { follow(userId: $id) { id } }"#,
            json!({ "id": "nul\u{0}byte" }),
        ),
        (
            r#"mutation($id: ID!) { follow(userId: $id) { id } }"#,
            json!({ "id": "\u{fffd}\u{1F600}'--" }),
        ),
        (
            r#"mutation($e: String!) { login(email: $e, password: "whatever1") { accessToken } }"#,
            json!({ "e": "a\u{0}@example.com" }),
        ),
        (
            r#"mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"#,
            json!({ "t": "nul\u{0}" }),
        ),
        (r#"{ users(first: 2147483647) { totalCount } }"#, json!({})),
        (r#"{ users(first: 99999999999) { totalCount } }"#, json!({})),
        (r#"{ nope }"#, json!({})),
    ];
    for (query, variables) in cases {
        let (status, body) = app.post(t, query, variables.clone()).await;
        assert!(status < 500, "{query} {variables}: {status} {body}");
        assert_no_internals(&body);
        if body.get("errors").is_some() {
            assert!(
                !code(&body).is_empty(),
                "{query}: an error without a code: {body}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn text_with_a_nul_byte_is_ordinary_input() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let t = Some(ada.access_token.as_str());
    let nul = "nul\u{0}byte";
    // (operation, variables, what the contract says the answer is)
    let cases = [
        (
            "query($id: ID!) { user(id: $id) { id } }",
            json!({ "id": nul }),
            "data: user null",
        ),
        (
            "query($s: String) { users(search: $s) { totalCount } }",
            json!({ "s": nul }),
            "data: no match",
        ),
        (
            "query($f: UserFilter) { users(filter: $f) { totalCount } }",
            json!({ "f": { "firstName": nul } }),
            "data: no match",
        ),
        (
            "mutation($id: ID!) { follow(userId: $id) { id } }",
            json!({ "id": nul }),
            "NOT_FOUND",
        ),
        (
            "mutation($id: ID!) { block(userId: $id) }",
            json!({ "id": nul }),
            "NOT_FOUND",
        ),
        (
            "mutation($id: ID!) { setAdmin(id: $id, isAdmin: true) { id } }",
            json!({ "id": nul }),
            "FORBIDDEN",
        ),
        (
            "mutation($i: UpdateUserInput!, $id: ID!) { updateUser(id: $id, input: $i) { id } }",
            json!({ "id": ada.id, "i": { "lastName": nul } }),
            "BAD_USER_INPUT",
        ),
    ];
    let mut wrong = Vec::new();
    for (query, variables, expected) in cases {
        let body = app.gql(t, query, variables.clone()).await;
        let ok = match expected {
            "data: user null" => body == json!({ "data": { "user": null } }),
            "data: no match" => body == json!({ "data": { "users": { "totalCount": 0 } } }),
            c => code(&body) == c,
        };
        if !ok {
            wrong.push(format!(
                "{query} {variables}: expected {expected}, got {body}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn the_router_can_read_the_jwks_from_a_file() {
    let dir = tempfile::tempdir().expect("dir");
    let key_path = dir.path().join("signing.pem");
    let key = folio_users::auth::tokens::load_or_generate_key(&key_path).expect("key");
    let issuer = folio_users::auth::tokens::TokenIssuer::new(&key, "folio", "folio-api", 900)
        .expect("issuer");
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&jwks_path, issuer.jwks().to_string()).expect("write jwks");
    let app = TestApp::spawn_with(|cfg| {
        cfg.jwt_private_key_file = Some(key_path.clone());
        cfg.jwks_file = Some(jwks_path.clone());
        // Nothing listens here: the keys can only have come from the file.
        cfg.jwks_url = Some("http://127.0.0.1:9/.well-known/jwks.json".into());
    })
    .await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app
        .gql(Some(&ada.access_token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(body["data"]["me"]["id"], json!(ada.id), "{body}");
    app.stop().await;
}
