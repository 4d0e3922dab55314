//! `topContents` is built on the interactions subgraph's `contentRanking`: this module
//! asks for it directly over GraphQL (not through the router), with the configured
//! deadline; a failure is `SUBGRAPH_UNAVAILABLE`, never a hang.

use folio_common::{Id, RankingMetric, Result, ServiceClient};
use serde::Deserialize;
use serde_json::json;

const RANKING: &str = "query($first: Int!, $by: RankingMetric!) { contentRanking(first: $first, by: $by) { content { id } } }";

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "contentRanking")]
    ranking: Vec<Scored>,
}

#[derive(Deserialize)]
struct Scored {
    content: IdOnly,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// The ids of the `first` contents ranked by `by`, best first. An answered id that no
/// content can have names nothing, and is left out like a content deleted since.
pub async fn ranked_ids(
    interactions: &ServiceClient,
    first: u64,
    by: RankingMetric,
) -> Result<Vec<Id>> {
    let answer: Answer = interactions
        .query(RANKING, json!({ "first": first, "by": by }))
        .await?;
    Ok(answer
        .ranking
        .into_iter()
        .filter_map(|s| Id::try_from(s.content.id).ok())
        .collect())
}
