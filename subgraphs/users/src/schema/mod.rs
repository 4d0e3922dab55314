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
use async_graphql::{EmptySubscription, SDLExportOptions, Schema};

/// The users subgraph's executable schema.
pub type UsersSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: UsersState) -> UsersSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(state)
        .finish()
}

/// The federation v2 SDL that the router composes (and the golden file holds).
pub fn sdl(schema: &UsersSchema) -> String {
    schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}
