//! Stage 4, forward: send the operation to the subgraph with the router's identity proof.
//!
//! Every identity header the client sent is dropped; the router adds its own, signed,
//! and passes W3C `traceparent` on. Connections are pooled and kept alive; each fetch
//! has a timeout and the number in flight is bounded. A subgraph that is down or slow
//! yields a coded GraphQL error within the timeout, never a hang, and the next request
//! tries it again, so the router recovers by itself when the subgraph is back.

use super::http::ResponseFormat;
use crate::metrics::Metrics;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use folio_common::graphql::now_unix;
use folio_common::{IdentityKey, Viewer};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How the forwarder reaches its subgraph.
#[derive(Debug, Clone)]
pub struct SubgraphConfig {
    pub name: String,
    pub url: String,
    pub timeout: Duration,
    pub max_in_flight: usize,
}

/// Sends operations to the one subgraph that serves data so far.
pub struct Forwarder {
    config: SubgraphConfig,
    client: reqwest::Client,
    permits: Semaphore,
    metrics: Arc<Metrics>,
}

/// What a forwarded request came back as.
pub struct Forwarded {
    pub response: Response,
    /// Whether the answer was a success without GraphQL errors.
    pub ok: bool,
}

impl Forwarder {
    /// A forwarder with pooled keep-alive connections.
    pub fn new(config: SubgraphConfig, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(config.timeout)
            .build()?;
        Ok(Forwarder {
            permits: Semaphore::new(config.max_in_flight.max(1)),
            config,
            client,
            metrics,
        })
    }

    fn unavailable(&self, format: ResponseFormat, why: &str) -> Forwarded {
        tracing::error!(subgraph = %self.config.name, url = %self.config.url, reason = why, "subgraph fetch failed");
        let body = json!({ "errors": [{
            "message": format!("the {} service is unavailable; try again shortly", self.config.name),
            "extensions": { "code": "SUBGRAPH_UNAVAILABLE", "service": self.config.name },
        }]});
        let mut response = (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        Forwarded {
            response,
            ok: false,
        }
    }

    /// Forwards `body` as `viewer`, and relays the subgraph's answer.
    pub async fn send(
        &self,
        key: &IdentityKey,
        viewer: &Viewer,
        incoming: &HeaderMap,
        body: Vec<u8>,
        format: ResponseFormat,
    ) -> Forwarded {
        let started = Instant::now();
        let result = tokio::time::timeout(self.config.timeout, async {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| "closed".to_owned())?;
            let mut request = self
                .client
                .post(&self.config.url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(tp) = incoming.get("traceparent") {
                request = request.header("traceparent", tp);
            }
            for (name, value) in key.sign(viewer, now_unix()) {
                request = request.header(name, value);
            }
            let answer = request.send().await.map_err(|e| e.to_string())?;
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, bytes))
        })
        .await;
        let (status, bytes) = match result {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                self.metrics
                    .fetch(&self.config.name, false, started.elapsed());
                return self.unavailable(format, &e);
            }
            Err(_) => {
                self.metrics
                    .fetch(&self.config.name, false, started.elapsed());
                return self.unavailable(format, "timed out");
            }
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        // A top-level `"errors":` key is the only place those bytes can appear unescaped
        // as a key in the answers our subgraphs give.
        let has_errors = bytes.windows(9).any(|w| w == b"\"errors\":");
        self.metrics
            .fetch(&self.config.name, status.is_success(), started.elapsed());
        let response = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            )],
            bytes,
        )
            .into_response();
        Forwarded {
            response,
            ok: status.is_success() && !has_errors,
        }
    }

    /// Whether the subgraph answers its health check.
    pub async fn ready(&self) -> Result<(), String> {
        let health = match self.config.url.strip_suffix("/graphql") {
            Some(base) => format!("{base}/health"),
            None => self.config.url.clone(),
        };
        let answer = self
            .client
            .get(&health)
            .timeout(self.config.timeout.min(Duration::from_secs(2)))
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.config.name))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("{}: HTTP {}", self.config.name, answer.status()))
        }
    }
}
