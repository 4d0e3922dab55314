//! Stage 4, execute: walk a query plan against the subgraphs and build the response.
//!
//! Sequence nodes run in order, Parallel branches concurrently. A Flatten (or BatchFetch)
//! collects the objects at its path in the response so far, projects each onto the
//! fetch's `requires` selection to make a representation, de-duplicates them, sends one
//! `_entities` request per fetch, and merges each entity back into every object it came
//! from. Subgraph errors keep their `extensions` and get the client's path. When every
//! fetch is done, [`project`] shapes the merged data to exactly the client's selection
//! (aliases, fragments, `__typename`, `@skip`/`@include`) and propagates nulls.

pub mod fetch;
mod project;
#[cfg(test)]
mod tests;
pub mod variables;

use crate::plan::ast::selection_item::SelectionItem;
use crate::plan::ast::selection_set::SelectionSet;
use crate::plan::nodes::{
    FetchNode, FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment, PlanNode,
};
use crate::plan::{ApiSchema, Introspection, Planned};
use axum::http::HeaderValue;
use fetch::{FetchError, SubgraphClient};
use folio_common::Viewer;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// A response path: field names and list indexes.
pub type Path = Vec<Value>;

/// The result of executing an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionResult {
    /// `null` when a non-null root field failed.
    pub data: Value,
    pub errors: Vec<Value>,
}

impl ExecutionResult {
    /// The response body.
    pub fn into_json(self) -> Value {
        let mut body = Map::new();
        if !self.errors.is_empty() {
            body.insert("errors".into(), Value::Array(self.errors));
        }
        body.insert("data".into(), self.data);
        Value::Object(body)
    }
}

/// What one execution needs besides the plan.
pub struct ExecutionContext<'a> {
    pub variables: &'a Map<String, Value>,
    pub viewer: &'a Viewer,
    pub traceparent: Option<&'a HeaderValue>,
    /// The files of a multipart request, which upload markers in `variables` name.
    pub uploads: &'a fetch::Uploads,
}

/// Runs plans.
pub struct Executor {
    client: SubgraphClient,
}

struct State<'a> {
    data: Mutex<Value>,
    errors: Mutex<Vec<Value>>,
    cx: &'a ExecutionContext<'a>,
    schema: &'a ApiSchema,
}

impl<'a> State<'a> {
    fn error(&self, e: Value) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(e);
        }
    }
}

impl Executor {
    pub fn new(client: SubgraphClient) -> Self {
        Executor { client }
    }

    /// The subgraph client (for readiness checks).
    pub fn client(&self) -> &SubgraphClient {
        &self.client
    }

    /// Executes `planned` and shapes the response. `cx.variables` must already be
    /// coerced ([`variables::coerce`]).
    pub async fn execute(
        &self,
        planned: &Planned,
        introspection: &Introspection,
        cx: &ExecutionContext<'_>,
    ) -> ExecutionResult {
        let variables = cx.variables;
        let state = State {
            data: Mutex::new(Value::Object(Map::new())),
            errors: Mutex::new(Vec::new()),
            cx,
            schema: &planned.schema,
        };
        if let Some(node) = &planned.plan.node {
            self.run(node, &state).await;
        }
        let mut introspected = Map::new();
        if let Some(part) = &planned.introspection {
            let result = introspection.execute(&part.operation, variables);
            if let Value::Object(d) = result.data {
                introspected = d;
            }
            for e in result.errors {
                state.error(e);
            }
        }
        let merged = state.data.into_inner().unwrap_or(Value::Null);
        let mut errors = state.errors.into_inner().unwrap_or_default();
        let data = project::project_root(
            &planned.schema,
            planned.root_type_name(),
            &planned.operation.selection_set,
            &merged,
            &introspected,
            variables,
            &mut errors,
        );
        ExecutionResult { data, errors }
    }

    fn run<'s>(
        &'s self,
        node: &'s PlanNode,
        state: &'s State<'s>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 's>> {
        Box::pin(async move {
            match node {
                PlanNode::Sequence(s) => {
                    for n in &s.nodes {
                        self.run(n, state).await;
                    }
                }
                PlanNode::Parallel(p) => {
                    let branches = p.nodes.iter().map(|n| self.run(n, state));
                    futures_join_all(branches).await;
                }
                PlanNode::Condition(c) => {
                    let on = matches!(
                        state.cx.variables.get(&c.condition),
                        Some(Value::Bool(true))
                    );
                    let branch = if on { &c.if_clause } else { &c.else_clause };
                    if let Some(n) = branch {
                        self.run(n, state).await;
                    }
                }
                PlanNode::Fetch(f) => self.root_fetch(f, state).await,
                PlanNode::Flatten(flat) => match flat.node.as_ref() {
                    PlanNode::Fetch(f) => {
                        self.entity_fetch(f, &[flat.path.as_slice()], None, state)
                            .await;
                    }
                    other => self.run(other, state).await,
                },
                PlanNode::BatchFetch(b) => self.batch_fetch(b, state).await,
                PlanNode::Subscription(_) | PlanNode::Defer(_) => state.error(json!({
                    "message": "subscriptions and @defer are not supported over this transport",
                    "extensions": { "code": "BAD_REQUEST" },
                })),
            }
        })
    }

    async fn root_fetch(&self, f: &FetchNode, state: &State<'_>) {
        let variables = used_variables(f.variable_usages.as_ref(), state.cx.variables);
        let answer = self
            .client
            .fetch_with_uploads(
                &f.service_name,
                &f.operation.document_str,
                variables,
                state.cx.uploads,
                state.cx.viewer,
                state.cx.traceparent,
                is_query(f.operation_kind.as_ref(), &f.operation.document_str),
            )
            .await;
        match answer {
            Ok(mut response) => {
                for e in response.errors.drain(..) {
                    state.error(subgraph_error(e, &f.service_name, None));
                }
                if let Some(mut data) = response.data {
                    if let Some(rewrites) = &f.output_rewrites {
                        let mut v = Value::Object(std::mem::take(&mut data));
                        apply_rewrites(&mut v, rewrites, state.schema);
                        if let Value::Object(d) = v {
                            data = d;
                        }
                    }
                    if let Ok(mut root) = state.data.lock() {
                        deep_merge(&mut root, Value::Object(data));
                    }
                }
            }
            Err(e) => state.error(unavailable(&f.service_name, &e, None)),
        }
    }

    /// One `_entities` fetch for the objects at `paths` (a Flatten has one path).
    async fn entity_fetch(
        &self,
        f: &FetchNode,
        paths: &[&[FlattenNodePathSegment]],
        _alias: Option<&str>,
        state: &State<'_>,
    ) {
        let Some(requires) = &f.requires else {
            return self.root_fetch(f, state).await;
        };
        let (targets, representations) = {
            let Ok(data) = state.data.lock() else { return };
            collect_representations(
                &data,
                paths,
                requires,
                f.input_rewrites.as_deref(),
                state.schema,
            )
        };
        if representations.is_empty() {
            return;
        }
        let mut variables = used_variables(f.variable_usages.as_ref(), state.cx.variables);
        variables.insert("representations".into(), Value::Array(representations));
        let answer = self
            .client
            .fetch_with_uploads(
                &f.service_name,
                &f.operation.document_str,
                variables,
                state.cx.uploads,
                state.cx.viewer,
                state.cx.traceparent,
                is_query(f.operation_kind.as_ref(), &f.operation.document_str),
            )
            .await;
        let first_path = targets.first().map(|t| t.0.clone());
        let response = match answer {
            Ok(r) => r,
            Err(e) => return state.error(unavailable(&f.service_name, &e, first_path)),
        };
        for e in response.errors {
            state.error(subgraph_error(e, &f.service_name, Some(&targets)));
        }
        let entities = match response.data.and_then(|mut d| d.remove("_entities")) {
            Some(Value::Array(list)) => list,
            _ => return,
        };
        self.merge_entities(entities, &targets, f.output_rewrites.as_deref(), state);
    }

    fn merge_entities(
        &self,
        mut entities: Vec<Value>,
        targets: &[(Path, usize)],
        rewrites: Option<&[FetchRewrite]>,
        state: &State<'_>,
    ) {
        if let Some(rewrites) = rewrites {
            for e in &mut entities {
                apply_rewrites(e, rewrites, state.schema);
            }
        }
        let Ok(mut data) = state.data.lock() else {
            return;
        };
        for (path, index) in targets {
            if let (Some(entity @ Value::Object(_)), Some(target)) =
                (entities.get(*index), value_at_mut(&mut data, path))
            {
                deep_merge(target, entity.clone());
            }
        }
    }

    async fn batch_fetch(&self, b: &crate::plan::nodes::BatchFetchNode, state: &State<'_>) {
        let mut variables = used_variables(b.variable_usages.as_ref(), state.cx.variables);
        let mut per_alias = Vec::new();
        {
            let Ok(data) = state.data.lock() else { return };
            for alias in &b.entity_batch.aliases {
                let paths: Vec<&[FlattenNodePathSegment]> =
                    alias.merge_paths.iter().map(|p| p.as_slice()).collect();
                let (targets, reps) = collect_representations(
                    &data,
                    &paths,
                    &alias.requires,
                    alias.input_rewrites.as_deref(),
                    state.schema,
                );
                variables.insert(
                    alias.representations_variable_name.clone(),
                    Value::Array(reps),
                );
                per_alias.push(targets);
            }
        }
        if per_alias.iter().all(Vec::is_empty) {
            return;
        }
        let answer = self
            .client
            .fetch_with_uploads(
                &b.service_name,
                &b.operation.document_str,
                variables,
                state.cx.uploads,
                state.cx.viewer,
                state.cx.traceparent,
                is_query(b.operation_kind.as_ref(), &b.operation.document_str),
            )
            .await;
        let all_targets: Vec<(Path, usize)> = per_alias.iter().flatten().cloned().collect();
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => {
                return state.error(unavailable(
                    &b.service_name,
                    &e,
                    all_targets.first().map(|t| t.0.clone()),
                ));
            }
        };
        for e in response.errors.drain(..) {
            state.error(subgraph_error(e, &b.service_name, None));
        }
        let Some(mut data) = response.data else {
            return;
        };
        for (alias, targets) in b.entity_batch.aliases.iter().zip(per_alias) {
            if let Some(Value::Array(entities)) = data.remove(&alias.alias) {
                self.merge_entities(entities, &targets, alias.output_rewrites.as_deref(), state);
            }
        }
    }
}

/// Whether a fetch only reads: a query (entity fetches are queries too). Anything that
/// says or looks like a mutation is never shared between requests.
fn is_query(
    kind: Option<&hive_router_query_planner::state::supergraph_state::OperationKind>,
    document: &str,
) -> bool {
    use hive_router_query_planner::state::supergraph_state::OperationKind;
    let looks_like_write = {
        let d = document.trim_start();
        d.starts_with("mutation") || d.starts_with("subscription")
    };
    matches!(kind, None | Some(OperationKind::Query)) && !looks_like_write
}

async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let futures: Vec<F> = futures.collect();
    async_graphql::futures_util::future::join_all(futures).await;
}

/// hive's AST values serialize tagged; turn the common shapes into plain JSON.
pub(crate) fn ast_value_to_json(v: Value) -> Value {
    match v {
        Value::Object(mut m) if m.len() == 1 => {
            let (k, inner) = m
                .iter_mut()
                .next()
                .map(|(k, v)| (k.clone(), v.take()))
                .unwrap_or_default();
            match k.as_str() {
                "Null" => Value::Null,
                "Int" | "Float" | "String" | "Boolean" | "Enum" => inner,
                "List" => match inner {
                    Value::Array(items) => {
                        Value::Array(items.into_iter().map(ast_value_to_json).collect())
                    }
                    other => other,
                },
                "Object" => match inner {
                    Value::Object(o) => Value::Object(
                        o.into_iter()
                            .map(|(k, v)| (k, ast_value_to_json(v)))
                            .collect(),
                    ),
                    other => other,
                },
                _ => {
                    let mut back = Map::new();
                    back.insert(k, inner);
                    Value::Object(back)
                }
            }
        }
        other => other,
    }
}

fn used_variables(
    usages: Option<&std::collections::BTreeSet<String>>,
    all: &Map<String, Value>,
) -> Map<String, Value> {
    usages
        .into_iter()
        .flatten()
        .filter_map(|name| all.get(name).map(|v| (name.clone(), v.clone())))
        .collect()
}

/// Finds the objects at each path and builds their de-duplicated representations.
/// Returns (path of each object, index of its representation) and the representations.
fn collect_representations(
    data: &Value,
    paths: &[&[FlattenNodePathSegment]],
    requires: &SelectionSet,
    input_rewrites: Option<&[FetchRewrite]>,
    schema: &ApiSchema,
) -> (Vec<(Path, usize)>, Vec<Value>) {
    let mut targets = Vec::new();
    let mut representations: Vec<Value> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for path in paths {
        let mut found = Vec::new();
        walk(data, path, &mut Vec::new(), &mut found);
        for (object_path, object) in found {
            let Some(mut rep) = represent(object, requires, schema) else {
                continue;
            };
            if let Some(rewrites) = input_rewrites {
                apply_rewrites(&mut rep, rewrites, schema);
            }
            let key = rep.to_string();
            let index = *seen.entry(key).or_insert_with(|| {
                representations.push(rep);
                representations.len() - 1
            });
            targets.push((object_path, index));
        }
    }
    (targets, representations)
}

/// Collects the objects that `path` reaches from `value`.
fn walk<'v>(
    value: &'v Value,
    path: &[FlattenNodePathSegment],
    at: &mut Path,
    out: &mut Vec<(Path, &'v Value)>,
) {
    let Some((first, rest)) = path.split_first() else {
        if value.is_object() {
            out.push((at.clone(), value));
        }
        return;
    };
    match first {
        FlattenNodePathSegment::Field(key) => {
            if let Some(next) = value.get(key) {
                at.push(Value::String(key.clone()));
                walk(next, rest, at, out);
                at.pop();
            }
        }
        FlattenNodePathSegment::List => {
            if let Value::Array(items) = value {
                for (i, item) in items.iter().enumerate() {
                    at.push(json!(i));
                    walk(item, rest, at, out);
                    at.pop();
                }
            }
        }
        FlattenNodePathSegment::TypeCondition(types) => {
            let typename = value.get("__typename").and_then(Value::as_str);
            if typename.is_some_and(|t| types.contains(t)) {
                walk(value, rest, at, out);
            }
        }
    }
}

/// `object` projected onto a `requires` selection (`... on T { __typename id … }`).
fn represent(object: &Value, requires: &SelectionSet, schema: &ApiSchema) -> Option<Value> {
    let typename = object.get("__typename")?.as_str()?.to_owned();
    let mut out = Map::new();
    select_into(object, requires, &typename, schema, &mut out);
    out.entry("__typename").or_insert(Value::String(typename));
    Some(Value::Object(out))
}

fn select_into(
    object: &Value,
    set: &SelectionSet,
    typename: &str,
    schema: &ApiSchema,
    out: &mut Map<String, Value>,
) {
    for item in &set.items {
        match item {
            SelectionItem::Field(field) => {
                let key = field.selection_identifier();
                let Some(value) = object.get(key) else {
                    continue;
                };
                let projected = if field.selections.items.is_empty() {
                    value.clone()
                } else {
                    select_value(value, &field.selections, schema)
                };
                out.insert(key.to_owned(), projected);
            }
            SelectionItem::InlineFragment(fragment) => {
                if schema.is_possible_type(&fragment.type_condition, typename)
                    || fragment.type_condition == typename
                {
                    select_into(object, &fragment.selections, typename, schema, out);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn select_value(value: &Value, set: &SelectionSet, schema: &ApiSchema) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| select_value(v, set, schema)).collect())
        }
        Value::Object(_) => {
            let typename = value
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut out = Map::new();
            select_into(value, set, &typename, schema, &mut out);
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Applies the planner's input or output rewrites to one value.
fn apply_rewrites(value: &mut Value, rewrites: &[FetchRewrite], schema: &ApiSchema) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                rewrite_at(value, &setter.path, schema, &mut |parent, key| {
                    if let Value::Object(m) = parent {
                        m.insert(key.to_owned(), Value::String(setter.set_value_to.clone()));
                    }
                });
            }
            FetchRewrite::KeyRenamer(renamer) => {
                rewrite_at(value, &renamer.path, schema, &mut |parent, key| {
                    if let Value::Object(m) = parent
                        && let Some(v) = m.remove(key)
                    {
                        m.insert(renamer.rename_key_to.clone(), v);
                    }
                });
            }
        }
    }
}

/// Calls `apply(parent, last_key)` where `path` leads (through lists and type filters).
fn rewrite_at(
    value: &mut Value,
    path: &[FetchNodePathSegment],
    schema: &ApiSchema,
    apply: &mut dyn FnMut(&mut Value, &str),
) {
    if let Value::Array(items) = value {
        for item in items {
            rewrite_at(item, path, schema, apply);
        }
        return;
    }
    match path {
        [] => {}
        [FetchNodePathSegment::Key(last)] => apply(value, last),
        [FetchNodePathSegment::Key(key), rest @ ..] => {
            if let Some(next) = value.get_mut(key) {
                rewrite_at(next, rest, schema, apply);
            }
        }
        [FetchNodePathSegment::TypenameEquals(types), rest @ ..] => {
            let typename = value
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let matches = types
                .iter()
                .any(|t| t == typename || schema.is_possible_type(t, typename));
            if matches {
                rewrite_at(value, rest, schema, apply);
            }
        }
    }
}

fn value_at_mut<'v>(value: &'v mut Value, path: &[Value]) -> Option<&'v mut Value> {
    let mut current = value;
    for seg in path {
        current = match seg {
            Value::String(k) => current.get_mut(k.as_str())?,
            Value::Number(n) => current.get_mut(usize::try_from(n.as_u64()?).ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Merges `from` into `into`: objects key by key, lists item by item, else replace.
pub fn deep_merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (x, y) in a.iter_mut().zip(b) {
                deep_merge(x, y);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// A subgraph's error as the client sees it: its message and extensions, with the path
/// translated from `_entities` to the client's response when it was an entity fetch.
fn subgraph_error(mut e: Value, service: &str, targets: Option<&[(Path, usize)]>) -> Value {
    let Value::Object(m) = &mut e else {
        return json!({ "message": "a service returned an invalid error", "extensions": { "code": "SUBGRAPH_ERROR", "service": service } });
    };
    m.remove("locations");
    if let (Some(targets), Some(Value::Array(path))) = (targets, m.get("path").cloned()) {
        let translated = match path.as_slice() {
            [Value::String(root), Value::Number(i), rest @ ..] if root == "_entities" => {
                let i = usize::try_from(i.as_u64().unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
                targets.iter().find(|t| t.1 == i).map(|(p, _)| {
                    let mut full = p.clone();
                    full.extend(rest.iter().cloned());
                    full
                })
            }
            _ => None,
        };
        match translated {
            Some(p) => {
                m.insert("path".into(), Value::Array(p));
            }
            None => {
                m.remove("path");
            }
        }
    }
    let ext = m.entry("extensions").or_insert_with(|| json!({}));
    if let Value::Object(ext) = ext {
        ext.entry("code").or_insert_with(|| json!("SUBGRAPH_ERROR"));
        ext.entry("service").or_insert_with(|| json!(service));
    }
    e
}

fn unavailable(service: &str, e: &FetchError, path: Option<Path>) -> Value {
    let reason = match e {
        FetchError::UnknownSubgraph(_) => "it is not configured",
        FetchError::Unavailable(_) => "it did not answer in time",
    };
    tracing::error!(service, error = ?e, "subgraph fetch failed");
    let mut error = json!({
        "message": format!("the {service} service is unavailable ({reason}); try again shortly"),
        "extensions": { "code": "SUBGRAPH_UNAVAILABLE", "service": service },
    });
    if let (Some(p), Value::Object(m)) = (path, &mut error) {
        m.insert("path".into(), Value::Array(p));
    }
    error
}
