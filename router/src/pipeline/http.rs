//! Stage 1, transport: GraphQL over HTTP — reading the request, refusing what a browser
//! could send cross-site (CSRF), and negotiating the response's media type.
//!
//! Accepted: `POST` with `application/json`; `GET` with `query`, `variables`,
//! `operationName`, `extensions` in the query string (queries only: the caller checks the
//! operation's kind once it is parsed). Refused: `text/plain` and form-encoded bodies, and
//! `multipart/form-data` without an `apollo-require-preflight` or `x-apollo-operation-name`
//! header — the simple requests a page on another origin can make without a preflight.
//!
//! File uploads follow the GraphQL multipart request spec
//! (<https://github.com/jaydenseric/graphql-multipart-request-spec>): a
//! `multipart/form-data` body (with one of those headers) whose first field `operations`
//! is the request as JSON (one request: batches are refused), whose second field `map`
//! names, for each file part, the `variables.…` paths it fills, and then the files.
//! [`from_multipart`] reads the body as a stream and puts a marker
//! (`{"$upload": "<part name>"}`, [`crate::execute::fetch::UPLOAD_MARKER`]) at each mapped
//! path, so that variable coercion sees a non-null custom scalar value; the executor sends
//! the file to the subgraph whose fetch carries the marker.
//!
//! Buffering is bounded: each file is at most [`UploadLimits::max_file_bytes`]
//! (`FOLIO_MAX_UPLOAD_BYTES`), at most [`UploadLimits::max_files`] of them
//! (`FOLIO_MAX_UPLOAD_FILES`), and `operations` and `map` up to the ordinary body limit
//! (`FOLIO_MAX_BODY_BYTES`). A file is held in memory up to [`FileData::IN_MEMORY`] (64 KiB)
//! and written to a temporary file beyond, so memory does not grow with the files' size. Reading stops at the first byte over a limit (HTTP 413
//! `PAYLOAD_TOO_LARGE`, naming it).

use crate::error::RouterError;
use crate::execute::fetch::{FileData, UPLOAD_MARKER, UploadFile, Uploads};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// The media type of GraphQL responses per the GraphQL-over-HTTP spec.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// A GraphQL request as it arrived, before parsing the document.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    /// The operation's text; absent when `document_id` or an APQ hash names it
    /// (`documents`).
    #[serde(default)]
    pub query: Option<String>,
    /// A trusted document's id (the GraphQL-over-HTTP persisted documents form).
    #[serde(default)]
    pub document_id: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
}

impl GraphQLRequest {
    /// The request as JSON, for a subgraph.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        if let Some(query) = &self.query {
            body.insert("query".into(), Value::String(query.clone()));
        }
        if let Some(id) = &self.document_id {
            body.insert("documentId".into(), Value::String(id.clone()));
        }
        if let Some(name) = &self.operation_name {
            body.insert("operationName".into(), Value::String(name.clone()));
        }
        if let Some(v) = &self.variables {
            body.insert("variables".into(), Value::Object(v.clone()));
        }
        if let Some(e) = &self.extensions {
            body.insert("extensions".into(), Value::Object(e.clone()));
        }
        Value::Object(body)
    }
}

/// The response media type the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `application/json`: GraphQL errors travel with HTTP 200.
    Json,
    /// `application/graphql-response+json`: a request that fails before execution
    /// (parse, validation) gets a 4xx status.
    GraphQLResponseJson,
}

impl ResponseFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseFormat::Json => "application/json",
            ResponseFormat::GraphQLResponseJson => GRAPHQL_RESPONSE_JSON,
        }
    }

    /// The status of a response whose request failed before execution: 400 under the
    /// new media type, 200 under `application/json` (what older clients expect).
    pub fn request_error_status(self) -> StatusCode {
        match self {
            ResponseFormat::Json => StatusCode::OK,
            ResponseFormat::GraphQLResponseJson => StatusCode::BAD_REQUEST,
        }
    }
}

/// Picks the response media type from `Accept` (absent or `*/*`: the new media type's
/// older sibling `application/json`, which every client reads).
pub fn negotiate(headers: &HeaderMap) -> Result<ResponseFormat, RouterError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(ResponseFormat::Json);
    };
    let mut best: Option<(f32, ResponseFormat)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';').map(str::trim);
        let media = pieces.next().unwrap_or_default().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => ResponseFormat::GraphQLResponseJson,
            "application/json" | "application/*" | "*/*" => ResponseFormat::Json,
            _ => continue,
        };
        // On equal quality the new media type wins, as the spec recommends.
        let better = match best {
            None => q > 0.0,
            Some((bq, bf)) => {
                q > bq || (q == bq && format == ResponseFormat::GraphQLResponseJson && bf != format)
            }
        };
        if better {
            best = Some((q, format));
        }
    }
    best.map(|(_, f)| f).ok_or_else(|| {
        RouterError::NotAcceptable(format!(
            "responses are {GRAPHQL_RESPONSE_JSON} or application/json; the Accept header allows neither"
        ))
    })
}

/// Reads a `POST` body, refusing media types a cross-site form could send.
pub fn from_post(headers: &HeaderMap, body: &[u8]) -> Result<GraphQLRequest, RouterError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "application/json" | GRAPHQL_RESPONSE_JSON => {}
        "multipart/form-data" => {
            multipart_boundary(headers)?;
            // Multipart bodies are streamed through `from_multipart`, never read whole.
            return Err(RouterError::BadRequest(
                "a multipart body must be read as an upload".into(),
            ));
        }
        "" | "text/plain" | "application/x-www-form-urlencoded" => return Err(csrf_refusal()),
        other => {
            return Err(RouterError::UnsupportedMediaType(format!(
                "{other} is not a GraphQL request; send application/json"
            )));
        }
    }
    serde_json::from_slice::<GraphQLRequest>(body)
        .map_err(|e| RouterError::BadRequest(format!("the body is not a GraphQL request: {e}")))
}

/// Whether the body is `multipart/form-data` (a file upload, or a CSRF attempt).
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The boundary of a preflighted multipart body; a CSRF refusal without the header.
fn multipart_boundary(headers: &HeaderMap) -> Result<String, RouterError> {
    let preflighted = headers.contains_key("apollo-require-preflight")
        || headers.contains_key("x-apollo-operation-name");
    if !preflighted {
        return Err(csrf_refusal());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    multer::parse_boundary(content_type).map_err(|_| {
        RouterError::BadRequest("the multipart/form-data Content-Type has no boundary".into())
    })
}

/// What a multipart upload may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Largest file, in bytes (`FOLIO_MAX_UPLOAD_BYTES`).
    pub max_file_bytes: usize,
    /// Most files (`FOLIO_MAX_UPLOAD_FILES`).
    pub max_files: usize,
    /// Largest `operations` or `map` field, in bytes (`FOLIO_MAX_BODY_BYTES`).
    pub max_field_bytes: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_file_bytes: 10 * 1024 * 1024,
            max_files: 10,
            max_field_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Reads a multipart upload (GraphQL multipart request spec) from a body stream: the
/// request, with an upload marker at each mapped variable path, and the files.
pub async fn from_multipart<S, E>(
    headers: &HeaderMap,
    body: S,
    limits: UploadLimits,
) -> Result<(GraphQLRequest, Uploads), RouterError>
where
    S: async_graphql::futures_util::Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let boundary = multipart_boundary(headers)?;
    let bad = RouterError::BadRequest;
    let field_limit = limits.max_field_bytes as u64;
    let file_limit = limits.max_file_bytes as u64;
    let whole = field_limit
        .saturating_mul(2)
        .saturating_add(file_limit.saturating_mul(limits.max_files as u64))
        // Part headers and boundaries.
        .saturating_add(64 * 1024);
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(whole)
            .per_field(file_limit)
            .for_field("operations", field_limit)
            .for_field("map", field_limit),
    );
    let mut multipart =
        multer::Multipart::with_constraints(Paced::new(body), boundary, constraints);
    let read_error = |e: multer::Error| match e {
        multer::Error::FieldSizeExceeded { field_name, .. } => {
            let name = field_name.unwrap_or_default();
            if name == "operations" || name == "map" {
                too_large(format!(
                    "the multipart field `{name}` is larger than {} bytes (FOLIO_MAX_BODY_BYTES)",
                    limits.max_field_bytes
                ))
            } else {
                too_large(format!(
                    "the file `{name}` is larger than {} bytes (FOLIO_MAX_UPLOAD_BYTES)",
                    limits.max_file_bytes
                ))
            }
        }
        multer::Error::StreamSizeExceeded { limit } => too_large(format!(
            "the upload is larger than {limit} bytes (at most FOLIO_MAX_UPLOAD_FILES = {} \
             files of FOLIO_MAX_UPLOAD_BYTES = {} bytes each)",
            limits.max_files, limits.max_file_bytes
        )),
        other => bad(format!("the multipart body could not be read: {other}")),
    };

    // 1. `operations`: one GraphQL request.
    let mut operations = match multipart.next_field().await.map_err(read_error)? {
        Some(field) if field.name() == Some("operations") => {
            let bytes = field.bytes().await.map_err(read_error)?;
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| bad(format!("the `operations` field is not JSON: {e}")))?
        }
        _ => {
            return Err(bad(
                "the first multipart field must be `operations` (GraphQL multipart request spec)"
                    .into(),
            ));
        }
    };
    if operations.is_array() {
        return Err(bad(
            "batched operations are not supported: send one request object in `operations`".into(),
        ));
    }

    // 2. `map`: file part name -> the `variables.…` paths it fills.
    let map: BTreeMap<String, Vec<String>> =
        match multipart.next_field().await.map_err(read_error)? {
            Some(field) if field.name() == Some("map") => {
                let bytes = field.bytes().await.map_err(read_error)?;
                serde_json::from_slice(&bytes).map_err(|e| {
                    bad(format!(
                        "the `map` field must be a JSON object of path lists, like \
                     {{\"0\": [\"variables.file\"]}}: {e}"
                    ))
                })?
            }
            _ => {
                return Err(bad(
                    "the second multipart field must be `map` (GraphQL multipart request spec)"
                        .into(),
                ));
            }
        };
    if map.len() > limits.max_files {
        return Err(too_large(format!(
            "the upload maps {} files; at most {} are allowed (FOLIO_MAX_UPLOAD_FILES)",
            map.len(),
            limits.max_files
        )));
    }
    for (name, paths) in &map {
        if name == "operations" || name == "map" {
            return Err(bad(format!("`{name}` cannot name a file part")));
        }
        if paths.is_empty() {
            return Err(bad(format!("the map gives file `{name}` no path")));
        }
        for path in paths {
            let slot = slot_at(&mut operations, path).ok_or_else(|| {
                bad(format!(
                    "the map path `{path}` (file `{name}`) is not a variable of the operation"
                ))
            })?;
            *slot = serde_json::json!({ UPLOAD_MARKER: name });
        }
    }
    let request = serde_json::from_value::<GraphQLRequest>(operations)
        .map_err(|e| bad(format!("`operations` is not a GraphQL request: {e}")))?;

    // 3. The files, each named in the map.
    let mut files = BTreeMap::new();
    while let Some(field) = multipart.next_field().await.map_err(read_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if !map.contains_key(&name) {
            return Err(bad(format!(
                "the multipart field `{name}` is not a file named in `map`"
            )));
        }
        if files.contains_key(&name) {
            return Err(bad(format!("the file `{name}` came twice")));
        }
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = read_file(field, &read_error).await?;
        files.insert(
            name,
            UploadFile {
                filename,
                content_type,
                data,
            },
        );
    }
    if let Some(missing) = map.keys().find(|k| !files.contains_key(*k)) {
        return Err(bad(format!(
            "the map names file `{missing}`, but no such part came"
        )));
    }
    Ok((request, std::sync::Arc::new(files)))
}

/// The body as multer reads it, at most [`Paced::BURST`] bytes per poll. multer reads its
/// input until the input would wait, so behind a client faster than the disk the upload is
/// spooled to, it would hold in memory as much of the file as had arrived; pacing makes it
/// hand over what it has every `BURST` bytes.
struct Paced<S> {
    inner: std::pin::Pin<Box<S>>,
    since_pause: usize,
}

impl<S> Paced<S> {
    const BURST: usize = 256 * 1024;

    fn new(inner: S) -> Self {
        Paced {
            inner: Box::pin(inner),
            since_pause: 0,
        }
    }
}

impl<S, E> async_graphql::futures_util::Stream for Paced<S>
where
    S: async_graphql::futures_util::Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.since_pause >= Self::BURST {
            // Ready again at once: this only ends multer's read-ahead.
            self.since_pause = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = self.inner.as_mut().poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) => self.since_pause += chunk.len(),
            Poll::Pending => self.since_pause = 0,
            Poll::Ready(_) => {}
        }
        next
    }
}

/// A file part's bytes: in memory while they fit in [`FileData::IN_MEMORY`], else written
/// to a temporary file as they arrive.
async fn read_file(
    mut field: multer::Field<'_>,
    read_error: &impl Fn(multer::Error) -> RouterError,
) -> Result<FileData, RouterError> {
    use tokio::io::AsyncWriteExt;
    let spool_error =
        |e: std::io::Error| RouterError::Internal(format!("spooling an upload to disk: {e}"));
    let mut head = bytes::BytesMut::new();
    let mut disk: Option<(tokio::fs::File, tempfile::TempPath)> = None;
    let mut len = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(read_error)? {
        len += chunk.len() as u64;
        if let Some((file, _)) = &mut disk {
            file.write_all(&chunk).await.map_err(spool_error)?;
            continue;
        }
        head.extend_from_slice(&chunk);
        if head.len() > FileData::IN_MEMORY {
            let temp = tokio::task::spawn_blocking(tempfile::NamedTempFile::new)
                .await
                .map_err(|e| spool_error(std::io::Error::other(e)))?
                .map_err(spool_error)?;
            let (file, path) = temp.into_parts();
            let mut file = tokio::fs::File::from_std(file);
            file.write_all(&head).await.map_err(spool_error)?;
            head = bytes::BytesMut::new();
            disk = Some((file, path));
        }
    }
    Ok(match disk {
        Some((mut file, path)) => {
            file.flush().await.map_err(spool_error)?;
            FileData::Disk {
                path: std::sync::Arc::new(path),
                len,
            }
        }
        None => FileData::Memory(head.freeze()),
    })
}

/// The value at a map path (`variables.<name>[.<key or index>…]`) of `operations`; `None`
/// unless it leads to an existing variable (or an item or field inside one).
fn slot_at<'v>(operations: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut segments = path.split('.');
    if segments.next() != Some("variables") {
        return None;
    }
    let mut current = operations.get_mut("variables")?;
    let mut depth = 0;
    for segment in segments {
        current = match current {
            Value::Object(m) => m.get_mut(segment)?,
            Value::Array(items) => items.get_mut(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
        depth += 1;
    }
    (depth > 0).then_some(current)
}

fn too_large(message: String) -> RouterError {
    RouterError::PayloadTooLarge(message)
}

fn csrf_refusal() -> RouterError {
    RouterError::CsrfPrevented
}

/// Reads a `GET` request's query string parameters.
pub fn from_get(params: &HashMap<String, String>) -> Result<GraphQLRequest, RouterError> {
    let bad = RouterError::BadRequest;
    let text = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    let object = |name: &str| -> Result<Option<Map<String, Value>>, RouterError> {
        match params.get(name).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok(Some(m)),
                Ok(Value::Null) => Ok(None),
                _ => Err(bad(format!("`{name}` must be a JSON object"))),
            },
        }
    };
    let request = GraphQLRequest {
        query: text("query"),
        document_id: text("documentId"),
        operation_name: text("operationName"),
        variables: object("variables")?,
        extensions: object("extensions")?,
    };
    // Without its text, a GET names a persisted document (which a CDN can cache).
    let named = request.document_id.is_some()
        || request
            .extensions
            .as_ref()
            .is_some_and(|e| e.contains_key("persistedQuery"));
    if request.query.is_none() && !named {
        return Err(bad("a GET request needs a `query` parameter".into()));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn negotiates_the_response_media_type() {
        assert_eq!(negotiate(&headers(&[])).ok(), Some(ResponseFormat::Json));
        assert_eq!(
            negotiate(&headers(&[("accept", "*/*")])).ok(),
            Some(ResponseFormat::Json)
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/graphql-response+json, application/json"
            )]))
            .ok(),
            Some(ResponseFormat::GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/graphql-response+json;q=0.5, application/json"
            )]))
            .ok(),
            Some(ResponseFormat::Json)
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "text/html")]))
                .map_err(|r| r.status(ResponseFormat::Json)),
            Err(StatusCode::NOT_ACCEPTABLE)
        );
    }

    #[test]
    fn refuses_simple_cross_site_bodies() {
        let body = br#"{"query":"{ a }"}"#;
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let h: HeaderMap = [(header::CONTENT_TYPE, HeaderValue::from_static(ct))]
                .into_iter()
                .collect();
            assert_eq!(
                from_post(&h, body).expect_err(ct).code(),
                "CSRF_PREVENTED",
                "{ct}"
            );
        }
        let ok: HeaderMap = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )]
        .into_iter()
        .collect();
        assert_eq!(
            from_post(&ok, body).expect("json").query.as_deref(),
            Some("{ a }")
        );
        assert_eq!(
            from_post(&ok, b"{\"query\": 3}").expect_err("bad").code(),
            "BAD_REQUEST"
        );
    }

    /// A multipart part: name, filename, content.
    type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

    /// A multipart body of `(name, filename, content)` parts.
    fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, filename, content) in parts {
            body.extend_from_slice(b"--XyZ\r\n");
            match filename {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: text/plain\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        body
    }

    fn upload_headers(preflight: bool) -> HeaderMap {
        let mut h = headers(&[("content-type", "multipart/form-data; boundary=XyZ")]);
        if preflight {
            h.insert("apollo-require-preflight", HeaderValue::from_static("true"));
        }
        h
    }

    async fn read_upload(
        preflight: bool,
        parts: &[Part<'_>],
        limits: UploadLimits,
    ) -> Result<(GraphQLRequest, Uploads), RouterError> {
        let body = Bytes::from(multipart_body(parts));
        // In small chunks, as a network would deliver it.
        let chunks: Vec<Result<Bytes, std::io::Error>> = (0..body.len())
            .step_by(7)
            .map(|i| Ok(body.slice(i..(i + 7).min(body.len()))))
            .collect();
        from_multipart(
            &upload_headers(preflight),
            async_graphql::futures_util::stream::iter(chunks),
            limits,
        )
        .await
    }

    const OPS: &[u8] = br#"{"query":"mutation($f: Upload!, $fs: [Upload!]!) { a(f: $f, fs: $fs) }","variables":{"f":null,"fs":[null,null]}}"#;

    #[tokio::test]
    async fn reads_a_multipart_upload_with_markers_at_the_mapped_paths() {
        let (request, files) = read_upload(
            true,
            &[
                ("operations", None, OPS),
                (
                    "map",
                    None,
                    br#"{"0":["variables.f","variables.fs.1"],"1":["variables.fs.0"]}"#,
                ),
                ("0", Some("a.txt"), b"alpha\r\n--not a boundary"),
                ("1", Some("b.bin"), &[0u8, 255, 1]),
            ],
            UploadLimits::default(),
        )
        .await
        .expect("upload");
        let vars = request.variables.expect("variables");
        assert_eq!(vars["f"], serde_json::json!({ "$upload": "0" }));
        assert_eq!(
            vars["fs"],
            serde_json::json!([{ "$upload": "1" }, { "$upload": "0" }])
        );
        assert_eq!(files.len(), 2);
        assert_eq!(files["0"].filename.as_deref(), Some("a.txt"));
        assert_eq!(files["0"].content_type.as_deref(), Some("text/plain"));
        assert_eq!(
            &files["0"].data.read_all().await.expect("read")[..],
            b"alpha\r\n--not a boundary"
        );
        assert_eq!(
            &files["1"].data.read_all().await.expect("read")[..],
            &[0u8, 255, 1]
        );

        // No files at all: an ordinary request that came as multipart.
        let (request, files) = read_upload(
            true,
            &[
                ("operations", None, br#"{"query":"{ me { id } }"}"#),
                ("map", None, b"{}"),
            ],
            UploadLimits::default(),
        )
        .await
        .expect("no files");
        assert_eq!(request.query.as_deref(), Some("{ me { id } }"));
        assert!(files.is_empty());
    }

    #[tokio::test]
    async fn refuses_malformed_uploads() {
        let limits = UploadLimits::default();
        let file: Part<'_> = ("0", Some("a.txt"), b"x");
        let cases: Vec<(&str, Vec<Part<'_>>)> = vec![
            (
                "not a variable",
                vec![
                    ("operations", None, OPS),
                    ("map", None, br#"{"0":["variables.nope"]}"#),
                    file,
                ],
            ),
            (
                "outside variables",
                vec![
                    ("operations", None, OPS),
                    ("map", None, br#"{"0":["query"]}"#),
                    file,
                ],
            ),
            (
                "index out of range",
                vec![
                    ("operations", None, OPS),
                    ("map", None, br#"{"0":["variables.fs.2"]}"#),
                    file,
                ],
            ),
            (
                "map first",
                vec![("map", None, b"{}"), ("operations", None, OPS)],
            ),
            (
                "batch",
                vec![
                    ("operations", None, b"[{\"query\":\"{ a }\"}]"),
                    ("map", None, b"{}"),
                ],
            ),
            (
                "map not JSON",
                vec![("operations", None, OPS), ("map", None, b"[")],
            ),
            (
                "missing file",
                vec![
                    ("operations", None, OPS),
                    ("map", None, br#"{"0":["variables.f"]}"#),
                ],
            ),
            (
                "unmapped part",
                vec![("operations", None, OPS), ("map", None, b"{}"), file],
            ),
            (
                "not a request",
                vec![("operations", None, b"{\"query\":7}"), ("map", None, b"{}")],
            ),
        ];
        for (what, parts) in cases {
            let refusal = read_upload(true, &parts, limits).await.expect_err(what);
            assert_eq!(
                (refusal.status(ResponseFormat::Json), refusal.code()),
                (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
                "{what}: {refusal}"
            );
        }
        // Without a preflight header it is a CSRF attempt, whatever it holds.
        let refusal = read_upload(false, &[("operations", None, OPS)], limits)
            .await
            .expect_err("csrf");
        assert_eq!(refusal.code(), "CSRF_PREVENTED");
    }

    #[test]
    fn paced_reads_pause_every_burst() {
        use async_graphql::futures_util::Stream;
        use std::task::{Context, Poll};
        let chunks = (0..10).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 100_000])));
        let mut paced = Paced::new(async_graphql::futures_util::stream::iter(chunks));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut seen = Vec::new();
        loop {
            match std::pin::Pin::new(&mut paced).poll_next(&mut cx) {
                Poll::Ready(Some(chunk)) => seen.push(chunk.expect("chunk").len()),
                Poll::Ready(None) => break,
                Poll::Pending => seen.push(0),
            }
        }
        // Three chunks (300,000 bytes ≥ 256 KiB), a pause, and so on; nothing lost.
        assert_eq!(seen.iter().sum::<usize>(), 1_000_000);
        assert_eq!(seen.iter().position(|n| *n == 0), Some(3));
        assert_eq!(seen.iter().filter(|n| **n == 0).count(), 3);
    }

    #[tokio::test]
    async fn a_large_file_is_spooled_to_disk_and_sent_whole() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (_, files) = read_upload(
            true,
            &[
                ("operations", None, OPS),
                (
                    "map",
                    None,
                    br#"{"0":["variables.f"],"1":["variables.fs.0"]}"#,
                ),
                ("0", Some("big.bin"), &big),
                ("1", Some("small.bin"), b"small"),
            ],
            UploadLimits::default(),
        )
        .await
        .expect("upload");
        assert!(matches!(files["1"].data, FileData::Memory(_)));
        let data = files["0"].data.clone();
        let FileData::Disk { path, len } = &data else {
            panic!("{data:?} is in memory");
        };
        assert_eq!(*len, big.len() as u64);
        assert_eq!(&data.read_all().await.expect("read")[..], &big[..]);
        // The temporary file goes with the last handle on it.
        let on_disk = path.to_path_buf();
        assert!(on_disk.exists());
        drop(files);
        assert!(on_disk.exists(), "a clone still holds it");
        drop(data);
        assert!(!on_disk.exists());
    }

    #[tokio::test]
    async fn enforces_the_upload_limits() {
        let limits = UploadLimits {
            max_file_bytes: 8,
            max_files: 2,
            max_field_bytes: 200,
        };
        let map = br#"{"0":["variables.f"]}"#;
        // At the limit: accepted.
        let ok = read_upload(
            true,
            &[
                ("operations", None, OPS),
                ("map", None, map),
                ("0", Some("a"), b"12345678"),
            ],
            limits,
        )
        .await;
        assert_eq!(ok.expect("8 bytes").1["0"].data.len(), 8);
        // One byte over.
        let refusal = read_upload(
            true,
            &[
                ("operations", None, OPS),
                ("map", None, map),
                ("0", Some("a"), b"123456789"),
            ],
            limits,
        )
        .await
        .expect_err("9 bytes");
        assert_eq!(
            (refusal.status(ResponseFormat::Json), refusal.code()),
            (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
        );
        assert!(
            refusal.to_string().contains("FOLIO_MAX_UPLOAD_BYTES"),
            "{}",
            refusal.to_string()
        );
        // Too many files.
        let refusal = read_upload(
            true,
            &[
                ("operations", None, OPS),
                (
                    "map",
                    None,
                    br#"{"0":["variables.f"],"1":["variables.fs.0"],"2":["variables.fs.1"]}"#,
                ),
            ],
            limits,
        )
        .await
        .expect_err("3 files");
        assert_eq!(
            refusal.status(ResponseFormat::Json),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert!(
            refusal.to_string().contains("FOLIO_MAX_UPLOAD_FILES"),
            "{}",
            refusal.to_string()
        );
        // `operations` larger than the body limit.
        let long = format!(
            r#"{{"query":"{{ a }}","extensions":{{"pad":"{}"}}}}"#,
            "x".repeat(300)
        );
        let refusal = read_upload(
            true,
            &[("operations", None, long.as_bytes()), ("map", None, b"{}")],
            limits,
        )
        .await
        .expect_err("long operations");
        assert_eq!(
            refusal.status(ResponseFormat::Json),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert!(
            refusal.to_string().contains("FOLIO_MAX_BODY_BYTES"),
            "{}",
            refusal.to_string()
        );
    }

    #[test]
    fn reads_get_parameters() {
        let mut p = HashMap::new();
        p.insert("query".to_owned(), "{ a }".to_owned());
        p.insert("variables".to_owned(), r#"{"x":1}"#.to_owned());
        let r = from_get(&p).expect("ok");
        assert_eq!(r.variables.expect("vars")["x"], 1);
        p.insert("variables".to_owned(), "[1]".to_owned());
        assert!(from_get(&p).is_err());
        assert!(from_get(&HashMap::new()).is_err());
    }
}
