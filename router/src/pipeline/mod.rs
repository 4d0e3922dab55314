//! The request pipeline, one stage per file in request order:
//! `http` (transport, CSRF, media types) → `documents` (the text of an operation named by
//! its hash: trusted documents, APQ) → `limits` (size of the operation) → `auth`
//! (the caller's JWT) → plan (`crate::plan`: validate against the API schema, plan,
//! cached) → `cost` (demand control, with the variables) → execute (`crate::execute`: fetch from the subgraphs with a signed identity,
//! merge, project) → respond. `run` times every request for the metrics.

pub mod auth;
pub mod clients;
pub mod cost;
pub mod documents;
pub mod http;
pub mod limits;

use crate::busy_poll::BusyPoll;
use crate::error::RouterError;
use crate::execute::{ExecutionContext, Executor};
use crate::metrics::Metrics;
use crate::plan::{ErrorDetail, Location, PlanRequest, Planned, QueryPlanner};
use async_graphql::parser::types::OperationType;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http::{GraphQLRequest, ResponseFormat};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument as _;

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
    /// Trusted documents and APQ.
    pub documents: documents::Documents,
    /// What a multipart upload may carry.
    pub uploads: http::UploadLimits,
    pub metrics: Arc<Metrics>,
    /// Whether introspection is answered (and suggestions shown).
    pub introspection: bool,
    /// Told of each request's start and end (`FOLIO_ROUTER_BUSY_POLL_US`).
    pub busy_poll: Option<Arc<BusyPoll>>,
    /// Most operations one batched POST (a JSON array) may carry; 0 refuses batches.
    pub max_batch: usize,
    /// The client-address decision and the per-client rate limit.
    pub clients: clients::Clients,
    /// Demand control: the most an operation may cost (`None`: no limit) and the size a
    /// list counts for when nothing says.
    pub max_cost: Option<u64>,
    pub default_list_size: u64,
}

/// A request that reached execution: whether it ran without errors, and its response.
struct Executed {
    ok: bool,
    response: Response,
}

impl Pipeline {
    /// Runs one GraphQL request through every stage; a stage's error becomes the response.
    #[tracing::instrument(name = "graphql", skip_all)]
    pub async fn run(&self, incoming: Incoming<'_>, headers: &HeaderMap, peer: IpAddr) -> Response {
        let started = Instant::now();
        if let Some(poll) = &self.busy_poll {
            poll.mark();
        }
        let peer = self.clients.client_ip(peer, headers);
        // The operation type, for metrics, once it is known.
        let mut operation_type = "none";
        // The media type first, so that even refusals come in a type the client reads.
        let negotiated = http::negotiate(headers);
        let format = *negotiated.as_ref().unwrap_or(&ResponseFormat::Json);
        let outcome = match negotiated {
            Ok(format) => {
                self.stages(format, incoming, headers, peer, &mut operation_type)
                    .await
            }
            Err(e) => Err(e),
        };
        let (ok, response) = match outcome {
            Ok(executed) => (executed.ok, executed.response),
            Err(e) => (false, e.into_response(format, self.introspection)),
        };
        self.metrics.request(operation_type, ok, started.elapsed());
        if let Some(poll) = &self.busy_poll {
            poll.mark();
        }
        response
    }

    /// A batched POST (a JSON array of requests, as Apollo Client's `BatchHttpLink`
    /// sends): each request runs through every stage on its own, all at once, and the
    /// answer is the array of their results in order; one that fails spoils nothing else.
    /// Refused whole (`BATCHING_NOT_ENABLED`, `BATCH_LIMIT_EXCEEDED`, `BAD_REQUEST`) when
    /// batching is off, the batch is too long, or it is not an array of requests.
    pub async fn run_batch(&self, body: &[u8], headers: &HeaderMap, peer: IpAddr) -> Response {
        let format = http::negotiate(headers).unwrap_or(ResponseFormat::Json);
        let refuse = |e: RouterError| e.into_response(format, self.introspection);
        if self.max_batch == 0 {
            return refuse(RouterError::BatchingNotEnabled);
        }
        let items: Vec<Box<serde_json::value::RawValue>> = match serde_json::from_slice(body) {
            Ok(items) => items,
            Err(e) => {
                return refuse(RouterError::BadRequest(format!(
                    "the body is not a batch of GraphQL requests: {e}"
                )));
            }
        };
        if items.is_empty() {
            return refuse(RouterError::BadRequest("the batch is empty".into()));
        }
        if items.len() > self.max_batch {
            return refuse(RouterError::BatchLimitExceeded {
                len: items.len(),
                max: self.max_batch,
            });
        }
        let answers = futures_util::future::join_all(
            items
                .iter()
                .map(|item| self.run(Incoming::Post(item.get().as_bytes()), headers, peer)),
        )
        .await;
        let mut out = Vec::with_capacity(body.len() / 2 + 64);
        out.push(b'[');
        for (i, answer) in answers.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match axum::body::to_bytes(answer.into_body(), usize::MAX).await {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(e) => {
                    return refuse(RouterError::Internal(format!(
                        "reading a batched answer: {e}"
                    )));
                }
            }
        }
        out.push(b']');
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            )],
            out,
        )
            .into_response()
    }

    /// The stages in request order; the first that fails ends the request.
    async fn stages(
        &self,
        format: ResponseFormat,
        incoming: Incoming<'_>,
        headers: &HeaderMap,
        peer: IpAddr,
        operation_type: &mut &'static str,
    ) -> Result<Executed, RouterError> {
        // Each stage in a span of its own (debug: made when traces are on).
        let stage = |name: &'static str| tracing::debug_span!("stage", otel.name = name);
        let is_get = matches!(incoming, Incoming::Get(_));
        let (mut request, uploads) = self
            .read(incoming, headers)
            .instrument(stage("http"))
            .await?;
        let query = stage("documents").in_scope(|| self.documents.resolve(&mut request))?;
        // A cached plan's text was parsed and passed the limits when it was first planned
        // (they depend on the text and this process's settings alone): a known operation
        // costs a cache lookup, not a parse, a measurement and a hop to a blocking thread.
        let name = request.operation_name.as_deref();
        let cached = self.planner.cached(&PlanRequest::new(&query, name));
        match &cached {
            Some(planned) => *operation_type = planned.kind.as_str(),
            None => {
                *operation_type = stage("limits").in_scope(|| self.check_document(&query, name))?
            }
        }
        if is_get && matches!(*operation_type, "mutation" | "subscription") {
            return Err(RouterError::MethodNotAllowed);
        }
        let viewer = self
            .verifier
            .authenticate(headers, peer)
            .instrument(stage("auth"))
            .await
            .map_err(RouterError::Unauthenticated)?;
        stage("rate_limit").in_scope(|| self.clients.check(&viewer))?;
        let planned = match cached {
            Some(planned) => planned,
            None => self.plan(&query, name).instrument(stage("plan")).await?,
        };
        self.check_introspection(&planned)?;
        let given = request.variables.take().unwrap_or_default();
        let variables = stage("variables").in_scope(|| {
            crate::execute::variables::coerce(&planned, &given)
                .map_err(RouterError::InvalidVariables)
        })?;
        let cost =
            stage("cost").in_scope(|| cost::estimate(&planned, &variables, self.default_list_size));
        self.metrics.cost(cost);
        if let Some(max) = self.max_cost
            && cost > max
        {
            return Err(RouterError::CostTooExpensive { cost, max });
        }

        let cx = ExecutionContext {
            variables: &variables,
            viewer: &viewer,
            traceparent: headers.get("traceparent"),
            uploads: &uploads,
        };
        let result = self
            .executor
            .execute(&planned, self.planner.introspection(), &cx)
            .instrument(stage("execute"))
            .await;
        let ok = result.errors.is_empty();
        let response = (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            )],
            result.into_body(),
        )
            .into_response();
        Ok(Executed { ok, response })
    }

    /// parse and limits: the operation's size within bounds; its kind (`query`,
    /// `mutation`, `subscription`, or `none` when the named operation is not there).
    fn check_document(&self, query: &str, name: Option<&str>) -> Result<&'static str, RouterError> {
        self.limits.check_tokens(query)?;
        let document = parse(query)?;
        let kind = match limits::select_operation(&document, name) {
            Some(op) => match op.ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            },
            None => "none",
        };
        self.limits.check_document(&document, name)?;
        Ok(kind)
    }

    /// http: the GraphQL request from a GET, a JSON POST or a multipart upload.
    async fn read(
        &self,
        incoming: Incoming<'_>,
        headers: &HeaderMap,
    ) -> Result<(GraphQLRequest, crate::execute::fetch::Uploads), RouterError> {
        match incoming {
            Incoming::Get(params) => Ok((http::from_get(params)?, Default::default())),
            Incoming::Post(body) => Ok((http::from_post(headers, body)?, Default::default())),
            Incoming::Multipart(body) => {
                http::from_multipart(headers, body.into_data_stream(), self.uploads).await
            }
        }
    }

    /// plan: validation against the API schema and planning are CPU work, off the async
    /// runtime (a cached plan is found without either).
    async fn plan(&self, query: &str, name: Option<&str>) -> Result<Arc<Planned>, RouterError> {
        let planner = self.planner.clone();
        let (query, name) = (query.to_owned(), name.map(str::to_owned));
        tokio::task::spawn_blocking(move || {
            planner.plan(&PlanRequest::new(&query, name.as_deref()))
        })
        .await
        .map_err(|e| RouterError::Internal(format!("the planning task failed: {e}")))?
        .map_err(RouterError::from)
    }

    /// With introspection off, `__schema` and `__type` are refused (root `__typename`
    /// still answers).
    fn check_introspection(&self, planned: &Planned) -> Result<(), RouterError> {
        if !self.introspection
            && let Some(part) = &planned.introspection
            && part.introspects_schema()
        {
            return Err(RouterError::IntrospectionDisabled);
        }
        Ok(())
    }
}

/// parse: the document, or `GRAPHQL_PARSE_FAILED` with where the text goes wrong.
fn parse(query: &str) -> Result<async_graphql::parser::types::ExecutableDocument, RouterError> {
    async_graphql::parser::parse_query(query).map_err(|e| {
        RouterError::Parse(ErrorDetail {
            message: e.to_string(),
            locations: e
                .positions()
                .map(|p| Location {
                    line: p.line,
                    column: p.column,
                })
                .collect(),
        })
    })
}
