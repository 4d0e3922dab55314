//! Every migrator runs up → down → up, on SQLite and (in CI) on PostgreSQL.

use folio_migrations::MigratorTrait;
use folio_testkit::fresh_database;
use sea_orm_migration::SchemaManager;

async fn cycle<M: MigratorTrait>(name: &str, tables: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, schema) = fresh_database();
    let url = url.unwrap_or_else(|| format!("sqlite://{}/{name}.db", dir.path().display()));
    let db = folio_common::db::connect_for_migrations(&url, schema.as_deref())
        .await
        .expect("connect");
    let manager = SchemaManager::new(&db);

    M::up(&db, None).await.expect("up");
    for t in tables {
        assert!(
            manager.has_table(*t).await.expect("has_table"),
            "{name}: table {t} missing after up"
        );
    }
    assert!(
        M::get_pending_migrations(&db)
            .await
            .expect("pending")
            .is_empty()
    );

    M::down(&db, None).await.expect("down");
    for t in tables {
        assert!(
            !manager.has_table(*t).await.expect("has_table"),
            "{name}: table {t} still there after down"
        );
    }

    M::up(&db, None).await.expect("up again");
    for t in tables {
        assert!(
            manager.has_table(*t).await.expect("has_table"),
            "{name}: table {t} missing after up again"
        );
    }
    assert_eq!(
        M::get_applied_migrations(&db).await.expect("applied").len(),
        M::migrations().len()
    );
    if let (Ok(url), Some(schema)) = (std::env::var("FOLIO_TEST_DATABASE_URL"), schema) {
        folio_testkit::drop_schema(&url, &schema).await;
    }
}

#[tokio::test]
async fn users_migrations_go_up_down_and_up_again() {
    cycle::<folio_migrations::users::Migrator>(
        "users",
        &[
            "users",
            "follows",
            "blocks",
            "refresh_tokens",
            "users_outbox",
            "users_processed_events",
        ],
    )
    .await;
}

#[tokio::test]
async fn content_migrations_go_up_down_and_up_again() {
    cycle::<folio_migrations::content::Migrator>(
        "content",
        &[
            "contents",
            "content_outbox",
            "content_processed_events",
            "content_tombstones",
        ],
    )
    .await;
}

#[tokio::test]
async fn interactions_migrations_go_up_down_and_up_again() {
    cycle::<folio_migrations::interactions::Migrator>(
        "interactions",
        &[
            "content_stats",
            "interactions",
            "comments",
            "interactions_outbox",
            "interactions_processed_events",
            "forgotten_contents",
        ],
    )
    .await;
}
