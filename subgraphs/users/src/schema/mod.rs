//! The users subgraph's GraphQL schema: thin resolvers over `accounts`, `domain` and `store`.

mod loaders;
mod mutation;
mod query;
mod user;

pub use loaders::UsersLoader;
pub use mutation::Mutation;
pub use query::Query;
pub use user::User;

use crate::UsersState;
use async_graphql::{EmptySubscription, Schema};

/// The users subgraph's executable schema.
pub type UsersSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: UsersState) -> UsersSchema {
    folio_common::kit::federated_schema(Query, Mutation, state)
}

/// The federation v2 SDL that the router composes, the same text `_service { sdl }`
/// serves; `subgraphs/users/schema.graphql` is its golden copy.
pub fn sdl() -> String {
    folio_common::graphql::federation_sdl(Query, Mutation)
}
