//! Tombstones: a deleted content's last row, kept for a while so that a reference other
//! subgraphs still hold (a like, a comment, a ranking entry, in the moments before the
//! `content.deleted` event reaches them) resolves to the content as it was instead of
//! failing the whole answer. Root queries never read them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000003_tombstones"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ContentTombstones {
    Table,
    Id,
    AuthorId,
    Title,
    Description,
    Story,
    Tags,
    ViewCount,
    PublishedAt,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ContentTombstones as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(string(T::Id).primary_key())
                .col(string(T::AuthorId))
                .col(string(T::Title))
                .col(text_null(T::Description))
                .col(text(T::Story))
                .col(string(T::Tags).default("|"))
                .col(big_integer(T::ViewCount).default(0))
                .col(timestamp_with_time_zone(T::PublishedAt))
                .col(timestamp_with_time_zone(T::UpdatedAt))
                .col(timestamp_with_time_zone(T::DeletedAt))
                .to_owned(),
        )
        .await?;
        // Pruning takes the oldest first.
        m.create_index(
            Index::create()
                .name("content_tombstones_deleted")
                .table(T::Table)
                .col(T::DeletedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ContentTombstones::Table).to_owned())
            .await
    }
}
