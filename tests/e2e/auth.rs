//! Accounts and sessions through the router: register (validation, uniqueness, sign-up
//! by country), login, refresh-token rotation and reuse detection, logout, verifyToken
//! and changePassword.

use folio_testkit::{TestApp, code, field, session};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { \
    accessToken refreshToken expiresIn \
    user { id email firstName lastName phoneNo address isAdmin } } }";

const LOGOUT: &str = "mutation($t: String!) { logout(refreshToken: $t) }";

const VERIFY: &str = "mutation($t: String!) { verifyToken(token: $t) { valid userId expiresAt } }";

const CHANGE_PASSWORD: &str = "mutation($c: String!, $n: String!) { \
    changePassword(currentPassword: $c, newPassword: $n) }";

/// A valid registration input, with `changes` applied on top.
fn input(email: &str, changes: Value) -> Value {
    let mut i = json!({
        "email": email,
        "password": PASSWORD,
        "firstName": "Ada",
        "lastName": "Lovelace",
    });
    for (k, v) in changes.as_object().expect("an object of changes") {
        i[k] = v.clone();
    }
    i
}

/// Asserts `body` is a BAD_USER_INPUT error on `expected_field` and carries no data.
fn assert_bad_input(body: &Value, expected_field: &str) {
    assert_eq!(code(body), "BAD_USER_INPUT", "{body}");
    assert_eq!(field(body), expected_field, "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
}

#[tokio::test]
async fn register_returns_tokens_and_the_user_with_their_private_fields() {
    let app = TestApp::spawn().await;
    let body = app
        .register_body(
            None,
            input(
                "Ada.Lovelace@Example.com",
                json!({ "phoneNo": "+44 20 7946 0958", "address": "12 St James's Square\nLondon" }),
            ),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    let p = &body["data"]["register"];
    assert!(
        p["accessToken"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "{body}"
    );
    assert!(
        p["refreshToken"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_ne!(p["accessToken"], p["refreshToken"]);
    assert_eq!(
        p["expiresIn"],
        json!(900),
        "access tokens live 15 minutes by default"
    );
    let user = &p["user"];
    assert!(user["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(user["email"], json!("Ada.Lovelace@Example.com"));
    assert_eq!(user["firstName"], json!("Ada"));
    assert_eq!(user["lastName"], json!("Lovelace"));
    assert_eq!(user["phoneNo"], json!("+44 20 7946 0958"));
    assert_eq!(user["address"], json!("12 St James's Square\nLondon"));
    assert_eq!(user["isAdmin"], json!(false));

    // The access token signs the new user in.
    let token = p["accessToken"].as_str().expect("token");
    let me = app.gql(Some(token), "{ me { id email } }", json!({})).await;
    assert_eq!(me["data"]["me"]["id"], user["id"]);
    assert_eq!(me["data"]["me"]["email"], json!("Ada.Lovelace@Example.com"));
    let body = app.login_body("ada.lovelace@example.com", PASSWORD).await;
    assert_eq!(body["data"]["login"]["expiresIn"], json!(900), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn register_with_an_email_taken_in_another_case_is_a_conflict_on_email() {
    let app = TestApp::spawn().await;
    let first = app
        .register_body(None, input("ada@example.com", json!({})))
        .await;
    assert_eq!(code(&first), "", "{first}");
    let again = app
        .register_body(
            None,
            input("ADA@Example.COM", json!({ "firstName": "Other" })),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert_eq!(field(&again), "email", "{again}");
    assert_eq!(again["data"], Value::Null);
    // The original account is untouched.
    let body = app.login_body("ada@example.com", PASSWORD).await;
    assert_eq!(
        body["data"]["login"]["user"]["id"],
        first["data"]["register"]["user"]["id"]
    );
    app.stop().await;
}

#[tokio::test]
async fn register_while_signed_in_is_forbidden() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app
        .register_body(Some(&ada.access_token), input("bob@example.com", json!({})))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // No account was created for bob.
    let body = app.login_body("bob@example.com", PASSWORD).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn register_requires_a_password_of_8_to_128_characters() {
    let app = TestApp::spawn().await;
    for bad in ["1234567".to_owned(), "x".repeat(129)] {
        let body = app
            .register_body(None, input("ada@example.com", json!({ "password": bad })))
            .await;
        assert_bad_input(&body, "password");
    }
    // The bounds themselves are fine (characters, not bytes: 128 × 'é' is 256 bytes).
    let body = app
        .register_body(
            None,
            input("eight@example.com", json!({ "password": "12345678" })),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    let long = "é".repeat(128);
    let body = app
        .register_body(None, input("long@example.com", json!({ "password": long })))
        .await;
    assert_eq!(code(&body), "", "{body}");
    let body = app.login_body("long@example.com", &long).await;
    assert_eq!(code(&body), "", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn register_requires_names_of_1_to_100_characters() {
    let app = TestApp::spawn().await;
    let long = "n".repeat(101);
    for (name_field, bad) in [
        ("firstName", ""),
        ("firstName", "   "),
        ("firstName", long.as_str()),
        ("lastName", ""),
        ("lastName", " \t "),
        ("lastName", long.as_str()),
    ] {
        let body = app
            .register_body(None, input("ada@example.com", json!({ name_field: bad })))
            .await;
        assert_bad_input(&body, name_field);
    }
    let max = "n".repeat(100);
    let body = app
        .register_body(
            None,
            input(
                "ada@example.com",
                json!({ "firstName": max, "lastName": max }),
            ),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["register"]["user"]["firstName"], json!(max));
    app.stop().await;
}

#[tokio::test]
async fn register_rejects_a_bad_email_phone_number_or_address_naming_the_field() {
    let app = TestApp::spawn().await;
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "a b@example.com",
        "ada@localhost",
    ] {
        let body = app.register_body(None, input(bad, json!({}))).await;
        assert_bad_input(&body, "email");
    }
    for bad in ["call me", "123", "+1 555 CALL NOW"] {
        let body = app
            .register_body(None, input("ada@example.com", json!({ "phoneNo": bad })))
            .await;
        assert_bad_input(&body, "phoneNo");
    }
    let body = app
        .register_body(
            None,
            input("ada@example.com", json!({ "address": "a".repeat(501) })),
        )
        .await;
    assert_bad_input(&body, "address");
    // 500 characters is the limit, not past it; nothing above was created.
    let body = app
        .register_body(
            None,
            input(
                "ada@example.com",
                json!({ "address": "a".repeat(500), "phoneNo": "(555) 123-4567" }),
            ),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["register"]["user"]["address"],
        json!("a".repeat(500))
    );
    assert_eq!(
        body["data"]["register"]["user"]["phoneNo"],
        json!("(555) 123-4567")
    );
    app.stop().await;
}

#[tokio::test]
async fn arguments_of_the_wrong_type_give_a_coded_client_error() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let cases = [
        (
            Some(ada.access_token.as_str()),
            r#"{ users(first: "abc") { totalCount } }"#,
            json!({}),
        ),
        (
            None,
            r#"mutation { register(input: { email: "bob@example.com", password: 123, firstName: "B", lastName: "C" }) { accessToken } }"#,
            json!({}),
        ),
        (
            None,
            REGISTER,
            json!({ "i": { "email": "bob@example.com", "password": 12345678, "firstName": "B", "lastName": "C" } }),
        ),
        (
            None,
            REGISTER,
            json!({ "i": { "email": "bob@example.com", "firstName": "B", "lastName": "C" } }),
        ),
        (None, "{ me { id", json!({})),
    ];
    for (token, query, variables) in cases {
        let (status, body) = app.post(token, query, variables).await;
        assert!(status < 500, "{status}: {body}");
        let c = code(&body);
        assert!(
            !c.is_empty() && c != "INTERNAL_SERVER_ERROR",
            "{query}: {body}"
        );
        assert!(
            body["data"].is_null() || body["data"]["register"].is_null(),
            "{body}"
        );
    }
    // None of them created bob.
    let body = app.login_body("bob@example.com", "12345678").await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn login_with_a_wrong_password_or_an_unknown_email_fails_the_same_way() {
    let app = TestApp::spawn().await;
    app.register("ada@example.com", PASSWORD).await;
    let wrong_password = app.login_body("ada@example.com", "wrong horse").await;
    let unknown_email = app.login_body("nobody@example.com", PASSWORD).await;
    let not_an_email = app.login_body("not an email", PASSWORD).await;
    for body in [&wrong_password, &unknown_email, &not_an_email] {
        assert_eq!(code(body), "UNAUTHENTICATED", "{body}");
        assert_eq!(body["data"], Value::Null, "{body}");
        assert_eq!(body["errors"][0]["extensions"].get("field"), None, "{body}");
    }
    let message = &wrong_password["errors"][0]["message"];
    assert!(message.as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(&unknown_email["errors"][0]["message"], message);
    assert_eq!(&not_an_email["errors"][0]["message"], message);
    app.stop().await;
}

#[tokio::test]
async fn login_email_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let ada = app.register("Ada@Example.com", PASSWORD).await;
    for email in ["ada@example.com", "ADA@EXAMPLE.COM", "  aDa@example.COM "] {
        let body = app.login_body(email, PASSWORD).await;
        assert_eq!(code(&body), "", "{email}: {body}");
        assert_eq!(body["data"]["login"]["user"]["id"], json!(ada.id));
        // The address is shown as it was registered.
        assert_eq!(
            body["data"]["login"]["user"]["email"],
            json!("Ada@Example.com")
        );
    }
    // The password, though, is case-sensitive.
    let body = app.login_body("ada@example.com", "CORRECT HORSE").await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn refresh_token_rotates_and_the_old_or_an_unknown_token_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app.refresh_body(&ada.refresh_token).await;
    assert_eq!(code(&body), "", "{body}");
    let second = session(&body, "refreshToken");
    assert_eq!(second.id, ada.id);
    assert_ne!(second.refresh_token, ada.refresh_token);
    assert_eq!(body["data"]["refreshToken"]["expiresIn"], json!(900));
    assert_eq!(
        body["data"]["refreshToken"]["user"]["email"],
        json!("ada@example.com")
    );
    // The new access token works.
    let me = app
        .gql(Some(&second.access_token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["id"], json!(ada.id));
    // The new refresh token works once.
    let body = app.refresh_body(&second.refresh_token).await;
    assert_eq!(code(&body), "", "{body}");
    // The consumed one is refused.
    let body = app.refresh_body(&ada.refresh_token).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(body["data"], Value::Null);
    // So is anything that is not a refresh token, an access token included.
    for bad in ["", "garbage", second.access_token.as_str()] {
        let body = app.refresh_body(bad).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{bad:?}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reusing_an_old_refresh_token_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let second = session(&app.refresh_body(&ada.refresh_token).await, "refreshToken");
    let third = session(
        &app.refresh_body(&second.refresh_token).await,
        "refreshToken",
    );
    // Someone replays the first token: refused...
    let body = app.refresh_body(&ada.refresh_token).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    // ...and the newest token of that session is now dead too.
    let body = app.refresh_body(&third.refresh_token).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    // Another session of the same user is not affected.
    let other = app.login("ada@example.com", PASSWORD).await;
    let body = app.refresh_body(&other.refresh_token).await;
    assert_eq!(code(&body), "", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_false_for_an_unknown_token() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app
        .gql(None, LOGOUT, json!({ "t": ada.refresh_token }))
        .await;
    assert_eq!(body["data"]["logout"], json!(true), "{body}");
    let body = app.refresh_body(&ada.refresh_token).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    // Logging in again opens a new session.
    let again = app.login("ada@example.com", PASSWORD).await;
    let body = app.refresh_body(&again.refresh_token).await;
    assert_eq!(code(&body), "", "{body}");
    // A token that was never issued revokes nothing.
    let body = app.gql(None, LOGOUT, json!({ "t": "no-such-token" })).await;
    assert_eq!(body, json!({ "data": { "logout": false } }));
    app.stop().await;
}

#[tokio::test]
async fn verify_token_tells_whose_a_valid_access_token_is_and_rejects_others() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app
        .gql(None, VERIFY, json!({ "t": ada.access_token }))
        .await;
    assert_eq!(code(&body), "", "{body}");
    let status = &body["data"]["verifyToken"];
    assert_eq!(status["valid"], json!(true));
    assert_eq!(status["userId"], json!(ada.id));
    let expires = status["expiresAt"].as_str().expect("expiresAt");
    assert!(
        expires.ends_with('Z') && expires.len() >= 20 && &expires[10..11] == "T",
        "{expires}"
    );

    let mut tampered = ada.access_token.clone();
    let sig_start = tampered.rfind('.').expect("a JWT") + 1;
    let c = if &tampered[sig_start..=sig_start] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(sig_start..=sig_start, c);
    for bad in ["garbage", "", ada.refresh_token.as_str(), tampered.as_str()] {
        let body = app.gql(None, VERIFY, json!({ "t": bad })).await;
        assert_eq!(code(&body), "", "{body}");
        assert_eq!(
            body["data"]["verifyToken"],
            json!({ "valid": false, "userId": null, "expiresAt": null }),
            "{bad:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn change_password_rejects_a_wrong_current_or_a_bad_new_password() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    for bad in ["short", "1234567"] {
        let body = app
            .gql(
                Some(&ada.access_token),
                CHANGE_PASSWORD,
                json!({ "c": PASSWORD, "n": bad }),
            )
            .await;
        assert_bad_input(&body, "newPassword");
    }
    let body = app
        .gql(
            Some(&ada.access_token),
            CHANGE_PASSWORD,
            json!({ "c": PASSWORD, "n": "x".repeat(129) }),
        )
        .await;
    assert_bad_input(&body, "newPassword");
    let body = app
        .gql(
            Some(&ada.access_token),
            CHANGE_PASSWORD,
            json!({ "c": "wrong horse", "n": "battery staple" }),
        )
        .await;
    assert_bad_input(&body, "currentPassword");
    // Nothing changed.
    assert_eq!(code(&app.login_body("ada@example.com", PASSWORD).await), "");
    assert_eq!(
        code(&app.login_body("ada@example.com", "battery staple").await),
        "UNAUTHENTICATED"
    );
    app.stop().await;
}

#[tokio::test]
async fn change_password_replaces_the_password_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let other_session = app.login("ada@example.com", PASSWORD).await;
    let body = app
        .gql(
            Some(&ada.access_token),
            CHANGE_PASSWORD,
            json!({ "c": PASSWORD, "n": "battery staple" }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["changePassword"], json!(true));
    assert_eq!(
        code(&app.login_body("ada@example.com", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    let body = app.login_body("ada@example.com", "battery staple").await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["login"]["user"]["id"], json!(ada.id));
    for old in [&ada.refresh_token, &other_session.refresh_token] {
        let body = app.refresh_body(old).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn change_password_anonymously_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            None,
            CHANGE_PASSWORD,
            json!({ "c": PASSWORD, "n": "battery staple" }),
        )
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(body["data"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn sign_up_from_an_allowed_country_succeeds() {
    let app = TestApp::spawn_with_signup(
        "FR",
        "10.0.0.0,10.255.255.255,DE\n127.0.0.0,127.255.255.255,FR\n",
    )
    .await;
    let body = app
        .register_body(None, input("ada@example.com", json!({})))
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["register"]["user"]["email"],
        json!("ada@example.com")
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_up_from_another_country_is_forbidden_naming_it() {
    let app = TestApp::spawn_with_signup("FR", "127.0.0.0,127.255.255.255,DE\n").await;
    let body = app
        .register_body(None, input("ada@example.com", json!({})))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let message = body["errors"][0]["message"].as_str().expect("a message");
    assert!(message.contains("DE"), "{message}");
    assert_eq!(
        code(&app.login_body("ada@example.com", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_up_from_an_unlocated_ip_is_forbidden() {
    let app = TestApp::spawn_with_signup("FR", "10.0.0.0,10.255.255.255,FR\n").await;
    let body = app
        .register_body(None, input("ada@example.com", json!({})))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["data"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_uses_of_one_refresh_token_rotate_it_at_most_once() {
    let app = TestApp::spawn().await;
    app.register("ada@example.com", PASSWORD).await;
    // A few rounds, as a race does not show every time.
    for _ in 0..4 {
        let s = app.login("ada@example.com", PASSWORD).await;
        let t = s.refresh_token.as_str();
        let (a, b, c, d, e) = tokio::join!(
            app.refresh_body(t),
            app.refresh_body(t),
            app.refresh_body(t),
            app.refresh_body(t),
            app.refresh_body(t)
        );
        let answers = [a, b, c, d, e];
        for body in &answers {
            assert!(["", "UNAUTHENTICATED"].contains(&code(body)), "{body}");
        }
        let winners: Vec<_> = answers.iter().filter(|b| code(b).is_empty()).collect();
        assert!(
            winners.len() <= 1,
            "{} concurrent refreshes succeeded",
            winners.len()
        );
        // The losers reused a consumed token: the session is revoked, winner included.
        if let Some(winner) = winners.first() {
            let next = session(winner, "refreshToken");
            let body = app.refresh_body(&next.refresh_token).await;
            assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_account() {
    let app = TestApp::spawn().await;
    let attempt = |n: &str| input("ada@example.com", json!({ "lastName": n }));
    let (a, b, c, d, e) = tokio::join!(
        app.register_body(None, attempt("A")),
        app.register_body(None, attempt("B")),
        app.register_body(None, attempt("C")),
        app.register_body(None, attempt("D")),
        app.register_body(None, attempt("E"))
    );
    let answers = [a, b, c, d, e];
    for body in &answers {
        assert!(["", "CONFLICT"].contains(&code(body)), "{body}");
    }
    assert_eq!(answers.iter().filter(|b| code(b).is_empty()).count(), 1);
    app.stop().await;
}
