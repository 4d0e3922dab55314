//! The interactions database: every SQL the subgraph runs lives here, behind `Store`.
//!
//! Counters (`content_stats`) change in the same transaction as the interaction or
//! comment they count, with `UPDATE … SET n = n + 1` (never read-modify-write), and only
//! when a row was really inserted or deleted, so repeats and races count once.

pub mod entity;

pub use entity::comments::Model as CommentRow;
pub use entity::content_stats::Model as StatsRow;
pub use entity::interactions::Model as InteractionRow;

use crate::domain::{CommentBody, Kind};
use chrono::{DateTime, Utc};
use entity::comments::{self, Entity as Comments};
use entity::content_stats::{self, Entity as ContentStats};
use entity::interactions::{self, Entity as Interactions};
use folio_common::db::begin_write;
use folio_common::events::Payload;
use folio_common::events::catalog::{CommentData, CommentDeleted, InteractionData};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Error, Id, RankingMetric, Result};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, ValueTuple};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TryInsertResult,
};
use std::collections::{HashMap, HashSet};

folio_common::service_store! {
    /// Handle on the interactions database (cheap to clone: a connection pool).
    pub struct Store("interactions");
}

/// An interaction as its events carry it.
fn interaction_data(i: &InteractionRow) -> InteractionData {
    InteractionData {
        id: i.id.clone(),
        kind: i.kind.clone(),
        user_id: i.user_id.clone(),
        content_id: i.content_id.clone(),
        created_at: i.created_at,
    }
}

/// A comment as `comment.created` and `comment.updated` carry it.
fn comment_data(c: &CommentRow) -> CommentData {
    CommentData {
        id: c.id.clone(),
        content_id: c.content_id.clone(),
        author_id: c.author_id.clone(),
        body: c.body.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// `comment.deleted` of `c`: which comment, and which content it was on.
fn comment_deleted(c: &CommentRow) -> Payload {
    Payload::CommentDeleted(CommentDeleted {
        id: c.id.clone(),
        content_id: c.content_id.clone(),
    })
}

/// What this subgraph keeps of a content of the content subgraph.
#[derive(Clone, Debug)]
pub struct ContentFacts {
    pub content_id: Id,
    pub author_id: Id,
    pub published_at: DateTime<Utc>,
}

/// Adds `delta` to counter columns of one content.
async fn bump<C: ConnectionTrait>(
    db: &C,
    content_id: &str,
    columns: &[content_stats::Column],
    delta: i64,
) -> Result<()> {
    let mut update = ContentStats::update_many();
    for &c in columns {
        update = update.col_expr(c, Expr::col(c).add(delta));
    }
    update
        .filter(content_stats::Column::ContentId.eq(content_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The counters an interaction kind moves.
fn counters(kind: Kind) -> [content_stats::Column; 2] {
    match kind {
        Kind::Read => [content_stats::Column::Reads, content_stats::Column::Total],
        Kind::Like => [content_stats::Column::Likes, content_stats::Column::Total],
    }
}

impl Store {
    /// The content with this id, if this subgraph knows it.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn known_content(&self, id: &Id) -> Result<Option<StatsRow>> {
        Ok(ContentStats::find_by_id(id.as_str()).one(&self.db).await?)
    }

    /// Records that a content exists (idempotent), with zero counters.
    #[tracing::instrument(skip_all, fields(id = %facts.content_id))]
    pub async fn remember_content(&self, facts: &ContentFacts) -> Result<()> {
        remember(&self.db, std::slice::from_ref(facts)).await
    }
}

/// The table of contents whose deletion this subgraph applied (see the migrations).
const FORGOTTEN: &str = "forgotten_contents";

/// Rows per statement of [`remember`] (3 bound values each).
const REMEMBER_CHUNK: usize = 500;

/// Records that contents exist (idempotent), on `db`; a content already forgotten (its
/// deletion applied here) stays forgotten: `INSERT … SELECT … WHERE NOT EXISTS` the
/// forgotten row, from `UNNEST` of array parameters on PostgreSQL (one statement) and
/// from `VALUES` on SQLite (one per [`REMEMBER_CHUNK`] contents), so the consumer of a
/// bulk import pays one round trip per batch, not per content.
#[tracing::instrument(skip_all, fields(contents = facts.len()))]
pub async fn remember<C: ConnectionTrait>(db: &C, facts: &[ContentFacts]) -> Result<()> {
    use content_stats::Column as C;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        return remember_on_postgres(db, facts).await;
    }
    // `VALUES` names its columns column1, column2… on both databases.
    let v = |n: &str| Expr::col((Alias::new("v"), Alias::new(n)));
    for chunk in facts.chunks(REMEMBER_CHUNK) {
        let rows = chunk.iter().map(|f| {
            ValueTuple::Three(
                f.content_id.as_str().into(),
                f.author_id.as_str().into(),
                f.published_at.into(),
            )
        });
        let forgotten = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(FORGOTTEN))
            .and_where(
                Expr::col((Alias::new(FORGOTTEN), Alias::new("content_id"))).eq(v("column1")),
            )
            .to_owned();
        let values = Query::select()
            .exprs([
                v("column1"),
                v("column2"),
                v("column3"),
                Expr::val(0),
                Expr::val(0),
                Expr::val(0),
                Expr::val(0),
            ])
            .from_values(rows, Alias::new("v"))
            .and_where(Expr::exists(forgotten).not())
            .to_owned();
        let insert = Query::insert()
            .into_table(content_stats::Entity)
            .columns([
                C::ContentId,
                C::AuthorId,
                C::PublishedAt,
                C::Reads,
                C::Likes,
                C::Total,
                C::Comments,
            ])
            .select_from(values)
            .map_err(Error::internal)?
            .on_conflict(OnConflict::column(C::ContentId).do_nothing().to_owned())
            .to_owned();
        db.execute(&insert).await?;
    }
    Ok(())
}

/// [`remember`] on PostgreSQL: one statement for all of `facts`, each column one array
/// parameter.
async fn remember_on_postgres<C: ConnectionTrait>(db: &C, facts: &[ContentFacts]) -> Result<()> {
    use folio_common::db::pg_array;
    use sea_orm::sea_query::ArrayType;
    let sql = format!(
        "INSERT INTO content_stats (content_id, author_id, published_at, reads, likes, total, comments) \
         SELECT v.c, v.a, v.p, 0, 0, 0, 0 \
         FROM UNNEST($1::text[], $2::text[], $3::timestamptz[]) AS v(c, a, p) \
         WHERE NOT EXISTS (SELECT 1 FROM {FORGOTTEN} f WHERE f.content_id = v.c) \
         ON CONFLICT (content_id) DO NOTHING"
    );
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        [
            pg_array(
                ArrayType::String,
                facts.iter().map(|f| f.content_id.as_str()),
            ),
            pg_array(
                ArrayType::String,
                facts.iter().map(|f| f.author_id.as_str()),
            ),
            pg_array(
                ArrayType::ChronoDateTimeUtc,
                facts.iter().map(|f| f.published_at),
            ),
        ],
    ))
    .await?;
    Ok(())
}

impl Store {
    /// Whether the deletion of `id` reached this subgraph (a write on it is NOT_FOUND).
    pub async fn forgotten(&self, id: &Id) -> Result<bool> {
        let select = Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(FORGOTTEN))
            .and_where(Expr::col(Alias::new("content_id")).eq(id.as_str()))
            .to_owned();
        Ok(self.db.query_one(&select).await?.is_some())
    }

    /// Records `kind` of `content_id` by `user_id` once: a repeat (or a concurrent twin)
    /// inserts nothing and returns the first. The content must be known.
    #[tracing::instrument(skip_all, fields(user = %user_id, content = %content_id, kind = kind.as_str()))]
    pub async fn record(
        &self,
        user_id: &Id,
        content_id: &Id,
        kind: Kind,
    ) -> Result<InteractionRow> {
        let tx = begin_write(&self.db).await?;
        let row = interactions::ActiveModel {
            id: Set(folio_common::new_id()),
            content_id: Set(content_id.to_string()),
            user_id: Set(user_id.to_string()),
            kind: Set(kind.as_str().to_owned()),
            created_at: Set(Utc::now()),
        };
        let inserted = Interactions::insert(row)
            .on_conflict_do_nothing_on([
                interactions::Column::ContentId,
                interactions::Column::UserId,
                interactions::Column::Kind,
            ])
            .exec_without_returning(&tx)
            .await?;
        let first = Interactions::find()
            .filter(interactions::Column::ContentId.eq(content_id))
            .filter(interactions::Column::UserId.eq(user_id))
            .filter(interactions::Column::Kind.eq(kind.as_str()))
            .one(&tx)
            .await?
            .ok_or_else(|| Error::internal("an interaction vanished inside its transaction"))?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            bump(&tx, content_id, &counters(kind), 1).await?;
            let payload = Payload::InteractionCreated(interaction_data(&first));
            self.outbox
                .emit(&tx, Some(user_id.as_str()), payload)
                .await?;
        }
        self.outbox.commit(tx).await?;
        Ok(first)
    }

    /// Removes `user_id`'s LIKE of `content_id`; whether there was one.
    #[tracing::instrument(skip_all, fields(user = %user_id, content = %content_id))]
    pub async fn unlike(&self, user_id: &Id, content_id: &Id) -> Result<bool> {
        let tx = begin_write(&self.db).await?;
        let like = Interactions::find()
            .filter(interactions::Column::ContentId.eq(content_id))
            .filter(interactions::Column::UserId.eq(user_id))
            .filter(interactions::Column::Kind.eq(Kind::Like.as_str()))
            .one(&tx)
            .await?;
        let Some(like) = like else {
            return Ok(false);
        };
        let deleted = Interactions::delete_by_id(like.id.clone())
            .exec(&tx)
            .await?
            .rows_affected;
        if deleted > 0 {
            bump(&tx, content_id, &counters(Kind::Like), -1).await?;
            let payload = Payload::InteractionDeleted(interaction_data(&like));
            self.outbox
                .emit(&tx, Some(user_id.as_str()), payload)
                .await?;
        }
        self.outbox.commit(tx).await?;
        Ok(deleted > 0)
    }

    /// The counters of the known contents among `ids`, in one query.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn stats_by_ids(&self, ids: &[Id]) -> Result<HashMap<String, StatsRow>> {
        let rows = ContentStats::find()
            .filter(content_stats::Column::ContentId.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.content_id.clone(), r))
            .collect())
    }

    /// Which of `ids` `user_id` has read or liked, in one query.
    #[tracing::instrument(skip_all, fields(user = %user_id, ids = ids.len()))]
    pub async fn viewer_kinds(&self, user_id: &Id, ids: &[Id]) -> Result<HashSet<(String, Kind)>> {
        let rows: Vec<(String, String)> = Interactions::find()
            .select_only()
            .column(interactions::Column::ContentId)
            .column(interactions::Column::Kind)
            .filter(interactions::Column::UserId.eq(user_id))
            .filter(interactions::Column::ContentId.is_in(ids))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(c, k)| Kind::from_stored(&k).map(|k| (c, k)))
            .collect())
    }

    /// The `first` contents with the most of `metric` (never zero), newer content first
    /// on ties: the first entries of that metric's index.
    #[tracing::instrument(skip_all, fields(first = first, metric = ?metric))]
    pub async fn ranking(&self, first: u64, metric: RankingMetric) -> Result<Vec<StatsRow>> {
        let column = match metric {
            RankingMetric::Total => content_stats::Column::Total,
            RankingMetric::Reads => content_stats::Column::Reads,
            RankingMetric::Likes => content_stats::Column::Likes,
        };
        Ok(ContentStats::find()
            .filter(column.gt(0))
            .order_by_desc(column)
            .order_by_desc(content_stats::Column::PublishedAt)
            .order_by_desc(content_stats::Column::ContentId)
            .limit(first)
            .all(&self.db)
            .await?)
    }

    /// Adds a comment to a known content.
    #[tracing::instrument(skip_all, fields(content = %content_id, author = %author_id))]
    pub async fn add_comment(
        &self,
        content_id: &Id,
        author_id: &Id,
        body: &CommentBody,
    ) -> Result<CommentRow> {
        let now = Utc::now();
        let row = CommentRow {
            id: folio_common::new_id(),
            content_id: content_id.to_string(),
            author_id: author_id.to_string(),
            body: body.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        };
        let tx = begin_write(&self.db).await?;
        Comments::insert(comments::ActiveModel {
            id: Set(row.id.clone()),
            content_id: Set(row.content_id.clone()),
            author_id: Set(row.author_id.clone()),
            body: Set(row.body.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&tx)
        .await?;
        bump(&tx, content_id, &[content_stats::Column::Comments], 1).await?;
        let payload = Payload::CommentCreated(comment_data(&row));
        self.outbox
            .emit(&tx, Some(author_id.as_str()), payload)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(row)
    }

    /// One comment by id.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn comment(&self, id: &Id) -> Result<Option<CommentRow>> {
        Ok(Comments::find_by_id(id.as_str()).one(&self.db).await?)
    }

    /// The comments among `ids` that exist, in one query.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn comments_by_ids(&self, ids: &[Id]) -> Result<HashMap<String, CommentRow>> {
        let rows = Comments::find()
            .filter(comments::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|c| (c.id.clone(), c)).collect())
    }

    /// Replaces a comment's body (by its author); `None` when it no longer exists.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn edit_comment(
        &self,
        id: &Id,
        body: &CommentBody,
        actor: &Id,
    ) -> Result<Option<CommentRow>> {
        let tx = begin_write(&self.db).await?;
        let rows = Comments::update_many()
            .col_expr(comments::Column::Body, Expr::value(body.as_str()))
            .col_expr(comments::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(comments::Column::Id.eq(id))
            .exec_with_returning(&tx)
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let payload = Payload::CommentUpdated(comment_data(&row));
        self.outbox.emit(&tx, Some(actor.as_str()), payload).await?;
        self.outbox.commit(tx).await?;
        Ok(Some(row))
    }

    /// Deletes a comment on behalf of `actor`; whether it existed.
    #[tracing::instrument(skip_all, fields(id = %comment.id))]
    pub async fn delete_comment(&self, comment: &CommentRow, actor: &Id) -> Result<bool> {
        let tx = begin_write(&self.db).await?;
        let deleted = Comments::delete_by_id(comment.id.clone())
            .exec(&tx)
            .await?
            .rows_affected;
        if deleted > 0 {
            bump(
                &tx,
                &comment.content_id,
                &[content_stats::Column::Comments],
                -1,
            )
            .await?;
            self.outbox
                .emit(&tx, Some(actor.as_str()), comment_deleted(comment))
                .await?;
        }
        self.outbox.commit(tx).await?;
        Ok(deleted > 0)
    }

    /// Forgets a deleted content (the consumer of `content.deleted`), in `tx`: its
    /// counters, interactions and comments, each removal with its event, by the system;
    /// and notes it in `forgotten_contents`, so that later writes on it are NOT_FOUND.
    #[tracing::instrument(skip_all, fields(content = %content_id))]
    pub async fn forget_content(&self, tx: &DatabaseTransaction, content_id: &Id) -> Result<()> {
        let gone_interactions = Interactions::find()
            .filter(interactions::Column::ContentId.eq(content_id))
            .all(tx)
            .await?;
        let gone_comments = Comments::find()
            .filter(comments::Column::ContentId.eq(content_id))
            .all(tx)
            .await?;
        Interactions::delete_many()
            .filter(interactions::Column::ContentId.eq(content_id))
            .exec(tx)
            .await?;
        Comments::delete_many()
            .filter(comments::Column::ContentId.eq(content_id))
            .exec(tx)
            .await?;
        ContentStats::delete_by_id(content_id.as_str())
            .exec(tx)
            .await?;
        let forget = Query::insert()
            .into_table(Alias::new(FORGOTTEN))
            .columns([Alias::new("content_id"), Alias::new("forgotten_at")])
            .values_panic([content_id.as_str().into(), Utc::now().into()])
            .on_conflict(
                OnConflict::column(Alias::new("content_id"))
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        tx.execute(&forget).await?;
        self.record_removals(tx, &gone_interactions, &gone_comments)
            .await
    }

    /// Removes what a deleted user did (the consumer of `user.deleted`), in `tx`: their
    /// reads, likes and comments, with the counters they had moved, each removal with
    /// its event, by the system.
    #[tracing::instrument(skip_all, fields(user = %user_id))]
    pub async fn remove_user(&self, tx: &DatabaseTransaction, user_id: &Id) -> Result<()> {
        let gone_interactions = Interactions::find()
            .filter(interactions::Column::UserId.eq(user_id))
            .all(tx)
            .await?;
        let gone_comments = Comments::find()
            .filter(comments::Column::AuthorId.eq(user_id))
            .all(tx)
            .await?;
        for i in &gone_interactions {
            if let Some(kind) = Kind::from_stored(&i.kind) {
                bump(tx, &i.content_id, &counters(kind), -1).await?;
            }
        }
        for c in &gone_comments {
            bump(tx, &c.content_id, &[content_stats::Column::Comments], -1).await?;
        }
        Interactions::delete_many()
            .filter(interactions::Column::UserId.eq(user_id))
            .exec(tx)
            .await?;
        Comments::delete_many()
            .filter(comments::Column::AuthorId.eq(user_id))
            .exec(tx)
            .await?;
        self.record_removals(tx, &gone_interactions, &gone_comments)
            .await
    }

    async fn record_removals(
        &self,
        tx: &DatabaseTransaction,
        gone_interactions: &[InteractionRow],
        gone_comments: &[CommentRow],
    ) -> Result<()> {
        let payloads = gone_interactions
            .iter()
            .map(|i| Payload::InteractionDeleted(interaction_data(i)))
            .chain(gone_comments.iter().map(comment_deleted));
        self.outbox.emit_all(tx, None, payloads).await
    }

    /// A page of a content's comments, oldest first (by id, a UUID v7), with the total.
    /// A cursor holding a key that no comment id can be was not issued here
    /// (`BAD_USER_INPUT`).
    #[tracing::instrument(skip_all, fields(content = %content_id, limit = page.limit))]
    pub async fn list_comments(
        &self,
        content_id: &Id,
        page: &PageRequest,
    ) -> Result<Page<CommentRow>> {
        let after = page
            .after
            .as_deref()
            .map(Id::parse)
            .transpose()
            .map_err(|_| Error::validation("after", "is not a cursor from this API"))?;
        let of_content = comments::Column::ContentId.eq(content_id);
        let total = Comments::find()
            .filter(of_content.clone())
            .count(&self.db)
            .await?;
        let mut rows = Comments::find().filter(of_content);
        if let Some(after) = &after {
            rows = rows.filter(comments::Column::Id.gt(after));
        }
        let rows = rows
            .order_by_asc(comments::Column::Id)
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        Ok(Page::from_rows(page, rows, total, |c: &CommentRow| &c.id))
    }
}
