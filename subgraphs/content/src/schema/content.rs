//! The `Content` entity and its connection.

use super::user::User;
use crate::store::ContentRow;
use async_graphql::{ID, Object};
use folio_common::DateTime;
use std::sync::Arc;

/// A story as the API shows it.
#[derive(Clone)]
pub struct Content {
    row: Arc<ContentRow>,
}

impl Content {
    pub fn new(row: ContentRow) -> Self {
        Content { row: Arc::new(row) }
    }

    /// The stored row.
    pub fn row(&self) -> &ContentRow {
        &self.row
    }
}

#[Object]
impl Content {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    /// 1 to 200 characters.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// At most 1,000 characters.
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }
    /// 1 to 100,000 characters.
    async fn story(&self) -> &str {
        &self.row.story
    }
    /// At most 10 tags, each 1 to 32 characters of a-z, 0-9 and '-'.
    async fn tags(&self) -> Vec<String> {
        self.row.tag_list()
    }
    async fn author(&self) -> User {
        User::reference(self.row.author_id.clone())
    }
    async fn published_at(&self) -> DateTime {
        self.row.published_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
    /// Times the single-content query returned it; editing the story resets it to 0.
    async fn view_count(&self) -> i32 {
        i32::try_from(self.row.view_count).unwrap_or(i32::MAX)
    }
}

folio_common::connection!(shareable ContentConnection, ContentEdge, Content);
