//! `User`, an entity of the users subgraph, extended here with the user's contents.
//! This subgraph knows a user only by id: there is no users database here.

use super::content::{Content, ContentConnection};
use crate::ContentState;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Error, Id, Viewer};

/// A reference to a user of the users subgraph.
#[derive(Clone)]
pub struct User {
    /// The id as the reference gave it, which `id` answers with.
    id: String,
    /// The same id parsed; `None` when no user can have it, so the user has nothing here.
    key: Option<Id>,
    /// The users subgraph's `feedAuthorIds`, when the router sent it (@requires).
    feed_author_ids: Option<Vec<String>>,
}

impl User {
    /// The user with this id, as far as this subgraph knows it (the id alone).
    pub fn reference(id: String) -> Self {
        User::with_feed_authors(id, None)
    }

    /// A reference that carries the users subgraph's `feedAuthorIds`.
    pub fn with_feed_authors(id: String, feed_author_ids: Option<Vec<String>>) -> Self {
        User {
            key: Id::parse(&id).ok(),
            id,
            feed_author_ids,
        }
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
        let Some(id) = &self.key else {
            return Ok(Page::empty().into());
        };
        let state = ctx.data::<ContentState>()?;
        let page = state.store.list_contents(Some(id), &page).await?;
        Ok(page.map(Content::new).into())
    }

    /// Owned by the users subgraph: the ids whose content this user's feed shows.
    #[graphql(external)]
    async fn feed_author_ids(&self) -> Vec<ID> {
        self.feed_author_ids
            .iter()
            .flatten()
            .cloned()
            .map(ID)
            .collect()
    }

    /// Newest first: content by the users this user follows, minus anyone blocked
    /// either way. Only the user themself may read it (FORBIDDEN otherwise).
    #[graphql(requires = "feedAuthorIds")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ContentConnection> {
        let viewer = ctx.data::<Viewer>()?;
        if viewer.require_user()? != self.id {
            return Err(Error::forbidden("only the user themself may read their feed").into());
        }
        let page = PageRequest::parse(first, after)?;
        let state = ctx.data::<ContentState>()?;
        // An author id no user can have authored nothing: leaving it out changes nothing.
        let authors: Vec<Id> = self
            .feed_author_ids
            .iter()
            .flatten()
            .filter_map(|a| Id::parse(a).ok())
            .collect();
        let page = state.store.feed_contents(&authors, &page).await?;
        Ok(page.map(Content::new).into())
    }
}
