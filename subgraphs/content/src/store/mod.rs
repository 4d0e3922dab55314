//! The content database: every SQL the subgraph runs lives here, behind `Store`.

pub mod entity;

pub use entity::contents::Model as ContentRow;

use crate::domain::{Description, Story, Tags, Title};
use chrono::Utc;
use entity::contents::{self, Column, Entity as Contents};
use folio_common::Result;
use folio_common::db::is_storable_text;
use folio_common::pagination::{Page, PageRequest};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// Handle on the content database (cheap to clone: a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

/// A content to create, already validated.
pub struct NewContent {
    pub author_id: String,
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

/// The stored tags column back as a list.
pub fn split_tags(stored: &str) -> Vec<String> {
    stored
        .split('|')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        Store { db }
    }

    /// The underlying connection, for migrations and health checks.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Inserts a content, published now.
    pub async fn insert_content(&self, new: NewContent) -> Result<ContentRow> {
        let now = Utc::now();
        let row = contents::ActiveModel {
            id: Set(folio_common::new_id()),
            author_id: Set(new.author_id),
            title: Set(new.title.as_str().to_owned()),
            description: Set(new.description.map(|d| d.as_str().to_owned())),
            story: Set(new.story.as_str().to_owned()),
            tags: Set(join_tags(&new.tags)),
            view_count: Set(0),
            published_at: Set(now),
            updated_at: Set(now),
        };
        Ok(row.insert(&self.db).await?)
    }

    /// One content by id, without counting a view.
    pub async fn content(&self, id: &str) -> Result<Option<ContentRow>> {
        if !is_storable_text(id) {
            return Ok(None);
        }
        Ok(Contents::find_by_id(id.to_owned()).one(&self.db).await?)
    }

    /// The contents among `ids` that exist, in one query.
    pub async fn contents_by_ids(&self, ids: &[String]) -> Result<HashMap<String, ContentRow>> {
        let ids = ids.iter().filter(|id| is_storable_text(id)).cloned();
        let rows = Contents::find()
            .filter(Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|c| (c.id.clone(), c)).collect())
    }

    /// Counts one view and returns the content as it is after it, in one atomic
    /// `UPDATE … RETURNING`; `None` for an unknown id.
    pub async fn view_content(&self, id: &str) -> Result<Option<ContentRow>> {
        if !is_storable_text(id) {
            return Ok(None);
        }
        let rows = Contents::update_many()
            .col_expr(Column::ViewCount, Expr::col(Column::ViewCount).add(1))
            .filter(Column::Id.eq(id))
            .exec_with_returning(&self.db)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// A page of contents, newest first (by id, a UUID v7), optionally one author's,
    /// with the total count.
    pub async fn list_contents(
        &self,
        author_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ContentRow>> {
        if author_id.is_some_and(|a| !is_storable_text(a)) {
            return Ok(Page::from_rows(page, Vec::new(), 0, |c: &ContentRow| &c.id));
        }
        let mut cond = Condition::all();
        if let Some(author) = author_id {
            cond = cond.add(Column::AuthorId.eq(author));
        }
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
    pub async fn update_content(
        &self,
        id: &str,
        changes: ContentChanges,
    ) -> Result<Option<ContentRow>> {
        if !is_storable_text(id) {
            return Ok(None);
        }
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
        let rows = update.exec_with_returning(&self.db).await?;
        Ok(rows.into_iter().next())
    }

    /// Deletes content `id`; whether it existed.
    pub async fn delete_content(&self, id: &str) -> Result<bool> {
        if !is_storable_text(id) {
            return Ok(false);
        }
        let res = Contents::delete_by_id(id.to_owned()).exec(&self.db).await?;
        Ok(res.rows_affected > 0)
    }
}

#[cfg(test)]
pub(crate) mod tests;
