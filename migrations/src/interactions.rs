//! Migrations of the interactions subgraph's database.
//!
//! - `content_stats`: one row per content the subgraph knows (author, publication time)
//!   with its counters `reads`, `likes`, `total` (= reads + likes) and `comments`, and one
//!   index per ranking metric (`metric, published_at, content_id`), so `contentRanking` is
//!   the first N entries of an index scan whatever the data size.
//! - `interactions`: one row per user, content and kind (a unique index), so a repeated
//!   read or like inserts nothing.
//! - `comments`: ordered by id (UUID v7) per content.
//! - `forgotten_contents`: the contents whose `content.deleted` this subgraph applied, so
//!   that a write on one is NOT_FOUND without asking the content subgraph (which still
//!   resolves a deleted content's references for a while, from its tombstones).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The interactions database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own bookkeeping table, so that services sharing one database (or one
    /// PostgreSQL schema) never read each other's migration history.
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_interactions").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateTables),
            Box::new(crate::events::EventTables {
                service: "interactions",
            }),
            Box::new(ForgottenContents),
            Box::new(crate::events::UnpublishedIndex {
                service: "interactions",
            }),
        ]
    }
}

/// The contents this subgraph knows, with their counters; reads and likes (one per
/// user, content and kind); comments.
struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20261124_000001_interactions"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ContentStats {
    Table,
    /// A content of the content subgraph (no foreign key across databases).
    ContentId,
    AuthorId,
    PublishedAt,
    Reads,
    Likes,
    /// `reads + likes`, kept as a column so the TOTAL ranking has its own index.
    Total,
    Comments,
}

#[derive(DeriveIden, Clone, Copy)]
enum Interactions {
    Table,
    Id,
    ContentId,
    UserId,
    /// `READ` or `LIKE`.
    Kind,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Comments {
    Table,
    Id,
    ContentId,
    AuthorId,
    Body,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ContentStats::Table)
                .col(string(ContentStats::ContentId).primary_key())
                .col(string(ContentStats::AuthorId))
                .col(timestamp_with_time_zone(ContentStats::PublishedAt))
                .col(big_integer(ContentStats::Reads).default(0))
                .col(big_integer(ContentStats::Likes).default(0))
                .col(big_integer(ContentStats::Total).default(0))
                .col(big_integer(ContentStats::Comments).default(0))
                .to_owned(),
        )
        .await?;
        // One index per ranking: the top N is the first N entries of an index scan
        // (read backwards), whatever the number of contents or interactions.
        for (name, metric) in [
            ("content_stats_by_total", ContentStats::Total),
            ("content_stats_by_reads", ContentStats::Reads),
            ("content_stats_by_likes", ContentStats::Likes),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(ContentStats::Table)
                    .col(metric)
                    .col(ContentStats::PublishedAt)
                    .col(ContentStats::ContentId)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(Interactions::Table)
                .col(string(Interactions::Id).primary_key())
                .col(string(Interactions::ContentId))
                .col(string(Interactions::UserId))
                .col(string(Interactions::Kind))
                .col(timestamp_with_time_zone(Interactions::CreatedAt))
                .to_owned(),
        )
        .await?;
        // One READ and one LIKE per user and content; also serves "what did the viewer do
        // to these contents" and a content's cascade.
        m.create_index(
            Index::create()
                .name("interactions_one_per_kind")
                .table(Interactions::Table)
                .col(Interactions::ContentId)
                .col(Interactions::UserId)
                .col(Interactions::Kind)
                .unique()
                .to_owned(),
        )
        .await?;
        // A user's cascade.
        m.create_index(
            Index::create()
                .name("interactions_user")
                .table(Interactions::Table)
                .col(Interactions::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Comments::Table)
                .col(string(Comments::Id).primary_key())
                .col(string(Comments::ContentId))
                .col(string(Comments::AuthorId))
                .col(text(Comments::Body))
                .col(timestamp_with_time_zone(Comments::CreatedAt))
                .col(timestamp_with_time_zone(Comments::UpdatedAt))
                .to_owned(),
        )
        .await?;
        // A content's comments, oldest first (ids are UUID v7: id order is creation order).
        m.create_index(
            Index::create()
                .name("comments_content")
                .table(Comments::Table)
                .col(Comments::ContentId)
                .col(Comments::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("comments_author")
                .table(Comments::Table)
                .col(Comments::AuthorId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Comments::Table.into_iden(),
            Interactions::Table.into_iden(),
            ContentStats::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

/// The contents this subgraph was told are deleted (see the module's documentation).
struct ForgottenContents;

impl MigrationName for ForgottenContents {
    fn name(&self) -> &str {
        "m20261130_000002_forgotten_contents"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ForgottenContentsTable {
    #[sea_orm(iden = "forgotten_contents")]
    Table,
    ContentId,
    ForgottenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for ForgottenContents {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForgottenContentsTable as F;
        m.create_table(
            Table::create()
                .table(F::Table)
                .col(string(F::ContentId).primary_key())
                .col(timestamp_with_time_zone(F::ForgottenAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("forgotten_contents_at")
                .table(F::Table)
                .col(F::ForgottenAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(ForgottenContentsTable::Table)
                .to_owned(),
        )
        .await
    }
}
