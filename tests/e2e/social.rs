//! The social graph through the router: follow and unfollow, follower and following
//! connections and counts, viewerIsFollowing, and blocks.

use crate::support::{Session, TestApp, code, field};
use serde_json::{Value, json};
use std::collections::HashSet;

const PASSWORD: &str = "correct horse";

const FOLLOW: &str = "mutation($id: ID!) { follow(userId: $id) { \
    id followerCount followingCount viewerIsFollowing } }";

const UNFOLLOW: &str = "mutation($id: ID!) { unfollow(userId: $id) { \
    id followerCount followingCount viewerIsFollowing } }";

const BLOCK: &str = "mutation($id: ID!) { block(userId: $id) }";

const UNBLOCK: &str = "mutation($id: ID!) { unblock(userId: $id) }";

const COUNTS: &str =
    "query($id: ID!) { user(id: $id) { followerCount followingCount viewerIsFollowing } }";

const LISTS: &str = "query($id: ID!, $n: Int, $a: String) { user(id: $id) { \
    followers(first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id } } \
    following(first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id } } } }";

async fn user(app: &TestApp, name: &str) -> Session {
    app.register(&format!("{name}@example.com"), PASSWORD).await
}

async fn follow(app: &TestApp, who: &Session, target: &str) -> Value {
    app.gql(Some(&who.access_token), FOLLOW, json!({ "id": target }))
        .await
}

async fn unfollow(app: &TestApp, who: &Session, target: &str) -> Value {
    app.gql(Some(&who.access_token), UNFOLLOW, json!({ "id": target }))
        .await
}

/// (followerCount, followingCount, viewerIsFollowing) of `id` as `viewer` sees it.
async fn counts(app: &TestApp, viewer: Option<&Session>, id: &str) -> (i64, i64, bool) {
    let token = viewer.map(|s| s.access_token.as_str());
    let body = app.gql(token, COUNTS, json!({ "id": id })).await;
    let u = &body["data"]["user"];
    (
        u["followerCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("no counts in {body}")),
        u["followingCount"].as_i64().expect("followingCount"),
        u["viewerIsFollowing"].as_bool().expect("viewerIsFollowing"),
    )
}

/// The ids of a connection, after checking its edges agree with its nodes.
fn conn_ids(conn: &Value) -> Vec<String> {
    let nodes = conn["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {conn}"));
    let edges = conn["edges"].as_array().expect("edges");
    assert_eq!(nodes.len(), edges.len());
    for (e, n) in edges.iter().zip(nodes) {
        assert_eq!(e["node"]["id"], n["id"]);
    }
    if let Some(last) = edges.last() {
        assert_eq!(conn["pageInfo"]["endCursor"], last["cursor"]);
    }
    nodes
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect()
}

fn set(ids: &[&str]) -> HashSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn follow_returns_the_followed_user_with_the_new_count() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let body = follow(&app, &ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["follow"],
        json!({ "id": bob.id, "followerCount": 1, "followingCount": 0, "viewerIsFollowing": true })
    );
    assert_eq!(counts(&app, Some(&ada), &ada.id).await, (0, 1, false));
    assert_eq!(counts(&app, Some(&bob), &ada.id).await, (0, 1, false));
    assert_eq!(counts(&app, Some(&bob), &bob.id).await, (1, 0, false));
    app.stop().await;
}

#[tokio::test]
async fn follow_twice_counts_once() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    follow(&app, &ada, &bob.id).await;
    let body = follow(&app, &ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1));
    assert_eq!(body["data"]["follow"]["viewerIsFollowing"], json!(true));
    let body = app.gql(None, LISTS, json!({ "id": bob.id })).await;
    assert_eq!(
        conn_ids(&body["data"]["user"]["followers"]),
        vec![ada.id.clone()]
    );
    assert_eq!(body["data"]["user"]["followers"]["totalCount"], json!(1));
    app.stop().await;
}

#[tokio::test]
async fn follow_refuses_yourself_unknown_users_and_anonymous_viewers() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let body = follow(&app, &ada, &ada.id).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = follow(&app, &ada, "no-such-user").await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let bob = user(&app, "bob").await;
    let body = app.gql(None, FOLLOW, json!({ "id": bob.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(None, UNFOLLOW, json!({ "id": bob.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(counts(&app, None, &ada.id).await, (0, 0, false));
    assert_eq!(counts(&app, None, &bob.id).await, (0, 0, false));
    app.stop().await;
}

#[tokio::test]
async fn unfollow_removes_the_follow_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    follow(&app, &ada, &bob.id).await;
    follow(&app, &carol, &bob.id).await;
    let body = unfollow(&app, &ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["unfollow"],
        json!({ "id": bob.id, "followerCount": 1, "followingCount": 0, "viewerIsFollowing": false })
    );
    let body = unfollow(&app, &ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["unfollow"]["followerCount"],
        json!(1),
        "carol still follows bob"
    );
    assert_eq!(counts(&app, Some(&carol), &bob.id).await, (1, 0, true));
    assert_eq!(counts(&app, None, &ada.id).await, (0, 0, false));
    let body = unfollow(&app, &carol, &bob.id).await;
    assert_eq!(
        body["data"]["unfollow"]["followerCount"],
        json!(0),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn followers_and_following_list_the_right_users_page_by_page() {
    let app = TestApp::spawn().await;
    let star = user(&app, "star").await;
    let mut fans = Vec::new();
    for name in ["f1", "f2", "f3"] {
        let fan = user(&app, name).await;
        follow(&app, &fan, &star.id).await;
        fans.push(fan);
    }
    let other = user(&app, "other").await;
    follow(&app, &star, &fans[0].id).await;
    follow(&app, &star, &other.id).await;

    let body = app.gql(None, LISTS, json!({ "id": star.id, "n": 2 })).await;
    assert_eq!(code(&body), "", "{body}");
    let followers = &body["data"]["user"]["followers"];
    assert_eq!(followers["totalCount"], json!(3));
    assert_eq!(followers["pageInfo"]["hasNextPage"], json!(true));
    let mut seen = conn_ids(followers);
    assert_eq!(seen.len(), 2);
    let following = &body["data"]["user"]["following"];
    assert_eq!(following["totalCount"], json!(2));
    assert_eq!(following["pageInfo"]["hasNextPage"], json!(false));
    assert_eq!(
        conn_ids(following).into_iter().collect::<HashSet<_>>(),
        set(&[&fans[0].id, &other.id])
    );

    let after = followers["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(
            None,
            "query($id: ID!, $a: String) { user(id: $id) { followers(first: 2, after: $a) { \
             totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id } } } }",
            json!({ "id": star.id, "a": after }),
        )
        .await;
    let rest = &body["data"]["user"]["followers"];
    assert_eq!(rest["totalCount"], json!(3), "{body}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], json!(false));
    seen.extend(conn_ids(rest));
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        seen.into_iter().collect::<HashSet<_>>(),
        set(&[&fans[0].id, &fans[1].id, &fans[2].id])
    );

    // A user nobody follows has empty lists.
    let body = app.gql(None, LISTS, json!({ "id": fans[2].id })).await;
    assert_eq!(body["data"]["user"]["followers"]["totalCount"], json!(0));
    assert_eq!(conn_ids(&body["data"]["user"]["followers"]).len(), 0);
    assert_eq!(
        body["data"]["user"]["followers"]["pageInfo"]["hasNextPage"],
        json!(false)
    );
    // Their page arguments follow the usual rules.
    let body = app
        .gql(None, LISTS, json!({ "id": star.id, "n": 101 }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(field(&body), "first");
    let body = app
        .gql(None, LISTS, json!({ "id": star.id, "a": "not-a-cursor" }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(field(&body), "after");
    app.stop().await;
}

#[tokio::test]
async fn viewer_is_following_is_false_when_anonymous() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    follow(&app, &ada, &bob.id).await;
    assert_eq!(counts(&app, Some(&ada), &bob.id).await, (1, 0, true));
    assert_eq!(counts(&app, None, &bob.id).await, (1, 0, false));
    assert_eq!(counts(&app, Some(&carol), &bob.id).await, (1, 0, false));
    assert_eq!(counts(&app, Some(&bob), &ada.id).await, (0, 1, false));
    app.stop().await;
}

#[tokio::test]
async fn block_removes_follows_both_ways_and_forbids_new_ones() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    follow(&app, &ada, &bob.id).await;
    follow(&app, &bob, &ada.id).await;
    follow(&app, &carol, &bob.id).await;
    let body = app
        .gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(body, json!({ "data": { "block": true } }));
    assert_eq!(
        counts(&app, Some(&ada), &bob.id).await,
        (1, 0, false),
        "only carol still follows bob"
    );
    assert_eq!(counts(&app, Some(&bob), &ada.id).await, (0, 0, false));

    let body = follow(&app, &ada, &bob.id).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = follow(&app, &bob, &ada.id).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(counts(&app, None, &ada.id).await, (0, 0, false));
    // Blocks are between two users only.
    let body = follow(&app, &carol, &ada.id).await;
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn block_is_idempotent() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    for _ in 0..2 {
        let body = app
            .gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
            .await;
        assert_eq!(body, json!({ "data": { "block": true } }));
    }
    // One unblock lifts it: there was only one block.
    let body = app
        .gql(Some(&ada.access_token), UNBLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(body, json!({ "data": { "unblock": true } }));
    let body = follow(&app, &bob, &ada.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1));
    app.stop().await;
}

#[tokio::test]
async fn unblock_lets_both_follow_again_but_only_the_blocker_can_lift_it() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    app.gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
        .await;
    // Bob "unblocking" ada lifts nothing: the block is ada's.
    let body = app
        .gql(Some(&bob.access_token), UNBLOCK, json!({ "id": ada.id }))
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(code(&follow(&app, &bob, &ada.id).await), "FORBIDDEN");

    let body = app
        .gql(Some(&ada.access_token), UNBLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(body["data"]["unblock"], json!(true), "{body}");
    let body = follow(&app, &bob, &ada.id).await;
    assert_eq!(
        body["data"]["follow"]["viewerIsFollowing"],
        json!(true),
        "{body}"
    );
    let body = follow(&app, &ada, &bob.id).await;
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1), "{body}");
    assert_eq!(counts(&app, None, &ada.id).await, (1, 1, false));
    app.stop().await;
}

#[tokio::test]
async fn block_refuses_yourself_unknown_users_and_anonymous_viewers() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let body = app
        .gql(Some(&ada.access_token), BLOCK, json!({ "id": ada.id }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql(
            Some(&ada.access_token),
            BLOCK,
            json!({ "id": "no-such-user" }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let body = app.gql(None, BLOCK, json!({ "id": ada.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(None, UNBLOCK, json!({ "id": ada.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_list_of_users_shows_each_users_own_counts() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    let dan = user(&app, "dan").await;
    // ada → bob, ada → carol, bob → carol, dan → ada.
    follow(&app, &ada, &bob.id).await;
    follow(&app, &ada, &carol.id).await;
    follow(&app, &bob, &carol.id).await;
    follow(&app, &dan, &ada.id).await;

    let body = app
        .gql(
            Some(&ada.access_token),
            "{ users(first: 10) { nodes { id followerCount followingCount viewerIsFollowing } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "", "{body}");
    let got: HashSet<(String, i64, i64, bool)> = body["data"]["users"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["id"].as_str().expect("id").to_owned(),
                n["followerCount"].as_i64().expect("followerCount"),
                n["followingCount"].as_i64().expect("followingCount"),
                n["viewerIsFollowing"].as_bool().expect("viewerIsFollowing"),
            )
        })
        .collect();
    let expected: HashSet<(String, i64, i64, bool)> = [
        (ada.id.clone(), 1, 2, false),
        (bob.id.clone(), 1, 1, true),
        (carol.id.clone(), 2, 0, true),
        (dan.id.clone(), 0, 1, false),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, expected);
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_user_removes_their_follows() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    follow(&app, &ada, &bob.id).await;
    follow(&app, &carol, &ada.id).await;
    follow(&app, &carol, &bob.id).await;
    let body = app
        .gql(
            Some(&ada.access_token),
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": ada.id }),
        )
        .await;
    assert_eq!(body["data"]["deleteUser"], json!(true), "{body}");
    assert_eq!(counts(&app, None, &bob.id).await, (1, 0, false));
    assert_eq!(counts(&app, None, &carol.id).await, (0, 1, false));
    let body = app.gql(None, LISTS, json!({ "id": carol.id })).await;
    assert_eq!(
        conn_ids(&body["data"]["user"]["following"]),
        vec![bob.id.clone()]
    );
    assert_eq!(body["data"]["user"]["following"]["totalCount"], json!(1));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_follows_and_blocks_are_idempotent() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    // A few rounds, as a race does not show every time.
    for _ in 0..3 {
        unfollow(&app, &ada, &bob.id).await;
        let (a, b, c, d, e) = tokio::join!(
            follow(&app, &ada, &bob.id),
            follow(&app, &ada, &bob.id),
            follow(&app, &ada, &bob.id),
            follow(&app, &ada, &bob.id),
            follow(&app, &ada, &bob.id)
        );
        for body in [a, b, c, d, e] {
            assert_eq!(code(&body), "", "{body}");
            assert_eq!(
                body["data"]["follow"]["viewerIsFollowing"],
                json!(true),
                "{body}"
            );
        }
        assert_eq!(counts(&app, Some(&ada), &bob.id).await, (1, 0, true));
    }
    let block = || app.gql(Some(&bob.access_token), BLOCK, json!({ "id": ada.id }));
    let (a, b, c, d, e) = tokio::join!(block(), block(), block(), block(), block());
    for body in [a, b, c, d, e] {
        assert_eq!(body, json!({ "data": { "block": true } }));
    }
    assert_eq!(counts(&app, None, &bob.id).await, (0, 0, false));
    assert_eq!(code(&follow(&app, &ada, &bob.id).await), "FORBIDDEN");
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_users_token_can_no_longer_follow_or_block() {
    let app = TestApp::spawn().await;
    let ada = user(&app, "ada").await;
    let bob = user(&app, "bob").await;
    let body = app
        .gql(
            Some(&ada.access_token),
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": ada.id }),
        )
        .await;
    assert_eq!(body["data"]["deleteUser"], json!(true), "{body}");
    // Her access token is still unexpired, but names no account: as changePassword
    // answers, that is UNAUTHENTICATED (not an internal error).
    let body = follow(&app, &ada, &bob.id).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(counts(&app, None, &bob.id).await, (0, 0, false));
    app.stop().await;
}
