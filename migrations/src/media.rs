//! Migrations of the media subgraph's database.
//!
//! - `images`: the one image of an owner (`owner_kind` `content` or `user`, `owner_id`):
//!   the object `key` it is stored under (content-addressed, `<sha256>.<ext>`, so two
//!   owners of the same picture share one object), its type, size and dimensions as
//!   served. `key` is indexed: an object is deleted only when no row names it.
//! - `renditions`: what was made from an object in the background (`image.stored`): its
//!   thumbnails (`160x120,480x360`, each stored as `<sha256>-w<width>.<ext>`) and its
//!   BlurHash placeholder. Keyed by the object, so owners of one picture share them.
//! - `forgotten_owners`: the contents and users whose deletion event this subgraph applied
//!   (pruned after `FOLIO_RETENTION_SECS`): an image set on one of them afterwards (the
//!   content subgraph still resolves a deleted content from its tombstone for a while) is
//!   NOT_FOUND instead of a row nothing would ever delete.
//! - its event tables (`folio_common::events`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The media database's migrator.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own bookkeeping table, so that services sharing one database (or one
    /// PostgreSQL schema) never read each other's migration history.
    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_media").into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateTables),
            Box::new(crate::events::EventTables { service: "media" }),
            Box::new(crate::events::UnpublishedIndex { service: "media" }),
            Box::new(CreateRenditions),
            Box::new(ForgottenOwners),
        ]
    }
}

struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20261202_000001_media"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Images {
    Table,
    OwnerKind,
    OwnerId,
    Key,
    ContentType,
    Width,
    Height,
    Bytes,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Images::Table)
                .col(string(Images::OwnerKind))
                .col(string(Images::OwnerId))
                .col(string(Images::Key))
                .col(string(Images::ContentType))
                .col(integer(Images::Width))
                .col(integer(Images::Height))
                .col(big_integer(Images::Bytes))
                .col(timestamp_with_time_zone(Images::CreatedAt))
                .primary_key(Index::create().col(Images::OwnerKind).col(Images::OwnerId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("images_key")
                .table(Images::Table)
                .col(Images::Key)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Images::Table).to_owned())
            .await
    }
}

struct CreateRenditions;

impl MigrationName for CreateRenditions {
    fn name(&self) -> &str {
        "m20261202_000002_media_renditions"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Renditions {
    Table,
    Key,
    Thumbnails,
    Placeholder,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRenditions {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Renditions::Table)
                .col(string(Renditions::Key).primary_key())
                .col(string(Renditions::Thumbnails))
                .col(string(Renditions::Placeholder))
                .col(timestamp_with_time_zone(Renditions::CreatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Renditions::Table).to_owned())
            .await
    }
}

struct ForgottenOwners;

impl MigrationName for ForgottenOwners {
    fn name(&self) -> &str {
        "m20261202_000003_media_forgotten_owners"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ForgottenOwnersTable {
    #[sea_orm(iden = "forgotten_owners")]
    Table,
    OwnerKind,
    OwnerId,
    ForgottenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for ForgottenOwners {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForgottenOwnersTable as Forgotten;
        m.create_table(
            Table::create()
                .table(Forgotten::Table)
                .col(string(Forgotten::OwnerKind))
                .col(string(Forgotten::OwnerId))
                .col(timestamp_with_time_zone(Forgotten::ForgottenAt))
                .primary_key(
                    Index::create()
                        .col(Forgotten::OwnerKind)
                        .col(Forgotten::OwnerId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("forgotten_owners_at")
                .table(Forgotten::Table)
                .col(Forgotten::ForgottenAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ForgottenOwnersTable::Table).to_owned())
            .await
    }
}
