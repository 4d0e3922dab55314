//! Queries of the interactions subgraph, and the `Content` and `Comment` entity resolvers.

use super::comment::Comment;
use super::content::Content;
use super::interaction::ContentScore;
use super::loaders::{CommentKey, InteractionsLoader};
use crate::InteractionsState;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use folio_common::{Id, RankingMetric, ranking_size};

pub struct Query;

#[Object]
impl Query {
    /// The ranking that topContents is built on: content with at least one interaction of
    /// the metric, highest first; ties: newer content first. `first` at most 100.
    async fn content_ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: Option<i32>,
        #[graphql(default_with = "Some(RankingMetric::Total)")] by: Option<RankingMetric>,
    ) -> Result<Vec<ContentScore>> {
        let first = ranking_size(first)?;
        let state = ctx.data::<InteractionsState>()?;
        let rows = state
            .store
            .ranking(first, by.unwrap_or(RankingMetric::Total))
            .await?;
        Ok(rows.into_iter().map(ContentScore::new).collect())
    }

    /// Federation: a `Content` reference gets its counters and comments here (a content
    /// nobody interacted with has zeros), batched per request.
    #[graphql(entity)]
    async fn find_content_by_id(&self, id: ID) -> Content {
        Content::reference(id.0)
    }

    /// Federation: resolves `Comment` references, batched into one query per request.
    #[graphql(entity)]
    async fn find_comment_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Comment>> {
        let Ok(id) = Id::try_from(id.0) else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<InteractionsLoader>>()?;
        Ok(loader.load_one(CommentKey(id)).await?.map(Comment::new))
    }
}
