//! The search subgraph's GraphQL schema: `searchContents`, answering `Content` entity
//! references that the router resolves in the content subgraph.

use crate::SearchState;
use crate::query::{Clause, parse};
use async_graphql::SimpleObject;
use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema};
use folio_common::Error;
use folio_common::pagination::{Page, PageRequest, encode_cursor};

// A reference to a content of the content subgraph, which resolves its fields (no doc
// comment: the description would become the public type's).
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Content {
    pub id: ID,
}

folio_common::connection!(shareable ContentConnection, ContentEdge, Content);

/// Deepest offset a page may start at: ranking deeper than this costs more than any
/// reader pages through.
pub const MAX_OFFSET: u64 = 10_000;

pub struct Query;

#[Object]
impl Query {
    /// Full-text search over title, description, story and tags; best match first.
    async fn search_contents(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ContentConnection> {
        if query.trim().is_empty() {
            return Err(Error::validation("query", "must not be empty").into());
        }
        let page = PageRequest::parse(first, after)?;
        let offset: u64 = match &page.after {
            None => 0,
            Some(after) => after
                .parse()
                .ok()
                .filter(|o| *o <= MAX_OFFSET)
                .ok_or_else(|| Error::validation("after", "is not a cursor from this API"))?,
        };
        let clauses = parse(&query)?;
        // How many clauses, never which: a search query is the user's text.
        tracing::debug!(clauses = clauses.len(), "search");
        let state = ctx.data::<SearchState>()?;
        let mut authors = Vec::new();
        for clause in &clauses {
            if let Clause::Author(name) = clause {
                authors.push(state.store.authors_named(name).await?);
            }
        }
        let hits = state
            .index
            .search(
                clauses,
                authors,
                offset as usize,
                page.fetch_limit() as usize,
            )
            .await?;
        let has_next_page = hits.ids.len() as u64 > page.limit;
        let edges = hits
            .ids
            .into_iter()
            .take(page.limit as usize)
            .zip(offset + 1..)
            .map(|(id, position)| (encode_cursor(&position.to_string()), Content { id: ID(id) }))
            .collect();
        Ok(Page {
            edges,
            has_next_page,
            total_count: hits.total,
        }
        .into())
    }
}

/// The search subgraph's executable schema.
pub type SearchSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: SearchState) -> SearchSchema {
    folio_common::kit::federated_schema(Query, EmptyMutation, state)
}

/// The federation v2 SDL that the router composes, the same text `_service { sdl }`
/// serves; `subgraphs/search/schema.graphql` is its golden copy.
pub fn sdl() -> String {
    folio_common::graphql::federation_sdl(Query, EmptyMutation)
}
