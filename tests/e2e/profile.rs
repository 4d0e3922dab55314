//! Profiles through the router: me and user(id), who sees private fields, updateUser,
//! setAdmin, deleteUser, and the users query (pagination, filters, search).

use folio_testkit::{TestApp, code, connection_ids, field, id_set};
use serde_json::{Value, json};
use std::collections::HashSet;

const PASSWORD: &str = "correct horse";
const ADMIN_EMAIL: &str = "root@example.com";
const ADMIN_PASSWORD: &str = "admin password";

const PROFILE: &str = "query($id: ID!) { user(id: $id) { id firstName lastName email phoneNo address isAdmin createdAt updatedAt } }";

const UPDATE: &str = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { \
    id firstName lastName email phoneNo address createdAt updatedAt } }";

const SET_ADMIN: &str =
    "mutation($id: ID!, $a: Boolean!) { setAdmin(id: $id, isAdmin: $a) { id isAdmin } }";

const DELETE: &str = "mutation($id: ID!) { deleteUser(id: $id) }";

const USERS: &str = "query($f: UserFilter, $s: String, $n: Int, $a: String) { \
    users(filter: $f, search: $s, first: $n, after: $a) { \
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id email } } }";

/// Asserts `s` is an RFC 3339 time in UTC written with `Z` (e.g. 2026-01-02T03:04:05.678Z).
fn assert_rfc3339_utc(s: &str) {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    let ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && s.ends_with('Z')
        && (b.len() == 20 || (b[19] == b'.' && b.len() > 21 && digits(20..b.len() - 1)));
    assert!(ok, "{s:?} is not an RFC 3339 UTC time ending in Z");
}

#[tokio::test]
async fn me_is_null_when_anonymous_and_user_is_null_for_an_unknown_id() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let body = app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(body, json!({ "data": { "me": null } }));
    for unknown in ["no-such-user", "00000000-0000-0000-0000-000000000000", ""] {
        let body = app
            .gql(Some(&ada.access_token), PROFILE, json!({ "id": unknown }))
            .await;
        assert_eq!(code(&body), "", "{body}");
        assert_eq!(body["data"]["user"], Value::Null, "{unknown:?}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn private_fields_are_shown_only_to_the_user_and_admins() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named(
            "ada@example.com",
            PASSWORD,
            "Ada",
            "Lovelace",
            json!({ "phoneNo": "+44 20 7946 0958", "address": "London" }),
        )
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let private = |b: &Value| {
        let u = &b["data"]["user"];
        (
            u["email"].clone(),
            u["phoneNo"].clone(),
            u["address"].clone(),
        )
    };
    let hidden = (Value::Null, Value::Null, Value::Null);
    let shown = (
        json!("ada@example.com"),
        json!("+44 20 7946 0958"),
        json!("London"),
    );

    let anonymous = app.gql(None, PROFILE, json!({ "id": ada.id })).await;
    assert_eq!(
        anonymous["data"]["user"]["firstName"],
        json!("Ada"),
        "{anonymous}"
    );
    assert_eq!(private(&anonymous), hidden);
    let other = app
        .gql(Some(&bob.access_token), PROFILE, json!({ "id": ada.id }))
        .await;
    assert_eq!(
        other["data"]["user"]["lastName"],
        json!("Lovelace"),
        "{other}"
    );
    assert_eq!(private(&other), hidden);
    let own = app
        .gql(Some(&ada.access_token), PROFILE, json!({ "id": ada.id }))
        .await;
    assert_eq!(private(&own), shown);
    let me = app
        .gql(
            Some(&ada.access_token),
            "{ me { email phoneNo address } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"],
        json!({ "email": "ada@example.com", "phoneNo": "+44 20 7946 0958", "address": "London" })
    );
    let by_admin = app
        .gql(Some(&admin.access_token), PROFILE, json!({ "id": ada.id }))
        .await;
    assert_eq!(private(&by_admin), shown);

    // The same holds in lists: bob sees only his own email.
    let list = app.gql(Some(&bob.access_token), USERS, json!({})).await;
    for node in list["data"]["users"]["nodes"].as_array().expect("nodes") {
        let expected = if node["id"] == json!(bob.id) {
            json!("bob@example.com")
        } else {
            Value::Null
        };
        assert_eq!(node["email"], expected, "{list}");
    }
    app.stop().await;
}

#[tokio::test]
async fn update_user_changes_only_the_fields_given() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named(
            "ada@example.com",
            PASSWORD,
            "Ada",
            "Lovelace",
            json!({ "phoneNo": "0612345678", "address": "London" }),
        )
        .await;
    let t = Some(ada.access_token.as_str());
    let body = app
        .gql(
            t,
            UPDATE,
            json!({ "id": ada.id, "i": { "lastName": "Byron" } }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    let u = &body["data"]["updateUser"];
    assert_eq!(
        (
            &u["firstName"],
            &u["lastName"],
            &u["email"],
            &u["phoneNo"],
            &u["address"]
        ),
        (
            &json!("Ada"),
            &json!("Byron"),
            &json!("ada@example.com"),
            &json!("0612345678"),
            &json!("London")
        )
    );
    // null clears an optional field; the others stay.
    let body = app
        .gql(t, UPDATE, json!({ "id": ada.id, "i": { "phoneNo": null } }))
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["updateUser"]["phoneNo"], Value::Null);
    assert_eq!(body["data"]["updateUser"]["address"], json!("London"));
    assert_eq!(body["data"]["updateUser"]["lastName"], json!("Byron"));
    // The change is stored, not just echoed.
    let body = app.gql(t, PROFILE, json!({ "id": ada.id })).await;
    assert_eq!(body["data"]["user"]["phoneNo"], Value::Null);
    assert_eq!(body["data"]["user"]["lastName"], json!("Byron"));
    // A new email is the new login.
    let body = app
        .gql(
            t,
            UPDATE,
            json!({ "id": ada.id, "i": { "email": "ada@byron.example" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateUser"]["email"],
        json!("ada@byron.example"),
        "{body}"
    );
    assert_eq!(app.login("ADA@byron.example", PASSWORD).await.id, ada.id);
    app.stop().await;
}

#[tokio::test]
async fn update_user_rejects_null_required_fields_and_bad_values() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named(
            "ada@example.com",
            PASSWORD,
            "Ada",
            "Lovelace",
            json!({ "address": "London" }),
        )
        .await;
    let t = Some(ada.access_token.as_str());
    for (input, expected) in [
        (json!({ "firstName": null }), "firstName"),
        (json!({ "lastName": null }), "lastName"),
        (json!({ "email": null }), "email"),
        (json!({ "firstName": "  " }), "firstName"),
        (json!({ "lastName": "x".repeat(101) }), "lastName"),
        (json!({ "email": "not-an-email" }), "email"),
        (json!({ "phoneNo": "call me" }), "phoneNo"),
        (json!({ "address": "a".repeat(501) }), "address"),
    ] {
        let body = app
            .gql(t, UPDATE, json!({ "id": ada.id, "i": input }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(field(&body), expected, "{input}: {body}");
    }
    let body = app.gql(t, PROFILE, json!({ "id": ada.id })).await;
    let u = &body["data"]["user"];
    assert_eq!(
        (&u["firstName"], &u["lastName"], &u["email"]),
        (&json!("Ada"), &json!("Lovelace"), &json!("ada@example.com"))
    );
    assert_eq!(u["address"], json!("London"));
    app.stop().await;
}

#[tokio::test]
async fn update_user_to_another_users_email_in_another_case_is_a_conflict() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    app.register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let body = app
        .gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": ada.id, "i": { "email": "BOB@Example.com" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert_eq!(field(&body), "email", "{body}");
    assert_eq!(app.login("ada@example.com", PASSWORD).await.id, ada.id);
    app.stop().await;
}

#[tokio::test]
async fn update_user_is_for_the_user_themself_or_an_admin() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let rename = json!({ "id": ada.id, "i": { "firstName": "Augusta" } });
    let body = app
        .gql(Some(&bob.access_token), UPDATE, rename.clone())
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(None, UPDATE, rename.clone()).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(None, PROFILE, json!({ "id": ada.id })).await;
    assert_eq!(body["data"]["user"]["firstName"], json!("Ada"));

    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = app.gql(Some(&admin.access_token), UPDATE, rename).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["updateUser"]["firstName"], json!("Augusta"));
    let body = app
        .gql(
            Some(&admin.access_token),
            UPDATE,
            json!({ "id": "no-such-user", "i": { "firstName": "X" } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn times_are_rfc3339_utc_and_updated_at_moves_on_update() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let before = app.gql(None, PROFILE, json!({ "id": ada.id })).await;
    let created = before["data"]["user"]["createdAt"]
        .as_str()
        .expect("createdAt")
        .to_owned();
    let updated = before["data"]["user"]["updatedAt"]
        .as_str()
        .expect("updatedAt")
        .to_owned();
    assert_rfc3339_utc(&created);
    assert_rfc3339_utc(&updated);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let body = app
        .gql(
            Some(&ada.access_token),
            UPDATE,
            json!({ "id": ada.id, "i": { "address": "Paris" } }),
        )
        .await;
    let after = &body["data"]["updateUser"];
    assert_eq!(after["createdAt"], json!(created), "{body}");
    let new_updated = after["updatedAt"].as_str().expect("updatedAt");
    assert_rfc3339_utc(new_updated);
    // Same format and zone, so text order is time order.
    assert!(
        new_updated > updated.as_str(),
        "{new_updated} should be after {updated}"
    );
    app.stop().await;
}

#[tokio::test]
async fn set_admin_is_for_admins_only() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let body = app
        .gql(
            Some(&ada.access_token),
            SET_ADMIN,
            json!({ "id": ada.id, "a": true }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql(None, SET_ADMIN, json!({ "id": ada.id, "a": true }))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");

    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = app
        .gql(
            Some(&admin.access_token),
            SET_ADMIN,
            json!({ "id": bob.id, "a": true }),
        )
        .await;
    assert_eq!(
        body["data"]["setAdmin"],
        json!({ "id": bob.id, "isAdmin": true }),
        "{body}"
    );
    let body = app.gql(None, PROFILE, json!({ "id": ada.id })).await;
    assert_eq!(body["data"]["user"]["isAdmin"], json!(false));
    let body = app
        .gql(
            Some(&admin.access_token),
            SET_ADMIN,
            json!({ "id": "no-such-user", "a": true }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = app
        .gql(
            Some(&admin.access_token),
            SET_ADMIN,
            json!({ "id": bob.id, "a": false }),
        )
        .await;
    assert_eq!(body["data"]["setAdmin"]["isAdmin"], json!(false), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_promoted_user_has_admin_powers_after_signing_in_again() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = app
        .gql(
            Some(&admin.access_token),
            SET_ADMIN,
            json!({ "id": bob.id, "a": true }),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");

    let bob = app.login("bob@example.com", PASSWORD).await;
    let body = app
        .gql(Some(&bob.access_token), PROFILE, json!({ "id": ada.id }))
        .await;
    assert_eq!(
        body["data"]["user"]["email"],
        json!("ada@example.com"),
        "{body}"
    );
    let body = app
        .gql(
            Some(&bob.access_token),
            SET_ADMIN,
            json!({ "id": ada.id, "a": true }),
        )
        .await;
    assert_eq!(body["data"]["setAdmin"]["isAdmin"], json!(true), "{body}");
    let body = app
        .gql(
            Some(&bob.access_token),
            USERS,
            json!({ "f": { "email": "ADA@example.com" } }),
        )
        .await;
    assert_eq!(connection_ids(&body["data"]["users"]), vec![ada.id.clone()]);
    app.stop().await;
}

#[tokio::test]
async fn delete_user_self_removes_the_account() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let body = app
        .gql(Some(&ada.access_token), DELETE, json!({ "id": ada.id }))
        .await;
    assert_eq!(body, json!({ "data": { "deleteUser": true } }));
    let body = app
        .gql(None, "mutation { login(email: \"ada@example.com\", password: \"correct horse\") { accessToken } }", json!({}))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .gql(Some(&bob.access_token), PROFILE, json!({ "id": ada.id }))
        .await;
    assert_eq!(body["data"]["user"], Value::Null, "{body}");
    let body = app.gql(Some(&bob.access_token), USERS, json!({})).await;
    assert_eq!(connection_ids(&body["data"]["users"]), vec![bob.id.clone()]);
    assert_eq!(body["data"]["users"]["totalCount"], json!(1));
    // The email is free again.
    let again = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Again", json!({}))
        .await;
    assert_ne!(again.id, ada.id);
    app.stop().await;
}

#[tokio::test]
async fn delete_user_of_someone_else_needs_an_admin() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let body = app
        .gql(Some(&bob.access_token), DELETE, json!({ "id": ada.id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(None, DELETE, json!({ "id": ada.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(None, PROFILE, json!({ "id": ada.id })).await;
    assert_eq!(body["data"]["user"]["id"], json!(ada.id));

    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = app
        .gql(
            Some(&admin.access_token),
            DELETE,
            json!({ "id": "no-such-user" }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = app
        .gql(Some(&admin.access_token), DELETE, json!({ "id": ada.id }))
        .await;
    assert_eq!(body["data"]["deleteUser"], json!(true), "{body}");
    let body = app.gql(None, PROFILE, json!({ "id": ada.id })).await;
    assert_eq!(body["data"]["user"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn users_pages_visit_every_user_exactly_once() {
    let app = TestApp::spawn().await;
    let mut registered = HashSet::new();
    let mut viewer = None;
    for i in 0..5 {
        let s = app
            .register_named(
                &format!("user{i}@example.com"),
                PASSWORD,
                "Test",
                &format!("User{i}"),
                json!({}),
            )
            .await;
        registered.insert(s.id.clone());
        viewer = Some(s);
    }
    let token = viewer.expect("a viewer").access_token;
    let first = app.gql(Some(&token), USERS, json!({ "n": 2 })).await;
    assert_eq!(code(&first), "", "{first}");
    assert_eq!(connection_ids(&first["data"]["users"]).len(), 2);
    assert_eq!(first["data"]["users"]["totalCount"], json!(5));
    assert_eq!(
        first["data"]["users"]["pageInfo"]["hasNextPage"],
        json!(true)
    );

    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let body = app
            .gql(Some(&token), USERS, json!({ "n": 2, "a": after }))
            .await;
        assert_eq!(code(&body), "", "{body}");
        assert_eq!(
            body["data"]["users"]["totalCount"],
            json!(5),
            "totalCount counts every match"
        );
        seen.extend(connection_ids(&body["data"]["users"]));
        pages += 1;
        let info = &body["data"]["users"]["pageInfo"];
        if info["hasNextPage"] != json!(true) {
            break;
        }
        after = info["endCursor"].clone();
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), registered);

    // Without `first`, all five fit on one page (default 20).
    let all = app.gql(Some(&token), USERS, json!({})).await;
    assert_eq!(connection_ids(&all["data"]["users"]).len(), 5);
    assert_eq!(
        all["data"]["users"]["pageInfo"]["hasNextPage"],
        json!(false)
    );
    app.stop().await;
}

#[tokio::test]
async fn users_needs_a_viewer_and_valid_page_arguments() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let body = app.gql(None, USERS, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    let body = app
        .gql(Some(&ada.access_token), USERS, json!({ "n": 101 }))
        .await;
    assert_eq!(
        (code(&body), field(&body)),
        ("BAD_USER_INPUT", "first"),
        "{body}"
    );
    let body = app
        .gql(Some(&ada.access_token), USERS, json!({ "n": -1 }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    for garbage in ["garbage", "Zm9v", "!!", ""] {
        let body = app
            .gql(Some(&ada.access_token), USERS, json!({ "a": garbage }))
            .await;
        assert_eq!(
            (code(&body), field(&body)),
            ("BAD_USER_INPUT", "after"),
            "{garbage:?}: {body}"
        );
    }
    let body = app
        .gql(Some(&ada.access_token), USERS, json!({ "n": 100 }))
        .await;
    assert_eq!(connection_ids(&body["data"]["users"]), vec![ada.id.clone()]);
    let body = app
        .gql(Some(&ada.access_token), USERS, json!({ "n": 0 }))
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["users"]["totalCount"], json!(1));
    assert_eq!(connection_ids(&body["data"]["users"]).len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn users_filters_match_whole_names_case_insensitively() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let ada2 = app
        .register_named("ada2@example.com", PASSWORD, "ADA", "Byron", json!({}))
        .await;
    let adalyn = app
        .register_named(
            "adalyn@example.com",
            PASSWORD,
            "Adalyn",
            "Lovelace",
            json!({}),
        )
        .await;
    app.register_named("grace@example.com", PASSWORD, "Grace", "Hopper", json!({}))
        .await;
    let t = &ada.access_token;
    let matched = |b: &Value| {
        connection_ids(&b["data"]["users"])
            .into_iter()
            .collect::<HashSet<_>>()
    };

    let body = app
        .gql(Some(t), USERS, json!({ "f": { "firstName": "aDa" } }))
        .await;
    assert_eq!(matched(&body), id_set(&[&ada.id, &ada2.id]), "{body}");
    assert_eq!(body["data"]["users"]["totalCount"], json!(2));
    let body = app
        .gql(Some(t), USERS, json!({ "f": { "lastName": "LOVELACE" } }))
        .await;
    assert_eq!(matched(&body), id_set(&[&ada.id, &adalyn.id]), "{body}");
    let body = app
        .gql(
            Some(t),
            USERS,
            json!({ "f": { "firstName": "ada", "lastName": "lovelace" } }),
        )
        .await;
    assert_eq!(matched(&body), id_set(&[&ada.id]), "{body}");
    let body = app
        .gql(Some(t), USERS, json!({ "f": { "firstName": "Ad" } }))
        .await;
    assert_eq!(body["data"]["users"]["totalCount"], json!(0), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn filtering_users_by_email_is_for_admins_only() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("Ada@Example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let bob = app
        .register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let body = app
        .gql(
            Some(&bob.access_token),
            USERS,
            json!({ "f": { "email": "ada@example.com" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = app
        .gql(
            Some(&admin.access_token),
            USERS,
            json!({ "f": { "email": "ADA@example.COM" } }),
        )
        .await;
    assert_eq!(
        connection_ids(&body["data"]["users"]),
        vec![ada.id.clone()],
        "{body}"
    );
    assert_eq!(
        body["data"]["users"]["nodes"][0]["email"],
        json!("Ada@Example.com")
    );
    let body = app
        .gql(
            Some(&admin.access_token),
            USERS,
            json!({ "f": { "email": "ada@example" } }),
        )
        .await;
    assert_eq!(
        body["data"]["users"]["totalCount"],
        json!(0),
        "exact match only: {body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn search_matches_name_substrings_case_insensitively_and_emails_for_admins() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named(
            "countess@analytical.example",
            PASSWORD,
            "Ada",
            "Lovelace",
            json!({}),
        )
        .await;
    let grace = app
        .register_named(
            "g.hopper@navy.example",
            PASSWORD,
            "Grace",
            "Hopper",
            json!({}),
        )
        .await;
    let alan = app
        .register_named(
            "alan@bletchley.example",
            PASSWORD,
            "Alan",
            "Turing",
            json!({}),
        )
        .await;
    let matched = |b: &Value| {
        connection_ids(&b["data"]["users"])
            .into_iter()
            .collect::<HashSet<_>>()
    };
    let t = &alan.access_token;

    let body = app.gql(Some(t), USERS, json!({ "s": "OVEL" })).await;
    assert_eq!(matched(&body), id_set(&[&ada.id]), "{body}");
    let body = app.gql(Some(t), USERS, json!({ "s": "a" })).await;
    assert_eq!(
        matched(&body),
        id_set(&[&ada.id, &grace.id, &alan.id]),
        "{body}"
    );
    let body = app.gql(Some(t), USERS, json!({ "s": "rAc" })).await;
    assert_eq!(matched(&body), id_set(&[&grace.id]), "{body}");
    assert_eq!(body["data"]["users"]["totalCount"], json!(1));
    // Emails are not searched for other users.
    let body = app.gql(Some(t), USERS, json!({ "s": "navy" })).await;
    assert_eq!(body["data"]["users"]["totalCount"], json!(0), "{body}");

    let admin = app.admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = app
        .gql(Some(&admin.access_token), USERS, json!({ "s": "NAVY" }))
        .await;
    assert_eq!(matched(&body), id_set(&[&grace.id]), "{body}");
    // Search and filter combine.
    let body = app
        .gql(
            Some(&admin.access_token),
            USERS,
            json!({ "s": "example", "f": { "lastName": "turing" } }),
        )
        .await;
    assert_eq!(matched(&body), id_set(&[&alan.id]), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn search_takes_percent_and_underscore_literally() {
    let app = TestApp::spawn().await;
    let ada = app
        .register_named("ada@example.com", PASSWORD, "Ada", "Lovelace", json!({}))
        .await;
    let deal = app
        .register_named("deal@example.com", PASSWORD, "Deal", "50%_off", json!({}))
        .await;
    let t = &ada.access_token;
    for pattern in ["%", "_", "%_", "0%_o"] {
        let body = app.gql(Some(t), USERS, json!({ "s": pattern })).await;
        assert_eq!(
            connection_ids(&body["data"]["users"]),
            vec![deal.id.clone()],
            "{pattern:?}: {body}"
        );
    }
    for pattern in ["%%", "A_a", "L%e", "\\"] {
        let body = app.gql(Some(t), USERS, json!({ "s": pattern })).await;
        assert_eq!(code(&body), "", "{body}");
        assert_eq!(
            body["data"]["users"]["totalCount"],
            json!(0),
            "{pattern:?}: {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn filters_and_search_ignore_case_beyond_ascii() {
    let app = TestApp::spawn().await;
    let elodie = app
        .register_named(
            "elodie@example.com",
            PASSWORD,
            "Élodie",
            "Ångström",
            json!({}),
        )
        .await;
    app.register_named("bob@example.com", PASSWORD, "Bob", "Builder", json!({}))
        .await;
    let t = &elodie.access_token;
    let mut wrong = Vec::new();
    for vars in [
        json!({ "f": { "firstName": "Élodie" } }),
        json!({ "f": { "firstName": "élodie" } }),
        json!({ "f": { "firstName": "ÉLODIE" } }),
        json!({ "f": { "lastName": "ångström" } }),
        json!({ "s": "ÅNG" }),
        json!({ "s": "éLo" }),
    ] {
        let body = app.gql(Some(t), USERS, vars.clone()).await;
        if body["data"]["users"]["nodes"]
            != json!([{ "id": elodie.id, "email": "elodie@example.com" }])
        {
            wrong.push(format!("{vars}: {body}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    app.stop().await;
}
