//! Follows and blocks between users, and the counts derived from them.

use super::entity::blocks::{self, Entity as Blocks};
use super::entity::follows::{self, Entity as Follows};
use super::{Store, UserRow};
use chrono::Utc;
use folio_common::events::Payload;
use folio_common::events::catalog::{BlockData, FollowData};
use folio_common::pagination::{Page, PageRequest, encode_cursor};
use folio_common::{Error, Id, Result};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TryInsertResult,
};
use std::collections::{HashMap, HashSet};

/// Which side of a follow a list or count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Users who follow the given user.
    Followers,
    /// Users the given user follows.
    Following,
}

impl Direction {
    /// (the column that holds the given user, the column that holds the listed users)
    fn columns(self) -> (follows::Column, follows::Column) {
        match self {
            Direction::Followers => (follows::Column::FolloweeId, follows::Column::FollowerId),
            Direction::Following => (follows::Column::FollowerId, follows::Column::FolloweeId),
        }
    }
}

#[derive(FromQueryResult)]
struct CountRow {
    user_id: String,
    n: i64,
}

fn either_way(a: &str, b: &str) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(blocks::Column::BlockerId.eq(a))
                .add(blocks::Column::BlockedId.eq(b)),
        )
        .add(
            Condition::all()
                .add(blocks::Column::BlockerId.eq(b))
                .add(blocks::Column::BlockedId.eq(a)),
        )
}

/// The target was checked inside the transaction, so a foreign-key violation can only
/// mean the viewer's own account was deleted while their access token still lives.
fn viewer_gone(e: sea_orm::DbErr) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
            Error::Unauthenticated("your account no longer exists")
        }
        _ => Error::from(e),
    }
}

/// A follow (or its end) as its events carry it.
fn follow_data(follower: &str, followee: &str) -> FollowData {
    FollowData {
        follower_id: follower.to_owned(),
        followee_id: followee.to_owned(),
    }
}

/// A block (or its end) as its events carry it.
fn block_data(blocker: &str, blocked: &str) -> BlockData {
    BlockData {
        blocker_id: blocker.to_owned(),
        blocked_id: blocked.to_owned(),
    }
}

impl Store {
    /// Makes `follower` follow `followee` (idempotent). `FORBIDDEN` when either has
    /// blocked the other; `NOT_FOUND` when `followee` does not exist.
    #[tracing::instrument(skip_all, fields(follower = %follower, followee = %followee))]
    pub async fn follow(&self, follower: &Id, followee: &Id) -> Result<UserRow> {
        let tx = folio_common::db::begin_write(&self.db).await?;
        let target = super::entity::users::Entity::find_by_id(followee.as_str())
            .one(&tx)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let blocked = Blocks::find()
            .filter(either_way(follower, followee))
            .count(&tx)
            .await?;
        if blocked > 0 {
            return Err(Error::forbidden("you cannot follow this user"));
        }
        let row = follows::ActiveModel {
            id: Set(folio_common::new_id()),
            follower_id: Set(follower.to_string()),
            followee_id: Set(followee.to_string()),
            created_at: Set(Utc::now()),
        };
        let inserted = Follows::insert(row)
            .on_conflict_do_nothing_on([follows::Column::FollowerId, follows::Column::FolloweeId])
            .exec_without_returning(&tx)
            .await
            .map_err(viewer_gone)?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            let payload = Payload::UserFollowed(follow_data(follower, followee));
            self.outbox
                .emit(&tx, Some(follower.as_str()), payload)
                .await?;
        }
        self.outbox.commit(tx).await?;
        Ok(target)
    }

    /// Ends `follower`'s follow of `followee` if there is one.
    #[tracing::instrument(skip_all, fields(follower = %follower, followee = %followee))]
    pub async fn unfollow(&self, follower: &Id, followee: &Id) -> Result<UserRow> {
        let target = self.user(followee).await?.ok_or(Error::NotFound("user"))?;
        let tx = folio_common::db::begin_write(&self.db).await?;
        let removed = Follows::delete_many()
            .filter(follows::Column::FollowerId.eq(follower))
            .filter(follows::Column::FolloweeId.eq(followee))
            .exec(&tx)
            .await?
            .rows_affected;
        if removed > 0 {
            let payload = Payload::UserUnfollowed(follow_data(follower, followee));
            self.outbox
                .emit(&tx, Some(follower.as_str()), payload)
                .await?;
        }
        self.outbox.commit(tx).await?;
        Ok(target)
    }

    /// Blocks `blocked` for `blocker` (idempotent) and removes follows both ways, in one
    /// transaction.
    #[tracing::instrument(skip_all, fields(blocker = %blocker, blocked = %blocked))]
    pub async fn block(&self, blocker: &Id, blocked: &Id) -> Result<()> {
        let tx = folio_common::db::begin_write(&self.db).await?;
        super::entity::users::Entity::find_by_id(blocked.as_str())
            .one(&tx)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let row = blocks::ActiveModel {
            blocker_id: Set(blocker.to_string()),
            blocked_id: Set(blocked.to_string()),
            created_at: Set(Utc::now()),
        };
        let inserted = Blocks::insert(row)
            .on_conflict_do_nothing_on([blocks::Column::BlockerId, blocks::Column::BlockedId])
            .exec_without_returning(&tx)
            .await
            .map_err(viewer_gone)?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            let payload = Payload::UserBlocked(block_data(blocker, blocked));
            self.outbox
                .emit(&tx, Some(blocker.as_str()), payload)
                .await?;
        }
        let pair = |a: &str, b: &str| {
            Condition::all()
                .add(follows::Column::FollowerId.eq(a))
                .add(follows::Column::FolloweeId.eq(b))
        };
        Follows::delete_many()
            .filter(
                Condition::any()
                    .add(pair(blocker, blocked))
                    .add(pair(blocked, blocker)),
            )
            .exec(&tx)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(())
    }

    /// Lifts `blocker`'s block of `blocked` if there is one.
    #[tracing::instrument(skip_all, fields(blocker = %blocker, blocked = %blocked))]
    pub async fn unblock(&self, blocker: &Id, blocked: &Id) -> Result<()> {
        self.user(blocked).await?.ok_or(Error::NotFound("user"))?;
        let tx = folio_common::db::begin_write(&self.db).await?;
        let removed = Blocks::delete_many()
            .filter(blocks::Column::BlockerId.eq(blocker))
            .filter(blocks::Column::BlockedId.eq(blocked))
            .exec(&tx)
            .await?
            .rows_affected;
        if removed > 0 {
            let payload = Payload::UserUnblocked(block_data(blocker, blocked));
            self.outbox
                .emit(&tx, Some(blocker.as_str()), payload)
                .await?;
        }
        self.outbox.commit(tx).await?;
        Ok(())
    }

    /// For each of `ids`, how many followers (or followed users) it has: one GROUP BY.
    #[tracing::instrument(skip_all, fields(direction = ?direction, ids = ids.len()))]
    pub async fn follow_counts(
        &self,
        direction: Direction,
        ids: &[Id],
    ) -> Result<HashMap<String, i64>> {
        let (of, _) = direction.columns();
        let rows = Follows::find()
            .select_only()
            .column_as(of, "user_id")
            .column_as(Expr::col(follows::Column::Id).count(), "n")
            .filter(of.is_in(ids))
            .group_by(of)
            .into_model::<CountRow>()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (r.user_id, r.n)).collect())
    }

    /// Which of `ids` `viewer` follows.
    #[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
    pub async fn followed_among(&self, viewer: &Id, ids: &[Id]) -> Result<HashSet<String>> {
        let rows = Follows::find()
            .filter(follows::Column::FollowerId.eq(viewer))
            .filter(follows::Column::FolloweeId.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|f| f.followee_id).collect())
    }

    /// For each of `ids`, the users it follows minus anyone blocked either way (follows
    /// are removed on block; this excludes blocks defensively): two queries in all.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn feed_authors(&self, ids: &[Id]) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> =
            ids.iter().map(|id| (id.to_string(), Vec::new())).collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let follows = Follows::find()
            .filter(follows::Column::FollowerId.is_in(ids))
            .order_by_desc(follows::Column::Id)
            .all(&self.db)
            .await?;
        let blocks = Blocks::find()
            .filter(
                Condition::any()
                    .add(blocks::Column::BlockerId.is_in(ids))
                    .add(blocks::Column::BlockedId.is_in(ids)),
            )
            .all(&self.db)
            .await?;
        let blocked: HashSet<(String, String)> = blocks
            .into_iter()
            .flat_map(|b| {
                [
                    (b.blocker_id.clone(), b.blocked_id.clone()),
                    (b.blocked_id, b.blocker_id),
                ]
            })
            .collect();
        for f in follows {
            if blocked.contains(&(f.follower_id.clone(), f.followee_id.clone())) {
                continue;
            }
            if let Some(list) = out.get_mut(&f.follower_id) {
                list.push(f.followee_id);
            }
        }
        Ok(out)
    }

    /// A page of `user_id`'s followers (or followed users), most recent follow first.
    #[tracing::instrument(skip_all, fields(direction = ?direction, user = %user_id, limit = page.limit))]
    pub async fn follow_page(
        &self,
        direction: Direction,
        user_id: &Id,
        page: &PageRequest,
    ) -> Result<Page<UserRow>> {
        let (of, listed) = direction.columns();
        let total = Follows::find()
            .filter(of.eq(user_id))
            .count(&self.db)
            .await?;
        let mut select = Follows::find()
            .filter(of.eq(user_id))
            .order_by_desc(follows::Column::Id);
        if let Some(after) = &page.after {
            select = select.filter(follows::Column::Id.lt(after.clone()));
        }
        let rows = select.limit(page.fetch_limit()).all(&self.db).await?;
        let has_next_page = rows.len() as u64 > page.limit;
        let rows: Vec<_> = rows.into_iter().take(page.limit as usize).collect();
        let listed_id = |f: &follows::Model| match listed {
            follows::Column::FollowerId => f.follower_id.clone(),
            _ => f.followee_id.clone(),
        };
        let mut users = self.users_in(rows.iter().map(listed_id)).await?;
        let edges = rows
            .iter()
            .filter_map(|f| {
                users
                    .remove(&listed_id(f))
                    .map(|u| (encode_cursor(&f.id), u))
            })
            .collect();
        Ok(Page {
            edges,
            has_next_page,
            total_count: total,
        })
    }
}
