//! The router as a gateway: automatic persisted queries (Apollo Client's protocol),
//! trusted documents (a manifest of persisted operations, optionally the only ones
//! allowed), demand control, client request batching, and per-client rate limits.

use folio_testkit::TestApp;
use serde_json::{Value, json};

/// What Apollo Client's cache sends for a query like this one (it adds `__typename`).
const CONTENTS: &str = "query NewContents($first: Int) {\n  newContents(first: $first) {\n    nodes {\n      id\n      title\n      __typename\n    }\n    __typename\n  }\n}";

fn sha256(text: &str) -> String {
    folio_router::pipeline::documents::sha256_hex(text)
}

/// Posts `body` exactly as given (bytes), with Apollo Client's headers.
async fn post_bytes(app: &TestApp, body: String) -> (u16, Value) {
    let res = app
        .client
        .post(&app.url)
        .header("content-type", "application/json")
        .header(
            "accept",
            "application/graphql-response+json,application/json;q=0.9",
        )
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

async fn seed(app: &TestApp) -> Value {
    let ada = app
        .register("ada-gateway@example.com", "correct horse 1")
        .await;
    for title in ["First", "Second", "Third"] {
        app.create_content(&ada, title).await;
    }
    let direct = app.gql(None, CONTENTS, json!({ "first": 2 })).await;
    assert!(direct["errors"].is_null(), "{direct}");
    assert_eq!(
        direct["data"]["newContents"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    direct["data"].clone()
}

#[tokio::test]
async fn apollo_clients_persisted_query_flow_byte_for_byte() {
    let app = TestApp::spawn().await;
    let expected = seed(&app).await;
    let hash = sha256(CONTENTS);
    // The bodies Apollo Client's persisted-queries link sends, field order included
    // (operationName, variables, extensions, then query when it is included).
    let hash_only = format!(
        r#"{{"operationName":"NewContents","variables":{{"first":2}},"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{hash}"}}}}}}"#
    );
    let with_query = format!(
        r#"{{"operationName":"NewContents","variables":{{"first":2}},"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{hash}"}}}},"query":{}}}"#,
        serde_json::to_string(CONTENTS).expect("json")
    );

    // 1. The hash alone: not known yet, in the words the link looks for.
    let (status, miss) = post_bytes(&app, hash_only.clone()).await;
    assert_eq!(status, 400, "{miss}");
    assert_eq!(code(&miss), "PERSISTED_QUERY_NOT_FOUND", "{miss}");
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");
    // 2. The hash with the text: runs and registers it.
    let (status, first) = post_bytes(&app, with_query).await;
    assert_eq!((status, &first["data"]), (200, &expected), "{first}");
    // 3. The hash alone again: the registered text runs.
    let (status, again) = post_bytes(&app, hash_only).await;
    assert_eq!((status, &again["data"]), (200, &expected), "{again}");
    // 4. And over GET, as `useGETForHashedQueries` sends it (what a CDN caches).
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let (status, got) = app
        .get_graphql(&[
            ("operationName", "NewContents"),
            ("variables", r#"{"first":2}"#),
            ("extensions", &extensions),
        ])
        .await;
    assert_eq!((status, &got["data"]), (200, &expected), "{got}");

    // A hash that is not the text's SHA-256.
    let forged = format!(
        r#"{{"variables":{{"first":2}},"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{}"}}}},"query":{}}}"#,
        sha256("{ __typename }"),
        serde_json::to_string(CONTENTS).expect("json")
    );
    let (status, refused) = post_bytes(&app, forged).await;
    assert_eq!((status, code(&refused)), (400, "BAD_REQUEST"), "{refused}");
    // An unknown version.
    let v2 =
        format!(r#"{{"extensions":{{"persistedQuery":{{"version":2,"sha256Hash":"{hash}"}}}}}}"#);
    let (status, refused) = post_bytes(&app, v2).await;
    assert_eq!((status, code(&refused)), (400, "BAD_REQUEST"), "{refused}");
}

#[tokio::test]
async fn with_apq_off_the_protocol_is_not_supported() {
    let app = TestApp::spawn_with(|cfg| cfg.apq = false).await;
    let hash = sha256(CONTENTS);
    let body =
        format!(r#"{{"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{hash}"}}}}}}"#);
    let (_, answer) = post_bytes(&app, body).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_SUPPORTED", "{answer}");
    assert_eq!(answer["errors"][0]["message"], "PersistedQueryNotSupported");
}

/// Operations as graphql-codegen's client preset writes them to
/// `persisted-documents.json` (`persistedDocuments: { hashAlgorithm: 'sha256' }`).
const LISTED: [&str; 2] = [
    "query NewContents($first: Int) { newContents(first: $first) { nodes { id title __typename } __typename } }",
    "query Me { me { id firstName __typename } }",
];

/// A platform whose router reads a codegen manifest of [`LISTED`], locked or not.
async fn with_manifest(only: bool) -> TestApp {
    TestApp::spawn_with(|cfg| {
        let manifest: serde_json::Map<String, Value> = LISTED
            .iter()
            .map(|doc| (sha256(doc), Value::String((*doc).to_owned())))
            .collect();
        let path = cfg.data_dir.join("persisted-documents.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).expect("json"))
            .expect("manifest written");
        cfg.persisted_documents_file = Some(path);
        cfg.persisted_documents_only = only;
    })
    .await
}

async fn by_id(app: &TestApp, id: &str) -> (u16, Value) {
    post_bytes(
        app,
        json!({ "documentId": id, "variables": { "first": 2 } }).to_string(),
    )
    .await
}

#[tokio::test]
async fn a_codegen_manifest_is_accepted_as_is_and_its_ids_run() {
    let app = with_manifest(false).await;
    seed(&app).await;
    let id = sha256(LISTED[0]);
    let (status, plain) = by_id(&app, &id).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(
        plain["data"]["newContents"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let (status, prefixed) = by_id(&app, &format!("sha256:{id}")).await;
    assert_eq!((status, &prefixed["data"]), (200, &plain["data"]));
    // Over GET too.
    let (status, got) = app
        .get_graphql(&[("documentId", &id), ("variables", r#"{"first":2}"#)])
        .await;
    assert_eq!((status, &got["data"]), (200, &plain["data"]), "{got}");
    // An id the manifest does not have.
    let (status, missing) = by_id(&app, &sha256("{ nothing }")).await;
    assert_eq!(
        (status, code(&missing)),
        (400, "PERSISTED_QUERY_NOT_FOUND"),
        "{missing}"
    );
    let (status, malformed) = by_id(&app, "not-a-hash").await;
    assert_eq!(
        (status, code(&malformed)),
        (400, "BAD_REQUEST"),
        "{malformed}"
    );
    // Not locked: any operation still runs.
    let open = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(open["data"]["__typename"], "Query", "{open}");
}

#[tokio::test]
async fn locked_to_the_manifest_only_listed_operations_run() {
    let app = with_manifest(true).await;
    let id = sha256(LISTED[0]);
    let (status, listed) = by_id(&app, &id).await;
    assert_eq!(status, 200, "{listed}");
    assert!(listed["errors"].is_null(), "{listed}");
    // A listed operation sent as its exact text runs too.
    let (status, as_text) = post_bytes(
        &app,
        json!({ "query": LISTED[0], "variables": { "first": 2 } }).to_string(),
    )
    .await;
    assert_eq!(
        (status, &as_text["data"]),
        (200, &listed["data"]),
        "{as_text}"
    );
    // Anything else does not: another text, introspection, APQ.
    for (what, body) in [
        ("an unlisted query", json!({ "query": "{ __typename }" })),
        (
            "introspection",
            json!({ "query": "{ __schema { queryType { name } } }" }),
        ),
        (
            "an APQ registration",
            json!({
                "query": "{ __typename }",
                "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256("{ __typename }") } }
            }),
        ),
    ] {
        let (status, refused) = post_bytes(&app, body.to_string()).await;
        assert_eq!(
            (status, code(&refused)),
            (400, "PERSISTED_QUERY_REQUIRED"),
            "{what}: {refused}"
        );
    }
    // An APQ hash alone of something unlisted is simply unknown.
    let body = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256("{ __typename }") } } });
    let (_, unknown) = post_bytes(&app, body.to_string()).await;
    assert_eq!(code(&unknown), "PERSISTED_QUERY_NOT_FOUND", "{unknown}");
}

#[tokio::test]
async fn batches_are_refused_by_default_and_each_operation_answers_when_allowed() {
    let off = TestApp::spawn().await;
    let (status, refused) = post_bytes(&off, r#"[{"query":"{ __typename }"}]"#.into()).await;
    assert_eq!(
        (status, code(&refused)),
        (400, "BATCHING_NOT_ENABLED"),
        "{refused}"
    );
    off.stop().await;

    let app = TestApp::spawn_with(|cfg| cfg.max_batch = 3).await;
    let expected = seed(&app).await;
    let ada = app
        .login("ada-gateway@example.com", "correct horse 1")
        .await;
    // As BatchHttpLink sends it: one POST, an array; the token applies to each.
    let batch = json!([
        { "operationName": "NewContents", "query": CONTENTS, "variables": { "first": 2 } },
        { "query": "{ noSuchField }" },
        { "query": "query Me { me { id } }" },
    ]);
    let res = app
        .client
        .post(&app.url)
        .bearer_auth(&ada.access_token)
        .json(&batch)
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 200);
    let answers: Vec<Value> = res.json().await.expect("an array");
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert_eq!(answers[0]["data"], expected, "{}", answers[0]);
    assert_eq!(
        code(&answers[1]),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        answers[1]
    );
    assert_eq!(
        answers[2]["data"]["me"]["id"],
        json!(ada.id),
        "{}",
        answers[2]
    );

    // Too many, none at all, not requests.
    let four = Value::Array(vec![json!({ "query": "{ __typename }" }); 4]).to_string();
    let (status, refused) = post_bytes(&app, four).await;
    assert_eq!(
        (status, code(&refused)),
        (400, "BATCH_LIMIT_EXCEEDED"),
        "{refused}"
    );
    for body in ["[]", "[1, 2]"] {
        let (status, refused) = post_bytes(&app, body.into()).await;
        if body == "[]" {
            assert_eq!(
                (status, code(&refused)),
                (400, "BAD_REQUEST"),
                "{body}: {refused}"
            );
        } else {
            // Each item is answered on its own: neither is a request.
            let items = refused.as_array().expect("an array");
            assert!(items.iter().all(|i| code(i) == "BAD_REQUEST"), "{refused}");
        }
    }
}

#[tokio::test]
async fn demand_control_estimates_before_any_fetch_and_refuses_over_the_limit() {
    // A limit of 1 refuses every list, so each estimate can be read off its refusal.
    let app = TestApp::spawn_with(|cfg| cfg.max_cost = Some(1)).await;
    let cases = [
        // The connection costs 1 and passes its `first` to `nodes`: 20 × (node 1 +
        // author 1); scalars are free.
        (
            "{ newContents(first: 20) { nodes { id title author { firstName } } } }",
            json!({}),
            41,
        ),
        // A variable counts with its value.
        (
            "query($n: Int) { newContents(first: $n) { nodes { id title author { firstName } } } }",
            json!({ "n": 30 }),
            61,
        ),
        // No `first`: the default list size (10).
        ("{ newContents { nodes { id } } }", json!({}), 11),
        // `edges` and `nodes` are the same list, each costed with the connection's size;
        // nested lists multiply: 1 + 5 × (1 + 1) + 5 × (1 + (1 + 4 × 1)).
        (
            "{ users(first: 5) { edges { node { id } } nodes { id followers(first: 4) { nodes { id } } } } }",
            json!({}),
            41,
        ),
    ];
    for (query, variables, expected) in cases {
        let (status, body) = app.post(None, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            code(&body),
            "COST_ESTIMATED_TOO_EXPENSIVE",
            "{query}: {body}"
        );
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(
            (&extensions["cost"], &extensions["maxCost"]),
            (&json!(expected), &json!(1)),
            "{query}"
        );
        assert!(
            body.get("data").is_none_or(Value::is_null),
            "nothing fetched: {body}"
        );
    }
    // What costs nothing runs.
    let free = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(free["data"]["__typename"], "Query", "{free}");
    // Each request's cost is in the metrics.
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("folio_router_operation_cost_count 5"),
        "{metrics}"
    );
}

/// A request from 127.0.0.1 (a trusted proxy in these tests) for the client `forwarded`.
async fn as_client(app: &TestApp, forwarded: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(&app.url)
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "query": "{ __typename }" }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("answered")
}

#[tokio::test]
async fn each_client_has_its_own_rate_limit_which_refills() {
    let app = TestApp::spawn_with(|cfg| {
        cfg.rate_limit_rps = Some(1);
        cfg.rate_limit_burst = Some(2);
        cfg.trusted_proxies = "127.0.0.1/32, 10.0.0.0/8".into();
    })
    .await;
    let ada = app
        .register("ada-limited@example.com", "correct horse 1")
        .await;
    // Client 203.0.113.5, seen through two proxies, then directly behind ours: one client.
    for chain in ["198.51.100.7, 203.0.113.5, 10.1.1.1", "203.0.113.5"] {
        let res = as_client(&app, chain, None).await;
        assert_eq!(res.status().as_u16(), 200, "{chain}");
    }
    let res = as_client(&app, "192.0.2.1, 203.0.113.5", None).await;
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    // Other clients are not limited: another address, a signed-in user from the same one.
    assert_eq!(
        as_client(&app, "203.0.113.6", None).await.status().as_u16(),
        200
    );
    let signed = as_client(&app, "203.0.113.5", Some(&ada.access_token)).await;
    assert_eq!(signed.status().as_u16(), 200);
    // The bucket refills: a second later the client may ask again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        as_client(&app, "203.0.113.5", None).await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = TestApp::spawn_with(|cfg| {
        cfg.rate_limit_rps = Some(1);
        cfg.rate_limit_burst = Some(1);
    })
    .await;
    // Every request is 127.0.0.1's, whatever it claims to forward.
    assert_eq!(
        as_client(&app, "203.0.113.8", None).await.status().as_u16(),
        200
    );
    assert_eq!(
        as_client(&app, "203.0.113.9", None).await.status().as_u16(),
        429
    );
}

/// An operation from `forwarded` (127.0.0.1 is a trusted proxy in these tests); the body.
async fn gql_from(app: &TestApp, forwarded: &str, query: &str, variables: Value) -> Value {
    app.client
        .post(&app.url)
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON")
}

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }";

/// The seconds a `RATE_LIMITED` answer asks to wait, after checking it refused the
/// operation (no data).
fn retry_after(body: &Value) -> u64 {
    assert_eq!(code(body), "RATE_LIMITED", "{body}");
    assert!(body["data"].is_null(), "{body}");
    body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("retryAfter in {body}"))
}

/// Sends `query` with `attempt(i)`'s (address, variables) for i = 0, 1, … until it is
/// `RATE_LIMITED`; each answer before must have the code `before`. Returns how many got
/// through, the refusal's `retryAfter`, and the tokens that may have come back meanwhile
/// (one per 60/`per_minute` seconds elapsed).
async fn until_limited(
    app: &TestApp,
    query: &str,
    before: &str,
    per_minute: u64,
    attempt: &impl Fn(u64) -> (String, Value),
) -> (u64, u64, u64) {
    let started = std::time::Instant::now();
    for i in 0..(per_minute * 3) {
        let (address, vars) = attempt(i);
        let body = gql_from(app, &address, query, vars).await;
        if code(&body) == "RATE_LIMITED" {
            let refilled = started.elapsed().as_secs() * per_minute / 60 + 1;
            return (i, retry_after(&body), refilled);
        }
        assert_eq!(code(&body), before, "attempt {i}: {body}");
    }
    panic!("never limited");
}

#[tokio::test]
async fn a_login_storm_from_one_address_is_limited_while_other_clients_are_not() {
    // The default limit (10 attempts a minute per address and per email), behind a proxy.
    let app = TestApp::spawn_with(|cfg| cfg.trusted_proxies = "127.0.0.1/32".into()).await;
    assert_eq!(app.cfg.auth_limit_per_minute, 10);
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    for (i, name) in ["ada", "bob"].iter().enumerate() {
        let input = json!({ "email": format!("{name}-storm@example.com"),
            "password": "correct horse 1", "firstName": name, "lastName": "Storm" });
        let body = gql_from(
            &app,
            &format!("198.51.100.{i}"),
            register,
            json!({ "i": input }),
        )
        .await;
        assert_eq!(code(&body), "", "{body}");
    }

    // One address guesses at many accounts: after ten wrong answers (plus any that
    // came back while they ran) even the right password is refused, without a token.
    let attacker = "203.0.113.66";
    let right = json!({ "e": "ada-storm@example.com", "p": "correct horse 1" });
    let guess = |i| {
        let vars = json!({ "e": format!("victim{i}@example.com"), "p": "password123" });
        (attacker.to_owned(), vars)
    };
    let (passed, mut wait, refilled) =
        until_limited(&app, LOGIN, "UNAUTHENTICATED", 10, &guess).await;
    assert!(
        (10..10 + refilled).contains(&passed),
        "{passed} attempts passed"
    );
    assert!(
        (1..=6).contains(&wait),
        "one attempt comes back every 6 s: {wait}"
    );
    // What follows must happen before the next attempt comes back: when it is due in
    // under a second, take it first.
    while wait < 2 {
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        wait = until_limited(&app, LOGIN, "UNAUTHENTICATED", 10, &guess)
            .await
            .1;
    }
    retry_after(&gql_from(&app, attacker, LOGIN, right.clone()).await);
    // So are sign-ups and token refreshes from that address.
    let input = json!({ "email": "eve-storm@example.com", "password": "correct horse 1",
        "firstName": "Eve", "lastName": "Storm" });
    retry_after(&gql_from(&app, attacker, register, json!({ "i": input })).await);
    retry_after(&gql_from(&app, attacker, REFRESH, json!({ "t": "no-such-token" })).await);

    // Another client signs in as usual.
    let body = gql_from(&app, "203.0.113.77", LOGIN, right.clone()).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");

    // Many addresses guessing at one account: its email has its own limit (written in
    // another case, it is the same account). Ada's sign-up and sign-in took two of ten.
    let guess = |i| {
        let vars = json!({ "e": " ADA-storm@example.com", "p": format!("guess {i}xx") });
        (format!("192.0.2.{i}"), vars)
    };
    let (passed, mut wait, refilled) =
        until_limited(&app, LOGIN, "UNAUTHENTICATED", 10, &guess).await;
    assert!(
        (8..8 + refilled).contains(&passed),
        "{passed} guesses passed"
    );
    while wait < 2 {
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        wait = until_limited(&app, LOGIN, "UNAUTHENTICATED", 10, &guess)
            .await
            .1;
    }
    retry_after(&gql_from(&app, "192.0.2.200", LOGIN, right).await);
    // Bob's account, from a fresh address, is untouched.
    let bob = json!({ "e": "bob-storm@example.com", "p": "correct horse 1" });
    let body = gql_from(&app, "192.0.2.201", LOGIN, bob).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");

    // The machine itself (a local script; loopback) is counted by email only.
    for i in 0..12 {
        app.register(&format!("local{i}@example.com"), "correct horse 1")
            .await;
    }
}

#[tokio::test]
async fn sign_in_attempts_come_back_as_the_minute_passes() {
    // 60 a minute: one attempt comes back every second.
    let app = TestApp::spawn_with(|cfg| {
        cfg.trusted_proxies = "127.0.0.1/32".into();
        cfg.auth_limit_per_minute = 60;
    })
    .await;
    let client = "203.0.113.90";
    let stale = json!({ "t": "a-refresh-token-nobody-was-given" });
    let attempt = |_| (client.to_owned(), stale.clone());
    let (passed, wait, refilled) =
        until_limited(&app, REFRESH, "UNAUTHENTICATED", 60, &attempt).await;
    assert!(
        (60..60 + refilled).contains(&passed),
        "{passed} attempts passed"
    );
    assert_eq!(wait, 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let body = gql_from(&app, client, REFRESH, stale).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
}
