//! Stage 1, transport: GraphQL over HTTP — reading the request, refusing what a browser
//! could send cross-site (CSRF), and negotiating the response's media type.
//!
//! Accepted: `POST` with `application/json`; `GET` with `query`, `variables`,
//! `operationName`, `extensions` in the query string (queries only: the caller checks the
//! operation's kind once it is parsed). Refused: `text/plain` and form-encoded bodies, and
//! `multipart/form-data` without an `apollo-require-preflight` or `x-apollo-operation-name`
//! header — the simple requests a page on another origin can make without a preflight.

use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The media type of GraphQL responses per the GraphQL-over-HTTP spec.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// A GraphQL request as it arrived, before parsing the document.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    pub query: String,
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
        body.insert("query".into(), Value::String(self.query.clone()));
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

/// A request refused before it became a GraphQL operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

/// Picks the response media type from `Accept` (absent or `*/*`: the new media type's
/// older sibling `application/json`, which every client reads).
pub fn negotiate(headers: &HeaderMap) -> Result<ResponseFormat, Refusal> {
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
        Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            format!("responses are {GRAPHQL_RESPONSE_JSON} or application/json; the Accept header allows neither"),
        )
    })
}

/// Reads a `POST` body, refusing media types a cross-site form could send.
pub fn from_post(headers: &HeaderMap, body: &[u8]) -> Result<GraphQLRequest, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "application/json" | GRAPHQL_RESPONSE_JSON => {}
        "multipart/form-data" => {
            let preflighted = headers.contains_key("apollo-require-preflight")
                || headers.contains_key("x-apollo-operation-name");
            if !preflighted {
                return Err(csrf_refusal());
            }
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_REQUEST",
                "file uploads are not supported yet (no field takes an Upload)",
            ));
        }
        "" | "text/plain" | "application/x-www-form-urlencoded" => return Err(csrf_refusal()),
        other => {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_REQUEST",
                format!("{other} is not a GraphQL request; send application/json"),
            ));
        }
    }
    serde_json::from_slice::<GraphQLRequest>(body).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("the body is not a GraphQL request: {e}"),
        )
    })
}

fn csrf_refusal() -> Refusal {
    Refusal::new(
        StatusCode::BAD_REQUEST,
        "CSRF_PREVENTED",
        "this request could have come from a page on another site: send application/json, \
         or (for multipart uploads) an `apollo-require-preflight` header",
    )
}

/// Reads a `GET` request's query string parameters.
pub fn from_get(params: &HashMap<String, String>) -> Result<GraphQLRequest, Refusal> {
    let bad = |m: String| Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", m);
    let query = params
        .get("query")
        .filter(|q| !q.is_empty())
        .ok_or_else(|| bad("a GET request needs a `query` parameter".into()))?
        .clone();
    let object = |name: &str| -> Result<Option<Map<String, Value>>, Refusal> {
        match params.get(name).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok(Some(m)),
                Ok(Value::Null) => Ok(None),
                _ => Err(bad(format!("`{name}` must be a JSON object"))),
            },
        }
    };
    Ok(GraphQLRequest {
        query,
        operation_name: params
            .get("operationName")
            .filter(|n| !n.is_empty())
            .cloned(),
        variables: object("variables")?,
        extensions: object("extensions")?,
    })
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
        assert_eq!(negotiate(&headers(&[])), Ok(ResponseFormat::Json));
        assert_eq!(
            negotiate(&headers(&[("accept", "*/*")])),
            Ok(ResponseFormat::Json)
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/graphql-response+json, application/json"
            )])),
            Ok(ResponseFormat::GraphQLResponseJson)
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/graphql-response+json;q=0.5, application/json"
            )])),
            Ok(ResponseFormat::Json)
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "text/html")])).map_err(|r| r.status),
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
                from_post(&h, body).expect_err(ct).code,
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
        assert_eq!(from_post(&ok, body).expect("json").query, "{ a }");
        assert_eq!(
            from_post(&ok, b"{\"query\": 3}").expect_err("bad").code,
            "BAD_REQUEST"
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
