//! `User`, an entity of the users subgraph. This subgraph only points at users (authors
//! of comments and interactions) and adds nothing to them, so it cannot resolve one.

use async_graphql::{ID, SimpleObject};

/// A reference to a user of the users subgraph.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct User {
    pub id: ID,
}

impl User {
    pub fn reference(id: String) -> Self {
        User { id: ID(id) }
    }
}
