//! The content database: every SQL the subgraph runs lives here, behind `Store`.

pub mod entity;

pub use entity::contents::Model as ContentRow;

use crate::domain::{Description, Story, Tags, Title};
use chrono::Utc;
use entity::contents::{self, Column, Entity as Contents};
use folio_common::db::{BulkColumn, BulkTransaction};
use folio_common::events::catalog::{
    ContentData, ContentDeleted, ContentsImported, ContentsImportedClaim,
};
use folio_common::events::outbox::{Fill, Outbox, PreparedEvents};
use folio_common::events::{BoxFuture, Claim, EventType, Payload, StoredEvent};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Error, Id, Result};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

folio_common::service_store! {
    /// Handle on the content database (cheap to clone: a connection pool).
    pub struct Store("content");
}

/// A content as events carry it: everything but the view count (views are reads, not
/// events). The story is in, for the search subgraph's index.
pub fn content_event_data(c: &ContentRow) -> ContentData {
    ContentData {
        id: c.id.clone(),
        author_id: c.author_id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        story: c.story.clone(),
        tags: c.tag_list(),
        published_at: c.published_at,
        updated_at: c.updated_at,
    }
}

/// A content to create, already validated.
pub struct NewContent {
    pub author_id: Id,
    pub title: Title,
    pub description: Option<Description>,
    pub story: Story,
    pub tags: Tags,
}

/// A partial update, already validated: `None` leaves a field as it is; for the
/// description `Some(None)` clears it.
#[derive(Default)]
pub struct ContentChanges {
    pub title: Option<Title>,
    pub description: Option<Option<Description>>,
    pub story: Option<Story>,
    pub tags: Option<Tags>,
}

impl ContentChanges {
    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.story.is_none()
            && self.tags.is_none()
    }
}

/// Tags as stored: between bars (`|rust|web|`), `|` for none, so one tag matches with
/// a LIKE on `%|tag|%`.
pub fn join_tags(tags: &Tags) -> String {
    let mut s = String::from("|");
    for t in tags.iter() {
        s.push_str(t);
        s.push('|');
    }
    s
}

/// Rows per batch the CSV import hands [`ContentImport::insert`] (about 1 MiB of
/// generated rows; the import holds at most four batches at once).
pub const INSERT_CHUNK: usize = 1_000;

/// The stored tags column back as a list.
pub fn split_tags(stored: &str) -> Vec<String> {
    stored
        .split('|')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Store {
    /// Inserts a content, published now, with its `content.created` event.
    #[tracing::instrument(skip_all, fields(author = %new.author_id))]
    pub async fn insert_content(&self, new: NewContent) -> Result<ContentRow> {
        let now = Utc::now();
        let actor = new.author_id.clone();
        let row = contents::ActiveModel {
            id: Set(folio_common::new_id()),
            author_id: Set(new.author_id.into_string()),
            title: Set(new.title.as_str().to_owned()),
            description: Set(new.description.map(|d| d.as_str().to_owned())),
            story: Set(new.story.as_str().to_owned()),
            tags: Set(join_tags(&new.tags)),
            view_count: Set(0),
            published_at: Set(now),
            updated_at: Set(now),
        };
        let tx = folio_common::db::begin_write(&self.db).await?;
        let row = row.insert(&tx).await?;
        let payload = Payload::ContentCreated(content_event_data(&row));
        self.outbox.emit(&tx, Some(actor.as_str()), payload).await?;
        self.outbox.commit(tx).await?;
        Ok(row)
    }

    /// Starts an all-or-nothing bulk insert (the CSV import): one write transaction that
    /// [`ContentImport::insert`] adds rows to and [`ContentImport::commit`] makes visible.
    /// On SQLite it begins with `BEGIN IMMEDIATE`, so it holds the database's write lock
    /// (other writers wait, up to the busy timeout) until it is committed or dropped.
    /// The rows' `content.imported` events (by `actor`, the importer) are recorded in the
    /// same transaction.
    #[tracing::instrument(skip_all, fields(actor = %actor))]
    pub async fn begin_import(&self, actor: &Id) -> Result<ContentImport> {
        Ok(ContentImport {
            txn: folio_common::db::begin_bulk(&self.db).await?,
            inserted: 0,
            outbox: self.outbox.clone(),
            actor: actor.clone(),
        })
    }

    /// One content by id, without counting a view.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn content(&self, id: &Id) -> Result<Option<ContentRow>> {
        Ok(Contents::find_by_id(id.as_str()).one(&self.db).await?)
    }

    /// The contents among `ids` that exist, in one query.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn contents_by_ids(&self, ids: &[Id]) -> Result<HashMap<String, ContentRow>> {
        let rows = Contents::find()
            .filter(Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|c| (c.id.clone(), c)).collect())
    }

    /// The contents among `ids` as references resolve them (federation `_entities`): those
    /// that exist, and for the others a tombstone, the last row of a content deleted
    /// lately. Two queries at most.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub async fn referenced_contents(&self, ids: &[Id]) -> Result<HashMap<String, ContentRow>> {
        let mut found = self.contents_by_ids(ids).await?;
        let missing: Vec<&str> = ids
            .iter()
            .map(Id::as_str)
            .filter(|id| !found.contains_key(*id))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let select = Query::select()
            .columns(CONTENT_COLUMNS.map(Alias::new))
            .from(Alias::new(TOMBSTONES))
            .and_where(Expr::col(Alias::new("id")).is_in(missing))
            .to_owned();
        let statement = self.db.get_database_backend().build(&select);
        let buried = Contents::find()
            .from_raw_sql(statement)
            .all(&self.db)
            .await?;
        found.extend(buried.into_iter().map(|c| (c.id.clone(), c)));
        Ok(found)
    }

    /// Counts one view and returns the content as it is after it, in one atomic
    /// `UPDATE … RETURNING`; `None` for an unknown id.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn view_content(&self, id: &Id) -> Result<Option<ContentRow>> {
        let rows = Contents::update_many()
            .col_expr(Column::ViewCount, Expr::col(Column::ViewCount).add(1))
            .filter(Column::Id.eq(id))
            .exec_with_returning(&self.db)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// A page of contents, newest first (by id, a UUID v7), optionally one author's,
    /// with the total count.
    #[tracing::instrument(skip_all, fields(author = author_id.map(tracing::field::display)))]
    pub async fn list_contents(
        &self,
        author_id: Option<&Id>,
        page: &PageRequest,
    ) -> Result<Page<ContentRow>> {
        let mut cond = Condition::all();
        if let Some(author) = author_id {
            cond = cond.add(Column::AuthorId.eq(author));
        }
        self.newest_first(cond, page).await
    }

    /// A page of the contents by any of `author_ids`, newest first (by id), with the
    /// total count; no authors, no contents.
    #[tracing::instrument(skip_all, fields(authors = author_ids.len()))]
    pub async fn feed_contents(
        &self,
        author_ids: &[Id],
        page: &PageRequest,
    ) -> Result<Page<ContentRow>> {
        if author_ids.is_empty() {
            return Ok(Page::empty());
        }
        let cond = Condition::all().add(Column::AuthorId.is_in(author_ids));
        self.newest_first(cond, page).await
    }

    /// A page of the contents matching `cond`, newest first (by id, a UUID v7), with the
    /// total count: one COUNT and one keyset-paged SELECT.
    async fn newest_first(&self, cond: Condition, page: &PageRequest) -> Result<Page<ContentRow>> {
        let total = Contents::find()
            .filter(cond.clone())
            .count(&self.db)
            .await?;
        let mut select = Contents::find().filter(cond).order_by_desc(Column::Id);
        if let Some(after) = &page.after {
            select = select.filter(Column::Id.lt(after.clone()));
        }
        let rows = select.limit(page.fetch_limit()).all(&self.db).await?;
        Ok(Page::from_rows(page, rows, total, |c| &c.id))
    }

    /// Applies `changes` to content `id` in one statement; editing the story resets the
    /// view count to 0. `None` if there is no such content.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_content(
        &self,
        id: &Id,
        changes: ContentChanges,
        actor: Option<&Id>,
    ) -> Result<Option<ContentRow>> {
        if changes.is_empty() {
            return self.content(id).await;
        }
        let mut update = Contents::update_many()
            .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(Column::Id.eq(id));
        if let Some(title) = changes.title {
            update = update.col_expr(Column::Title, Expr::value(title.as_str()));
        }
        if let Some(description) = changes.description {
            let d: Option<String> = description.map(|d| d.as_str().to_owned());
            update = update.col_expr(Column::Description, Expr::value(d));
        }
        if let Some(story) = changes.story {
            update = update
                .col_expr(Column::Story, Expr::value(story.as_str()))
                .col_expr(Column::ViewCount, Expr::value(0i64));
        }
        if let Some(tags) = changes.tags {
            update = update.col_expr(Column::Tags, Expr::value(join_tags(&tags)));
        }
        let tx = folio_common::db::begin_write(&self.db).await?;
        let Some(row) = update.exec_with_returning(&tx).await?.into_iter().next() else {
            return Ok(None);
        };
        let payload = Payload::ContentUpdated(content_event_data(&row));
        self.outbox
            .emit(&tx, actor.map(Id::as_str), payload)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(Some(row))
    }

    /// Deletes a content on behalf of `actor`; `content.deleted` tells the interactions
    /// subgraph to remove its interactions and comments. Whether it existed.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_content(&self, id: &Id, actor: Option<&Id>) -> Result<bool> {
        let tx = folio_common::db::begin_write(&self.db).await?;
        bury(&tx, &[id.to_string()]).await?;
        let res = Contents::delete_by_id(id.as_str()).exec(&tx).await?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        let payload = Payload::ContentDeleted(ContentDeleted { id: id.to_string() });
        self.outbox
            .emit(&tx, actor.map(Id::as_str), payload)
            .await?;
        self.outbox.commit(tx).await?;
        Ok(true)
    }

    /// Deletes every content of `author_id` in `tx` (the consumer of `user.deleted`),
    /// recording one `content.deleted` per content, by the system. How many went.
    #[tracing::instrument(skip_all, fields(author = %author_id, deleted = tracing::field::Empty))]
    pub async fn delete_contents_of(
        &self,
        tx: &DatabaseTransaction,
        author_id: &Id,
    ) -> Result<u64> {
        let ids: Vec<String> = Contents::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::AuthorId.eq(author_id))
            .into_tuple()
            .all(tx)
            .await?;
        for chunk in ids.chunks(INSERT_CHUNK) {
            bury(tx, chunk).await?;
            Contents::delete_many()
                .filter(Column::Id.is_in(chunk.iter().cloned()))
                .exec(tx)
                .await?;
            let payloads = chunk
                .iter()
                .map(|id| Payload::ContentDeleted(ContentDeleted { id: id.clone() }));
            self.outbox.emit_all(tx, None, payloads).await?;
        }
        tracing::Span::current().record("deleted", ids.len());
        Ok(ids.len() as u64)
    }
}

/// The tombstones table (see the content migrations): deleted contents' last rows.
const TOMBSTONES: &str = "content_tombstones";

/// The columns a content row and its tombstone share.
const CONTENT_COLUMNS: [&str; 9] = [
    "id",
    "author_id",
    "title",
    "description",
    "story",
    "tags",
    "view_count",
    "published_at",
    "updated_at",
];

/// Copies the rows of `ids` to the tombstones, deleted now, in `tx` (the deletion's own
/// transaction, so a tombstone exists exactly when its content was deleted).
async fn bury(tx: &DatabaseTransaction, ids: &[String]) -> Result<()> {
    let select = Query::select()
        .columns(CONTENT_COLUMNS.map(Alias::new))
        .expr(Expr::val(Utc::now()))
        .from(Alias::new("contents"))
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().cloned()))
        .to_owned();
    let mut columns = CONTENT_COLUMNS.map(Alias::new).to_vec();
    columns.push(Alias::new("deleted_at"));
    let insert = Query::insert()
        .into_table(Alias::new(TOMBSTONES))
        .columns(columns)
        .select_from(select)
        .map_err(Error::internal)?
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// A bulk insert in progress (see [`Store::begin_import`]): nothing it inserted is visible
/// to anyone else until [`commit`](Self::commit). Dropping it, or
/// [`rollback`](Self::rollback), undoes every row.
pub struct ContentImport {
    txn: BulkTransaction,
    inserted: u64,
    outbox: Outbox,
    actor: Id,
}

/// A batch of validated rows made ready for [`ContentImport::insert_prepared`]: ids and
/// times given, columns laid out, `content.imported` events written as JSON. Pure work,
/// which the CSV import does on its parser's thread, so that the task inserting into
/// the database does nothing else.
pub struct PreparedContents {
    columns: Vec<BulkColumn>,
    events: PreparedEvents,
    rows: usize,
}

impl PreparedContents {
    /// Prepares `new`, all published now, with events caused by `actor` for `outbox`.
    pub fn new(new: Vec<NewContent>, outbox: &Outbox, actor: &Id) -> Result<Self> {
        let count = new.len();
        let now = Utc::now();
        let mut ids = Vec::with_capacity(count);
        let mut authors = Vec::with_capacity(count);
        let mut titles = Vec::with_capacity(count);
        let mut descriptions = Vec::with_capacity(count);
        let mut stories = Vec::with_capacity(count);
        let mut tags = Vec::with_capacity(count);
        let mut claims = ImportedClaims::default();
        for new in new {
            let id = folio_common::new_id();
            let author_id = new.author_id.into_string();
            let title = new.title.into_string();
            let description = new.description.map(Description::into_string);
            let story = new.story.into_string();
            let weight = ContentsImported::weight(
                [
                    &id,
                    &author_id,
                    &title,
                    description.as_deref().unwrap_or_default(),
                    &story,
                ],
                new.tags.iter(),
            );
            claims.push(&id, weight);
            ids.push(id);
            authors.push(author_id);
            titles.push(title);
            descriptions.push(description);
            stories.push(story);
            tags.push(join_tags(&new.tags));
        }
        Ok(PreparedContents {
            columns: vec![
                BulkColumn::Text("id", ids),
                BulkColumn::Text("author_id", authors),
                BulkColumn::Text("title", titles),
                BulkColumn::NonEmptyText("description", descriptions),
                BulkColumn::Text("story", stories),
                BulkColumn::Text("tags", tags),
                BulkColumn::Time("published_at", vec![now; count]),
                BulkColumn::Time("updated_at", vec![now; count]),
            ],
            events: outbox.prepare_claims(
                Some(actor.as_str()),
                EventType::ContentImported,
                claims.finish(),
            )?,
            rows: count,
        })
    }
}

/// A batch's content ids gathered into `content.imported` claims, each standing for an
/// event of about [`ContentsImported::TARGET_BYTES`] of JSON once filled in
/// ([`ImportedFill`]).
#[derive(Default)]
struct ImportedClaims {
    done: Vec<ContentsImportedClaim>,
    filling: Vec<String>,
    bytes: usize,
}

impl ImportedClaims {
    /// Adds content `id`, whose event data weighs `weight` ([`ContentsImported::weight`]).
    fn push(&mut self, id: &str, weight: usize) {
        if !self.filling.is_empty() && self.bytes + weight > ContentsImported::TARGET_BYTES {
            self.seal();
        }
        self.bytes += weight;
        self.filling.push(id.to_owned());
    }

    fn seal(&mut self) {
        let content_ids = std::mem::take(&mut self.filling);
        self.bytes = 0;
        self.done.push(ContentsImportedClaim { content_ids });
    }

    fn finish(mut self) -> Vec<ContentsImportedClaim> {
        if !self.filling.is_empty() {
            self.seal();
        }
        self.done
    }
}

/// Fills in the content outbox's `content.imported` claims as the relay publishes them:
/// each becomes the event of its contents as they are now, read back in one query per
/// [`INSERT_CHUNK`] ids; a content deleted since is left out (its `content.deleted`
/// comes after).
pub struct ImportedFill(pub Store);

impl Fill for ImportedFill {
    fn fill(&self, events: Vec<StoredEvent>) -> BoxFuture<'_, Result<Vec<StoredEvent>>> {
        Box::pin(self.0.fill_imported(events))
    }
}

impl Store {
    #[tracing::instrument(skip_all, fields(events = events.len()))]
    async fn fill_imported(&self, events: Vec<StoredEvent>) -> Result<Vec<StoredEvent>> {
        let claims: Vec<Option<Claim<ContentsImportedClaim>>> = events
            .iter()
            .map(|e| e.claim(EventType::ContentImported))
            .collect();
        let ids: Vec<&str> = claims
            .iter()
            .flatten()
            .flat_map(|c| c.data.content_ids.iter().map(String::as_str))
            .collect();
        if ids.is_empty() {
            return Ok(events);
        }
        let mut found: HashMap<String, ContentRow> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let rows = Contents::find()
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(&self.db)
                .await?;
            found.extend(rows.into_iter().map(|c| (c.id.clone(), c)));
        }
        events
            .into_iter()
            .zip(&claims)
            .map(|(event, claim)| match claim {
                None => Ok(event),
                Some(claim) => {
                    let contents = claim
                        .data
                        .content_ids
                        .iter()
                        .filter_map(|id| found.get(id))
                        .map(content_event_data)
                        .collect();
                    claim.fill(&Payload::ContentImported(ContentsImported { contents }))
                }
            })
            .collect()
    }
}

impl ContentImport {
    /// Inserts `new` inside the transaction, all published now, with their
    /// `content.imported` events ([`PreparedContents::new`], then
    /// [`insert_prepared`](Self::insert_prepared)).
    pub async fn insert(&mut self, new: Vec<NewContent>) -> Result<()> {
        let prepared = PreparedContents::new(new, &self.outbox, &self.actor)?;
        self.insert_prepared(prepared).await
    }

    /// Inserts a prepared batch inside the transaction: the rows and the events each in
    /// as few statements as the database allows (`BulkTransaction::insert`: one `UNNEST`
    /// on PostgreSQL, multi-row `VALUES` on SQLite).
    #[tracing::instrument(skip_all, fields(rows = batch.rows))]
    pub async fn insert_prepared(&mut self, batch: PreparedContents) -> Result<()> {
        self.txn.insert("contents", batch.columns).await?;
        self.outbox.record_bulk(&mut self.txn, batch.events).await?;
        self.inserted += batch.rows as u64;
        Ok(())
    }

    /// Commits every row inserted; returns how many.
    #[tracing::instrument(skip_all, fields(rows = self.inserted))]
    pub async fn commit(self) -> Result<u64> {
        self.outbox.commit_bulk(self.txn).await?;
        Ok(self.inserted)
    }

    /// Undoes every row inserted, now (rather than when the connection is next used, as a
    /// drop does), releasing SQLite's write lock at once.
    #[tracing::instrument(skip_all, fields(rows = self.inserted))]
    pub async fn rollback(self) -> Result<()> {
        Ok(self.txn.rollback().await?)
    }
}

#[cfg(test)]
pub(crate) mod tests;
