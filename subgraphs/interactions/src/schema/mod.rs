//! The interactions subgraph's GraphQL schema: thin resolvers over `domain` and `store`.

mod comment;
mod content;
mod interaction;
mod loaders;
mod mutation;
mod query;
mod user;

pub use comment::{Comment, CommentConnection, CommentEdge};
pub use content::Content;
pub use interaction::{ContentScore, Interaction};
pub use loaders::InteractionsLoader;
pub use mutation::Mutation;
pub use query::Query;
pub use user::User;

use crate::InteractionsState;
use async_graphql::{EmptySubscription, Schema};

/// A stored counter as a GraphQL `Int` (counters never go below 0 or past `i32::MAX`).
fn count(n: i64) -> i32 {
    i32::try_from(n.max(0)).unwrap_or(i32::MAX)
}

/// The interactions subgraph's executable schema.
pub type InteractionsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: InteractionsState) -> InteractionsSchema {
    folio_common::kit::federated_schema(Query, Mutation, state)
}

/// The federation v2 SDL that the router composes, the same text `_service { sdl }`
/// serves; `subgraphs/interactions/schema.graphql` is its golden copy.
pub fn sdl() -> String {
    folio_common::graphql::federation_sdl(Query, Mutation)
}

#[cfg(test)]
mod tests;
