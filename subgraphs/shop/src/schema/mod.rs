//! The shop subgraph's GraphQL schema: thin resolvers over `domain` and `store`.

mod loaders;
mod mutation;
mod query;
mod types;
mod user;

pub use loaders::ShopLoader;
pub use mutation::Mutation;
pub use query::Query;
pub use types::{Cart, Money, Order, Product};
pub use user::User;

use crate::ShopState;
use async_graphql::{EmptySubscription, Schema};

/// The shop subgraph's executable schema.
pub type ShopSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with federation (entities, `_service`) enabled.
pub fn build_schema(state: ShopState) -> ShopSchema {
    folio_common::kit::federated_schema(Query, Mutation, state)
}

/// The federation v2 SDL that the router composes, the same text `_service { sdl }`
/// serves; `subgraphs/shop/schema.graphql` is its golden copy.
pub fn sdl() -> String {
    folio_common::graphql::federation_sdl(Query, Mutation)
}
