//! Store tests against a temporary SQLite file, migrated like the real database.

use super::*;
use folio_migrations::MigratorTrait;

/// A migrated store in a temp dir (kept alive by the returned guard).
pub(crate) async fn temp_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/c.db", dir.path().display());
    let db = folio_common::db::connect(&url, None)
        .await
        .expect("connect");
    folio_migrations::content::Migrator::up(&db, None)
        .await
        .expect("migrate");
    (Store::new(db), dir)
}

/// `raw` as an id (the tests' ids are all well-formed).
pub(crate) fn id(raw: &str) -> Id {
    Id::parse(raw).expect("an id")
}

pub(crate) fn new_content(author: &str, title: &str) -> NewContent {
    NewContent {
        author_id: id(author),
        title: Title::parse(title).expect("title"),
        description: Description::parse("about it").expect("description"),
        story: Story::parse("Once upon a time.").expect("story"),
        tags: Tags::parse(["Rust", "web"]).expect("tags"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn views_count_atomically_under_concurrency() {
    let (store, _dir) = temp_store().await;
    let c = store
        .insert_content(new_content("a", "T"))
        .await
        .expect("insert");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let id = id(&c.id);
            tokio::spawn(async move { store.view_content(&id).await })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        let row = t.await.expect("join").expect("view").expect("found");
        seen.push(row.view_count);
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<i64>>(),
        "each view sees its own count"
    );
    let row = store
        .content(&id(&c.id))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(row.view_count, 20);
    assert!(
        store
            .view_content(&id("missing"))
            .await
            .expect("view")
            .is_none()
    );
}

#[tokio::test]
async fn editing_the_story_resets_views_and_other_fields_do_not() {
    let (store, _dir) = temp_store().await;
    let c = store
        .insert_content(new_content("a", "T"))
        .await
        .expect("insert");
    for _ in 0..3 {
        store.view_content(&id(&c.id)).await.expect("view");
    }
    let changes = ContentChanges {
        title: Some(Title::parse("New title").expect("title")),
        description: Some(None),
        tags: Some(Tags::parse(["x"]).expect("tags")),
        ..ContentChanges::default()
    };
    let row = store
        .update_content(&id(&c.id), changes, None)
        .await
        .expect("update")
        .expect("found");
    assert_eq!(row.view_count, 3);
    assert_eq!(row.title, "New title");
    assert_eq!(row.description, None);
    assert_eq!(row.tag_list(), ["x"]);
    assert_eq!(row.story, "Once upon a time.");
    assert!(row.updated_at >= c.updated_at);

    let changes = ContentChanges {
        story: Some(Story::parse("A new story.").expect("story")),
        ..ContentChanges::default()
    };
    let row = store
        .update_content(&id(&c.id), changes, None)
        .await
        .expect("update")
        .expect("found");
    assert_eq!(row.view_count, 0);
    assert_eq!(row.story, "A new story.");
    assert_eq!(row.title, "New title");

    let none = store
        .update_content(&id("missing"), ContentChanges::default(), None)
        .await
        .expect("update");
    assert!(none.is_none());
}

#[tokio::test]
async fn lists_page_newest_first_with_total_count() {
    let (store, _dir) = temp_store().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let author = if i % 2 == 0 { "a" } else { "b" };
        let c = store
            .insert_content(new_content(author, &format!("T{i}")))
            .await
            .expect("insert");
        ids.push(c.id);
    }
    ids.reverse(); // newest first

    let req = PageRequest::parse(Some(2), None).expect("page");
    let page = store.list_contents(None, &req).await.expect("list");
    assert_eq!(page.total_count, 5);
    assert!(page.has_next_page);
    let got: Vec<_> = page.edges.iter().map(|(_, c)| c.id.clone()).collect();
    assert_eq!(got, ids[..2]);

    let after = page.edges.last().map(|(cursor, _)| cursor.clone());
    let req = PageRequest::parse(Some(10), after).expect("page");
    let page = store.list_contents(None, &req).await.expect("list");
    assert_eq!(page.total_count, 5);
    assert!(!page.has_next_page);
    let got: Vec<_> = page.edges.iter().map(|(_, c)| c.id.clone()).collect();
    assert_eq!(got, ids[2..]);

    let req = PageRequest::parse(None, None).expect("page");
    let page = store
        .list_contents(Some(&id("a")), &req)
        .await
        .expect("list");
    assert_eq!(page.total_count, 3);
    assert!(page.edges.iter().all(|(_, c)| c.author_id == "a"));
    let titles: Vec<_> = page.edges.iter().map(|(_, c)| c.title.as_str()).collect();
    assert_eq!(titles, ["T4", "T2", "T0"]);
}

#[tokio::test]
async fn batches_by_ids_and_deletes() {
    let (store, _dir) = temp_store().await;
    let a = store
        .insert_content(new_content("a", "A"))
        .await
        .expect("a");
    let b = store
        .insert_content(new_content("a", "B"))
        .await
        .expect("b");
    assert_eq!(a.tag_list(), ["rust", "web"]);
    assert_eq!(a.tags, "|rust|web|");
    let found = store
        .contents_by_ids(&[id(&a.id), id(&b.id), id("nope")])
        .await
        .expect("by ids");
    assert_eq!(found.len(), 2);
    assert!(
        store
            .delete_content(&id(&a.id), None)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_content(&id(&a.id), None)
            .await
            .expect("delete again")
    );
    assert!(store.content(&id(&a.id)).await.expect("read").is_none());
}

#[test]
fn tags_round_trip_through_their_column() {
    assert_eq!(join_tags(&Tags::default()), "|");
    assert!(split_tags("|").is_empty());
    let tags = Tags::parse(["a", "b-c"]).expect("tags");
    assert_eq!(split_tags(&join_tags(&tags)), ["a", "b-c"]);
}

async fn count(store: &Store) -> u64 {
    let page = PageRequest::parse(Some(1), None).expect("page");
    store
        .list_contents(None, &page)
        .await
        .expect("list")
        .total_count
}

#[tokio::test]
async fn an_import_shows_nothing_until_committed_and_a_drop_undoes_it() {
    let (store, _dir) = temp_store().await;
    let rows = |n: usize| -> Vec<NewContent> {
        (0..n).map(|i| new_content("a", &format!("T{i}"))).collect()
    };

    let mut import = store.begin_import(&id("importer")).await.expect("begin");
    import.insert(rows(INSERT_CHUNK + 3)).await.expect("insert");
    import.insert(rows(2)).await.expect("insert");
    assert_eq!(count(&store).await, 0, "invisible before the commit");
    drop(import);
    assert_eq!(count(&store).await, 0, "a dropped import is undone");

    let mut import = store.begin_import(&id("importer")).await.expect("begin");
    import.insert(rows(4)).await.expect("insert");
    import.rollback().await.expect("rollback");
    assert_eq!(count(&store).await, 0, "a rolled back import is undone");

    let mut import = store.begin_import(&id("importer")).await.expect("begin");
    import.insert(rows(INSERT_CHUNK + 3)).await.expect("insert");
    import.insert(rows(2)).await.expect("insert");
    let created = import.commit().await.expect("commit");
    assert_eq!(created, INSERT_CHUNK as u64 + 5);
    assert_eq!(count(&store).await, created);
    // The events: `content.imported` claims (content ids only), each content in
    // exactly one; filled in as the relay publishes them, each event carries its
    // contents as they are then, up to about its target size and no further.
    let rows = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.connection().get_database_backend(),
            "SELECT event_id, kind, payload FROM content_outbox ORDER BY seq",
        ))
        .await
        .expect("outbox");
    let stored: Vec<StoredEvent> = rows
        .iter()
        .map(|row| StoredEvent {
            id: row.try_get("", "event_id").expect("event_id"),
            kind: row.try_get("", "kind").expect("kind"),
            json: row.try_get("", "payload").expect("payload"),
        })
        .collect();
    let mut claimed = Vec::new();
    for row in &stored {
        assert_eq!(row.kind, "content.imported");
        let claim = row
            .claim::<ContentsImportedClaim>(EventType::ContentImported)
            .expect("an import's event is recorded as a claim");
        assert_eq!(claim.actor_id.as_deref(), Some("importer"));
        assert!(
            row.json.len() < 60 * claim.data.content_ids.len() + 200,
            "{}",
            row.json
        );
        claimed.extend(claim.data.content_ids);
    }
    assert_eq!(claimed.len() as u64, created, "every content claimed");
    // 1,003 rows of about 300 bytes do not fit one event; 2 rows make one more.
    assert!(stored.len() >= 3, "{} events", stored.len());

    // One content is deleted before its event goes out: the event leaves it out.
    let gone = claimed[INSERT_CHUNK / 2].clone();
    assert!(
        store
            .delete_content(&id(&gone), None)
            .await
            .expect("delete")
    );
    let filled = store.fill_imported(stored.clone()).await.expect("fill");
    assert_eq!(filled.len(), stored.len());
    let mut published = Vec::new();
    for (event, claim) in filled.iter().zip(&stored) {
        assert_eq!((&event.id, &event.kind), (&claim.id, &claim.kind));
        assert!(
            event.json.len() <= ContentsImported::TARGET_BYTES + 1024,
            "an event of {} bytes",
            event.json.len()
        );
        let decoded: folio_common::events::Event =
            serde_json::from_str(&event.json).expect("event");
        assert_eq!(decoded.id, event.id);
        assert_eq!(decoded.actor_id.as_deref(), Some("importer"));
        let Payload::ContentImported(chunk) = decoded.payload().expect("payload") else {
            panic!("not an import's event");
        };
        for c in chunk.contents {
            assert_eq!(c.author_id, "a");
            assert!(
                c.title.starts_with('T') && c.story == "Once upon a time.",
                "{c:?}"
            );
            published.push(c.id);
        }
    }
    let mut expected = claimed.clone();
    expected.retain(|c| *c != gone);
    assert_eq!(
        published, expected,
        "every content but the deleted one, in order"
    );
    // Rows that are not claims go through as they are.
    let other = StoredEvent {
        id: "e1".into(),
        kind: "content.deleted".into(),
        json: r#"{"id":"e1","type":"content.deleted","occurredAt":"2026-01-02T03:04:05.678Z","actorId":null,"data":{"id":"c1"}}"#.into(),
    };
    let passed = store
        .fill_imported(vec![other.clone()])
        .await
        .expect("fill");
    assert_eq!(passed, [other]);
}
