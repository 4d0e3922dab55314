//! One subgraph request: signed identity, `traceparent`, timeout, bounded concurrency,
//! metrics. Every fetch of the executor goes through [`SubgraphClient::fetch`].
//!
//! Identical query fetches in flight at the same moment (same subgraph, document,
//! variables and forwarded identity) are sent once and their answer shared: under many
//! clients asking the same thing this multiplies throughput. The identity is part of the
//! key, so an answer is never shared across viewers; mutations are never shared.
//!
//! File uploads: a fetch whose variables hold upload markers (`{"$upload": "<name>"}`,
//! put there by `pipeline::http::from_multipart`) goes to its subgraph as a GraphQL
//! multipart request (`operations` with `null` at those paths, `map`, the files, and the
//! `apollo-require-preflight: true` header). Such fetches are never shared.

use super::data::Data;
use crate::busy_poll::BusyPoll;
use crate::metrics::Metrics;
use async_graphql::futures_util::future::{BoxFuture, FutureExt, Shared};
use axum::http::{HeaderValue, header};
use bytes::Bytes;
use folio_common::graphql::now_unix;
use folio_common::{IdentityKey, Viewer};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The key of an upload marker: `{"$upload": "<file part name>"}` stands for a file in
/// the request's variables.
pub const UPLOAD_MARKER: &str = "$upload";

/// One uploaded file (at most `FOLIO_MAX_UPLOAD_BYTES`).
#[derive(Debug, Clone)]
pub struct UploadFile {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: FileData,
}

/// Where an uploaded file's bytes are: in memory up to [`FileData::IN_MEMORY`] bytes, in a
/// temporary file beyond (deleted when its last clone is dropped), so the router's memory
/// does not grow with the size of the files in flight.
#[derive(Debug, Clone)]
pub enum FileData {
    Memory(Bytes),
    Disk {
        path: Arc<tempfile::TempPath>,
        len: u64,
    },
}

impl UploadFile {
    /// A file held in memory.
    pub fn in_memory(filename: Option<String>, content_type: Option<String>, bytes: Bytes) -> Self {
        UploadFile {
            filename,
            content_type,
            data: FileData::Memory(bytes),
        }
    }
}

impl FileData {
    /// The largest file kept in memory while it is read.
    pub const IN_MEMORY: usize = 64 * 1024;

    pub fn len(&self) -> u64 {
        match self {
            FileData::Memory(bytes) => bytes.len() as u64,
            FileData::Disk { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole file, read into memory.
    pub async fn read_all(&self) -> std::io::Result<Bytes> {
        match self {
            FileData::Memory(bytes) => Ok(bytes.clone()),
            FileData::Disk { path, .. } => Ok(tokio::fs::read(&***path).await?.into()),
        }
    }

    /// A request body that sends the file (read from disk chunk by chunk when it is there).
    async fn body(&self) -> std::io::Result<reqwest::Body> {
        match self {
            FileData::Memory(bytes) => Ok(reqwest::Body::from(bytes.clone())),
            FileData::Disk { path, .. } => {
                let file = tokio::fs::File::open(&***path).await?;
                // The path goes along, so the file outlives the request that reads it.
                let chunks = futures_util::stream::try_unfold(
                    (file, path.clone()),
                    |(mut file, path)| async move {
                        let mut chunk = bytes::BytesMut::with_capacity(FileData::IN_MEMORY);
                        let n = tokio::io::AsyncReadExt::read_buf(&mut file, &mut chunk).await?;
                        Ok::<_, std::io::Error>((n > 0).then(|| (chunk.freeze(), (file, path))))
                    },
                );
                Ok(reqwest::Body::wrap_stream(chunks))
            }
        }
    }
}

/// The files of a multipart request, by their part name (the marker's value).
pub type Uploads = Arc<BTreeMap<String, UploadFile>>;

/// The upload markers in `variables` that name one of `uploads`: for each, the dotted
/// path (`variables.…`) and the file's name, in document order.
fn upload_paths(variables: &Map<String, Value>, uploads: &Uploads) -> Vec<(String, String)> {
    fn walk(value: &Value, at: &str, uploads: &Uploads, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(m) => {
                if m.len() == 1
                    && let Some(Value::String(name)) = m.get(UPLOAD_MARKER)
                    && uploads.contains_key(name)
                {
                    out.push((at.to_owned(), name.clone()));
                    return;
                }
                for (k, v) in m {
                    walk(v, &format!("{at}.{k}"), uploads, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}.{i}"), uploads, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if !uploads.is_empty() {
        for (k, v) in variables {
            walk(v, &format!("variables.{k}"), uploads, &mut out);
        }
    }
    out
}

/// A fetch's variables: JSON values, and values already written as JSON text (the
/// entity representations, written once while they are collected).
#[derive(Debug, Default)]
pub struct Variables {
    pub values: Map<String, Value>,
    /// (name, JSON text).
    pub raw: Vec<(String, String)>,
}

impl From<Map<String, Value>> for Variables {
    fn from(values: Map<String, Value>) -> Self {
        Variables {
            values,
            raw: Vec::new(),
        }
    }
}

impl Variables {
    /// All of them as one JSON map (the raw ones parsed back).
    fn to_map(&self) -> Map<String, Value> {
        let mut all = self.values.clone();
        for (name, text) in &self.raw {
            let value = serde_json::from_str(text).unwrap_or(Value::Null);
            all.insert(name.clone(), value);
        }
        all
    }
}

/// `{"query": …, "variables": …}` as JSON text, written directly (no intermediate tree).
fn request_json(query: &str, variables: &Variables) -> String {
    let raw_len: usize = variables
        .raw
        .iter()
        .map(|(n, t)| n.len() + t.len() + 4)
        .sum();
    let mut out = Vec::with_capacity(query.len() + raw_len + 64);
    // Serializing strings and JSON values into a `Vec` cannot fail.
    out.extend_from_slice(b"{\"query\":");
    let _ = serde_json::to_writer(&mut out, query);
    out.extend_from_slice(b",\"variables\":{");
    let mut first = true;
    let mut name = |out: &mut Vec<u8>, name: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
    };
    for (k, v) in &variables.values {
        name(&mut out, k);
        let _ = serde_json::to_writer(&mut out, v);
    }
    for (k, text) in &variables.raw {
        name(&mut out, k);
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(b"}}");
    String::from_utf8(out).unwrap_or_default()
}

/// Sets the value at a dotted `variables.…` path of `operations` to `null`.
fn null_at(operations: &mut Value, path: &str) {
    let mut current = operations;
    for segment in path.split('.') {
        let next = match current {
            Value::Object(m) => m.get_mut(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => current = n,
            None => return,
        }
    }
    *current = Value::Null;
}

/// A subgraph request's body.
enum Body {
    Json(String),
    /// GraphQL multipart request: `operations`, `map`, then the files as `(part, file)`.
    Multipart {
        operations: String,
        map: String,
        files: Vec<(String, UploadFile)>,
    },
}

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
    /// The answer's `data` when it is an object.
    pub data: Option<Data>,
    pub errors: Vec<Value>,
}

struct Endpoint {
    url: String,
    permits: Arc<Semaphore>,
}

/// A subgraph's answer, shared by every request an identical in-flight fetch served.
pub type Answer = Result<Arc<SubgraphResponse>, FetchError>;

type InFlight = Shared<BoxFuture<'static, Answer>>;

/// Removes a shared fetch from the in-flight map when its leader finishes or is dropped.
struct InFlightGuard<'a> {
    map: &'a Mutex<HashMap<String, InFlight>>,
    key: String,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(&self.key);
        }
    }
}

/// The HTTP side of talking to subgraphs: pooled keep-alive connections to each.
pub struct SubgraphClient {
    client: reqwest::Client,
    endpoints: HashMap<String, Endpoint>,
    identity: IdentityKey,
    timeout: Duration,
    metrics: Arc<Metrics>,
    dedupe: bool,
    in_flight: Mutex<HashMap<String, InFlight>>,
    busy_poll: Option<Arc<BusyPoll>>,
}

impl SubgraphClient {
    /// A client for `urls` (subgraph name → GraphQL endpoint), from `http` (which decides
    /// whom HTTPS trusts).
    pub fn new(
        http: reqwest::ClientBuilder,
        urls: impl IntoIterator<Item = (String, String)>,
        identity: IdentityKey,
        timeout: Duration,
        max_in_flight: usize,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = http
            .pool_idle_timeout(Duration::from_secs(90))
            .connect_timeout(timeout)
            .build()?;
        let endpoints = urls
            .into_iter()
            .map(|(name, url)| {
                let permits = Arc::new(Semaphore::new(max_in_flight.max(1)));
                (name, Endpoint { url, permits })
            })
            .collect();
        Ok(SubgraphClient {
            client,
            endpoints,
            identity,
            timeout,
            metrics,
            dedupe: true,
            in_flight: Mutex::new(HashMap::new()),
            busy_poll: None,
        })
    }

    /// Whether identical in-flight query fetches are shared (on by default).
    pub fn with_dedupe(mut self, dedupe: bool) -> Self {
        self.dedupe = dedupe;
        self
    }

    /// Tells `poll` of every fetch it sends (`FOLIO_ROUTER_BUSY_POLL_US`).
    pub fn with_busy_poll(mut self, poll: Option<Arc<BusyPoll>>) -> Self {
        self.busy_poll = poll;
        self
    }

    /// The subgraphs this client reaches, with their URLs.
    pub fn urls(&self) -> impl Iterator<Item = (&str, &str)> {
        self.endpoints
            .iter()
            .map(|(n, e)| (n.as_str(), e.url.as_str()))
    }

    /// Sends one operation to `subgraph` as `viewer`. `shareable` (queries only) lets an
    /// identical fetch already in flight answer this one too.
    pub async fn fetch(
        &self,
        subgraph: &str,
        query: &str,
        variables: Map<String, Value>,
        viewer: &Viewer,
        traceparent: Option<&HeaderValue>,
        shareable: bool,
    ) -> Answer {
        self.fetch_with_uploads(
            subgraph,
            query,
            Variables::from(variables),
            &Uploads::default(),
            viewer,
            traceparent,
            shareable,
        )
        .await
    }

    /// [`SubgraphClient::fetch`], sending the `uploads` that `variables` mark as a
    /// multipart request (never shared).
    #[allow(clippy::too_many_arguments)]
    pub async fn fetch_with_uploads(
        &self,
        subgraph: &str,
        query: &str,
        variables: Variables,
        uploads: &Uploads,
        viewer: &Viewer,
        traceparent: Option<&HeaderValue>,
        shareable: bool,
    ) -> Answer {
        let endpoint = self
            .endpoints
            .get(subgraph)
            .ok_or_else(|| FetchError::UnknownSubgraph(subgraph.to_owned()))?;
        if let Some(poll) = &self.busy_poll {
            poll.mark();
        }
        let marked = upload_paths(&variables.values, uploads);
        let mut headers: Vec<(header::HeaderName, HeaderValue)> =
            self.identity.sign(viewer, now_unix());
        // With traces on, each fetch sends its own span's `traceparent` (in `send`);
        // without, the client's is passed through.
        if let Some(tp) = traceparent
            && !folio_common::telemetry::tracing_enabled()
        {
            headers.push((header::HeaderName::from_static("traceparent"), tp.clone()));
        }
        let body = if marked.is_empty() {
            Body::Json(request_json(query, &variables))
        } else {
            let mut operations =
                serde_json::json!({ "query": query, "variables": variables.to_map() });
            // One part per distinct file, numbered for this fetch; a file may fill
            // several paths.
            let mut parts: Vec<(String, UploadFile)> = Vec::new();
            let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (path, name) in marked {
                null_at(&mut operations, &path);
                let part = match parts.iter().position(|(n, _)| *n == name) {
                    Some(i) => i.to_string(),
                    None => {
                        if let Some(file) = uploads.get(&name) {
                            parts.push((name.clone(), file.clone()));
                        }
                        (parts.len() - 1).to_string()
                    }
                };
                map.entry(part).or_default().push(path);
            }
            headers.push((
                header::HeaderName::from_static("apollo-require-preflight"),
                HeaderValue::from_static("true"),
            ));
            Body::Multipart {
                operations: operations.to_string(),
                map: serde_json::to_string(&map).unwrap_or_default(),
                files: parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (_, f))| (i.to_string(), f))
                    .collect(),
            }
        };
        // Everything the answer depends on: the subgraph, the document and variables (the
        // body), and who is asking (user, admin flag, client IP). Uploads are never shared.
        let key = match &body {
            Body::Json(json) if self.dedupe && shareable => Some(format!(
                "{subgraph}\n{:?}\n{}\n{:?}\n{json}",
                viewer.user_id, viewer.is_admin, viewer.client_ip
            )),
            _ => None,
        };
        let send = send(
            self.client.clone(),
            endpoint.url.clone(),
            endpoint.permits.clone(),
            body,
            headers,
            self.timeout,
            self.metrics.clone(),
            subgraph.to_owned(),
        );
        let Some(key) = key else {
            return send.await;
        };
        let (shared, _leader) = {
            let Ok(mut map) = self.in_flight.lock() else {
                return send.await;
            };
            match map.get(&key) {
                Some(existing) => (existing.clone(), None),
                None => {
                    let shared = send.boxed().shared();
                    map.insert(key.clone(), shared.clone());
                    (
                        shared,
                        Some(InFlightGuard {
                            map: &self.in_flight,
                            key,
                        }),
                    )
                }
            }
        };
        shared.await
    }

    /// How many distinct fetches are in flight right now (for tests and metrics).
    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().map_or(0, |m| m.len())
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

/// One HTTP round trip to a subgraph, owning everything it needs (so it can be shared).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(
    name = "fetch",
    skip_all,
    fields(otel.kind = "client", otel.name = %format!("fetch {subgraph}"), subgraph = %subgraph)
)]
async fn send(
    client: reqwest::Client,
    url: String,
    permits: Arc<Semaphore>,
    body: Body,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    timeout: Duration,
    metrics: Arc<Metrics>,
    subgraph: String,
) -> Answer {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, async {
        let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
        let mut request = match body {
            Body::Json(json) => client
                .post(&url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(json),
            Body::Multipart {
                operations,
                map,
                files,
            } => {
                let mut form = reqwest::multipart::Form::new()
                    .text("operations", operations)
                    .text("map", map);
                for (part, file) in files {
                    let body = file.data.body().await.map_err(|e| e.to_string())?;
                    let mut p = reqwest::multipart::Part::stream_with_length(body, file.data.len())
                        .file_name(file.filename.unwrap_or_else(|| part.clone()));
                    if let Some(ct) = &file.content_type {
                        p = p.mime_str(ct).map_err(|e| e.to_string())?;
                    }
                    form = form.part(part, p);
                }
                client.post(&url).multipart(form)
            }
        };
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(tp) = folio_common::telemetry::traceparent() {
            request = request.header("traceparent", tp);
        }
        let answer = request.send().await.map_err(|e| e.to_string())?;
        let status = answer.status();
        let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice::<Data>(&bytes)
            .map_err(|_| format!("HTTP {status} without a GraphQL response"))
    })
    .await;
    let parsed = match result {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            metrics.fetch(&subgraph, false, started.elapsed());
            return Err(FetchError::Unavailable(e));
        }
        Err(_) => {
            metrics.fetch(&subgraph, false, started.elapsed());
            return Err(FetchError::Unavailable("timed out".into()));
        }
    };
    let Data::Object(mut parsed) = parsed else {
        metrics.fetch(&subgraph, false, started.elapsed());
        return Err(FetchError::Unavailable(
            "the answer is not a JSON object".into(),
        ));
    };
    let mut take = |key: &str| {
        let i = parsed.iter().position(|(k, _)| k == key)?;
        Some(parsed.swap_remove(i).1)
    };
    let data = match take("data") {
        Some(d @ Data::Object(_)) => Some(d),
        _ => None,
    };
    let errors = match take("errors") {
        Some(Data::Array(e)) => e.iter().map(Data::to_value).collect(),
        _ => Vec::new(),
    };
    metrics.fetch(&subgraph, errors.is_empty(), started.elapsed());
    Ok(Arc::new(SubgraphResponse { data, errors }))
}
