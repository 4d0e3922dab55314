//! The content subgraph's GraphQL schema: thin resolvers over `domain` and `store`.

mod content;
mod loaders;
mod mutation;
mod query;
mod user;

pub use content::{Content, ContentConnection, ContentEdge};
pub use loaders::ContentLoader;
pub use mutation::Mutation;
pub use query::Query;
pub use user::User;

use crate::ContentState;
use async_graphql::{EmptySubscription, Schema};

/// The content subgraph's executable schema.
pub type ContentSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: ContentState) -> ContentSchema {
    folio_common::kit::federated_schema(Query, Mutation, state)
}

/// The federation v2 SDL that the router composes, the same text `_service { sdl }`
/// serves; `subgraphs/content/schema.graphql` is its golden copy.
pub fn sdl() -> String {
    folio_common::graphql::federation_sdl(Query, Mutation)
}

#[cfg(test)]
mod tests;
