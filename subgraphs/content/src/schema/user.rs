//! `User`, an entity of the users subgraph, extended here with the user's contents.
//! This subgraph knows a user only by id: there is no users database here.

use super::content::{Content, ContentConnection};
use crate::ContentState;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::PageRequest;

/// A reference to a user of the users subgraph.
#[derive(Clone)]
pub struct User {
    id: String,
}

impl User {
    /// The user with this id, as far as this subgraph knows it (the id alone).
    pub fn reference(id: String) -> Self {
        User { id }
    }
}

#[Object(extends)]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// The user's content, newest first.
    async fn contents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ContentConnection> {
        let page = PageRequest::parse(first, after)?;
        let state = ctx.data::<ContentState>()?;
        let page = state.store.list_contents(Some(&self.id), &page).await?;
        Ok(page.map(Content::new).into())
    }
}
