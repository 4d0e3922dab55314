//! Rebuilding the index from nothing: every content, read page by page from the content
//! subgraph's API (`contents(first, after)`, newest first), with each page's read counts
//! from the interactions subgraph (`_entities` of `Content { readCount }`) and its
//! authors' names from the search database.
//!
//! Two callers: a fresh replica whose events travel in-process (no history to replay)
//! rebuilds itself in the background at start, and `folio search reindex` rebuilds the
//! index of a stopped search service. Events keep flowing during a rebuild; a content
//! that an event changed or deleted since the rebuild began keeps the event's version
//! (`Change::Restore`), since the page may have been read before the change.

use crate::index::{Change, IndexedContent, SearchIndex};
use crate::store::{Store, author_names};
use folio_common::{Error, Result, ServiceClient};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// Contents per page (the content subgraph's largest page).
pub const PAGE: usize = 100;

const CONTENTS: &str =
    "query($first: Int!, $after: String) { contents(first: $first, after: $after) {
    nodes { id title description story tags publishedAt author { id } }
    pageInfo { hasNextPage endCursor } } }";

const READS: &str =
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Content { id readCount } } }";

#[derive(Deserialize)]
struct ContentsData {
    contents: Connection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    nodes: Vec<Node>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: String,
    title: String,
    description: Option<String>,
    story: String,
    tags: Vec<String>,
    published_at: String,
    author: Reference,
}

#[derive(Deserialize)]
struct Reference {
    id: String,
}

#[derive(Deserialize)]
struct ReadsData {
    #[serde(rename = "_entities")]
    entities: Vec<Option<ReadCount>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadCount {
    id: String,
    read_count: u64,
}

/// Where a rebuild reads from.
pub struct Sources {
    pub content: ServiceClient,
    /// Read counts; without it every content starts with none.
    pub interactions: Option<ServiceClient>,
}

/// Reads every content into `index` (restoring, not replacing what events wrote since
/// the rebuild began) and commits; how many contents it read.
pub async fn rebuild(index: &SearchIndex, store: &Store, sources: &Sources) -> Result<u64> {
    index.rebuilding(true).await?;
    let result = pages(index, store, sources).await;
    index.rebuilding(false).await?;
    let n = result?;
    index.commit().await?;
    Ok(n)
}

/// Pages of contents read ahead of the one being indexed, at most.
const AHEAD: usize = 2;

/// Reads content's pages in order, a few ahead (`AHEAD`) of the indexing: the next page
/// is read while this one's reads, names and documents are.
fn read_ahead(content: ServiceClient) -> tokio::sync::mpsc::Receiver<Result<Vec<Node>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    tokio::spawn(async move {
        let mut after: Option<String> = None;
        loop {
            let page = content
                .query::<ContentsData>(CONTENTS, json!({ "first": PAGE, "after": after }))
                .await;
            let (nodes, next) = match page {
                Ok(data) => {
                    let Connection { nodes, page_info } = data.contents;
                    let next = page_info.end_cursor.filter(|_| page_info.has_next_page);
                    (Ok(nodes), next)
                }
                Err(e) => (Err(e), None),
            };
            // The rebuild stopped (its receiver dropped), or that was the last page.
            if tx.send(nodes).await.is_err() || next.is_none() {
                return;
            }
            after = next;
        }
    });
    rx
}

async fn pages(index: &SearchIndex, store: &Store, sources: &Sources) -> Result<u64> {
    let mut pages = read_ahead(sources.content.clone());
    let mut total = 0u64;
    while let Some(nodes) = pages.recv().await {
        let nodes = nodes?;
        let reads = match &sources.interactions {
            Some(interactions) if !nodes.is_empty() => {
                let r: Vec<_> = nodes
                    .iter()
                    .map(|n| json!({ "__typename": "Content", "id": n.id }))
                    .collect();
                let data: ReadsData = interactions.query(READS, json!({ "r": r })).await?;
                data.entities
                    .into_iter()
                    .flatten()
                    .map(|r| (r.id, r.read_count))
                    .collect()
            }
            _ => HashMap::new(),
        };
        let authors: Vec<&str> = nodes.iter().map(|n| n.author.id.as_str()).collect();
        let names: HashMap<String, String> = if authors.is_empty() {
            HashMap::new()
        } else {
            author_names(store.connection(), &authors)
                .await?
                .into_iter()
                .collect()
        };
        total += nodes.len() as u64;
        let mut changes = Vec::with_capacity(nodes.len());
        for n in nodes {
            let published = chrono::DateTime::parse_from_rfc3339(&n.published_at)
                .map_err(|e| Error::internal(format!("content's publishedAt: {e}")))?;
            changes.push(Change::Restore {
                reads: reads.get(&n.id).copied().unwrap_or(0),
                content: IndexedContent {
                    author_name: names.get(&n.author.id).cloned(),
                    id: n.id,
                    author_id: n.author.id,
                    title: n.title,
                    description: n.description,
                    story: n.story,
                    tags: n.tags,
                    published_ms: published.timestamp_millis(),
                },
            });
        }
        index.apply(changes).await?;
    }
    Ok(total)
}
