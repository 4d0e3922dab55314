//! Every migrator runs up → down → up, on SQLite and (in CI) on PostgreSQL.

use folio_migrations::MigratorTrait;
use folio_testkit::fresh_database;
use sea_orm_migration::SchemaManager;

async fn cycle<M: MigratorTrait>(subgraph: &folio_common::kit::Subgraph, tables: &[&str]) {
    let name = subgraph.name;
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, schema) = fresh_database();
    let url = url.unwrap_or_else(|| format!("sqlite://{}/{name}.db", dir.path().display()));
    let db = folio_common::db::connect_for_migrations(
        &url,
        schema.as_deref(),
        subgraph.sqlite_page_size,
    )
    .await
    .expect("connect");
    let manager = SchemaManager::new(&db);

    M::up(&db, None).await.expect("up");
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        use sea_orm::ConnectionTrait;
        let page = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA page_size",
            ))
            .await
            .expect("page_size")
            .and_then(|r| r.try_get_by_index::<i64>(0).ok());
        assert_eq!(
            page,
            Some(i64::from(subgraph.sqlite_page_size)),
            "{name}: the file is created with its subgraph's page size"
        );
    }
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
        &folio_users::SUBGRAPH,
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
        &folio_content::SUBGRAPH,
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
        &folio_interactions::SUBGRAPH,
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

#[tokio::test]
async fn shop_migrations_go_up_down_and_up_again() {
    cycle::<folio_migrations::shop::Migrator>(
        &folio_shop::SUBGRAPH,
        &[
            "products",
            "carts",
            "cart_items",
            "orders",
            "order_items",
            "shop_outbox",
            "shop_processed_events",
        ],
    )
    .await;
}

#[tokio::test]
async fn search_migrations_go_up_down_and_up_again() {
    cycle::<folio_migrations::search::Migrator>(
        &folio_search::SUBGRAPH,
        &["search_authors", "search_outbox", "search_processed_events"],
    )
    .await;
}

/// Full-text search left the content database for the search subgraph; undoing that
/// migration brings the old index back, filled from the contents. (On PostgreSQL the
/// outbox's payloads are stored uncompressed, and undoing the later migration that did
/// it compresses them again.)
#[tokio::test]
async fn contents_lose_their_search_index_and_down_restores_it_filled() {
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, schema) = fresh_database();
    let url = url.unwrap_or_else(|| format!("sqlite://{}/content.db", dir.path().display()));
    let db = folio_common::db::connect_for_migrations(
        &url,
        schema.as_deref(),
        folio_content::SQLITE_PAGE_SIZE,
    )
    .await
    .expect("connect");
    let manager = SchemaManager::new(&db);
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    let has_index = || async {
        if sqlite {
            manager.has_table("contents_fts").await.expect("has_table")
        } else {
            manager
                .has_column("contents", "search")
                .await
                .expect("has_column")
        }
    };
    folio_migrations::content::Migrator::up(&db, None)
        .await
        .expect("up");
    assert!(!has_index().await, "the search index is gone after up");
    let payload_storage = || async {
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT a.attstorage::text AS s FROM pg_attribute a \
             WHERE a.attrelid = 'content_outbox'::regclass AND a.attname = 'payload'",
        ))
        .await
        .expect("attstorage")
        .and_then(|r| r.try_get::<String>("", "s").ok())
    };
    if !sqlite {
        assert_eq!(payload_storage().await.as_deref(), Some("e"), "external");
    }
    db.execute_unprepared(
        "INSERT INTO contents (id, author_id, title, story, tags, view_count, published_at, updated_at) \
         VALUES ('c1', 'a1', 'Ferris', 'A crab.', '', 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .await
    .expect("insert a content");
    folio_migrations::content::Migrator::down(&db, Some(2))
        .await
        .expect("down two");
    if !sqlite {
        assert_eq!(payload_storage().await.as_deref(), Some("x"), "extended");
    }
    assert!(has_index().await, "down restores the search index");
    let found = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            if sqlite {
                "SELECT count(*) AS n FROM contents_fts WHERE contents_fts MATCH 'ferris'"
            } else {
                "SELECT count(*) AS n FROM contents WHERE search @@ to_tsquery('simple', 'ferris')"
            },
        ))
        .await
        .expect("search")
        .and_then(|r| r.try_get::<i64>("", "n").ok());
    assert_eq!(found, Some(1), "filled from the existing contents");
    if let (Ok(url), Some(schema)) = (std::env::var("FOLIO_TEST_DATABASE_URL"), schema) {
        folio_testkit::drop_schema(&url, &schema).await;
    }
}
