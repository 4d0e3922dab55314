//! [`HivePlanner`]: our [`QueryPlanner`] over `hive-router-query-planner` — parsing and
//! validation with graphql-tools, normalization and planning with hive, plan caching,
//! and panics turned into errors.

use graphql_tools::parser::query as query_ast;
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::utils::ValidationError;
use graphql_tools::validation::validate::{ValidationPlan, validate};
use hive_router_query_planner::ast::normalization::error::NormalizationError;
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::plan_nodes::{PlanNode, QueryPlan};
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::utils::cancellation::CancellationToken;
use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use super::api_schema::ApiSchema;
use super::cache::PlanCache;
use super::introspection::Introspection;
use super::partition::partition;
use super::supergraph::SupergraphFacts;
use super::{
    ErrorDetail, IntrospectionPart, Location, OperationKind, PlanError, PlanRequest, Planned,
    QueryPlanner,
};

/// Tuning for [`HivePlanner`].
#[derive(Debug, Clone)]
pub struct HivePlannerOptions {
    /// How many operations to keep planned (per cache: one keyed by the request text, one
    /// by the normalized operation).
    pub cache_capacity: NonZeroUsize,
    /// How long one operation may take to plan before it fails (as an internal error).
    pub planning_timeout: Duration,
}

impl Default for HivePlannerOptions {
    fn default() -> Self {
        HivePlannerOptions {
            cache_capacity: NonZeroUsize::new(1024).unwrap_or(NonZeroUsize::MIN),
            planning_timeout: Duration::from_secs(10),
        }
    }
}

/// The hive query planner for one supergraph, with its plan caches.
pub struct HivePlanner {
    planner: Planner,
    validation: ValidationPlan,
    api: Arc<ApiSchema>,
    facts: Arc<SupergraphFacts>,
    introspection: Introspection,
    subgraphs: Arc<BTreeMap<String, String>>,
    /// Keyed by the request's text and operation name: a repeated request skips parsing,
    /// validation and normalization.
    documents: PlanCache,
    /// Keyed by the normalized operation and operation name: differently written but
    /// equivalent operations share a plan.
    plans: PlanCache,
    options: HivePlannerOptions,
}

impl std::fmt::Debug for HivePlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HivePlanner")
            .field("subgraphs", &self.subgraphs)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl HivePlanner {
    /// Builds the planner for a supergraph SDL (as composed by `tools/compose`), with
    /// default options.
    pub fn from_supergraph_sdl(sdl: &str) -> anyhow::Result<Self> {
        Self::with_options(sdl, HivePlannerOptions::default())
    }

    /// Builds the planner for a supergraph SDL with the given options.
    pub fn with_options(sdl: &str, options: HivePlannerOptions) -> anyhow::Result<Self> {
        let document = graphql_tools::parser::parse_schema::<String>(sdl)
            .map_err(|e| anyhow::anyhow!("the supergraph is not valid SDL: {e}"))?
            .into_static();
        let planner = catch_unwind(AssertUnwindSafe(|| {
            Planner::new_from_supergraph(&document, QueryPlannerOptions::default())
        }))
        .map_err(|p| {
            anyhow::anyhow!(
                "the query planner panicked on the supergraph: {}",
                panic_message(&*p)
            )
        })?
        .map_err(|e| anyhow::anyhow!("the query planner rejected the supergraph: {e}"))?;
        let api = Arc::new(ApiSchema::from_consumer_schema(
            &planner.consumer_schema.document,
        ));
        let facts = Arc::new(SupergraphFacts::new(&planner.supergraph, &document));
        let introspection = Introspection::new(&api);
        let subgraphs = Arc::new(
            planner
                .supergraph
                .subgraph_endpoint_map
                .iter()
                .map(|(name, url)| (name.clone(), url.clone()))
                .collect(),
        );
        Ok(HivePlanner {
            planner,
            validation: default_rules_validation_plan(),
            api,
            facts,
            introspection,
            subgraphs,
            documents: PlanCache::new(options.cache_capacity),
            plans: PlanCache::new(options.cache_capacity),
            options,
        })
    }

    /// How many distinct normalized operations are cached.
    pub fn cached_plans(&self) -> usize {
        self.plans.len()
    }

    fn plan_uncached(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<Planned>, PlanError> {
        let document = query_ast::parse_query::<String>(query)
            .map_err(parse_error)?
            .into_static();
        let errors = validate(
            &self.planner.consumer_schema.document,
            &document,
            &self.validation,
        );
        if !errors.is_empty() {
            return Err(PlanError::Validation(
                errors.into_iter().map(validation_error).collect(),
            ));
        }
        let kind = select_operation(&document, operation_name)?;
        if self.api.root_type_name(kind).is_none() {
            return Err(validation_message(format!(
                "The schema has no {} type.",
                kind.as_str()
            )));
        }
        let normalized = normalize_operation(&self.planner.supergraph, &document, operation_name)
            .map_err(normalization_error)?;
        let operation = normalized.operation;
        let key = operation.to_string();
        if let Some(planned) = self.plans.get(&key, operation_name) {
            return Ok(planned);
        }

        let parts = partition(&operation);
        if kind == OperationKind::Subscription && parts.introspection.is_some() {
            return Err(validation_message(
                "A subscription's root field must not be an introspection field.".to_string(),
            ));
        }
        let plan = if parts.downstream.selection_set.is_empty() {
            QueryPlan {
                kind: "QueryPlan",
                node: None,
            }
        } else {
            let token = CancellationToken::with_timeout(self.options.planning_timeout);
            self.planner
                .plan_from_normalized_operation(
                    &parts.downstream,
                    PlannerOverrideContext::default(),
                    &token,
                )
                .map_err(|e| {
                    tracing::debug!(error = %e, "no plan for the operation");
                    PlanError::Unplannable(format!("query planning failed: {e}"))
                })?
        };
        let side_effect_fetches = plan
            .node
            .as_ref()
            .map(|node| side_effect_fetches(&self.facts, node))
            .unwrap_or_default();
        let planned = Arc::new(Planned {
            kind,
            operation_name: normalized.operation_name,
            operation,
            plan,
            introspection: parts
                .introspection
                .map(|operation| IntrospectionPart { operation }),
            subgraphs: self.subgraphs.clone(),
            schema: self.api.clone(),
            side_effect_fetches,
            facts: self.facts.clone(),
        });
        self.plans.insert(&key, operation_name, planned.clone());
        Ok(planned)
    }
}

impl QueryPlanner for HivePlanner {
    fn plan(&self, request: &PlanRequest<'_>) -> Result<Arc<Planned>, PlanError> {
        let operation_name = request.operation_name.filter(|n| !n.is_empty());
        if let Some(planned) = self.documents.get(request.query, operation_name) {
            return Ok(planned);
        }
        let planned = guarded(|| self.plan_uncached(request.query, operation_name))?;
        self.documents
            .insert(request.query, operation_name, planned.clone());
        Ok(planned)
    }

    fn cached(&self, request: &PlanRequest<'_>) -> Option<Arc<Planned>> {
        let operation_name = request.operation_name.filter(|n| !n.is_empty());
        self.documents.get(request.query, operation_name)
    }

    fn api_schema(&self) -> &Arc<ApiSchema> {
        &self.api
    }

    fn introspection(&self) -> &Introspection {
        &self.introspection
    }

    fn subgraphs(&self) -> &Arc<BTreeMap<String, String>> {
        &self.subgraphs
    }
}

/// The ids of the fetches under `node` that select a field marked `@sideEffect`.
fn side_effect_fetches(facts: &SupergraphFacts, node: &PlanNode) -> HashSet<i64> {
    let mut ids = HashSet::new();
    if facts.has_side_effects() {
        collect_side_effects(facts, node, &mut ids);
    }
    ids
}

fn collect_side_effects(facts: &SupergraphFacts, node: &PlanNode, ids: &mut HashSet<i64>) {
    match node {
        PlanNode::Fetch(f) => {
            if facts.fetch_has_side_effects(&f.operation, f.operation_kind.as_ref()) {
                ids.insert(f.id);
            }
        }
        PlanNode::BatchFetch(b) => {
            if facts.fetch_has_side_effects(&b.operation, b.operation_kind.as_ref()) {
                ids.insert(b.id);
            }
        }
        PlanNode::Flatten(f) => collect_side_effects(facts, &f.node, ids),
        PlanNode::Sequence(s) => s
            .nodes
            .iter()
            .for_each(|n| collect_side_effects(facts, n, ids)),
        PlanNode::Parallel(p) => p
            .nodes
            .iter()
            .for_each(|n| collect_side_effects(facts, n, ids)),
        PlanNode::Condition(c) => {
            for branch in [&c.if_clause, &c.else_clause].into_iter().flatten() {
                collect_side_effects(facts, branch, ids);
            }
        }
        PlanNode::Subscription(s) => {
            if facts.fetch_has_side_effects(&s.primary.operation, s.primary.operation_kind.as_ref())
            {
                ids.insert(s.primary.id);
            }
        }
        PlanNode::Defer(_) => {}
    }
}

/// Runs `f`, turning a panic into [`PlanError::Internal`]: the planner has `expect`s and
/// `todo!`s on paths we do not expect to reach, and a bad operation must never take the
/// router down.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, PlanError>) -> Result<T, PlanError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let message = panic_message(&*p);
        tracing::error!(panic = message, "the query planner panicked");
        Err(PlanError::Internal(format!(
            "the query planner panicked: {message}"
        )))
    })
}

/// Finds the operation to run and its kind, as the GraphQL spec's `GetOperation`.
fn select_operation(
    document: &query_ast::Document<'static, String>,
    operation_name: Option<&str>,
) -> Result<OperationKind, PlanError> {
    let operations: Vec<(Option<&str>, OperationKind)> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            query_ast::Definition::Operation(op) => Some(match op {
                query_ast::OperationDefinition::SelectionSet(_) => (None, OperationKind::Query),
                query_ast::OperationDefinition::Query(q) => {
                    (q.name.as_deref(), OperationKind::Query)
                }
                query_ast::OperationDefinition::Mutation(m) => {
                    (m.name.as_deref(), OperationKind::Mutation)
                }
                query_ast::OperationDefinition::Subscription(s) => {
                    (s.name.as_deref(), OperationKind::Subscription)
                }
            }),
            query_ast::Definition::Fragment(_) => None,
        })
        .collect();
    match operation_name {
        Some(name) => operations
            .iter()
            .find(|(n, _)| *n == Some(name))
            .map(|(_, kind)| *kind)
            .ok_or_else(|| {
                PlanError::OperationSelection(format!("Unknown operation named \"{name}\"."))
            }),
        None => match operations.as_slice() {
            [] => Err(PlanError::OperationSelection(
                "The document contains no operation.".to_string(),
            )),
            [(_, kind)] => Ok(*kind),
            _ => Err(PlanError::OperationSelection(
                "Must provide operation name if query contains multiple operations.".to_string(),
            )),
        },
    }
}

fn parse_error(e: query_ast::ParseError) -> PlanError {
    let position = e.0.position;
    // combine prints "Parse error at L:C" then one line per expectation.
    let text = e.to_string();
    let detail = text
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    PlanError::Parse(ErrorDetail {
        message: if detail.is_empty() {
            "Syntax Error".to_string()
        } else {
            format!("Syntax Error: {detail}")
        },
        locations: vec![Location {
            line: position.line,
            column: position.column,
        }],
    })
}

fn validation_error(e: ValidationError) -> ErrorDetail {
    ErrorDetail {
        message: e.message,
        locations: e
            .locations
            .into_iter()
            .map(|p| Location {
                line: p.line,
                column: p.column,
            })
            .collect(),
    }
}

fn validation_message(message: String) -> PlanError {
    PlanError::Validation(vec![ErrorDetail {
        message,
        locations: Vec::new(),
    }])
}

fn normalization_error(e: NormalizationError) -> PlanError {
    match e {
        NormalizationError::MultipleMatchingOperationsFound
        | NormalizationError::SpecifiedOperationNotFound { .. }
        | NormalizationError::OperationNotFound
        | NormalizationError::ExpectedTransformedOperationNotFound => {
            PlanError::OperationSelection(e.to_string())
        }
        // Validation should have caught these; report them as what they are.
        other => validation_message(other.to_string()),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
