//! `Content`, an entity of the content subgraph, extended here with its interactions.

use super::comment::{Comment, CommentConnection};
use super::count as int;
use super::loaders::{InteractionsLoader, StatsKey, ViewerDid, ViewerKey};
use crate::InteractionsState;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use folio_common::Id;
use folio_common::pagination::{Page, PageRequest};

/// A content of the content subgraph, known here by id.
#[derive(Clone)]
pub struct Content {
    /// The id as the reference gave it, which `id` answers with.
    id: String,
    /// The same id parsed; `None` when no content can have it, so nobody interacted
    /// with it: zero counters, no comments.
    key: Option<Id>,
}

impl Content {
    pub fn reference(id: String) -> Self {
        Content {
            key: Id::parse(&id).ok(),
            id,
        }
    }

    async fn counters(&self, ctx: &Context<'_>) -> Result<[i64; 3]> {
        let Some(id) = &self.key else {
            return Ok([0; 3]);
        };
        let loader = ctx.data::<DataLoader<InteractionsLoader>>()?;
        Ok(loader
            .load_one(StatsKey(id.clone()))
            .await?
            .map_or([0; 3], |s| [s.reads, s.likes, s.comments]))
    }

    async fn viewer_did(&self, ctx: &Context<'_>) -> Result<ViewerDid> {
        let Some(id) = &self.key else {
            return Ok(ViewerDid::default());
        };
        let loader = ctx.data::<DataLoader<InteractionsLoader>>()?;
        Ok(loader
            .load_one(ViewerKey(id.clone()))
            .await?
            .unwrap_or_default())
    }
}

#[Object]
impl Content {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
    /// Distinct users who read it.
    async fn read_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(int(self.counters(ctx).await?[0]))
    }
    async fn like_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(int(self.counters(ctx).await?[1]))
    }
    async fn comment_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(int(self.counters(ctx).await?[2]))
    }
    async fn viewer_has_read(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.viewer_did(ctx).await?.read)
    }
    async fn viewer_has_liked(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.viewer_did(ctx).await?.liked)
    }
    /// Oldest first.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CommentConnection> {
        let page = PageRequest::parse(first, after)?;
        let Some(id) = &self.key else {
            return Ok(Page::empty().into());
        };
        let state = ctx.data::<InteractionsState>()?;
        let page = state.store.list_comments(id, &page).await?;
        Ok(page.map(Comment::new).into())
    }
}
