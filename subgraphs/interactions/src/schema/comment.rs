//! The `Comment` entity and its connection.

use super::content::Content;
use super::user::User;
use crate::store::CommentRow;
use async_graphql::{ID, Object};
use folio_common::DateTime;
use std::sync::Arc;

/// A comment as the API shows it.
#[derive(Clone)]
pub struct Comment {
    row: Arc<CommentRow>,
}

impl Comment {
    pub fn new(row: CommentRow) -> Self {
        Comment { row: Arc::new(row) }
    }
}

#[Object]
impl Comment {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    /// 1 to 1,000 characters.
    async fn body(&self) -> &str {
        &self.row.body
    }
    async fn author(&self) -> User {
        User::reference(self.row.author_id.clone())
    }
    async fn content(&self) -> Content {
        Content::reference(self.row.content_id.clone())
    }
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
}

folio_common::connection!(CommentConnection, CommentEdge, Comment);
