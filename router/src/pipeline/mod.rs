//! The request pipeline, one stage per file in request order:
//! `http` (transport, CSRF, media types) → `limits` (size of the operation) → `auth`
//! (the caller's JWT) → plan (`crate::plan`: validate against the API schema, plan,
//! cached) → execute (`crate::execute`: fetch from the subgraphs with a signed identity,
//! merge, project) → respond. `run` times every request for the metrics.

pub mod auth;
pub mod http;
pub mod limits;

use crate::execute::{ExecutionContext, Executor};
use crate::metrics::Metrics;
use crate::plan::{PlanError, PlanRequest, QueryPlanner};
use async_graphql::parser::types::OperationType;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http::{GraphQLRequest, Refusal, ResponseFormat};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// How a GraphQL request arrived.
pub enum Incoming<'a> {
    Get(&'a std::collections::HashMap<String, String>),
    Post(&'a [u8]),
    /// A `multipart/form-data` body, read as a stream (file uploads).
    Multipart(axum::body::Body),
}

/// The stages and what they need.
pub struct Pipeline {
    pub verifier: auth::Verifier,
    pub planner: Arc<dyn QueryPlanner>,
    pub executor: Executor,
    pub limits: limits::Limits,
    /// What a multipart upload may carry.
    pub uploads: http::UploadLimits,
    pub metrics: Arc<Metrics>,
    /// Whether introspection is answered (and suggestions shown).
    pub introspection: bool,
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
        let mut uploads = crate::execute::fetch::Uploads::default();
        let request: Result<GraphQLRequest, Refusal> = match incoming {
            Incoming::Get(params) => http::from_get(params),
            Incoming::Post(body) => http::from_post(headers, body),
            Incoming::Multipart(body) => {
                http::from_multipart(headers, body.into_data_stream(), self.uploads)
                    .await
                    .map(|(request, files)| {
                        uploads = files;
                        request
                    })
            }
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

        // plan: validation against the API schema and planning are CPU work, off the
        // async runtime when the plan is not cached yet.
        let planner = self.planner.clone();
        let (query, name) = (request.query.clone(), request.operation_name.clone());
        let planned = tokio::task::spawn_blocking(move || {
            planner.plan(&PlanRequest::new(&query, name.as_deref()))
        })
        .await
        .unwrap_or_else(|e| Err(PlanError::Internal(format!("planning task failed: {e}"))));
        let planned = match planned {
            Ok(p) => p,
            Err(e) => {
                let status = match e {
                    PlanError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => format.request_error_status(),
                };
                if let PlanError::Internal(why) = &e {
                    tracing::error!(error = %why, "planning failed");
                }
                let errors = match &e {
                    PlanError::Internal(_) => vec![coded(e.code(), "internal error")],
                    _ => e
                        .details()
                        .into_iter()
                        .map(|d| {
                            let mut v = serde_json::to_value(&d).unwrap_or_else(|_| json!({}));
                            if let Value::Object(m) = &mut v {
                                if !self.introspection
                                    && let Some(Value::String(msg)) = m.get_mut("message")
                                {
                                    *msg = without_suggestions(msg);
                                }
                                m.insert("extensions".into(), json!({ "code": e.code() }));
                            }
                            v
                        })
                        .collect(),
                };
                return (
                    operation_type,
                    false,
                    errors_response(format, status, errors),
                );
            }
        };

        if !self.introspection
            && let Some(part) = &planned.introspection
            && part.introspects_schema()
        {
            let errors = vec![coded(
                "GRAPHQL_VALIDATION_FAILED",
                "introspection is disabled",
            )];
            let status = format.request_error_status();
            return (
                operation_type,
                false,
                errors_response(format, status, errors),
            );
        }

        // variables: coerced to the operation's declared types before any fetch.
        let given = request.variables.clone().unwrap_or_default();
        let variables = match crate::execute::variables::coerce(&planned, &given) {
            Ok(v) => v,
            Err(errors) => {
                let status = format.request_error_status();
                return (
                    operation_type,
                    false,
                    errors_response(format, status, errors),
                );
            }
        };

        // execute
        let cx = ExecutionContext {
            variables: &variables,
            viewer: &viewer,
            traceparent: headers.get("traceparent"),
            uploads: &uploads,
        };
        let result = self
            .executor
            .execute(&planned, self.planner.introspection(), &cx)
            .await;
        let ok = result.errors.is_empty();
        let mut response = (StatusCode::OK, axum::Json(result.into_json())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        (operation_type, ok, response)
    }
}

/// A validation message without its "Did you mean …?" hint, which would reveal the
/// schema when introspection is off.
fn without_suggestions(message: &str) -> String {
    match message.find(" Did you mean") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn refusal(format: ResponseFormat, r: Refusal) -> Response {
    errors_response(format, r.status, vec![coded(r.code, &r.message)])
}
