//! The search subgraph's GraphQL schema: `searchContents` and `suggest`, answering
//! `Content` and `User` entity references that the router resolves in the content and
//! users subgraphs.

use crate::SearchState;
use crate::query::{Clause, parse};
use crate::suggest::Kind;
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, ID, Object, Result, Schema, SimpleObject,
};
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

// A reference to a user of the users subgraph (no doc comment, as for `Content`).
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct User {
    pub id: ID,
}

/// What a suggestion names.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum SuggestionKind {
    Title,
    Tag,
    Author,
}

/// A completion of what a reader is typing.
#[derive(SimpleObject, Clone)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    /// What to show: the title (TITLE), the tag itself, e.g. rust (TAG), the author's
    /// first and last name (AUTHOR).
    pub text: String,
    /// TITLE: the content it opens. Null for TAG and AUTHOR.
    pub content: Option<Content>,
    /// AUTHOR: the user it names; TITLE: the content's author. Null for TAG.
    pub author: Option<User>,
}

/// Longest `suggest` prefix, in characters.
pub const MAX_PREFIX_CHARS: usize = 100;
/// Most suggestions one request may ask for.
pub const MAX_SUGGESTIONS: i32 = 20;

/// Deepest offset a page may start at: ranking deeper than this costs more than any
/// reader pages through.
pub const MAX_OFFSET: u64 = 10_000;

pub struct Query;

#[Object]
impl Query {
    /// Titles, tags and author names (of users who have published) with a word that
    /// starts with the prefix, case-insensitively; the prefix is 1 to 100 characters.
    /// Most read first (a TITLE by its content's readCount, a TAG or AUTHOR by the reads
    /// of its contents), ties newer first. `first` at most 20.
    async fn suggest(
        &self,
        ctx: &Context<'_>,
        prefix: String,
        #[graphql(default = 8)] first: Option<i32>,
    ) -> Result<Vec<Suggestion>> {
        let trimmed = prefix.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(Error::validation("prefix", "must not be empty").into());
        }
        if chars > MAX_PREFIX_CHARS {
            return Err(Error::validation(
                "prefix",
                format!("must be at most {MAX_PREFIX_CHARS} characters"),
            )
            .into());
        }
        let first = match first {
            // Null asks for the default.
            None => 8,
            Some(n) if (0..=MAX_SUGGESTIONS).contains(&n) => n as usize,
            Some(_) => {
                return Err(Error::validation(
                    "first",
                    format!("must be between 0 and {MAX_SUGGESTIONS}"),
                )
                .into());
            }
        };
        if first == 0 {
            return Ok(Vec::new());
        }
        let state = ctx.data::<SearchState>()?;
        let found = state.index.suggest(trimmed.to_lowercase(), first).await?;
        Ok(found
            .into_iter()
            .map(|s| Suggestion {
                kind: match s.kind {
                    Kind::Title => SuggestionKind::Title,
                    Kind::Tag => SuggestionKind::Tag,
                    Kind::Author => SuggestionKind::Author,
                },
                text: s.text,
                content: s.content_id.map(|id| Content { id: ID(id) }),
                author: s.author_id.map(|id| User { id: ID(id) }),
            })
            .collect())
    }

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
