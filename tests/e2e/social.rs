//! The social graph through the router: follow and unfollow, follower and following
//! connections and counts, viewerIsFollowing, and blocks.

use folio_testkit::{TestApp, code, connection_ids, field, id_set};
use serde_json::json;
use std::collections::HashSet;

const PASSWORD: &str = "correct horse";

const FOLLOW: &str = "mutation($id: ID!) { follow(userId: $id) { \
    id followerCount followingCount viewerIsFollowing } }";

const UNFOLLOW: &str = "mutation($id: ID!) { unfollow(userId: $id) { \
    id followerCount followingCount viewerIsFollowing } }";

const BLOCK: &str = "mutation($id: ID!) { block(userId: $id) }";

const UNBLOCK: &str = "mutation($id: ID!) { unblock(userId: $id) }";

const LISTS: &str = "query($id: ID!, $n: Int, $a: String) { user(id: $id) { \
    followers(first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id } } \
    following(first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id } } } }";

#[tokio::test]
async fn follow_returns_the_followed_user_with_the_new_count() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let body = app.follow(&ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["follow"],
        json!({ "id": bob.id, "followerCount": 1, "followingCount": 0, "viewerIsFollowing": true })
    );
    assert_eq!(app.follow_counts(Some(&ada), &ada.id).await, (0, 1, false));
    assert_eq!(app.follow_counts(Some(&bob), &ada.id).await, (0, 1, false));
    assert_eq!(app.follow_counts(Some(&bob), &bob.id).await, (1, 0, false));
    app.stop().await;
}

#[tokio::test]
async fn follow_twice_counts_once() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    app.follow(&ada, &bob.id).await;
    let body = app.follow(&ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1));
    assert_eq!(body["data"]["follow"]["viewerIsFollowing"], json!(true));
    let body = app.gql(None, LISTS, json!({ "id": bob.id })).await;
    assert_eq!(
        connection_ids(&body["data"]["user"]["followers"]),
        vec![ada.id.clone()]
    );
    assert_eq!(body["data"]["user"]["followers"]["totalCount"], json!(1));
    app.stop().await;
}

#[tokio::test]
async fn follow_refuses_yourself_unknown_users_and_anonymous_viewers() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let body = app.follow(&ada, &ada.id).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.follow(&ada, "no-such-user").await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let bob = app.register("bob@example.com", PASSWORD).await;
    let body = app.gql(None, FOLLOW, json!({ "id": bob.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(None, UNFOLLOW, json!({ "id": bob.id })).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(app.follow_counts(None, &ada.id).await, (0, 0, false));
    assert_eq!(app.follow_counts(None, &bob.id).await, (0, 0, false));
    app.stop().await;
}

#[tokio::test]
async fn unfollow_removes_the_follow_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let carol = app.register("carol@example.com", PASSWORD).await;
    app.follow(&ada, &bob.id).await;
    app.follow(&carol, &bob.id).await;
    let body = app.unfollow(&ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["unfollow"],
        json!({ "id": bob.id, "followerCount": 1, "followingCount": 0, "viewerIsFollowing": false })
    );
    let body = app.unfollow(&ada, &bob.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(
        body["data"]["unfollow"]["followerCount"],
        json!(1),
        "carol still follows bob"
    );
    assert_eq!(app.follow_counts(Some(&carol), &bob.id).await, (1, 0, true));
    assert_eq!(app.follow_counts(None, &ada.id).await, (0, 0, false));
    let body = app.unfollow(&carol, &bob.id).await;
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
    let star = app.register("star@example.com", PASSWORD).await;
    let mut fans = Vec::new();
    for name in ["f1", "f2", "f3"] {
        let fan = app.register(&format!("{name}@example.com"), PASSWORD).await;
        app.follow(&fan, &star.id).await;
        fans.push(fan);
    }
    let other = app.register("other@example.com", PASSWORD).await;
    app.follow(&star, &fans[0].id).await;
    app.follow(&star, &other.id).await;

    let body = app.gql(None, LISTS, json!({ "id": star.id, "n": 2 })).await;
    assert_eq!(code(&body), "", "{body}");
    let followers = &body["data"]["user"]["followers"];
    assert_eq!(followers["totalCount"], json!(3));
    assert_eq!(followers["pageInfo"]["hasNextPage"], json!(true));
    let mut seen = connection_ids(followers);
    assert_eq!(seen.len(), 2);
    let following = &body["data"]["user"]["following"];
    assert_eq!(following["totalCount"], json!(2));
    assert_eq!(following["pageInfo"]["hasNextPage"], json!(false));
    assert_eq!(
        connection_ids(following)
            .into_iter()
            .collect::<HashSet<_>>(),
        id_set(&[&fans[0].id, &other.id])
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
    seen.extend(connection_ids(rest));
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(
        seen.into_iter().collect::<HashSet<_>>(),
        id_set(&[&fans[0].id, &fans[1].id, &fans[2].id])
    );

    // A user nobody follows has empty lists.
    let body = app.gql(None, LISTS, json!({ "id": fans[2].id })).await;
    assert_eq!(body["data"]["user"]["followers"]["totalCount"], json!(0));
    assert_eq!(connection_ids(&body["data"]["user"]["followers"]).len(), 0);
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
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let carol = app.register("carol@example.com", PASSWORD).await;
    app.follow(&ada, &bob.id).await;
    assert_eq!(app.follow_counts(Some(&ada), &bob.id).await, (1, 0, true));
    assert_eq!(app.follow_counts(None, &bob.id).await, (1, 0, false));
    assert_eq!(
        app.follow_counts(Some(&carol), &bob.id).await,
        (1, 0, false)
    );
    assert_eq!(app.follow_counts(Some(&bob), &ada.id).await, (0, 1, false));
    app.stop().await;
}

#[tokio::test]
async fn block_removes_follows_both_ways_and_forbids_new_ones() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let carol = app.register("carol@example.com", PASSWORD).await;
    app.follow(&ada, &bob.id).await;
    app.follow(&bob, &ada.id).await;
    app.follow(&carol, &bob.id).await;
    let body = app
        .gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(body, json!({ "data": { "block": true } }));
    assert_eq!(
        app.follow_counts(Some(&ada), &bob.id).await,
        (1, 0, false),
        "only carol still follows bob"
    );
    assert_eq!(app.follow_counts(Some(&bob), &ada.id).await, (0, 0, false));

    let body = app.follow(&ada, &bob.id).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app.follow(&bob, &ada.id).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    assert_eq!(app.follow_counts(None, &ada.id).await, (0, 0, false));
    // Blocks are between two users only.
    let body = app.follow(&carol, &ada.id).await;
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn block_is_idempotent() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
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
    let body = app.follow(&bob, &ada.id).await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1));
    app.stop().await;
}

#[tokio::test]
async fn unblock_lets_both_follow_again_but_only_the_blocker_can_lift_it() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    app.gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
        .await;
    // Bob "unblocking" ada lifts nothing: the block is ada's.
    let body = app
        .gql(Some(&bob.access_token), UNBLOCK, json!({ "id": ada.id }))
        .await;
    assert_eq!(code(&body), "", "{body}");
    assert_eq!(code(&app.follow(&bob, &ada.id).await), "FORBIDDEN");

    let body = app
        .gql(Some(&ada.access_token), UNBLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(body["data"]["unblock"], json!(true), "{body}");
    let body = app.follow(&bob, &ada.id).await;
    assert_eq!(
        body["data"]["follow"]["viewerIsFollowing"],
        json!(true),
        "{body}"
    );
    let body = app.follow(&ada, &bob.id).await;
    assert_eq!(body["data"]["follow"]["followerCount"], json!(1), "{body}");
    assert_eq!(app.follow_counts(None, &ada.id).await, (1, 1, false));
    app.stop().await;
}

#[tokio::test]
async fn block_refuses_yourself_unknown_users_and_anonymous_viewers() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
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
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let carol = app.register("carol@example.com", PASSWORD).await;
    let dan = app.register("dan@example.com", PASSWORD).await;
    // ada → bob, ada → carol, bob → carol, dan → ada.
    app.follow(&ada, &bob.id).await;
    app.follow(&ada, &carol.id).await;
    app.follow(&bob, &carol.id).await;
    app.follow(&dan, &ada.id).await;

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
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let carol = app.register("carol@example.com", PASSWORD).await;
    app.follow(&ada, &bob.id).await;
    app.follow(&carol, &ada.id).await;
    app.follow(&carol, &bob.id).await;
    let body = app
        .gql(
            Some(&ada.access_token),
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": ada.id }),
        )
        .await;
    assert_eq!(body["data"]["deleteUser"], json!(true), "{body}");
    assert_eq!(app.follow_counts(None, &bob.id).await, (1, 0, false));
    assert_eq!(app.follow_counts(None, &carol.id).await, (0, 1, false));
    let body = app.gql(None, LISTS, json!({ "id": carol.id })).await;
    assert_eq!(
        connection_ids(&body["data"]["user"]["following"]),
        vec![bob.id.clone()]
    );
    assert_eq!(body["data"]["user"]["following"]["totalCount"], json!(1));
    app.stop().await;
}

#[tokio::test]
async fn concurrent_follows_and_blocks_are_idempotent() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    // A few rounds, as a race does not show every time.
    for _ in 0..3 {
        app.unfollow(&ada, &bob.id).await;
        let (a, b, c, d, e) = tokio::join!(
            app.follow(&ada, &bob.id),
            app.follow(&ada, &bob.id),
            app.follow(&ada, &bob.id),
            app.follow(&ada, &bob.id),
            app.follow(&ada, &bob.id)
        );
        for body in [a, b, c, d, e] {
            assert_eq!(code(&body), "", "{body}");
            assert_eq!(
                body["data"]["follow"]["viewerIsFollowing"],
                json!(true),
                "{body}"
            );
        }
        assert_eq!(app.follow_counts(Some(&ada), &bob.id).await, (1, 0, true));
    }
    let block = || app.gql(Some(&bob.access_token), BLOCK, json!({ "id": ada.id }));
    let (a, b, c, d, e) = tokio::join!(block(), block(), block(), block(), block());
    for body in [a, b, c, d, e] {
        assert_eq!(body, json!({ "data": { "block": true } }));
    }
    assert_eq!(app.follow_counts(None, &bob.id).await, (0, 0, false));
    assert_eq!(code(&app.follow(&ada, &bob.id).await), "FORBIDDEN");
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_users_token_can_no_longer_follow_or_block() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
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
    let body = app.follow(&ada, &bob.id).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .gql(Some(&ada.access_token), BLOCK, json!({ "id": bob.id }))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(app.follow_counts(None, &bob.id).await, (0, 0, false));
    app.stop().await;
}
