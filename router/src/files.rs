//! `GET /media/<key>`: files a subgraph serves, forwarded by the router so that clients
//! reach every URL the API hands out on one origin. The router forwards to the subgraph
//! named `media` in the supergraph (its URL with `/graphql` replaced by `/media/<key>`);
//! a supergraph without one answers 404. Only `GET` and `HEAD`, only the conditional
//! request headers go out, and only the status, the body (streamed) and the headers that
//! describe the file come back.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Where files are forwarded to.
#[derive(Clone, Debug)]
pub struct Files {
    client: reqwest::Client,
    /// `<the media subgraph's base URL>/media/`.
    base: String,
}

/// The subgraph whose files the router serves.
pub const SUBGRAPH: &str = "media";

impl Files {
    /// Files of the subgraph at `graphql_url` (its GraphQL endpoint), fetched with a
    /// client from `http`.
    pub fn new(
        graphql_url: &str,
        timeout: Duration,
        http: reqwest::ClientBuilder,
    ) -> anyhow::Result<Files> {
        let root = graphql_url
            .strip_suffix("/graphql")
            .unwrap_or(graphql_url.trim_end_matches('/'));
        Ok(Files {
            client: http.connect_timeout(timeout).timeout(timeout * 4).build()?,
            base: format!("{root}/media/"),
        })
    }
}

/// Headers forwarded to the subgraph, and back from it.
const REQUEST_HEADERS: [header::HeaderName; 2] = [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE];
const RESPONSE_HEADERS: [header::HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::ETAG,
    header::CACHE_CONTROL,
    header::LAST_MODIFIED,
    header::X_CONTENT_TYPE_OPTIONS,
];

pub async fn forward(
    State(files): State<Option<Files>>,
    method: Method,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(files) = files else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // One path segment of plain characters: nothing that could reach another route.
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut request = files.client.request(method, format!("{}{key}", files.base));
    for name in REQUEST_HEADERS {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "the media subgraph did not answer a file request");
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for name in RESPONSE_HEADERS {
        if let Some(value) = answer.headers().get(&name) {
            out.insert(name, value.clone());
        }
    }
    // Relayed as it arrives, never held whole.
    let body = futures_util::stream::try_unfold(answer, |mut answer| async move {
        Ok::<_, reqwest::Error>(answer.chunk().await?.map(|chunk| (chunk, answer)))
    });
    (status, out, Body::from_stream(body)).into_response()
}
