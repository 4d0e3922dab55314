//! Events through the whole platform: what each mutation publishes, the cascades that
//! travel as events, and delivery when the broker is away or a service restarts between
//! commit and publish. On the in-process bus by default; over NATS JetStream when
//! `FOLIO_TEST_NATS_URL` is set (as `.ci/run` does for the PostgreSQL pass). An absence
//! (no cascade, no second effect) is shown behind a barrier, never after a sleep.

use folio_common::events::Bus;
use folio_common::events::local::LocalBus;
use folio_common::events::nats::NatsBus;
use folio_testkit::events::{NatsProxy, Switchable, nats_url, next_of, unix_micros};
use folio_testkit::{PATIENCE, TestApp, code, eventually};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn a_user_lifecycle_publishes_its_events_in_order_without_secrets() {
    let app = TestApp::spawn().await;
    let mut rx = app.events().await;
    let mut seen = Vec::new();

    let ada = app.register("ada@example.com", PASSWORD).await;
    let created = next_of(&mut rx, "user.created", &mut seen).await;
    assert_eq!(created.subject_id().as_deref(), Some(ada.id.as_str()));
    assert_eq!(created.actor_id, None, "registering is anonymous");
    assert_eq!(created.data.value()["firstName"], json!("Test"));

    let bob = app.register("bob@example.com", PASSWORD).await;
    next_of(&mut rx, "user.created", &mut seen).await;

    let content = app.create_content(&ada, "Evented").await;
    let e = next_of(&mut rx, "content.created", &mut seen).await;
    assert_eq!(e.subject_id().as_deref(), Some(content.as_str()));
    assert_eq!(e.actor_id.as_deref(), Some(ada.id.as_str()));
    assert_eq!(e.data.value()["authorId"], json!(ada.id));

    app.like(&bob, &content).await;
    let e = next_of(&mut rx, "interaction.created", &mut seen).await;
    assert_eq!(e.data.value()["kind"], json!("LIKE"));
    assert_eq!(e.data.value()["contentId"], json!(content));
    assert_eq!(e.actor_id.as_deref(), Some(bob.id.as_str()));

    app.ok(
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    let deleted = next_of(&mut rx, "user.deleted", &mut seen).await;
    assert_eq!(deleted.data.value(), json!({ "id": ada.id }));
    // The cascade: content deletes ada's content, interactions removes bob's like of it.
    let gone = next_of(&mut rx, "content.deleted", &mut seen).await;
    assert_eq!(gone.subject_id().as_deref(), Some(content.as_str()));
    assert_eq!(gone.actor_id, None, "a cascade is the system's doing");
    let unliked = next_of(&mut rx, "interaction.deleted", &mut seen).await;
    assert_eq!(unliked.data.value()["contentId"], json!(content));

    let order: Vec<&str> = seen.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        order,
        [
            "user.created",
            "user.created",
            "content.created",
            "interaction.created",
            "user.deleted",
            "content.deleted",
            "interaction.deleted"
        ]
    );
    let text = serde_json::to_string(&seen).expect("json");
    for secret in [
        PASSWORD,
        &ada.access_token,
        &ada.refresh_token,
        &bob.refresh_token,
        "$argon2",
        "password",
        "email",
        "example.com",
    ] {
        assert!(
            !text.contains(secret),
            "an event carries {secret:?}: {text}"
        );
    }
    for e in &seen {
        assert!(e.occurred_at.to_rfc3339().contains('T'));
        assert_eq!(e.id.len(), 36, "a UUID: {}", e.id);
    }
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_user_removes_what_they_had_in_every_subgraph() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let adas = app.create_content(&ada, "Ada's").await;
    let bobs = app.create_content(&bob, "Bob's").await;
    let like = "mutation($c: ID!) { like(contentId: $c) { id } }";
    let read = "mutation($c: ID!) { recordRead(contentId: $c) { id } }";
    let comment = "mutation($c: ID!) { addComment(contentId: $c, body: \"hello\") { id } }";
    app.ok(&ada, like, json!({ "c": bobs })).await;
    app.ok(&ada, read, json!({ "c": bobs })).await;
    app.ok(&ada, comment, json!({ "c": bobs })).await;
    app.ok(&bob, like, json!({ "c": adas })).await;
    let bobs_comment = app.ok(&bob, comment, json!({ "c": adas })).await["addComment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.ok(
        &bob,
        "mutation($u: ID!) { follow(userId: $u) { id } }",
        json!({ "u": ada.id }),
    )
    .await;

    app.ok(
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    eventually("ada's content is deleted", || async {
        !app.content_exists(&adas).await
    })
    .await;
    eventually(
        "ada's like, read and comment on bob's content are gone",
        || async {
            let body = app
                .gql(
                    None,
                    "query($c: ID!) { content(id: $c) { likeCount readCount commentCount } }",
                    json!({ "c": bobs }),
                )
                .await;
            body["data"]["content"] == json!({ "likeCount": 0, "readCount": 0, "commentCount": 0 })
        },
    )
    .await;
    eventually(
        "bob's like and comment on ada's deleted content are gone",
        || async { app.ranking_counts(&adas).await == (0, 0, 0) },
    )
    .await;
    let edit = app
        .gql(
            Some(&bob.access_token),
            "mutation($id: ID!) { editComment(id: $id, body: \"still here?\") { id } }",
            json!({ "id": bobs_comment }),
        )
        .await;
    assert_eq!(code(&edit), "NOT_FOUND", "{edit}");
    let me = app.ok(&bob, "{ me { followingCount } }", json!({})).await;
    assert_eq!(
        me["me"]["followingCount"],
        json!(0),
        "follows go with the user"
    );
    assert!(app.content_exists(&bobs).await, "bob's content stays");
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_content_removes_its_interactions_and_comments() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Short-lived").await;
    app.like(&bob, &c).await;
    let comment = app
        .ok(
            &bob,
            "mutation($c: ID!) { addComment(contentId: $c, body: \"nice\") { id } }",
            json!({ "c": c }),
        )
        .await["addComment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(app.ranking_counts(&c).await, (0, 1, 1));
    app.ok(
        &ada,
        "mutation($c: ID!) { deleteContent(id: $c) }",
        json!({ "c": c }),
    )
    .await;
    eventually("the content's like leaves the ranking", || async {
        app.ranking_counts(&c).await == (0, 0, 0)
    })
    .await;
    let edit = app
        .gql(
            Some(&bob.access_token),
            "mutation($id: ID!) { editComment(id: $id, body: \"x\") { id } }",
            json!({ "id": comment }),
        )
        .await;
    assert_eq!(
        code(&edit),
        "NOT_FOUND",
        "the comment went with the content: {edit}"
    );
    let like = app
        .gql(
            Some(&bob.access_token),
            "mutation($c: ID!) { like(contentId: $c) { id } }",
            json!({ "c": c }),
        )
        .await;
    assert_eq!(
        code(&like),
        "NOT_FOUND",
        "a deleted content cannot be liked: {like}"
    );
    app.stop().await;
}

#[tokio::test]
async fn events_wait_out_a_broker_outage_and_none_is_lost() {
    // Over NATS: the platform reaches the broker through a proxy that is cut and
    // restored. In-process: the bus's publishing is switched off and on.
    let proxy = match nats_url() {
        Some(url) => Some(NatsProxy::start(&url).await),
        None => None,
    };
    let switch = Switchable::new(Arc::new(LocalBus::new()), false);
    let mut app = TestApp::spawn_with(|cfg| {
        if let Some(p) = &proxy {
            cfg.nats_url = Some(p.url.clone());
        }
    })
    .await;
    if proxy.is_none() {
        app.restart_with(switch.clone()).await;
    }
    // Watch from outside the outage: straight on NATS, or the in-process bus itself.
    let mut rx = match nats_url() {
        Some(url) => NatsBus::connect(&url, &app.cfg.events_prefix)
            .await
            .expect("observer")
            .observe()
            .await
            .expect("observe"),
        None => app.events().await,
    };
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let mut contents = Vec::new();
    for i in 0..3 {
        contents.push(app.create_content(&ada, &format!("Before {i}")).await);
    }

    match &proxy {
        Some(p) => p.cut().await,
        None => switch.set_down(true),
    }
    // Mutations go on while no event can be published.
    for c in &contents {
        app.like(&bob, c).await;
    }
    contents.push(app.create_content(&ada, "During").await);
    app.ok(
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    // No later event can travel now to serve as a barrier: the cascade's own events show
    // below that it waited, each recorded after the broker came back.
    assert!(
        app.content_exists(&contents[0]).await,
        "nothing cascades while the broker is away"
    );
    let pending = app.outbox("users").await;
    assert!(
        pending
            .iter()
            .any(|(e, published)| e.kind == "user.deleted" && !published),
        "user.deleted waits in the outbox"
    );

    let restored_at = unix_micros();
    match &proxy {
        Some(p) => p.restore(),
        None => switch.set_down(false),
    }
    for c in &contents {
        eventually(
            "ada's contents are deleted once the broker is back",
            || async { !app.content_exists(c).await },
        )
        .await;
        eventually("bob's likes of them are gone", || async {
            app.ranking_counts(c).await == (0, 0, 0)
        })
        .await;
    }
    // Every event every outbox holds was published, and reached the observer.
    let mut expected: HashMap<String, String> = HashMap::new();
    for service in ["users", "content", "interactions"] {
        eventually("every outbox is published", || async {
            app.outbox(service)
                .await
                .iter()
                .all(|(_, published)| *published)
        })
        .await;
        for (e, _) in app.outbox(service).await {
            expected.insert(e.id, e.kind);
        }
    }
    let mut observed: HashSet<String> = HashSet::new();
    let deadline = Instant::now() + PATIENCE;
    while expected.keys().any(|id| !observed.contains(id)) && Instant::now() < deadline {
        if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            observed.insert(e.id);
        }
    }
    let lost: Vec<&String> = expected
        .iter()
        .filter(|(id, _)| !observed.contains(*id))
        .map(|(_, kind)| kind)
        .collect();
    assert!(lost.is_empty(), "events never seen: {lost:?}");
    // Effects happened once: one content.deleted per content of ada's.
    let deletions = app
        .outbox("content")
        .await
        .into_iter()
        .filter(|(e, _)| e.kind == "content.deleted")
        .count();
    assert_eq!(deletions, contents.len());
    for (service, cascade) in [
        ("content", "content.deleted"),
        ("interactions", "interaction.deleted"),
    ] {
        for (e, _) in app.outbox(service).await {
            assert!(
                e.kind != cascade || e.occurred_at.timestamp_micros() >= restored_at,
                "nothing cascades while the broker is away: {} at {}",
                e.kind,
                e.occurred_at
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_restart_between_commit_and_publish_still_delivers_once() {
    let mut app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let c = app.create_content(&ada, "Survivor?").await;
    app.like(&bob, &c).await;
    eventually("the like is counted", || async {
        app.ranking_counts(&c).await == (0, 1, 1)
    })
    .await;

    // The service restarts with publishing impossible: the deletion commits, its event
    // stays in the outbox...
    let stuck = Switchable::new(Arc::new(LocalBus::new()), true);
    app.restart_with(stuck).await;
    let ada = app.login("ada@example.com", PASSWORD).await;
    app.ok(
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    let users_outbox = app.outbox("users").await;
    let (deleted, published) = users_outbox
        .iter()
        .find(|(e, _)| e.kind == "user.deleted")
        .cloned()
        .expect("user.deleted was recorded with the deletion");
    assert!(!published);
    assert!(app.content_exists(&c).await, "not consumed yet");

    // ...and the next start publishes it.
    let bus = folio::platform::event_bus(&app.cfg, false)
        .await
        .expect("bus");
    app.restart_with(bus.clone()).await;
    eventually("the content follows its author", || async {
        !app.content_exists(&c).await
    })
    .await;
    eventually("the like follows its content", || async {
        app.ranking_counts(&c).await == (0, 0, 0)
    })
    .await;

    // The same event again (a redelivery): no second effect.
    bus.publish(&deleted).await.expect("publish again");
    // A barrier: a later user.deleted, of a user with nothing to cascade. The consumers
    // take the users service's events in order, so once both have processed this one
    // they have handled the redelivery too.
    let dan = app.register("dan@example.com", PASSWORD).await;
    app.ok(
        &dan,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": dan.id }),
    )
    .await;
    let barrier = app
        .outbox("users")
        .await
        .into_iter()
        .find(|(e, _)| {
            e.kind == "user.deleted" && e.subject_id().as_deref() == Some(dan.id.as_str())
        })
        .expect("dan's user.deleted")
        .0;
    app.wait_processed(&["content", "interactions"], &barrier.id)
        .await;
    let content_deleted = app
        .outbox("content")
        .await
        .into_iter()
        .filter(|(e, _)| e.kind == "content.deleted")
        .count();
    assert_eq!(content_deleted, 1, "the content was deleted once");
    let interactions_deleted = app
        .outbox("interactions")
        .await
        .into_iter()
        .filter(|(e, _)| e.kind == "interaction.deleted")
        .count();
    assert_eq!(interactions_deleted, 1, "the like was removed once");
    app.stop().await;
}

#[tokio::test]
async fn events_tail_follows_new_events_of_a_type() {
    let app = TestApp::spawn().await;
    let early = app.register("early@example.com", PASSWORD).await;
    eventually("the early event is out", || async {
        app.outbox("users")
            .await
            .iter()
            .all(|(_, published)| *published)
    })
    .await;
    let mut tail = folio::tail::follow(&app.cfg, "user.*")
        .await
        .expect("tail starts");
    let ada = app.register("ada@example.com", PASSWORD).await;
    app.create_content(&ada, "Not a user event").await;
    app.ok(
        &ada,
        "mutation($u: ID!) { follow(userId: $u) { id } }",
        json!({ "u": early.id }),
    )
    .await;
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let e = tokio::time::timeout(PATIENCE, tail.recv())
            .await
            .expect("an event in time")
            .expect("the tail goes on");
        assert_ne!(
            e.subject_id().as_deref(),
            Some(early.id.as_str()),
            "only events from now on"
        );
        kinds.push(e.kind);
    }
    assert_eq!(
        kinds,
        ["user.created", "user.followed"],
        "user events only, in order"
    );
    app.stop().await;
}

/// Between a content's deletion and the moment its cascade reaches interactions (held
/// open here: the bus carries nothing), a like, a read or a comment on it still lands in
/// interactions, and its answer shows the content as it was when deleted (the content
/// subgraph resolves the reference from its tombstone); a ranking read lists it the same
/// way rather than failing. Once the deletion has reached interactions, each write is
/// NOT_FOUND and the ranking leaves it out.
#[tokio::test]
async fn writes_and_rankings_on_a_deleted_content_never_fail() {
    let mut app = TestApp::spawn().await;
    let switch = Switchable::new(Arc::new(LocalBus::new()), false);
    app.restart_with(switch.clone()).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let doomed = app.create_content(&ada, "Doomed").await;
    let kept = app.create_content(&ada, "Kept").await;
    for c in [&doomed, &kept] {
        app.like(&bob, c).await;
    }
    eventually("interactions counts both likes", || async {
        app.ranking_counts(&doomed).await == (0, 1, 1)
            && app.ranking_counts(&kept).await == (0, 1, 1)
    })
    .await;

    switch.set_down(true);
    app.ok(
        &ada,
        "mutation($id: ID!) { deleteContent(id: $id) }",
        json!({ "id": doomed }),
    )
    .await;
    let writes = [
        "mutation($c: ID!) { like(contentId: $c) { id kind content { id title } } }",
        "mutation($c: ID!) { recordRead(contentId: $c) { id content { title author { id } } } }",
        "mutation($c: ID!) { addComment(contentId: $c, body: \"Still there?\") { id body content { title } } }",
    ];
    for write in writes {
        let body = app
            .gql(Some(&bob.access_token), write, json!({ "c": doomed }))
            .await;
        assert_eq!(code(&body), "", "{write}: {body}");
        let answer = body["data"].as_object().and_then(|d| d.values().next());
        assert_eq!(
            answer.map(|a| &a["content"]["title"]),
            Some(&json!("Doomed")),
            "{write}: {body}"
        );
    }
    let ranking_query = "{ contentRanking(first: 10, by: LIKES) { content { id title } likes } }";
    let ranking = app.gql(None, ranking_query, json!({})).await;
    assert_eq!(code(&ranking), "", "{ranking}");
    let titles: HashSet<&str> = ranking["data"]["contentRanking"]
        .as_array()
        .expect("a ranking")
        .iter()
        .filter_map(|s| s["content"]["title"].as_str())
        .collect();
    assert_eq!(titles, HashSet::from(["Doomed", "Kept"]), "{ranking}");

    switch.set_down(false);
    eventually("the deletion reaches interactions", || async {
        app.ranking_counts(&doomed).await == (0, 0, 0)
    })
    .await;
    for write in writes {
        let body = app
            .gql(Some(&bob.access_token), write, json!({ "c": doomed }))
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{write}: {body}");
    }
    let ranking = app.gql(None, ranking_query, json!({})).await;
    assert_eq!(
        ranking,
        json!({ "data": { "contentRanking": [{ "content": { "id": kept, "title": "Kept" }, "likes": 1 }] } }),
    );
    app.stop().await;
}

/// Rankings read while other clients delete the ranked contents never fail: each answer
/// lists what interactions still counts, every entry resolved (from a tombstone if the
/// content went a moment ago), on whatever bus the suite runs with.
#[tokio::test]
async fn rankings_read_during_concurrent_deletions_never_fail() {
    let app = Arc::new(TestApp::spawn().await);
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let mut contents = Vec::new();
    for i in 0..12 {
        let c = app.create_content(&ada, &format!("Ranked {i}")).await;
        app.like(&bob, &c).await;
        contents.push(c);
    }
    eventually("every like is counted", || async {
        app.ranking_counts(&contents[11]).await == (0, 1, 1)
    })
    .await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (app, done) = (app.clone(), done.clone());
        readers.spawn(async move {
            let mut answers = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || answers == 0 {
                let body = app
                    .gql(
                        None,
                        "{ contentRanking(first: 20) { content { id title author { id } } likes } topContents(first: 20) { id title } }",
                        json!({}),
                    )
                    .await;
                assert_eq!(code(&body), "", "{body}");
                assert!(body["data"]["contentRanking"].is_array(), "{body}");
                answers += 1;
            }
            answers
        });
    }
    for c in &contents {
        app.ok(
            &ada,
            "mutation($id: ID!) { deleteContent(id: $id) }",
            json!({ "id": c }),
        )
        .await;
    }
    eventually("the ranking empties", || async {
        app.ranking_counts(&contents[11]).await == (0, 0, 0)
    })
    .await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(answers) = readers.join_next().await {
        assert!(answers.expect("a reader") > 0);
    }
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}

/// With a retention of one second, published outbox rows, processed-event ids and a
/// deleted content's tombstone go in the background; an outbox row that could not be
/// published yet stays, however old.
#[tokio::test]
async fn pruning_removes_old_bookkeeping_and_never_an_unpublished_row() {
    let mut app = TestApp::spawn_with(|cfg| cfg.retention_secs = 1).await;
    let switch = Switchable::new(Arc::new(LocalBus::new()), false);
    app.restart_with(switch.clone()).await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let gone = app.create_content(&ada, "Gone").await;
    app.ok(
        &ada,
        "mutation($id: ID!) { deleteContent(id: $id) }",
        json!({ "id": gone }),
    )
    .await;
    eventually("the deletion is published", || async {
        app.outbox("content")
            .await
            .iter()
            .all(|(_, published)| *published)
    })
    .await;
    switch.set_down(true);
    let stuck = app.create_content(&ada, "Stuck").await;
    eventually("published rows and processed ids are pruned", || async {
        let outbox = app.outbox("content").await;
        let processed = app
            .count_rows("interactions", "interactions_processed_events")
            .await;
        let tombstones = app.count_rows("content", "content_tombstones").await;
        outbox.iter().all(|(_, published)| !published) && processed == 0 && tombstones == 0
    })
    .await;
    let outbox = app.outbox("content").await;
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].0.kind, "content.created");
    assert!(!outbox[0].1, "the unpublished row stays");
    assert!(
        serde_json::to_string(&outbox[0].0)
            .expect("json")
            .contains(&stuck),
        "it is the stuck content's"
    );
    app.stop().await;
}

/// Two instances of every service on one PostgreSQL database and one NATS stream, as two
/// replicas of each run: every event's effect happens once, and every event is published
/// once (a core NATS subscriber sees each publish, duplicates included), each entity's
/// events in their order, so one relay at a time publishes each outbox. Replicas share a database and
/// a broker, so this runs in the PostgreSQL and NATS pass (`.ci/run`'s second); with the
/// embedded database and the in-process bus there are no replicas to run, and it returns.
#[tokio::test]
async fn two_replicas_apply_each_event_once_and_publish_each_outbox_once_in_order() {
    let postgres = std::env::var("FOLIO_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    let (Some(url), true) = (nats_url(), postgres) else {
        eprintln!("two replicas need FOLIO_TEST_DATABASE_URL and FOLIO_TEST_NATS_URL");
        return;
    };
    let first = TestApp::spawn().await;
    let second = first.replica().await;
    let mut rx = NatsBus::connect(&url, &first.cfg.events_prefix)
        .await
        .expect("observer")
        .observe()
        .await
        .expect("observe");
    let apps = [&first, &second];
    let ada = first.register("ada@example.com", PASSWORD).await;
    let bob = second.register("bob@example.com", PASSWORD).await;
    let mut contents = Vec::new();
    for i in 0..10 {
        contents.push(
            apps[i % 2]
                .create_content(&ada, &format!("Twice {i}"))
                .await,
        );
    }
    for (i, c) in contents.iter().enumerate() {
        apps[(i + 1) % 2].like(&bob, c).await;
    }
    for c in &contents {
        eventually("the like is counted", || async {
            first.ranking_counts(c).await == (0, 1, 1)
        })
        .await;
    }
    // Each search replica applies every event to its own index.
    for app in apps {
        eventually("each replica's search finds every content", || async {
            app.search_contents("twice", Some(20), None).await["totalCount"] == json!(10)
        })
        .await;
    }
    second
        .ok(
            &ada,
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": ada.id }),
        )
        .await;
    for c in &contents {
        eventually("the content and its like follow their author", || async {
            !second.content_exists(c).await && first.ranking_counts(c).await == (0, 0, 0)
        })
        .await;
    }
    for app in apps {
        eventually(
            "each replica's search forgets the author's contents",
            || async {
                app.search_contents("twice", Some(20), None).await["totalCount"] == json!(0)
            },
        )
        .await;
    }
    // The cascade's last events (the likes' removals) are published just after the
    // commit that made it visible.
    let mut outboxes = Vec::new();
    for service in ["users", "content", "interactions"] {
        eventually(&format!("{service}'s outbox is published"), || async {
            first
                .outbox(service)
                .await
                .iter()
                .all(|(_, published)| *published)
        })
        .await;
        outboxes.push(first.outbox(service).await);
    }
    // Once: one content.deleted per content, one interaction.deleted per like.
    let count = |outbox: &[(folio_common::events::Event, bool)], kind: &str| {
        outbox.iter().filter(|(e, _)| e.kind == kind).count()
    };
    assert_eq!(count(&outboxes[1], "content.deleted"), contents.len());
    assert_eq!(count(&outboxes[2], "interaction.deleted"), contents.len());
    // Each published once, in its outbox's order.
    let total: usize = outboxes.iter().map(Vec::len).sum();
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while seen.len() < total && Instant::now() < deadline {
        if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            seen.push(e.id);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(e) = rx.try_recv() {
        seen.push(e.id);
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an event was published twice");
    // Every event of each outbox, and the events of one entity in the order they were
    // written (events of concurrent transactions may go out in either order: a `seq`
    // is taken at insert, a row becomes visible at its commit).
    for outbox in &outboxes {
        let mut by_entity: HashMap<Option<String>, Vec<&String>> = HashMap::new();
        for (e, _) in outbox {
            by_entity.entry(e.subject_id()).or_default().push(&e.id);
        }
        for (entity, order) in by_entity {
            let observed: Vec<&String> = seen.iter().filter(|id| order.contains(id)).collect();
            assert_eq!(
                observed, order,
                "{entity:?}'s events out of order or missing"
            );
        }
    }
    second.stop().await;
    first.stop().await;
}
