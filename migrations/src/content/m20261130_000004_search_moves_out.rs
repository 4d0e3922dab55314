//! Full-text search moves to the search subgraph (a tantivy index fed by events): the
//! FTS5 table and its triggers (SQLite) and the tsvector column and its GIN index
//! (PostgreSQL) go, and no write of a content maintains a search index any more. Down
//! restores them as `m20261123_000002_search` made them, filled from the contents.

use super::m20261123_000002_search::Migration as Search;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000004_search_moves_out"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Search.down(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Search.up(m).await
    }
}
