//! Full-text search over contents (title, description, story, tags), kept in sync by the
//! database itself, inside the writing transaction:
//!
//! - SQLite: a standalone FTS5 table `contents_fts` keyed by the content id (an UNINDEXED
//!   column; the implicit rowid of `contents` is not stable across `VACUUM`), filled by
//!   triggers on `contents`.
//! - PostgreSQL: a generated `search` tsvector column (weights A title, B tags,
//!   C description, D story) with a GIN index.
//!
//! Both use Unicode case folding without stemming (`unicode61 remove_diacritics 0` and the
//! `simple` configuration). Tags are stored as `|a|b|` and indexed as words.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_search"
    }
}

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE contents_fts USING fts5(
        id UNINDEXED, title, description, story, tags,
        tokenize = 'unicode61 remove_diacritics 0')",
    "INSERT INTO contents_fts (id, title, description, story, tags)
        SELECT id, title, coalesce(description, ''), story, replace(tags, '|', ' ')
        FROM contents",
    "CREATE TRIGGER contents_fts_insert AFTER INSERT ON contents BEGIN
        INSERT INTO contents_fts (id, title, description, story, tags)
        VALUES (new.id, new.title, coalesce(new.description, ''), new.story,
                replace(new.tags, '|', ' '));
    END",
    "CREATE TRIGGER contents_fts_update AFTER UPDATE OF id, title, description, story, tags
        ON contents BEGIN
        DELETE FROM contents_fts WHERE id = old.id;
        INSERT INTO contents_fts (id, title, description, story, tags)
        VALUES (new.id, new.title, coalesce(new.description, ''), new.story,
                replace(new.tags, '|', ' '));
    END",
    "CREATE TRIGGER contents_fts_delete AFTER DELETE ON contents BEGIN
        DELETE FROM contents_fts WHERE id = old.id;
    END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS contents_fts_delete",
    "DROP TRIGGER IF EXISTS contents_fts_update",
    "DROP TRIGGER IF EXISTS contents_fts_insert",
    "DROP TABLE IF EXISTS contents_fts",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE contents ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('simple', replace(tags, '|', ' ')), 'B')
        || setweight(to_tsvector('simple', coalesce(description, '')), 'C')
        || setweight(to_tsvector('simple', story), 'D')
    ) STORED",
    "CREATE INDEX contents_search ON contents USING GIN (search)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS contents_search",
    "ALTER TABLE contents DROP COLUMN IF EXISTS search",
];

async fn run(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = m.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => run(m, SQLITE_UP).await,
            DatabaseBackend::Postgres => run(m, POSTGRES_UP).await,
            other => Err(DbErr::Migration(format!(
                "content search is not supported on {other:?}"
            ))),
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => run(m, SQLITE_DOWN).await,
            DatabaseBackend::Postgres => run(m, POSTGRES_DOWN).await,
            other => Err(DbErr::Migration(format!(
                "content search is not supported on {other:?}"
            ))),
        }
    }
}
