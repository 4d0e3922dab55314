//! Contents: one row per story. Full-text search is the next migration.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_contents"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Contents {
    Table,
    Id,
    AuthorId,
    Title,
    Description,
    Story,
    /// Lower-case tags between bars (`|rust|web|`), so one tag matches with a LIKE on
    /// `%|tag|%` and the list reads back by splitting.
    Tags,
    ViewCount,
    PublishedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Contents::Table)
                .col(string(Contents::Id).primary_key())
                // The author lives in the users subgraph: no foreign key across databases;
                // a deleted user's content goes by event (issue 6).
                .col(string(Contents::AuthorId))
                .col(string(Contents::Title))
                .col(text_null(Contents::Description))
                .col(text(Contents::Story))
                .col(string(Contents::Tags).default("|"))
                .col(big_integer(Contents::ViewCount).default(0))
                .col(timestamp_with_time_zone(Contents::PublishedAt))
                .col(timestamp_with_time_zone(Contents::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("contents_author")
                .table(Contents::Table)
                .col(Contents::AuthorId)
                .col(Contents::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("contents_published")
                .table(Contents::Table)
                .col(Contents::PublishedAt)
                .col(Contents::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Contents::Table).to_owned())
            .await
    }
}
