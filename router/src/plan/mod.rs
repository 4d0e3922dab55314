//! Query planning: from an operation's text to the plan the executor runs.
//!
//! [`QueryPlanner::plan`] parses the operation, validates it against the API schema,
//! picks the operation to run, normalizes it, splits off the root introspection fields
//! (the router answers those itself, see [`Introspection`]) and plans the rest into
//! Apollo-style plan nodes ([`nodes`]: Fetch, Flatten, Sequence, Parallel, Condition,
//! BatchFetch, Subscription). Plans are cached; a panic while planning becomes
//! [`PlanError::Internal`].
//!
//! The planner itself is the MIT-licensed `hive-router-query-planner` crate, behind our
//! [`QueryPlanner`] trait ([`HivePlanner`]) so that it can be replaced. Its plan nodes and
//! normalized operation are exposed as they are (re-exported in [`nodes`] and [`ast`]).
//!
//! Planning is synchronous, CPU-bound work: call it from `spawn_blocking` (or accept a
//! short block on a cache miss).

#![warn(missing_docs)]

mod api_schema;
mod cache;
mod hive;
mod introspection;
#[cfg(test)]
mod introspection_tests;
mod partition;
mod supergraph;
#[cfg(test)]
mod tests;

pub use api_schema::{ApiSchema, TypeKind};
pub use hive::{HivePlanner, HivePlannerOptions};
pub use introspection::{Introspection, IntrospectionResult};
pub use supergraph::{ListSize, SIDE_EFFECT_SPEC, SupergraphFacts};

/// The planner's plan nodes (`QueryPlan`, `PlanNode`, `FetchNode`, `FlattenNode`, …).
pub use hive_router_query_planner::planner::plan_nodes as nodes;

/// The planner's operation AST: [`Planned::operation`] is an
/// `ast::operation::OperationDefinition`, its selections `ast::selection_set` and
/// `ast::selection_item`, argument values `ast::value::Value`.
pub use hive_router_query_planner::ast;

use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// An operation to plan: the request's `query` and `operationName`.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    /// The GraphQL document.
    pub query: &'a str,
    /// Which operation of the document to run; required when it holds several. An empty
    /// name counts as none.
    pub operation_name: Option<&'a str>,
}

impl<'a> PlanRequest<'a> {
    /// A request for `query` with an optional operation name.
    pub fn new(query: &'a str, operation_name: Option<&'a str>) -> Self {
        PlanRequest {
            query,
            operation_name,
        }
    }
}

/// The three kinds of GraphQL operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    /// A query: root fields may run in parallel.
    Query,
    /// A mutation: root fields run one after another, in order.
    Mutation,
    /// A subscription: one root field, a stream of results.
    Subscription,
}

impl OperationKind {
    /// `query`, `mutation` or `subscription`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
        }
    }
}

/// What the executor needs to run one operation. Shared (`Arc`) between every request
/// sending the same operation.
#[derive(Debug)]
pub struct Planned {
    /// The kind of the operation.
    pub kind: OperationKind,
    /// The operation's name, if it has one.
    pub operation_name: Option<String>,
    /// The whole normalized operation, root introspection fields included: fragments
    /// inlined, `@skip`/`@include` with literal arguments applied (with variables, they
    /// stay as `skip_if`/`include_if`), fields merged, and selections on an abstract type
    /// possibly expanded into inline fragments per object type (match them with
    /// [`ApiSchema::is_possible_type`]). This is the shape the client asked for: project
    /// the response onto it (with [`Planned::schema`] for types; `__typename` fields with
    /// `omit_from_response` set were added by the planner and are not the client's).
    pub operation: ast::operation::OperationDefinition,
    /// The query plan for [`Planned::operation`] minus its root introspection fields;
    /// `plan.node` is `None` when nothing needs fetching (a pure introspection query, or
    /// every root field skipped by a literal `@skip`/`@include`).
    pub plan: nodes::QueryPlan,
    /// The root introspection fields, for [`Introspection::execute`]; their result merges
    /// into the root of `data`.
    pub introspection: Option<IntrospectionPart>,
    /// Subgraph name (as in `FetchNode::service_name`) → URL, from the supergraph's
    /// `join__Graph` enum. Configuration may override these URLs.
    pub subgraphs: Arc<BTreeMap<String, String>>,
    /// The API schema the operation was validated against.
    pub schema: Arc<ApiSchema>,
    /// What the executor needs of the supergraph beyond the API schema.
    pub facts: Arc<SupergraphFacts>,
    /// The ids of the plan's fetches (`FetchNode::id`, `BatchFetchNode::id`) that select a
    /// field marked `@sideEffect`: each must reach its subgraph, never be shared.
    pub side_effect_fetches: HashSet<i64>,
}

impl Planned {
    /// The name of the root type the operation starts from (`Query`, `Mutation`, …).
    pub fn root_type_name(&self) -> &str {
        self.schema
            .root_type_name(self.kind)
            .unwrap_or(self.kind.as_str())
    }

    /// The plan in the planner's indented text form, for logs, tests and debugging.
    pub fn plan_pretty(&self) -> String {
        pretty_plan(&self.plan)
    }

    /// Whether the fetch with this id must be sent on its own (it has side effects).
    pub fn has_side_effects(&self, fetch_id: i64) -> bool {
        self.side_effect_fetches.contains(&fetch_id)
    }

    /// The plan as JSON (Apollo-like: `{"kind": "QueryPlan", "node": {"kind": "Fetch",
    /// "serviceName": …, "operation": "…"}}`).
    pub fn plan_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.plan).unwrap_or(serde_json::Value::Null)
    }
}

/// The root introspection fields of an operation, as an operation of their own.
#[derive(Debug, Clone)]
pub struct IntrospectionPart {
    /// The normalized operation selecting only the root introspection fields (with their
    /// `@skip`/`@include` conditions and the variable definitions they use): pass it to
    /// [`Introspection::execute`] with the request's variables.
    pub operation: ast::operation::OperationDefinition,
}

impl IntrospectionPart {
    /// Whether it asks about the schema (`__schema` or `__type`, whatever their
    /// conditions), not just the root `__typename`: what turning introspection off
    /// refuses.
    pub fn introspects_schema(&self) -> bool {
        fn any(set: &ast::selection_set::SelectionSet) -> bool {
            set.items.iter().any(|item| match item {
                ast::selection_item::SelectionItem::Field(f) => {
                    f.name == "__schema" || f.name == "__type"
                }
                ast::selection_item::SelectionItem::InlineFragment(f) => any(&f.selections),
                ast::selection_item::SelectionItem::FragmentSpread(_) => false,
            })
        }
        any(&self.operation.selection_set)
    }
}

/// The plan's indented text form (the planner's `Display`), or a note if printing failed.
pub fn pretty_plan(plan: &nodes::QueryPlan) -> String {
    // The planner's printer has a `todo!()` for one node shape; never let it panic here.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan.to_string()))
        .unwrap_or_else(|_| format!("{plan:?}"))
}

/// A position in the operation text (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

/// One error message about the operation, with where it points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorDetail {
    /// What is wrong.
    pub message: String,
    /// Where in the operation text (may be empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
}

/// Why an operation could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The text is not a GraphQL document (`GRAPHQL_PARSE_FAILED`).
    #[error("{}", .0.message)]
    Parse(ErrorDetail),
    /// The document does not validate against the API schema (`GRAPHQL_VALIDATION_FAILED`).
    #[error("{}", join_messages(.0))]
    Validation(Vec<ErrorDetail>),
    /// The requested operation is not in the document, or the document holds several and
    /// no name was given (`BAD_REQUEST`).
    #[error("{0}")]
    OperationSelection(String),
    /// The planner found no plan for a valid operation over this supergraph, or ran out of
    /// time (`QUERY_PLANNING_FAILED`): the client's operation cannot be served, which is
    /// no fault of the router. The text is the planner's.
    #[error("{0}")]
    Unplannable(String),
    /// The planner panicked (`INTERNAL_SERVER_ERROR`): a fault of ours. The text is for
    /// logs, not clients.
    #[error("{0}")]
    Internal(String),
}

fn join_messages(details: &[ErrorDetail]) -> String {
    details
        .iter()
        .map(|d| d.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl PlanError {
    /// The `extensions.code` for the client's GraphQL errors.
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::Parse(_) => "GRAPHQL_PARSE_FAILED",
            PlanError::Validation(_) => "GRAPHQL_VALIDATION_FAILED",
            PlanError::OperationSelection(_) => "BAD_REQUEST",
            PlanError::Unplannable(_) => "QUERY_PLANNING_FAILED",
            PlanError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The errors to show the client, one GraphQL error each. Internal errors show a
    /// generic message (log the `Display` form instead).
    pub fn details(&self) -> Vec<ErrorDetail> {
        match self {
            PlanError::Parse(d) => vec![d.clone()],
            PlanError::Validation(ds) => ds.clone(),
            PlanError::OperationSelection(m) => vec![ErrorDetail {
                message: m.clone(),
                locations: Vec::new(),
            }],
            PlanError::Unplannable(_) => vec![ErrorDetail {
                message: "this operation cannot be planned over the supergraph".to_string(),
                locations: Vec::new(),
            }],
            PlanError::Internal(_) => vec![ErrorDetail {
                message: "internal error while planning the operation".to_string(),
                locations: Vec::new(),
            }],
        }
    }
}

/// Plans operations against one supergraph. Implemented by [`HivePlanner`]; a different
/// planner only has to produce [`Planned`] values.
pub trait QueryPlanner: Send + Sync {
    /// Parses, validates and plans an operation, from the cache when it was seen before.
    fn plan(&self, request: &PlanRequest<'_>) -> Result<Arc<Planned>, PlanError>;

    /// The plan of an operation planned before, if it is still cached: a lookup, with no
    /// parsing or validation (what a request for a known operation should cost).
    fn cached(&self, request: &PlanRequest<'_>) -> Option<Arc<Planned>> {
        let _ = request;
        None
    }

    /// The API schema operations are validated against.
    fn api_schema(&self) -> &Arc<ApiSchema>;

    /// The API schema as SDL (no federation internals).
    fn api_schema_sdl(&self) -> &str {
        self.api_schema().sdl()
    }

    /// Answers introspection over the API schema.
    fn introspection(&self) -> &Introspection;

    /// Subgraph name → URL, from the supergraph.
    fn subgraphs(&self) -> &Arc<BTreeMap<String, String>>;
}
