//! `GET /media/<key>`: an object's bytes, with its `Content-Type`, an `ETag` (the key's
//! stem: the bytes of a key never change) and `Cache-Control: public, max-age=31536000,
//! immutable`; `If-None-Match` with that tag answers 304. A key this service never writes
//! (`objects::parse_key`) or an object that is gone answers 404.

use crate::objects::{Objects, parse_key};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The route, to merge into the subgraph's HTTP surface.
pub fn routes(objects: Objects) -> Router {
    Router::new()
        .route("/media/{key}", get(object))
        .with_state(objects)
}

/// What a served object's `Cache-Control` says.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

async fn object(
    State(objects): State<Objects>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(format) = parse_key(&key) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The key names its bytes for ever: its stem is their tag.
    let etag = format!(
        "\"{}\"",
        key.split_once('.').map_or(key.as_str(), |(stem, _)| stem)
    );
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match objects.read(&key).await {
            Ok(Some((length, bytes))) => {
                let mut response = Body::from_stream(bytes).into_response();
                let h = response.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(format.content_type()),
                );
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
                response
            }
            Ok(None) => return StatusCode::NOT_FOUND.into_response(),
            Err(e) => {
                tracing::error!(error = %e.log_message(), "reading an image failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    };
    let h = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, tag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
