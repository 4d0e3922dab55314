//! The event tables every service has (`folio_common::events`): its outbox and, for a
//! service that consumes events, the ids it has processed. Named after the service, so
//! services sharing one database or PostgreSQL schema keep their own.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `<service>_outbox` and `<service>_processed_events`.
pub struct EventTables {
    pub service: &'static str,
}

impl MigrationName for EventTables {
    fn name(&self) -> &str {
        "m20261124_000100_event_tables"
    }
}

fn outbox(service: &str) -> Alias {
    Alias::new(format!("{service}_outbox"))
}

fn processed(service: &str) -> Alias {
    Alias::new(format!("{service}_processed_events"))
}

#[async_trait::async_trait]
impl MigrationTrait for EventTables {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let s = self.service;
        m.create_table(
            Table::create()
                .table(outbox(s))
                .col(big_pk_auto(Alias::new("seq")))
                .col(string(Alias::new("event_id")).unique_key())
                .col(string(Alias::new("kind")))
                .col(text(Alias::new("payload")))
                .col(timestamp_with_time_zone(Alias::new("created_at")))
                .col(timestamp_with_time_zone_null(Alias::new("published_at")))
                .to_owned(),
        )
        .await?;
        // The relay's question: what is pending, oldest first.
        m.create_index(
            Index::create()
                .name(format!("{s}_outbox_pending"))
                .table(outbox(s))
                .col(Alias::new("published_at"))
                .col(Alias::new("seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(processed(s))
                .col(string(Alias::new("consumer")))
                .col(string(Alias::new("event_id")))
                .col(timestamp_with_time_zone(Alias::new("processed_at")))
                .primary_key(
                    Index::create()
                        .col(Alias::new("consumer"))
                        .col(Alias::new("event_id")),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(processed(self.service)).to_owned())
            .await?;
        m.drop_table(Table::drop().table(outbox(self.service)).to_owned())
            .await
    }
}

/// A partial index of the outbox rows still to publish, by `seq`: the relay's question
/// reads only pending rows, however many published ones the table keeps. (With only
/// `(published_at, seq)`, PostgreSQL chose the primary key after a bulk insert and
/// filtered every published row: 454 ms per round at 800,000 of them.)
pub struct UnpublishedIndex {
    pub service: &'static str,
}

impl MigrationName for UnpublishedIndex {
    fn name(&self) -> &str {
        "m20261130_000200_outbox_unpublished"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UnpublishedIndex {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let s = self.service;
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {s}_outbox_unpublished ON {s}_outbox (seq) WHERE published_at IS NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&format!(
                "DROP INDEX IF EXISTS {}_outbox_unpublished",
                self.service
            ))
            .await?;
        Ok(())
    }
}

/// Outbox payloads stored without compression on PostgreSQL (`STORAGE EXTERNAL`; SQLite
/// never compresses). A CSV import's `content.imported` events are 128 KiB each, well
/// past the size PostgreSQL would compress with pglz, which took longer than the rest of
/// the import: 200,000 rows at 13,300 rows/s with it. The rows are pruned after the
/// retention period, so their size on disk matters less than the time to write them.
pub struct UncompressedPayloads {
    pub service: &'static str,
}

impl MigrationName for UncompressedPayloads {
    fn name(&self) -> &str {
        "m20261130_000201_outbox_uncompressed"
    }
}

impl UncompressedPayloads {
    async fn set_storage(&self, m: &SchemaManager<'_>, storage: &str) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE {}_outbox ALTER COLUMN payload SET STORAGE {storage}",
                self.service
            ))
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UncompressedPayloads {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        self.set_storage(m, "EXTERNAL").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        self.set_storage(m, "EXTENDED").await
    }
}
