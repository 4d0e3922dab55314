//! Queries of the content subgraph, and the `Content` and `User` entity resolvers.

use super::content::{Content, ContentConnection};
use super::loaders::{ContentKey, ContentLoader};
use super::user::User;
use crate::ContentState;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use folio_common::pagination::{Page, PageRequest};
use folio_common::{Id, RankingMetric, ranking_size};

pub struct Query;

#[Object]
impl Query {
    /// Counts a view each time it returns the content: viewCount + 1, atomically, and the
    /// returned viewCount includes this view. `@sideEffect`: the router never shares a
    /// fetch of it, so every read counts.
    #[graphql(directive = folio_common::directives::sideEffect::apply())]
    async fn content(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Content>> {
        let state = ctx.data::<ContentState>()?;
        let Ok(id) = Id::parse(&id) else {
            return Ok(None);
        };
        Ok(state.store.view_content(&id).await?.map(Content::new))
    }

    /// Newest first; optionally one author's.
    async fn contents(
        &self,
        ctx: &Context<'_>,
        author_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ContentConnection> {
        let page = PageRequest::parse(first, after)?;
        let state = ctx.data::<ContentState>()?;
        let author = match author_id.as_deref().map(|a| Id::parse(a)) {
            None => None,
            Some(Ok(author)) => Some(author),
            // No content has an author no user can be.
            Some(Err(_)) => return Ok(Page::empty().into()),
        };
        Ok(state
            .store
            .list_contents(author.as_ref(), &page)
            .await?
            .map(Content::new)
            .into())
    }

    /// Most recently published first.
    async fn new_contents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ContentConnection> {
        // Content is published when it is created, and ids are UUID v7: id order is
        // publication order.
        let page = PageRequest::parse(first, after)?;
        let state = ctx.data::<ContentState>()?;
        Ok(state
            .store
            .list_contents(None, &page)
            .await?
            .map(Content::new)
            .into())
    }

    /// Most interactions first, in the order of the interactions subgraph's
    /// contentRanking; content with no interaction is not listed. `first` at most 100.
    async fn top_contents(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: Option<i32>,
        #[graphql(default_with = "Some(RankingMetric::Total)")] by: Option<RankingMetric>,
    ) -> Result<Vec<Content>> {
        let first = ranking_size(first)?;
        let state = ctx.data::<ContentState>()?;
        let by = by.unwrap_or(RankingMetric::Total);
        let ids = crate::ranking::ranked_ids(&state.interactions, first, by).await?;
        // One query for all of them; the ranking's order is kept, and a content deleted
        // since it was ranked is left out.
        let mut rows = state.store.contents_by_ids(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| rows.remove(id.as_str()))
            .map(Content::new)
            .collect())
    }

    /// Federation: resolves `Content` references, batched into one query per request.
    /// Never counts a view.
    #[graphql(entity)]
    async fn find_content_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Content>> {
        let Ok(id) = Id::try_from(id.0) else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<ContentLoader>>()?;
        Ok(loader.load_one(ContentKey(id)).await?.map(Content::new))
    }

    /// Federation: a `User` reference, so other subgraphs' users get their `contents`;
    /// `feedAuthorIds` arrives in the representation when `feed` is asked for.
    #[graphql(entity)]
    async fn find_user_by_id(
        &self,
        #[graphql(key)] id: ID,
        feed_author_ids: Option<Vec<ID>>,
    ) -> User {
        User::with_feed_authors(
            id.0,
            feed_author_ids.map(|ids| ids.into_iter().map(|i| i.0).collect()),
        )
    }
}
