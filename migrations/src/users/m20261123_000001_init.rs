//! Users, follows, blocks and refresh tokens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_init"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Email,
    EmailNormalized,
    PasswordHash,
    FirstName,
    LastName,
    FirstNameKey,
    LastNameKey,
    PhoneNo,
    Address,
    IsAdmin,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Follows {
    Table,
    Id,
    FollowerId,
    FolloweeId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Blocks {
    Table,
    BlockerId,
    BlockedId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

fn user_fk(
    table: impl IntoIden + Clone + 'static,
    col: impl IntoIden + Clone + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(string(Users::Id).primary_key())
                .col(string(Users::Email))
                .col(string_uniq(Users::EmailNormalized))
                .col(text(Users::PasswordHash))
                .col(string(Users::FirstName))
                .col(string(Users::LastName))
                // Lower-cased (by Rust, Unicode-aware) copies that filters and search
                // compare, the same on SQLite (whose lower() is ASCII-only) and PostgreSQL.
                .col(string(Users::FirstNameKey))
                .col(string(Users::LastNameKey))
                .col(string_null(Users::PhoneNo))
                .col(text_null(Users::Address))
                .col(boolean(Users::IsAdmin).default(false))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Follows::Table)
                .col(string(Follows::Id).primary_key())
                .col(string(Follows::FollowerId))
                .col(string(Follows::FolloweeId))
                .col(timestamp_with_time_zone(Follows::CreatedAt))
                .foreign_key(&mut user_fk(Follows::Table, Follows::FollowerId))
                .foreign_key(&mut user_fk(Follows::Table, Follows::FolloweeId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("follows_pair")
                .table(Follows::Table)
                .col(Follows::FollowerId)
                .col(Follows::FolloweeId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("follows_followee")
                .table(Follows::Table)
                .col(Follows::FolloweeId)
                .col(Follows::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("follows_follower")
                .table(Follows::Table)
                .col(Follows::FollowerId)
                .col(Follows::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Blocks::Table)
                .col(string(Blocks::BlockerId))
                .col(string(Blocks::BlockedId))
                .col(timestamp_with_time_zone(Blocks::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(Blocks::BlockerId)
                        .col(Blocks::BlockedId),
                )
                .foreign_key(&mut user_fk(Blocks::Table, Blocks::BlockerId))
                .foreign_key(&mut user_fk(Blocks::Table, Blocks::BlockedId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("blocks_blocked")
                .table(Blocks::Table)
                .col(Blocks::BlockedId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(string(RefreshTokens::Id).primary_key())
                .col(string(RefreshTokens::UserId))
                .col(string(RefreshTokens::FamilyId))
                .col(string_uniq(RefreshTokens::TokenHash))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .foreign_key(&mut user_fk(RefreshTokens::Table, RefreshTokens::UserId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("refresh_tokens_user")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::UserId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Blocks::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Follows::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
