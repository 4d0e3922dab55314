//! Stage 2, forward: send the operation to the subgraph with the router's identity proof.
//!
//! Every identity header the client sent is dropped; the router adds its own, signed.
//! A subgraph that cannot be reached yields a coded GraphQL error, never a hang.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use folio_common::graphql::{error_response, now_unix};
use folio_common::{IdentityKey, Viewer};
use std::time::Duration;

/// Sends operations to the one subgraph that serves data so far.
pub struct Forwarder {
    url: String,
    client: reqwest::Client,
}

impl Forwarder {
    /// A forwarder with pooled keep-alive connections and a per-request timeout.
    pub fn new(url: String, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Forwarder { url, client })
    }

    /// Forwards `body` as `viewer`, and relays the subgraph's answer.
    pub async fn send(
        &self,
        key: &IdentityKey,
        viewer: &Viewer,
        incoming: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let mut request = self
            .client
            .post(&self.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(tp) = incoming.get("traceparent") {
            request = request.header("traceparent", tp);
        }
        for (name, value) in key.sign(viewer, now_unix()) {
            request = request.header(name, value);
        }
        let answer = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, url = %self.url, "subgraph unreachable");
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    "SUBGRAPH_UNAVAILABLE",
                    "a service is unavailable; try again shortly",
                );
            }
        };
        let status =
            StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        match answer.bytes().await {
            Ok(bytes) => (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                bytes,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "reading the subgraph's answer failed");
                error_response(
                    StatusCode::BAD_GATEWAY,
                    "SUBGRAPH_UNAVAILABLE",
                    "a service is unavailable; try again shortly",
                )
            }
        }
    }
}
