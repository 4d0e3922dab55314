//! Events through the whole platform: what each mutation publishes, the cascades that
//! travel as events, and delivery when the broker is away or a service restarts between
//! commit and publish. On the in-process bus by default; over NATS JetStream when
//! `FOLIO_TEST_NATS_URL` is set (as `.ci/run` does for the PostgreSQL pass).

use crate::support::{Session, TestApp, code};
use folio_common::events::local::LocalBus;
use folio_common::events::nats::NatsBus;
use folio_common::events::{BoxFuture, Bus, Event, Handler};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, watch};

const PASSWORD: &str = "correct horse battery";
/// Long enough for a relay that backs off (at most 5 s) after the broker comes back.
const PATIENCE: Duration = Duration::from_secs(30);

fn nats_url() -> Option<String> {
    std::env::var("FOLIO_TEST_NATS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The next event of `kind`, skipping others (which are returned too, in order).
async fn next_of(rx: &mut mpsc::Receiver<Event>, kind: &str, seen: &mut Vec<Event>) -> Event {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(e)) => {
                seen.push(e.clone());
                if e.kind == kind {
                    return e;
                }
            }
            _ => panic!(
                "no {kind} event within {PATIENCE:?}; saw {:?}",
                seen.iter().map(|e| &e.kind).collect::<Vec<_>>()
            ),
        }
    }
}

/// Waits until `check` holds (polling), or fails with `what`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {PATIENCE:?}");
}

async fn create_content(app: &TestApp, who: &Session, title: &str) -> String {
    let body = app
        .gql(
            Some(&who.access_token),
            "mutation($t: String!) { createContent(input: { title: $t, story: \"A story\" }) { id } }",
            json!({ "t": title }),
        )
        .await;
    body["data"]["createContent"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn ok(app: &TestApp, who: &Session, query: &str, vars: Value) -> Value {
    let body = app.gql(Some(&who.access_token), query, vars).await;
    assert_eq!(code(&body), "", "{body}");
    body["data"].clone()
}

async fn content_exists(app: &TestApp, id: &str) -> bool {
    let body = app
        .gql(
            None,
            "query($c: ID!) { content(id: $c) { id } }",
            json!({ "c": id }),
        )
        .await;
    !body["data"]["content"].is_null()
}

async fn counts(app: &TestApp, id: &str) -> (u64, u64, u64) {
    // `_entities` straight from the interactions subgraph's point of view, through the
    // router: a ranking line carries the counts even for a content deleted elsewhere.
    let body = app
        .gql(
            None,
            "{ contentRanking(first: 100) { content { id } reads likes } }",
            json!({}),
        )
        .await;
    let line = body["data"]["contentRanking"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|l| l["content"]["id"] == json!(id))
        .cloned();
    match line {
        Some(l) => (
            l["reads"].as_u64().unwrap_or(0),
            l["likes"].as_u64().unwrap_or(0),
            1,
        ),
        None => (0, 0, 0),
    }
}

/// The events a service's outbox holds, oldest first, and whether each was published.
async fn outbox(app: &TestApp, service: &str) -> Vec<(Event, bool)> {
    let url = match service {
        "users" => app.cfg.users_database(),
        "content" => app.cfg.content_database(),
        _ => app.cfg.interactions_database(),
    };
    let db = folio_common::db::connect(&url, app.cfg.database_schema.as_deref())
        .await
        .expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT payload, published_at IS NOT NULL AS published FROM {service}_outbox ORDER BY seq"),
        ))
        .await
        .expect("read the outbox");
    let out = rows
        .iter()
        .map(|r| {
            let payload: String = r.try_get("", "payload").expect("payload");
            let published: bool = r.try_get("", "published").expect("published");
            (serde_json::from_str(&payload).expect("an event"), published)
        })
        .collect();
    let _ = db.close().await;
    out
}

#[tokio::test]
async fn a_user_lifecycle_publishes_its_events_in_order_without_secrets() {
    let app = TestApp::spawn().await;
    let mut rx = app.events().await;
    let mut seen = Vec::new();

    let ada = app.register("ada@example.com", PASSWORD).await;
    let created = next_of(&mut rx, "user.created", &mut seen).await;
    assert_eq!(created.subject_id(), Some(ada.id.as_str()));
    assert_eq!(created.actor_id, None, "registering is anonymous");
    assert_eq!(created.data["firstName"], json!("Test"));

    let bob = app.register("bob@example.com", PASSWORD).await;
    next_of(&mut rx, "user.created", &mut seen).await;

    let content = create_content(&app, &ada, "Evented").await;
    let e = next_of(&mut rx, "content.created", &mut seen).await;
    assert_eq!(e.subject_id(), Some(content.as_str()));
    assert_eq!(e.actor_id.as_deref(), Some(ada.id.as_str()));
    assert_eq!(e.data["authorId"], json!(ada.id));

    ok(
        &app,
        &bob,
        "mutation($c: ID!) { like(contentId: $c) { id } }",
        json!({ "c": content }),
    )
    .await;
    let e = next_of(&mut rx, "interaction.created", &mut seen).await;
    assert_eq!(e.data["kind"], json!("LIKE"));
    assert_eq!(e.data["contentId"], json!(content));
    assert_eq!(e.actor_id.as_deref(), Some(bob.id.as_str()));

    ok(
        &app,
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    let deleted = next_of(&mut rx, "user.deleted", &mut seen).await;
    assert_eq!(deleted.data, json!({ "id": ada.id }));
    // The cascade: content deletes ada's content, interactions removes bob's like of it.
    let gone = next_of(&mut rx, "content.deleted", &mut seen).await;
    assert_eq!(gone.subject_id(), Some(content.as_str()));
    assert_eq!(gone.actor_id, None, "a cascade is the system's doing");
    let unliked = next_of(&mut rx, "interaction.deleted", &mut seen).await;
    assert_eq!(unliked.data["contentId"], json!(content));

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
    let adas = create_content(&app, &ada, "Ada's").await;
    let bobs = create_content(&app, &bob, "Bob's").await;
    let like = "mutation($c: ID!) { like(contentId: $c) { id } }";
    let read = "mutation($c: ID!) { recordRead(contentId: $c) { id } }";
    let comment = "mutation($c: ID!) { addComment(contentId: $c, body: \"hello\") { id } }";
    ok(&app, &ada, like, json!({ "c": bobs })).await;
    ok(&app, &ada, read, json!({ "c": bobs })).await;
    ok(&app, &ada, comment, json!({ "c": bobs })).await;
    ok(&app, &bob, like, json!({ "c": adas })).await;
    let bobs_comment = ok(&app, &bob, comment, json!({ "c": adas })).await["addComment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(
        &app,
        &bob,
        "mutation($u: ID!) { follow(userId: $u) { id } }",
        json!({ "u": ada.id }),
    )
    .await;

    ok(
        &app,
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    eventually("ada's content is deleted", || async {
        !content_exists(&app, &adas).await
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
        || async { counts(&app, &adas).await == (0, 0, 0) },
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
    let me = ok(&app, &bob, "{ me { followingCount } }", json!({})).await;
    assert_eq!(
        me["me"]["followingCount"],
        json!(0),
        "follows go with the user"
    );
    assert!(content_exists(&app, &bobs).await, "bob's content stays");
    app.stop().await;
}

#[tokio::test]
async fn deleting_a_content_removes_its_interactions_and_comments() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let c = create_content(&app, &ada, "Short-lived").await;
    ok(
        &app,
        &bob,
        "mutation($c: ID!) { like(contentId: $c) { id } }",
        json!({ "c": c }),
    )
    .await;
    let comment = ok(
        &app,
        &bob,
        "mutation($c: ID!) { addComment(contentId: $c, body: \"nice\") { id } }",
        json!({ "c": c }),
    )
    .await["addComment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(counts(&app, &c).await, (0, 1, 1));
    ok(
        &app,
        &ada,
        "mutation($c: ID!) { deleteContent(id: $c) }",
        json!({ "c": c }),
    )
    .await;
    eventually("the content's like leaves the ranking", || async {
        counts(&app, &c).await == (0, 0, 0)
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

/// A bus whose publishing can be switched off, as if the broker were unreachable.
struct Switchable {
    inner: Arc<dyn Bus>,
    down: AtomicBool,
}

impl Bus for Switchable {
    fn publish<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, folio_common::Result<()>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { Err(folio_common::Error::Unavailable("test broker")) });
        }
        self.inner.publish(event)
    }
    fn subscribe<'a>(
        &'a self,
        name: &'a str,
        kinds: &'a [&'a str],
        handler: Handler,
        stop: watch::Receiver<bool>,
    ) -> BoxFuture<'a, folio_common::Result<()>> {
        self.inner.subscribe(name, kinds, handler, stop)
    }
    fn observe(&self) -> BoxFuture<'_, folio_common::Result<mpsc::Receiver<Event>>> {
        self.inner.observe()
    }
}

/// A TCP proxy in front of the NATS server that can cut every connection and refuse new
/// ones (the broker "unreachable"), then let them through again.
struct Proxy {
    url: String,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .trim_start_matches("nats://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let url = format!("nats://{}", listener.local_addr().expect("addr"));
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (d, l) = (down.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, in effect
                }
                let upstream = upstream.clone();
                l.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy { url, down, links }
    }

    async fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn events_wait_out_a_broker_outage_and_none_is_lost() {
    // Over NATS: the platform reaches the broker through a proxy that is cut and
    // restored. In-process: the bus's publishing is switched off and on.
    let proxy = match nats_url() {
        Some(url) => Some(Proxy::start(&url).await),
        None => None,
    };
    let switch = Arc::new(Switchable {
        inner: Arc::new(LocalBus::new()),
        down: AtomicBool::new(false),
    });
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
        contents.push(create_content(&app, &ada, &format!("Before {i}")).await);
    }

    match &proxy {
        Some(p) => p.cut().await,
        None => switch.down.store(true, Ordering::SeqCst),
    }
    // Mutations go on while no event can be published.
    for c in &contents {
        ok(
            &app,
            &bob,
            "mutation($c: ID!) { like(contentId: $c) { id } }",
            json!({ "c": c }),
        )
        .await;
    }
    contents.push(create_content(&app, &ada, "During").await);
    ok(
        &app,
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        content_exists(&app, &contents[0]).await,
        "nothing cascades while the broker is away"
    );
    let pending = outbox(&app, "users").await;
    assert!(
        pending
            .iter()
            .any(|(e, published)| e.kind == "user.deleted" && !published),
        "user.deleted waits in the outbox"
    );

    match &proxy {
        Some(p) => p.restore(),
        None => switch.down.store(false, Ordering::SeqCst),
    }
    for c in &contents {
        eventually(
            "ada's contents are deleted once the broker is back",
            || async { !content_exists(&app, c).await },
        )
        .await;
        eventually("bob's likes of them are gone", || async {
            counts(&app, c).await == (0, 0, 0)
        })
        .await;
    }
    // Every event every outbox holds was published, and reached the observer.
    let mut expected: HashMap<String, String> = HashMap::new();
    for service in ["users", "content", "interactions"] {
        eventually("every outbox is published", || async {
            outbox(&app, service)
                .await
                .iter()
                .all(|(_, published)| *published)
        })
        .await;
        for (e, _) in outbox(&app, service).await {
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
    let deletions = outbox(&app, "content")
        .await
        .into_iter()
        .filter(|(e, _)| e.kind == "content.deleted")
        .count();
    assert_eq!(deletions, contents.len());
    app.stop().await;
}

#[tokio::test]
async fn a_restart_between_commit_and_publish_still_delivers_once() {
    let mut app = TestApp::spawn().await;
    let ada = app.register("ada@example.com", PASSWORD).await;
    let bob = app.register("bob@example.com", PASSWORD).await;
    let c = create_content(&app, &ada, "Survivor?").await;
    ok(
        &app,
        &bob,
        "mutation($c: ID!) { like(contentId: $c) { id } }",
        json!({ "c": c }),
    )
    .await;
    eventually("the like is counted", || async {
        counts(&app, &c).await == (0, 1, 1)
    })
    .await;

    // The service restarts with publishing impossible: the deletion commits, its event
    // stays in the outbox...
    let stuck = Arc::new(Switchable {
        inner: Arc::new(LocalBus::new()),
        down: AtomicBool::new(true),
    });
    app.restart_with(stuck).await;
    let ada = app.login("ada@example.com", PASSWORD).await;
    ok(
        &app,
        &ada,
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": ada.id }),
    )
    .await;
    let users_outbox = outbox(&app, "users").await;
    let (deleted, published) = users_outbox
        .iter()
        .find(|(e, _)| e.kind == "user.deleted")
        .cloned()
        .expect("user.deleted was recorded with the deletion");
    assert!(!published);
    assert!(content_exists(&app, &c).await, "not consumed yet");

    // ...and the next start publishes it.
    let bus = folio::platform::event_bus(&app.cfg, false)
        .await
        .expect("bus");
    app.restart_with(bus.clone()).await;
    eventually("the content follows its author", || async {
        !content_exists(&app, &c).await
    })
    .await;
    eventually("the like follows its content", || async {
        counts(&app, &c).await == (0, 0, 0)
    })
    .await;

    // The same event again (a redelivery): no second effect.
    bus.publish(&deleted).await.expect("publish again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let content_deleted = outbox(&app, "content")
        .await
        .into_iter()
        .filter(|(e, _)| e.kind == "content.deleted")
        .count();
    assert_eq!(content_deleted, 1, "the content was deleted once");
    let interactions_deleted = outbox(&app, "interactions")
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
        outbox(&app, "users")
            .await
            .iter()
            .all(|(_, published)| *published)
    })
    .await;
    let mut tail = folio::tail::follow(&app.cfg, "user.*")
        .await
        .expect("tail starts");
    let ada = app.register("ada@example.com", PASSWORD).await;
    create_content(&app, &ada, "Not a user event").await;
    ok(
        &app,
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
            e.subject_id(),
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
