//! The router's executor (planner, fetches, merging, projection) against subgraphs made
//! for the test, through folio-router's public API: here rather than in the router's unit
//! tests, because the subgraphs live in the test kit, which depends on the router.

mod fixtures;
mod social;
mod subgraphs;
