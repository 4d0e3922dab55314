//! The request pipeline, one stage per file in request order:
//! `http` (transport, CSRF, media types) → `limits` (size of the operation) → `auth`
//! (the caller's JWT) → `forward` (the subgraph, with a signed identity). `run` times
//! every request for the metrics.

pub mod auth;
pub mod forward;
pub mod http;
pub mod limits;

use crate::metrics::Metrics;
use async_graphql::parser::types::OperationType;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use folio_common::IdentityKey;
use http::{GraphQLRequest, Refusal, ResponseFormat};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// How a GraphQL request arrived.
pub enum Incoming<'a> {
    Get(&'a std::collections::HashMap<String, String>),
    Post(&'a [u8]),
}

/// The stages and what they need.
pub struct Pipeline {
    pub verifier: auth::Verifier,
    pub forward: forward::Forwarder,
    pub identity: IdentityKey,
    pub limits: limits::Limits,
    pub metrics: Arc<Metrics>,
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

impl Pipeline {
    /// Runs one GraphQL request through every stage.
    pub async fn run(&self, incoming: Incoming<'_>, headers: &HeaderMap, peer: IpAddr) -> Response {
        let started = Instant::now();
        let (operation_type, ok, response) = self.stages(incoming, headers, peer).await;
        self.metrics.request(operation_type, ok, started.elapsed());
        response
    }

    /// The stages; returns the operation type (for metrics), whether the request
    /// succeeded, and the response.
    async fn stages(
        &self,
        incoming: Incoming<'_>,
        headers: &HeaderMap,
        peer: IpAddr,
    ) -> (&'static str, bool, Response) {
        // http: media type first, so even refusals come in a type the client reads.
        let format = match http::negotiate(headers) {
            Ok(f) => f,
            Err(r) => return ("none", false, refusal(ResponseFormat::Json, r)),
        };
        let is_get = matches!(incoming, Incoming::Get(_));
        let request: Result<GraphQLRequest, Refusal> = match incoming {
            Incoming::Get(params) => http::from_get(params),
            Incoming::Post(body) => http::from_post(headers, body),
        };
        let request = match request {
            Ok(r) => r,
            Err(r) => return ("none", false, refusal(format, r)),
        };

        // limits: tokens before parsing, the rest on the parsed document.
        if let Err(e) = self.limits.check_tokens(&request.query) {
            return (
                "none",
                false,
                errors_response(
                    format,
                    format.request_error_status(),
                    vec![coded(e.code, &e.message)],
                ),
            );
        }
        let document = match async_graphql::parser::parse_query(&request.query) {
            Ok(d) => d,
            Err(e) => {
                let locations: Vec<Value> = e
                    .positions()
                    .map(|p| json!({ "line": p.line, "column": p.column }))
                    .collect();
                let error = json!({
                    "message": e.to_string(),
                    "locations": locations,
                    "extensions": { "code": "GRAPHQL_PARSE_FAILED" },
                });
                let response = errors_response(format, format.request_error_status(), vec![error]);
                return ("none", false, response);
            }
        };
        let operation_type =
            match limits::select_operation(&document, request.operation_name.as_deref()) {
                Some(op) => match op.ty {
                    OperationType::Query => "query",
                    OperationType::Mutation => "mutation",
                    OperationType::Subscription => "subscription",
                },
                None => "none",
            };
        if let Err(e) = self
            .limits
            .check_document(&document, request.operation_name.as_deref())
        {
            let response = errors_response(
                format,
                format.request_error_status(),
                vec![coded(e.code, &e.message)],
            );
            return (operation_type, false, response);
        }
        if is_get && matches!(operation_type, "mutation" | "subscription") {
            let mut response = errors_response(
                format,
                StatusCode::METHOD_NOT_ALLOWED,
                vec![coded(
                    "METHOD_NOT_ALLOWED",
                    "only queries may be sent with GET; send mutations with POST",
                )],
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return (operation_type, false, response);
        }

        // auth
        let viewer = match self.verifier.authenticate(headers, peer).await {
            Ok(v) => v,
            Err(message) => {
                let response = errors_response(
                    format,
                    StatusCode::UNAUTHORIZED,
                    vec![coded("UNAUTHENTICATED", message)],
                );
                return (operation_type, false, response);
            }
        };

        // forward
        let body = request.to_json().to_string().into_bytes();
        let forwarded = self
            .forward
            .send(&self.identity, &viewer, headers, body, format)
            .await;
        (operation_type, forwarded.ok, forwarded.response)
    }
}

fn refusal(format: ResponseFormat, r: Refusal) -> Response {
    errors_response(format, r.status, vec![coded(r.code, &r.message)])
}
