//! One subgraph request: signed identity, `traceparent`, timeout, bounded concurrency,
//! metrics. Every fetch of the executor goes through [`SubgraphClient::fetch`].

use crate::metrics::Metrics;
use axum::http::{HeaderValue, header};
use folio_common::graphql::now_unix;
use folio_common::{IdentityKey, Viewer};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Why a fetch produced no GraphQL response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The plan names a subgraph we have no URL for.
    UnknownSubgraph(String),
    /// Unreachable, timed out, or answered something that is not a GraphQL response.
    Unavailable(String),
}

/// A subgraph's GraphQL response.
#[derive(Debug, Clone, Default)]
pub struct SubgraphResponse {
    pub data: Option<Map<String, Value>>,
    pub errors: Vec<Value>,
}

struct Endpoint {
    url: String,
    permits: Semaphore,
}

/// The HTTP side of talking to subgraphs: pooled keep-alive connections to each.
pub struct SubgraphClient {
    client: reqwest::Client,
    endpoints: HashMap<String, Endpoint>,
    identity: IdentityKey,
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl SubgraphClient {
    /// A client for `urls` (subgraph name → GraphQL endpoint).
    pub fn new(
        urls: impl IntoIterator<Item = (String, String)>,
        identity: IdentityKey,
        timeout: Duration,
        max_in_flight: usize,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(timeout)
            .build()?;
        let endpoints = urls
            .into_iter()
            .map(|(name, url)| {
                let permits = Semaphore::new(max_in_flight.max(1));
                (name, Endpoint { url, permits })
            })
            .collect();
        Ok(SubgraphClient {
            client,
            endpoints,
            identity,
            timeout,
            metrics,
        })
    }

    /// The subgraphs this client reaches, with their URLs.
    pub fn urls(&self) -> impl Iterator<Item = (&str, &str)> {
        self.endpoints
            .iter()
            .map(|(n, e)| (n.as_str(), e.url.as_str()))
    }

    /// Sends one operation to `subgraph` as `viewer`.
    pub async fn fetch(
        &self,
        subgraph: &str,
        query: &str,
        variables: Map<String, Value>,
        viewer: &Viewer,
        traceparent: Option<&HeaderValue>,
    ) -> Result<SubgraphResponse, FetchError> {
        let endpoint = self
            .endpoints
            .get(subgraph)
            .ok_or_else(|| FetchError::UnknownSubgraph(subgraph.to_owned()))?;
        let started = Instant::now();
        let body = serde_json::json!({ "query": query, "variables": variables });
        let result = tokio::time::timeout(self.timeout, async {
            let _permit = endpoint
                .permits
                .acquire()
                .await
                .map_err(|e| e.to_string())?;
            let mut request = self
                .client
                .post(&endpoint.url)
                .header(header::CONTENT_TYPE, "application/json")
                .json(&body);
            if let Some(tp) = traceparent {
                request = request.header("traceparent", tp);
            }
            for (name, value) in self.identity.sign(viewer, now_unix()) {
                request = request.header(name, value);
            }
            let answer = request.send().await.map_err(|e| e.to_string())?;
            let status = answer.status();
            let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
            let parsed: Value = serde_json::from_slice(&bytes)
                .map_err(|_| format!("HTTP {status} without a GraphQL response"))?;
            Ok::<_, String>(parsed)
        })
        .await;
        let parsed = match result {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                self.metrics.fetch(subgraph, false, started.elapsed());
                return Err(FetchError::Unavailable(e));
            }
            Err(_) => {
                self.metrics.fetch(subgraph, false, started.elapsed());
                return Err(FetchError::Unavailable("timed out".into()));
            }
        };
        let Value::Object(mut parsed) = parsed else {
            self.metrics.fetch(subgraph, false, started.elapsed());
            return Err(FetchError::Unavailable(
                "the answer is not a JSON object".into(),
            ));
        };
        let data = match parsed.remove("data") {
            Some(Value::Object(d)) => Some(d),
            _ => None,
        };
        let errors = match parsed.remove("errors") {
            Some(Value::Array(e)) => e,
            _ => Vec::new(),
        };
        self.metrics
            .fetch(subgraph, errors.is_empty(), started.elapsed());
        Ok(SubgraphResponse { data, errors })
    }

    /// Whether every subgraph answers its `/health`; the first that does not, otherwise.
    pub async fn ready(&self) -> Result<(), String> {
        for (name, endpoint) in &self.endpoints {
            let health = match endpoint.url.strip_suffix("/graphql") {
                Some(base) => format!("{base}/health"),
                None => endpoint.url.clone(),
            };
            let ok = self
                .client
                .get(&health)
                .timeout(self.timeout.min(Duration::from_secs(2)))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if !ok {
                return Err(format!("{name} does not answer at {health}"));
            }
        }
        Ok(())
    }
}
