//! The schema executed in-process (as `execute` would, with a viewer and a fresh
//! dataloader) against a temporary SQLite store whose SQL statements are counted.

use super::*;
use crate::contents::ContentDirectory;
use crate::domain::Kind;
use crate::store::{ContentFacts, Store};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Request, Variables};
use folio_common::{Id, ServiceClient, Viewer};
use folio_migrations::MigratorTrait;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `raw` as an id (the tests' ids are all well-formed).
fn id(raw: &str) -> Id {
    Id::parse(raw).expect("an id")
}

struct Harness {
    schema: InteractionsSchema,
    store: Store,
    statements: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/i.db", dir.path().display());
        let mut db = folio_common::db::connect(&url, None)
            .await
            .expect("connect");
        folio_migrations::interactions::Migrator::up(&db, None)
            .await
            .expect("migrate");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let store = Store::new(db);
        // Nothing listens there: these tests never need the content subgraph.
        let content = ServiceClient::new(
            &folio_common::Config::default(),
            "content",
            "http://127.0.0.1:9/graphql".to_owned(),
            std::time::Duration::from_millis(500),
        )
        .expect("client");
        let state = InteractionsState {
            contents: ContentDirectory::new(store.clone(), content),
            store: store.clone(),
        };
        Harness {
            schema: build_schema(state),
            store,
            statements,
            _dir: dir,
        }
    }

    async fn run(&self, viewer: Option<&str>, query: &str, vars: Value) -> Value {
        let loader = InteractionsLoader::new(self.store.clone(), viewer.map(id));
        let req = Request::new(query)
            .variables(Variables::from_json(vars))
            .data(Viewer {
                user_id: viewer.map(str::to_owned),
                is_admin: false,
                client_ip: None,
            })
            // The batch window is 1 ms in production; an unoptimised build can take longer
            // than that to reach every field of 100 entities, which would split a batch in
            // two and make the statement counts below depend on timing. What they check
            // is that every field goes through the batch loaders.
            .data(
                DataLoader::new(loader, tokio::spawn).delay(std::time::Duration::from_millis(50)),
            );
        let res = self.schema.execute(req).await;
        assert!(res.errors.is_empty(), "errors: {:?}", res.errors);
        res.data.into_json().expect("json")
    }

    async fn known(&self, id: &str) {
        self.store
            .remember_content(&ContentFacts {
                content_id: self::id(id),
                author_id: self::id("author"),
                published_at: chrono::Utc::now(),
            })
            .await
            .expect("remember");
    }
}

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Content { id likeCount readCount commentCount viewerHasRead viewerHasLiked } } }";

#[tokio::test]
async fn a_hundred_contents_with_counts_cost_two_statements() {
    let h = Harness::new().await;
    let ids: Vec<String> = (0..100).map(|i| format!("c{i:03}")).collect();
    for id in &ids[..60] {
        h.known(id).await;
    }
    h.store
        .record(&id("viewer"), &id("c001"), Kind::Like)
        .await
        .expect("like");
    h.store
        .record(&id("viewer"), &id("c002"), Kind::Read)
        .await
        .expect("read");
    h.store
        .record(&id("other"), &id("c001"), Kind::Read)
        .await
        .expect("read");

    let reps: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "__typename": "Content", "id": id }))
        .collect();
    h.statements.store(0, Ordering::SeqCst);
    let data = h.run(Some("viewer"), ENTITIES, json!({ "r": reps })).await;
    assert_eq!(
        h.statements.load(Ordering::SeqCst),
        2,
        "one query for the counters, one for the viewer's reads and likes"
    );
    let all = data["_entities"].as_array().expect("a list");
    assert_eq!(all.len(), 100);
    assert_eq!(
        all[1],
        json!({ "id": "c001", "likeCount": 1, "readCount": 1, "commentCount": 0, "viewerHasRead": false, "viewerHasLiked": true })
    );
    assert_eq!(all[2]["viewerHasRead"], json!(true));
    assert_eq!(
        all[99],
        json!({ "id": "c099", "likeCount": 0, "readCount": 0, "commentCount": 0, "viewerHasRead": false, "viewerHasLiked": false }),
        "a content nobody touched has zeros"
    );

    h.statements.store(0, Ordering::SeqCst);
    let anonymous = h.run(None, ENTITIES, json!({ "r": reps })).await;
    assert_eq!(
        h.statements.load(Ordering::SeqCst),
        1,
        "no viewer, no viewer query"
    );
    assert_eq!(anonymous["_entities"][1]["viewerHasLiked"], json!(false));
}

#[tokio::test]
async fn rankings_skip_zeros_and_break_ties_by_newer_content() {
    let h = Harness::new().await;
    for id in ["old", "mid", "new", "idle"] {
        h.known(id).await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    for (user, content, kind) in [
        ("u1", "old", Kind::Like),
        ("u2", "old", Kind::Like),
        ("u1", "mid", Kind::Read),
        ("u1", "new", Kind::Like),
        ("u1", "new", Kind::Like),
    ] {
        h.store
            .record(&id(user), &id(content), kind)
            .await
            .expect("record");
    }
    let ranking = |by: &str| {
        format!("{{ contentRanking(by: {by}) {{ content {{ id }} reads likes total }} }}")
    };
    let ids = |v: &Value| -> Vec<String> {
        v["contentRanking"]
            .as_array()
            .expect("list")
            .iter()
            .map(|s| s["content"]["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let total = h.run(None, &ranking("TOTAL"), json!({})).await;
    assert_eq!(
        ids(&total),
        ["old", "new", "mid"],
        "2, then 1 and 1 newer first"
    );
    let likes = h.run(None, &ranking("LIKES"), json!({})).await;
    assert_eq!(ids(&likes), ["old", "new"]);
    assert_eq!(
        likes["contentRanking"][1]["likes"],
        json!(1),
        "a repeated like counts once"
    );
    let reads = h.run(None, &ranking("READS"), json!({})).await;
    assert_eq!(ids(&reads), ["mid"]);
}

fn created(id: &str) -> folio_common::events::Payload {
    let now = chrono::Utc::now();
    folio_common::events::Payload::ContentCreated(folio_common::events::catalog::ContentData {
        id: id.into(),
        author_id: "author".into(),
        title: "T".into(),
        description: None,
        story: "S".into(),
        tags: Vec::new(),
        published_at: now,
        updated_at: now,
    })
}

#[tokio::test]
async fn a_batch_of_created_contents_is_one_statement_and_a_deletion_in_it_holds() {
    use folio_common::events::Payload;
    use folio_common::events::catalog::ContentDeleted;
    let h = Harness::new().await;
    let ids: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
    let tx = folio_common::db::begin_write(&h.store.db)
        .await
        .expect("tx");
    let before = h.statements.load(Ordering::SeqCst);
    crate::consumer::apply(&h.store, &tx, ids.iter().map(|i| created(i)).collect())
        .await
        .expect("apply");
    assert_eq!(
        h.statements.load(Ordering::SeqCst) - before,
        1,
        "300 content.created in one statement"
    );
    // In one batch: x created, deleted, then created again (a late duplicate): it stays
    // forgotten; y, created twice, is known once.
    let deleted = Payload::ContentDeleted(ContentDeleted { id: "x".into() });
    let batch = vec![
        created("x"),
        deleted,
        created("x"),
        created("y"),
        created("y"),
    ];
    crate::consumer::apply(&h.store, &tx, batch)
        .await
        .expect("apply");
    tx.commit().await.expect("commit");
    for i in ["c0", "c299", "y"] {
        assert!(
            h.store
                .known_content(&id(i))
                .await
                .expect("known")
                .is_some(),
            "{i} is known"
        );
    }
    assert!(h.store.known_content(&id("x")).await.expect("x").is_none());
    assert!(h.store.forgotten(&id("x")).await.expect("forgotten"));
}
