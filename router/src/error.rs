//! The router's one error type: every way a request can fail before its operation runs,
//! each variant knowing its `extensions.code`, its HTTP status and what the client is told.
//!
//! Pipeline stages return `Result<_, RouterError>`; `Pipeline::run` turns the error into
//! the response. An [`RouterError::Internal`] is a fault of ours: its cause is logged once,
//! here, and the client only reads "internal error". Errors that happen *during*
//! execution (a subgraph down, a value the API cannot return) are not here: they are
//! GraphQL errors in a 200 response beside partial data (see `execute`).

use crate::pipeline::http::ResponseFormat;
use crate::pipeline::limits::LimitExceeded;
use crate::plan::{ErrorDetail, PlanError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Every `extensions.code` the router itself gives an error: the [`RouterError`] codes,
/// the size limits', and those of execution (`SUBGRAPH_UNAVAILABLE`, `SUBGRAPH_ERROR` for
/// a subgraph's error without a code, `RESPONSE_VALIDATION_FAILED`). Subgraphs add their
/// own (`folio_common::error::Code`). The README's table lists exactly these.
pub const CODES: &[&str] = &[
    "NOT_ACCEPTABLE",
    "BAD_REQUEST",
    "CSRF_PREVENTED",
    "PAYLOAD_TOO_LARGE",
    "METHOD_NOT_ALLOWED",
    "MAX_TOKENS_EXCEEDED",
    "MAX_DEPTH_EXCEEDED",
    "MAX_ALIASES_EXCEEDED",
    "MAX_ROOT_FIELDS_EXCEEDED",
    "MAX_INTROSPECTION_DEPTH_EXCEEDED",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "QUERY_PLANNING_FAILED",
    "UNAUTHENTICATED",
    "BAD_USER_INPUT",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "PERSISTED_QUERY_REQUIRED",
    "COST_ESTIMATED_TOO_EXPENSIVE",
    "RATE_LIMITED",
    "BATCHING_NOT_ENABLED",
    "BATCH_LIMIT_EXCEEDED",
    "INTERNAL_SERVER_ERROR",
    "SUBGRAPH_UNAVAILABLE",
    "SUBGRAPH_ERROR",
    crate::execute::RESPONSE_VALIDATION_FAILED,
];

/// Why the router refused or could not run a request.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// `Accept` allows no media type the router answers in (406 `NOT_ACCEPTABLE`).
    #[error("{0}")]
    NotAcceptable(String),
    /// The body is not in a media type GraphQL is sent in (415 `BAD_REQUEST`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The HTTP request is not a GraphQL request (400 `BAD_REQUEST`).
    #[error("{0}")]
    BadRequest(String),
    /// A request a browser could send cross-site without a preflight (400 `CSRF_PREVENTED`).
    #[error(
        "this request could have come from a page on another site: send application/json, or (for multipart uploads) an `apollo-require-preflight` header"
    )]
    CsrfPrevented,
    /// The body or an uploaded file is over its limit (413 `PAYLOAD_TOO_LARGE`).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A mutation or subscription sent with GET (405 `METHOD_NOT_ALLOWED`, `Allow: POST`).
    #[error("only queries may be sent with GET; send mutations with POST")]
    MethodNotAllowed,
    /// The operation is over one of the size limits (its own `MAX_*_EXCEEDED` code).
    #[error("{}", .0.message)]
    Limit(LimitExceeded),
    /// The text is not a GraphQL document (`GRAPHQL_PARSE_FAILED`).
    #[error("{}", .0.message)]
    Parse(ErrorDetail),
    /// Validation or planning against the supergraph failed (the plan error's code).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `__schema`/`__type` while introspection is switched off
    /// (`GRAPHQL_VALIDATION_FAILED`).
    #[error("introspection is disabled")]
    IntrospectionDisabled,
    /// The bearer token does not verify (401 `UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The variables do not fit their declared types (`BAD_USER_INPUT`); each error is
    /// ready for the response.
    #[error("the variables do not fit the operation")]
    InvalidVariables(Vec<Value>),
    /// A document id the router knows no document for (`PERSISTED_QUERY_NOT_FOUND`; the
    /// message is the one Apollo Client's persisted-queries link looks for).
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    /// Apollo's persisted-query protocol while APQ is off (`FOLIO_APQ=false`).
    #[error("PersistedQueryNotSupported")]
    PersistedQueryNotSupported,
    /// An operation not in the manifest while only listed ones may run
    /// (`FOLIO_PERSISTED_DOCUMENTS_ONLY`).
    #[error(
        "only the operations of the trusted documents manifest may run here: send a listed operation's `documentId`"
    )]
    PersistedQueryRequired,
    /// The operation's estimated cost is over `FOLIO_MAX_COST`
    /// (`COST_ESTIMATED_TOO_EXPENSIVE`, with `cost` and `maxCost` in `extensions`).
    #[error(
        "the operation's estimated cost, {cost}, is over the limit of {max}: ask for fewer items (smaller `first`) or fewer nested lists"
    )]
    CostTooExpensive { cost: u64, max: u64 },
    /// The client is over its rate limit (429 `RATE_LIMITED`, with `Retry-After`).
    #[error("too many requests: try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A batched POST while `FOLIO_MAX_BATCH` is 0 (400 `BATCHING_NOT_ENABLED`).
    #[error("batched requests (a JSON array) are not accepted here (FOLIO_MAX_BATCH=0)")]
    BatchingNotEnabled,
    /// A batch longer than `FOLIO_MAX_BATCH` (400 `BATCH_LIMIT_EXCEEDED`).
    #[error("the batch has {len} operations; at most {max} may be sent at once (FOLIO_MAX_BATCH)")]
    BatchLimitExceeded { len: usize, max: usize },
    /// A fault of ours (500 `INTERNAL_SERVER_ERROR`); the text is for the log only.
    #[error("{0}")]
    Internal(String),
}

impl RouterError {
    /// The `extensions.code` of the error's GraphQL errors.
    pub fn code(&self) -> &'static str {
        match self {
            RouterError::NotAcceptable(_) => "NOT_ACCEPTABLE",
            RouterError::UnsupportedMediaType(_) | RouterError::BadRequest(_) => "BAD_REQUEST",
            RouterError::CsrfPrevented => "CSRF_PREVENTED",
            RouterError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            RouterError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            RouterError::Limit(e) => e.code,
            RouterError::Parse(_) => "GRAPHQL_PARSE_FAILED",
            RouterError::Plan(e) => e.code(),
            RouterError::IntrospectionDisabled => "GRAPHQL_VALIDATION_FAILED",
            RouterError::Unauthenticated(_) => "UNAUTHENTICATED",
            RouterError::InvalidVariables(_) => "BAD_USER_INPUT",
            RouterError::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            RouterError::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            RouterError::PersistedQueryRequired => "PERSISTED_QUERY_REQUIRED",
            RouterError::CostTooExpensive { .. } => "COST_ESTIMATED_TOO_EXPENSIVE",
            RouterError::RateLimited { .. } => "RATE_LIMITED",
            RouterError::BatchingNotEnabled => "BATCHING_NOT_ENABLED",
            RouterError::BatchLimitExceeded { .. } => "BATCH_LIMIT_EXCEEDED",
            RouterError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The HTTP status, given the response media type: a GraphQL request that fails
    /// before execution is 400 under `application/graphql-response+json` and 200 under
    /// `application/json`; transport refusals have their own status under both.
    pub fn status(&self, format: ResponseFormat) -> StatusCode {
        match self {
            RouterError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            RouterError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RouterError::BadRequest(_)
            | RouterError::CsrfPrevented
            | RouterError::BatchingNotEnabled
            | RouterError::BatchLimitExceeded { .. } => StatusCode::BAD_REQUEST,
            RouterError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RouterError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            RouterError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            RouterError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            RouterError::Internal(_) | RouterError::Plan(PlanError::Internal(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            RouterError::Limit(_)
            | RouterError::Parse(_)
            | RouterError::Plan(_)
            | RouterError::IntrospectionDisabled
            | RouterError::InvalidVariables(_)
            | RouterError::PersistedQueryNotFound
            | RouterError::PersistedQueryNotSupported
            | RouterError::PersistedQueryRequired
            | RouterError::CostTooExpensive { .. } => format.request_error_status(),
        }
    }

    /// The GraphQL errors the client reads. With `suggestions` off (introspection
    /// disabled), validation messages lose their "Did you mean …?" hints, which would
    /// reveal the schema.
    pub fn client_errors(&self, suggestions: bool) -> Vec<Value> {
        let code = self.code();
        let detailed = |d: &ErrorDetail| {
            let message = if suggestions {
                d.message.clone()
            } else {
                without_suggestions(&d.message)
            };
            let mut e = json!({ "message": message, "extensions": { "code": code } });
            if !d.locations.is_empty() {
                e["locations"] = serde_json::to_value(&d.locations).unwrap_or(Value::Null);
            }
            e
        };
        match self {
            RouterError::Parse(d) => vec![detailed(d)],
            RouterError::Plan(PlanError::Internal(_)) | RouterError::Internal(_) => {
                vec![coded(code, "internal error")]
            }
            RouterError::Plan(e) => e.details().iter().map(detailed).collect(),
            RouterError::InvalidVariables(errors) => errors.clone(),
            RouterError::CostTooExpensive { cost, max } => vec![json!({
                "message": self.to_string(),
                "extensions": { "code": code, "cost": cost, "maxCost": max },
            })],
            RouterError::RateLimited { retry_after_secs } => vec![json!({
                "message": self.to_string(),
                "extensions": { "code": code, "retryAfter": retry_after_secs },
            })],
            other => vec![coded(code, &other.to_string())],
        }
    }

    /// The response: the errors in the negotiated media type, with the status. A fault of
    /// ours is logged here, once, with its cause.
    pub fn into_response(self, format: ResponseFormat, suggestions: bool) -> Response {
        match &self {
            RouterError::Internal(why) | RouterError::Plan(PlanError::Internal(why)) => {
                tracing::error!(error = %why, "request failed")
            }
            _ => {}
        }
        let mut response =
            errors_response(format, self.status(format), self.client_errors(suggestions));
        if let RouterError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if matches!(self, RouterError::MethodNotAllowed) {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

impl From<LimitExceeded> for RouterError {
    fn from(e: LimitExceeded) -> Self {
        RouterError::Limit(e)
    }
}

/// A GraphQL response of only errors, in the negotiated media type.
pub fn errors_response(format: ResponseFormat, status: StatusCode, errors: Vec<Value>) -> Response {
    let mut response = (status, axum::Json(json!({ "errors": errors }))).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    response
}

fn coded(code: &str, message: &str) -> Value {
    json!({ "message": message, "extensions": { "code": code } })
}

/// A validation message without its "Did you mean …?" hint.
fn without_suggestions(message: &str) -> String {
    match message.find(" Did you mean") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_code_a_status_and_a_message() {
        use ResponseFormat::{GraphQLResponseJson as New, Json};
        let cases = [
            (
                RouterError::MethodNotAllowed,
                "METHOD_NOT_ALLOWED",
                405,
                405,
            ),
            (RouterError::CsrfPrevented, "CSRF_PREVENTED", 400, 400),
            (
                RouterError::Unauthenticated("no"),
                "UNAUTHENTICATED",
                401,
                401,
            ),
            (
                RouterError::IntrospectionDisabled,
                "GRAPHQL_VALIDATION_FAILED",
                200,
                400,
            ),
            (
                RouterError::Internal("db gone".into()),
                "INTERNAL_SERVER_ERROR",
                500,
                500,
            ),
            (
                RouterError::Plan(PlanError::Unplannable("no path".into())),
                "QUERY_PLANNING_FAILED",
                200,
                400,
            ),
        ];
        for (e, code, json_status, new_status) in cases {
            assert_eq!(e.code(), code);
            assert_eq!(e.status(Json).as_u16(), json_status, "{e:?}");
            assert_eq!(e.status(New).as_u16(), new_status, "{e:?}");
            let errors = e.client_errors(true);
            assert_eq!(errors[0]["extensions"]["code"], code);
            assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }

    #[test]
    fn every_code_the_router_gives_is_listed() {
        let errors = [
            RouterError::NotAcceptable(String::new()),
            RouterError::UnsupportedMediaType(String::new()),
            RouterError::BadRequest(String::new()),
            RouterError::CsrfPrevented,
            RouterError::PayloadTooLarge(String::new()),
            RouterError::MethodNotAllowed,
            RouterError::IntrospectionDisabled,
            RouterError::Unauthenticated(""),
            RouterError::InvalidVariables(Vec::new()),
            RouterError::Internal(String::new()),
            RouterError::Parse(ErrorDetail {
                message: String::new(),
                locations: Vec::new(),
            }),
            RouterError::Plan(PlanError::Validation(Vec::new())),
            RouterError::Plan(PlanError::OperationSelection(String::new())),
            RouterError::Plan(PlanError::Unplannable(String::new())),
            RouterError::Plan(PlanError::Internal(String::new())),
        ];
        for e in &errors {
            assert!(CODES.contains(&e.code()), "{} is not in CODES", e.code());
        }
    }

    #[test]
    fn internal_causes_are_never_shown() {
        let e = RouterError::Internal("connection to 10.0.0.7 refused".into());
        assert_eq!(e.client_errors(true)[0]["message"], "internal error");
    }

    #[test]
    fn suggestions_are_dropped_when_asked() {
        let e = RouterError::Plan(PlanError::Validation(vec![ErrorDetail {
            message: "Cannot query field \"nme\" on type \"User\". Did you mean \"name\"?".into(),
            locations: Vec::new(),
        }]));
        assert_eq!(
            e.client_errors(false)[0]["message"],
            "Cannot query field \"nme\" on type \"User\"."
        );
        assert!(
            e.client_errors(true)[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Did you mean"))
        );
    }
}
