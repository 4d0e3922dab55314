//! `Content`, an entity of the content subgraph, extended here with its interactions.

use super::comment::{Comment, CommentConnection};
use super::count as int;
use super::loaders::{InteractionsLoader, StatsKey, ViewerDid, ViewerKey};
use crate::InteractionsState;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::PageRequest;

/// A content of the content subgraph, known here by id.
#[derive(Clone)]
pub struct Content {
    id: String,
}

impl Content {
    pub fn reference(id: String) -> Self {
        Content { id }
    }

    async fn counters(&self, ctx: &Context<'_>) -> Result<[i64; 3]> {
        let loader = ctx.data::<DataLoader<InteractionsLoader>>()?;
        Ok(loader
            .load_one(StatsKey(self.id.clone()))
            .await?
            .map_or([0; 3], |s| [s.reads, s.likes, s.comments]))
    }

    async fn viewer_did(&self, ctx: &Context<'_>) -> Result<ViewerDid> {
        let loader = ctx.data::<DataLoader<InteractionsLoader>>()?;
        Ok(loader
            .load_one(ViewerKey(self.id.clone()))
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
        let state = ctx.data::<InteractionsState>()?;
        let page = state.store.list_comments(&self.id, &page).await?;
        Ok(page.map(Comment::new).into())
    }
}
