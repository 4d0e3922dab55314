//! Folio's shared plumbing: what every service needs, written once.
//!
//! Configuration, telemetry, the error type and its mapping to the contract's
//! `extensions.code`, the validated entity [`Id`], Relay cursor pagination, the router-to-subgraph identity proof,
//! database connection and the GraphQL-over-HTTP handler every subgraph mounts.

pub mod client;
pub mod config;
pub mod db;
pub mod directives;
pub mod error;
pub mod events;
pub mod graphql;
pub mod id;
pub mod identity;
pub mod input;
pub mod kit;
pub mod pagination;
pub mod rate_limit;
pub mod scalars;
pub mod telemetry;
pub mod tls;

pub use client::ServiceClient;
pub use config::Config;
pub use error::{Error, InvalidInput, Result};
pub use id::Id;
pub use identity::{IdentityKey, Viewer};
pub use scalars::DateTime;

// Defined once: the content (`topContents`) and interactions (`contentRanking`)
// subgraphs both declare it.
/// What a content ranking counts.
#[derive(
    async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RankingMetric {
    /// Reads plus likes.
    Total,
    Reads,
    Likes,
}

/// The longest ranking one request may ask for (`contentRanking`, `topContents`).
pub const MAX_RANKING: i32 = 100;

/// `first` of a ranking: 0 to [`MAX_RANKING`]; null means the default, 10.
pub fn ranking_size(first: Option<i32>) -> Result<u64> {
    match first.unwrap_or(10) {
        n if n < 0 => Err(Error::validation("first", "must not be negative")),
        n if n > MAX_RANKING => Err(Error::validation(
            "first",
            format!("must be at most {MAX_RANKING}"),
        )),
        n => Ok(n as u64),
    }
}

/// A new time-ordered identifier (UUID v7) as the opaque string clients see.
///
/// Time order makes the id a stable, index-friendly key for cursor pagination.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `len` bytes from the operating system's CSPRNG.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    // The OS RNG failing is unrecoverable for a service that mints secrets.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}
