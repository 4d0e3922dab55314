//! `topContents` is built on the interactions subgraph's `contentRanking`: this module
//! asks for it directly over GraphQL (not through the router), with the configured
//! deadline; a failure is `SUBGRAPH_UNAVAILABLE`, never a hang.

use folio_common::{RankingMetric, Result, ServiceClient};
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

/// The ids of the `first` contents ranked by `by`, best first.
pub async fn ranked_ids(
    interactions: &ServiceClient,
    first: u64,
    by: RankingMetric,
) -> Result<Vec<String>> {
    let answer: Answer = interactions
        .query(RANKING, json!({ "first": first, "by": by }))
        .await?;
    Ok(answer.ranking.into_iter().map(|s| s.content.id).collect())
}
