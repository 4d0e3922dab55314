//! Refresh tokens: issue, rotate with reuse detection, revoke.
//!
//! Tokens of one sign-in form a family. Each use marks the presented token used and
//! issues its successor in the same family. Presenting a token that was already used or
//! revoked means it leaked (or was replayed): the whole family is revoked.

use super::Store;
use super::entity::refresh_tokens::{self, Column, Entity as Tokens};
use chrono::{DateTime, Duration, Utc};
use folio_common::{Error, Id, Result};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was current: here is whose it was; its successor is stored.
    Rotated { user_id: Id },
    /// Unknown, expired, or reused (the family is now revoked).
    Rejected,
}

impl Store {
    /// Stores the first refresh token (hash only) of a new sign-in (a new family).
    #[tracing::instrument(skip_all, fields(user = %user_id))]
    pub async fn insert_refresh_token(
        &self,
        db: &impl ConnectionTrait,
        user_id: &Id,
        token_hash: String,
        ttl: Duration,
    ) -> Result<()> {
        let family = folio_common::new_id();
        insert_token(db, user_id, family, token_hash, ttl).await
    }

    /// Consumes the token with `hash` and stores its successor `new_hash`, atomically.
    #[tracing::instrument(skip_all)]
    pub async fn rotate_refresh_token(
        &self,
        hash: &str,
        new_hash: String,
        ttl: Duration,
    ) -> Result<RotateOutcome> {
        let now = Utc::now();
        let tx = folio_common::db::begin_write(&self.db).await?;
        let Some(token) = Tokens::find()
            .filter(Column::TokenHash.eq(hash))
            .one(&tx)
            .await?
        else {
            return Ok(RotateOutcome::Rejected);
        };
        if token.used_at.is_some() || token.revoked_at.is_some() {
            revoke_family(&tx, &token.family_id, now).await?;
            tx.commit().await?;
            tracing::warn!(family = %token.family_id, "refresh token reused: session revoked");
            return Ok(RotateOutcome::Rejected);
        }
        if token.expires_at <= now {
            return Ok(RotateOutcome::Rejected);
        }
        // A token holds the id of the user it was issued to; one that no user can have
        // names nobody to sign in.
        let Ok(user_id) = Id::parse(&token.user_id) else {
            return Ok(RotateOutcome::Rejected);
        };
        // The conditional update is the lock: of two concurrent uses, one wins here
        // and the other sees a used token and revokes the family.
        let claimed = Tokens::update_many()
            .col_expr(Column::UsedAt, Expr::val(now))
            .filter(Column::Id.eq(token.id.clone()))
            .filter(Column::UsedAt.is_null())
            .filter(Column::RevokedAt.is_null())
            .exec(&tx)
            .await?;
        if claimed.rows_affected != 1 {
            revoke_family(&tx, &token.family_id, now).await?;
            tx.commit().await?;
            return Ok(RotateOutcome::Rejected);
        }
        insert_token(&tx, &user_id, token.family_id, new_hash, ttl).await?;
        tx.commit().await?;
        Ok(RotateOutcome::Rotated { user_id })
    }

    /// Revokes the session (family) of the token with `hash`; whether one was live.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_session(&self, hash: &str) -> Result<bool> {
        let Some(token) = Tokens::find()
            .filter(Column::TokenHash.eq(hash))
            .one(&self.db)
            .await?
        else {
            return Ok(false);
        };
        let revoked = revoke_family(&self.db, &token.family_id, Utc::now()).await?;
        Ok(revoked > 0)
    }

    /// Revokes every refresh token of `user_id` (in the caller's transaction).
    #[tracing::instrument(skip_all, fields(user = %user_id))]
    pub async fn revoke_all_sessions(&self, db: &impl ConnectionTrait, user_id: &Id) -> Result<()> {
        Tokens::update_many()
            .col_expr(Column::RevokedAt, Expr::val(Utc::now()))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(())
    }
}

/// Stores a refresh token (hash only) of `user_id` in `family`.
async fn insert_token(
    db: &impl ConnectionTrait,
    user_id: &str,
    family: String,
    token_hash: String,
    ttl: Duration,
) -> Result<()> {
    let now = Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(folio_common::new_id()),
        user_id: Set(user_id.to_owned()),
        family_id: Set(family),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

async fn revoke_family(
    db: &impl ConnectionTrait,
    family: &str,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let res = Tokens::update_many()
        .col_expr(Column::RevokedAt, Expr::val(now))
        .filter(Column::FamilyId.eq(family))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
