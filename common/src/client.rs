//! Service-to-service GraphQL: one subgraph asking another directly (not through the
//! router), for the few reads the design routes that way — content's `topContents` asks
//! interactions' `contentRanking`; interactions asks content whether a content exists.
//!
//! Such a call carries no identity: it only reaches public fields. It has a deadline, and
//! any failure (unreachable, timeout, HTTP error, GraphQL errors, an unexpected shape)
//! becomes [`Error::Unavailable`] naming the service, logged here with its details.

use crate::{Error, Id, Result};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// A GraphQL endpoint of another service.
#[derive(Clone, Debug)]
pub struct ServiceClient {
    http: reqwest::Client,
    /// The service's name, as errors report it ("interactions").
    service: &'static str,
    url: String,
    timeout: Duration,
}

#[derive(serde::Deserialize)]
struct Response<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<Value>,
}

impl ServiceClient {
    /// A client for `service` at `url`, each call bounded by `timeout`; HTTPS trusts what
    /// `cfg` says (`crate::tls::client_builder`).
    pub fn new(
        cfg: &crate::Config,
        service: &'static str,
        url: String,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let http = crate::tls::client_builder(cfg)?
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(ServiceClient {
            http,
            service,
            url,
            timeout,
        })
    }

    /// Runs `query` with `variables` and returns its `data`, which must be complete (a
    /// response with any error is a failure).
    pub async fn query<T: DeserializeOwned>(&self, query: &str, variables: Value) -> Result<T> {
        let body = json!({ "query": query, "variables": variables });
        let call = async {
            let mut request = self
                .http
                .post(&self.url)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body);
            // The call is part of the caller's trace.
            if let Some(tp) = crate::telemetry::traceparent() {
                request = request.header("traceparent", tp);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("HTTP {status}"));
            }
            let parsed: Response<T> = response.json().await.map_err(|e| e.to_string())?;
            match (parsed.data, parsed.errors.is_empty()) {
                (Some(data), true) => Ok(data),
                (_, false) => Err(format!("errors: {}", Value::Array(parsed.errors))),
                (None, true) => Err("no data".to_owned()),
            }
        };
        // One span per call (a client span of the caller's trace).
        let span = tracing::info_span!(
            "call",
            otel.kind = "client",
            otel.name = %format!("call {}", self.service),
            service = self.service
        );
        // reqwest's own timeout covers the request; this one covers reading the body too.
        match tokio::time::timeout(self.timeout, tracing::Instrument::instrument(call, span)).await
        {
            Ok(Ok(data)) => Ok(data),
            Ok(Err(reason)) => {
                tracing::warn!(service = self.service, url = %self.url, %reason, "service call failed");
                Err(Error::Unavailable(self.service))
            }
            Err(_) => {
                tracing::warn!(service = self.service, url = %self.url, timeout_ms = self.timeout.as_millis() as u64, "service call timed out");
                Err(Error::Unavailable(self.service))
            }
        }
    }
}

/// What the content subgraph says of a content when another subgraph looks it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentRef {
    pub author_id: Id,
    pub published_at: DateTime<Utc>,
}

const CONTENT_LOOKUP: &str = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Content { id publishedAt author { id } } } }";

#[derive(serde::Deserialize)]
struct ContentLookup {
    #[serde(rename = "_entities")]
    entities: Vec<Option<FoundContent>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoundContent {
    id: String,
    published_at: DateTime<Utc>,
    author: FoundAuthor,
}

#[derive(serde::Deserialize)]
struct FoundAuthor {
    id: String,
}

/// Content `id` as `content` (the content subgraph) resolves its `Content` reference:
/// `None` when it does not exist, `SUBGRAPH_UNAVAILABLE` when the subgraph cannot say.
pub async fn lookup_content(content: &ServiceClient, id: &Id) -> Result<Option<ContentRef>> {
    let answer: ContentLookup = content
        .query(
            CONTENT_LOOKUP,
            json!({ "r": [{ "__typename": "Content", "id": id.as_str() }] }),
        )
        .await?;
    let Some(Some(found)) = answer.entities.into_iter().next() else {
        return Ok(None);
    };
    if found.id != *id {
        return Err(Error::internal(
            "the content subgraph answered for another id",
        ));
    }
    let author_id = Id::try_from(found.author.id).map_err(|_| {
        Error::internal("the content subgraph answered with an author id no user can have")
    })?;
    Ok(Some(ContentRef {
        author_id,
        published_at: found.published_at,
    }))
}

/// A GraphQL multipart request (the upload spec) of `query` with `variables`, sending
/// `file` (named `name`, declared `mime`) as the variable `f`: what a browser client
/// sends for an `Upload` (`folio demo`, the tests).
pub fn upload_form(
    query: &str,
    variables: Value,
    file: Vec<u8>,
    name: &str,
    mime: &str,
) -> reqwest::Result<reqwest::multipart::Form> {
    let mut operations = json!({ "query": query, "variables": variables });
    operations["variables"]["f"] = Value::Null;
    let part = reqwest::multipart::Part::bytes(file)
        .file_name(name.to_owned())
        .mime_str(mime)?;
    Ok(reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", part))
}
