//! Stage 5, execute: walk a query plan against the subgraphs and build the response.
//!
//! Sequence nodes run in order, Parallel branches concurrently. A Flatten (or BatchFetch)
//! collects the objects at its path in the response so far, projects each onto the
//! fetch's `requires` selection to make a representation, de-duplicates them, sends one
//! `_entities` request per fetch, and merges each entity back into every object it came
//! from. Subgraph errors keep their `extensions` and get the client's path. When every
//! fetch is done, [`project`] shapes the merged data to exactly the client's selection
//! (aliases, fragments, `__typename`, `@skip`/`@include`) and propagates nulls.

mod data;
pub mod fetch;
mod project;
pub use project::RESPONSE_VALIDATION_FAILED;
pub mod variables;

use crate::plan::ast::selection_item::SelectionItem;
use crate::plan::ast::selection_set::SelectionSet;
use crate::plan::nodes::{
    FetchNode, FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment, PlanNode,
};
use crate::plan::{ApiSchema, Introspection, Planned};
use axum::http::HeaderValue;
use data::{Data, Object};
use fetch::{FetchError, SubgraphClient, Variables};
use folio_common::Viewer;
use indexmap::IndexSet;
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};

/// A response path: field names and list indexes.
pub type Path = Vec<Value>;

/// One step of the path to an object in the data being merged: a response key (borrowed
/// from the plan) or a list index. Made into a JSON [`Path`] only for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

/// An object an entity fetch is for: where it is, and the index of its representation.
type Target<'p> = (Vec<Seg<'p>>, usize);

fn json_path(segs: &[Seg<'_>]) -> Path {
    segs.iter()
        .map(|s| match s {
            Seg::Key(k) => Value::String((*k).to_owned()),
            Seg::Index(i) => Value::from(*i),
        })
        .collect()
}

/// The result of executing an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionResult {
    /// The response's `data` as JSON text (`null` when a non-null root field failed).
    data: Vec<u8>,
    pub errors: Vec<Value>,
}

impl ExecutionResult {
    /// The response body as JSON text: `errors` first when there are any, then `data`.
    pub fn into_body(self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.data.len() + 16);
        body.push(b'{');
        if !self.errors.is_empty() {
            body.extend_from_slice(b"\"errors\":");
            // Serializing JSON values into a `Vec` cannot fail.
            let _ = serde_json::to_writer(&mut body, &self.errors);
            body.push(b',');
        }
        body.extend_from_slice(b"\"data\":");
        body.extend_from_slice(&self.data);
        body.push(b'}');
        body
    }

    /// The response's `data` as a JSON value (for tests and tools).
    pub fn data(&self) -> Value {
        serde_json::from_slice(&self.data).unwrap_or(Value::Null)
    }

    /// The response body as a JSON value (for tests and tools).
    pub fn into_json(self) -> Value {
        serde_json::from_slice(&self.into_body()).unwrap_or(Value::Null)
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
    data: Mutex<Data>,
    errors: Mutex<Vec<Value>>,
    /// Response paths whose missing data one reported error already explains (every
    /// object a failed entity fetch was for), so projection adds no second error there.
    explained: Mutex<Vec<Path>>,
    cx: &'a ExecutionContext<'a>,
    planned: &'a Planned,
    schema: &'a ApiSchema,
}

impl<'a> State<'a> {
    fn error(&self, e: Value) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(e);
        }
    }

    fn explain(&self, paths: impl IntoIterator<Item = Path>) {
        if let Ok(mut explained) = self.explained.lock() {
            explained.extend(paths);
        }
    }

    /// Whether this fetch may share an identical one in flight: a query without side
    /// effects (entity fetches are queries too).
    fn shareable(
        &self,
        fetch_id: i64,
        kind: Option<&hive_router_query_planner::state::supergraph_state::OperationKind>,
        document: &str,
    ) -> bool {
        is_query(kind, document) && !self.planned.has_side_effects(fetch_id)
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
            data: Mutex::new(Data::Object(Vec::new())),
            errors: Mutex::new(Vec::new()),
            explained: Mutex::new(Vec::new()),
            cx,
            planned,
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
        let mut merged = state.data.into_inner().unwrap_or_default();
        if let Data::Object(root) = &mut merged {
            for (k, v) in introspected {
                set_key(root, k, v.into());
            }
        }
        let mut errors = state.errors.into_inner().unwrap_or_default();
        let explained = state.explained.into_inner().unwrap_or_default();
        let data = project::project_root(
            &planned.schema,
            planned.root_type_name(),
            &planned.operation.selection_set,
            &merged,
            variables,
            &explained,
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
                        self.entity_fetch(f, &[flat.path.as_slice()], state).await;
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
        let variables = Variables::from(used_variables(
            f.variable_usages.as_ref(),
            state.cx.variables,
        ));
        let answer = self
            .client
            .fetch_with_uploads(
                &f.service_name,
                &f.operation.document_str,
                variables,
                state.cx.uploads,
                state.cx.viewer,
                state.cx.traceparent,
                state.shareable(f.id, f.operation_kind.as_ref(), &f.operation.document_str),
            )
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(e) => return state.error(unavailable(&f.service_name, &e, None)),
        };
        for e in &response.errors {
            state.error(subgraph_error(e.clone(), &f.service_name));
        }
        // The answer is ours alone unless an identical fetch shared it: then merge from it
        // by reference, copying only what lands in our data.
        let data = match Arc::try_unwrap(response) {
            Ok(owned) => owned.data,
            Err(shared) => match (&shared.data, &f.output_rewrites) {
                (Some(d), None) => {
                    if let Ok(mut root) = state.data.lock() {
                        merge_ref(&mut root, d);
                    }
                    return;
                }
                (d, _) => d.clone(),
            },
        };
        if let Some(mut data) = data {
            if let Some(rewrites) = &f.output_rewrites {
                apply_rewrites(&mut data, rewrites, state.schema);
            }
            if let Ok(mut root) = state.data.lock() {
                deep_merge(&mut root, data);
            }
        }
    }

    /// One `_entities` fetch for the objects at `paths` (a Flatten has one path).
    async fn entity_fetch(
        &self,
        f: &FetchNode,
        paths: &[&[FlattenNodePathSegment]],
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
                state.planned,
            )
        };
        if representations.is_empty() {
            return;
        }
        let mut variables = Variables::from(used_variables(
            f.variable_usages.as_ref(),
            state.cx.variables,
        ));
        variables
            .raw
            .push(("representations".into(), representations.into_json()));
        let answer = self
            .client
            .fetch_with_uploads(
                &f.service_name,
                &f.operation.document_str,
                variables,
                state.cx.uploads,
                state.cx.viewer,
                state.cx.traceparent,
                state.shareable(f.id, f.operation_kind.as_ref(), &f.operation.document_str),
            )
            .await;
        let response = match answer {
            Ok(r) => r,
            Err(e) => return fetch_failed(state, &f.service_name, &e, &targets),
        };
        let entities = match response.data.as_ref().and_then(|d| d.get("_entities")) {
            Some(Data::Array(list)) => list.as_slice(),
            _ => &[],
        };
        let mut located = Vec::new();
        for e in &response.errors {
            located.extend(entity_errors(
                e.clone(),
                &f.service_name,
                "_entities",
                &targets,
                entities,
            ));
        }
        report_distinct(state, located);
        // An answer that is ours alone gives its entities away; a shared one is copied from.
        match Arc::try_unwrap(response) {
            Ok(owned) => {
                let entities = match owned.data.and_then(|mut d| d.remove("_entities")) {
                    Some(Data::Array(list)) => list,
                    _ => Vec::new(),
                };
                self.merge_owned_entities(entities, &targets, f.output_rewrites.as_deref(), state);
            }
            Err(shared) => {
                let entities = match shared.data.as_ref().and_then(|d| d.get("_entities")) {
                    Some(Data::Array(list)) => list.as_slice(),
                    _ => &[],
                };
                self.merge_entities(entities, &targets, f.output_rewrites.as_deref(), state);
            }
        }
    }

    /// [`Executor::merge_entities`] from an answer of our own: each entity moves into the
    /// last object it serves (and is copied for any others).
    fn merge_owned_entities(
        &self,
        mut entities: Vec<Data>,
        targets: &[Target<'_>],
        rewrites: Option<&[FetchRewrite]>,
        state: &State<'_>,
    ) {
        if let Some(rewrites) = rewrites {
            for e in &mut entities {
                apply_rewrites(e, rewrites, state.schema);
            }
        }
        let mut uses = vec![0usize; entities.len()];
        for (_, index) in targets {
            if let Some(n) = uses.get_mut(*index) {
                *n += 1;
            }
        }
        let Ok(mut data) = state.data.lock() else {
            return;
        };
        for (path, index) in targets {
            let (Some(entity), Some(n)) = (entities.get_mut(*index), uses.get_mut(*index)) else {
                continue;
            };
            if !entity.is_object() {
                continue;
            }
            let Some(target) = value_at_mut(&mut data, path) else {
                continue;
            };
            *n -= 1;
            if *n == 0 {
                deep_merge(target, entity.take());
            } else {
                merge_ref(target, entity);
            }
        }
    }

    /// Merges each entity into every object it was fetched for, copying from the answer
    /// (which may be shared with other requests, and an entity may serve several objects).
    fn merge_entities(
        &self,
        entities: &[Data],
        targets: &[Target<'_>],
        rewrites: Option<&[FetchRewrite]>,
        state: &State<'_>,
    ) {
        let rewritten;
        let entities = match rewrites {
            Some(rewrites) => {
                let mut copy = entities.to_vec();
                for e in &mut copy {
                    apply_rewrites(e, rewrites, state.schema);
                }
                rewritten = copy;
                rewritten.as_slice()
            }
            None => entities,
        };
        let Ok(mut data) = state.data.lock() else {
            return;
        };
        for (path, index) in targets {
            if let (Some(entity @ Data::Object(_)), Some(target)) =
                (entities.get(*index), value_at_mut(&mut data, path))
            {
                merge_ref(target, entity);
            }
        }
    }

    async fn batch_fetch(&self, b: &crate::plan::nodes::BatchFetchNode, state: &State<'_>) {
        let mut variables = Variables::from(used_variables(
            b.variable_usages.as_ref(),
            state.cx.variables,
        ));
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
                    state.planned,
                );
                variables.raw.push((
                    alias.representations_variable_name.clone(),
                    reps.into_json(),
                ));
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
                state.shareable(b.id, b.operation_kind.as_ref(), &b.operation.document_str),
            )
            .await;
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                let all: Vec<Target<'_>> = per_alias.iter().flatten().cloned().collect();
                return fetch_failed(state, &b.service_name, &e, &all);
            }
        };
        let per_alias_entities: Vec<&[Data]> = b
            .entity_batch
            .aliases
            .iter()
            .map(
                |alias| match response.data.as_ref().and_then(|d| d.get(&alias.alias)) {
                    Some(Data::Array(entities)) => entities.as_slice(),
                    _ => &[],
                },
            )
            .collect();
        let mut located = Vec::new();
        for e in response.errors.iter().cloned() {
            // The error's path starts with the alias whose representations it is about.
            let first = e.get("path").and_then(|p| p.get(0)).and_then(Value::as_str);
            let owner = b
                .entity_batch
                .aliases
                .iter()
                .position(|alias| first == Some(alias.alias.as_str()));
            located.extend(match owner {
                Some(i) => entity_errors(
                    e,
                    &b.service_name,
                    &b.entity_batch.aliases[i].alias,
                    &per_alias[i],
                    per_alias_entities[i],
                ),
                None => {
                    let all: Vec<Target<'_>> = per_alias.iter().flatten().cloned().collect();
                    entity_errors(e, &b.service_name, "", &all, &[])
                }
            });
        }
        report_distinct(state, located);
        for ((alias, targets), entities) in b
            .entity_batch
            .aliases
            .iter()
            .zip(per_alias)
            .zip(per_alias_entities)
        {
            self.merge_entities(entities, &targets, alias.output_rewrites.as_deref(), state);
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

/// De-duplicated entity representations, each written as JSON text once.
#[derive(Default)]
struct Representations {
    set: IndexSet<Vec<u8>, foldhash::fast::RandomState>,
}

impl Representations {
    fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The index of this representation, added if it is new.
    fn index_of(&mut self, rep: &[u8]) -> usize {
        match self.set.get_index_of(rep) {
            Some(i) => i,
            None => self.set.insert_full(rep.to_vec()).0,
        }
    }

    /// The list as a JSON array, for the fetch's variables.
    fn into_json(self) -> String {
        let mut out = Vec::with_capacity(self.set.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (i, rep) in self.set.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(rep);
        }
        out.push(b']');
        // Only whole JSON texts written by serde_json went in.
        String::from_utf8(out).unwrap_or_else(|_| "[]".to_owned())
    }
}

/// Finds the objects at each path and builds their de-duplicated representations.
/// Returns (path of each object, index of its representation) and the representations.
/// An object that cannot make a representation (a key field null or missing) is left
/// out, so only that entity goes without this fetch's fields.
fn collect_representations<'p>(
    data: &Data,
    paths: &[&'p [FlattenNodePathSegment]],
    requires: &'p SelectionSet,
    input_rewrites: Option<&[FetchRewrite]>,
    planned: &Planned,
) -> (Vec<Target<'p>>, Representations) {
    let mut targets = Vec::new();
    let mut representations = Representations::default();
    let mut one = Vec::with_capacity(128);
    let mut written = Vec::new();
    let mut found = Vec::new();
    for path in paths {
        found.clear();
        walk(data, path, &mut Vec::new(), &mut found);
        for (object_path, object) in found.drain(..) {
            one.clear();
            let ok = match input_rewrites {
                None => write_representation(object, requires, planned, &mut one, &mut written),
                Some(rewrites) => {
                    write_representation(object, requires, planned, &mut one, &mut written)
                        .and_then(|()| rewritten(&one, rewrites, &planned.schema))
                        .map(|rep| {
                            one.clear();
                            write_json(&mut one, &rep);
                        })
                }
            };
            if ok.is_none() {
                continue;
            }
            let index = representations.index_of(&one);
            targets.push((object_path, index));
        }
    }
    (targets, representations)
}

/// A representation written by [`write_representation`], with the planner's input
/// rewrites applied (rare: only some supergraphs need them).
fn rewritten(rep: &[u8], rewrites: &[FetchRewrite], schema: &ApiSchema) -> Option<Data> {
    let mut rep: Data = serde_json::from_slice(rep).ok()?;
    apply_rewrites(&mut rep, rewrites, schema);
    Some(rep)
}

fn write_json(out: &mut Vec<u8>, v: &(impl serde::Serialize + ?Sized)) {
    // Serializing strings and JSON values into a `Vec` cannot fail.
    let _ = serde_json::to_writer(out, v);
}

/// `object` projected onto a `requires` selection (`... on T { __typename id … }`) and
/// written as JSON text, or `None` when it lacks what a representation needs: its
/// `__typename`, a selected field, or a non-null value for a key field or a field
/// declared non-null. `written` is scratch space for the keys of the objects being
/// written (a key selected twice is written once).
///
/// A required field may read another response key than it writes: `price:
/// _internal_qp_alias_0` reads the value the planner fetched under its alias (the
/// client's own `price` may have other arguments) and sends it as `price`.
fn write_representation<'p>(
    object: &Data,
    requires: &'p SelectionSet,
    planned: &Planned,
    out: &mut Vec<u8>,
    written: &mut Vec<&'p str>,
) -> Option<()> {
    let typename = object.get("__typename")?.as_str()?;
    written.clear();
    out.push(b'{');
    write_fields(object, requires, typename, planned, out, written, 0)?;
    if !written.contains(&"__typename") {
        if !written.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"__typename\":");
        write_json(out, typename);
    }
    out.push(b'}');
    Some(())
}

/// Writes the fields `set` selects of `object` (comma-separated, no braces); the keys
/// written so far for this object are `written[level..]`.
fn write_fields<'p>(
    object: &Data,
    set: &'p SelectionSet,
    typename: &str,
    planned: &Planned,
    out: &mut Vec<u8>,
    written: &mut Vec<&'p str>,
    level: usize,
) -> Option<()> {
    for item in &set.items {
        match item {
            SelectionItem::Field(field) => {
                let key = field.alias.as_deref().unwrap_or(&field.name);
                if written[level..].contains(&key) {
                    continue;
                }
                let value = object.get(&field.name)?;
                if value.is_null() && planned.facts.must_not_be_null(typename, &field.name) {
                    return None;
                }
                if written.len() > level {
                    out.push(b',');
                }
                written.push(key);
                write_json(out, key);
                out.push(b':');
                if value.is_null() || field.selections.items.is_empty() {
                    write_json(out, value);
                } else {
                    let child = planned
                        .facts
                        .field_type_name(typename, &field.name)
                        .unwrap_or_default();
                    write_selected(value, &field.selections, child, planned, out, written)?;
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                if fragment.type_condition == typename
                    || planned
                        .schema
                        .is_possible_type(&fragment.type_condition, typename)
                {
                    let inner = &fragment.selections;
                    write_fields(object, inner, typename, planned, out, written, level)?;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    Some(())
}

/// A value projected onto a selection (lists item by item), written as JSON text.
fn write_selected<'p>(
    value: &Data,
    set: &'p SelectionSet,
    declared: &str,
    planned: &Planned,
    out: &mut Vec<u8>,
    written: &mut Vec<&'p str>,
) -> Option<()> {
    match value {
        Data::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_selected(item, set, declared, planned, out, written)?;
            }
            out.push(b']');
        }
        Data::Object(_) => {
            let typename = value
                .get("__typename")
                .and_then(Data::as_str)
                .unwrap_or(declared);
            let level = written.len();
            out.push(b'{');
            write_fields(value, set, typename, planned, out, written, level)?;
            written.truncate(level);
            out.push(b'}');
        }
        other => write_json(out, other),
    }
    Some(())
}

/// Collects the objects that `path` reaches from `value`.
fn walk<'v, 'p>(
    value: &'v Data,
    path: &'p [FlattenNodePathSegment],
    at: &mut Vec<Seg<'p>>,
    out: &mut Vec<(Vec<Seg<'p>>, &'v Data)>,
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
                at.push(Seg::Key(key));
                walk(next, rest, at, out);
                at.pop();
            }
        }
        FlattenNodePathSegment::List => {
            if let Data::Array(items) = value {
                for (i, item) in items.iter().enumerate() {
                    at.push(Seg::Index(i));
                    walk(item, rest, at, out);
                    at.pop();
                }
            }
        }
        FlattenNodePathSegment::TypeCondition(types) => {
            let typename = value.get("__typename").and_then(Data::as_str);
            if typename.is_some_and(|t| types.contains(t)) {
                walk(value, rest, at, out);
            }
        }
    }
}

/// Sets `key` in an object: replaced where it is, or added at the end.
fn set_key(entries: &mut Object, key: String, value: Data) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some((_, slot)) => *slot = value,
        None => entries.push((key, value)),
    }
}

/// Applies the planner's input or output rewrites to one value.
fn apply_rewrites(value: &mut Data, rewrites: &[FetchRewrite], schema: &ApiSchema) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(setter) => {
                rewrite_at(value, &setter.path, schema, &mut |parent, key| {
                    if let Data::Object(m) = parent {
                        set_key(m, key.to_owned(), Data::String(setter.set_value_to.clone()));
                    }
                });
            }
            FetchRewrite::KeyRenamer(renamer) => {
                rewrite_at(value, &renamer.path, schema, &mut |parent, key| {
                    if let Some(v) = parent.remove(key)
                        && let Data::Object(m) = parent
                    {
                        set_key(m, renamer.rename_key_to.clone(), v);
                    }
                });
            }
        }
    }
}

/// Calls `apply(parent, last_key)` where `path` leads (through lists and type filters).
fn rewrite_at(
    value: &mut Data,
    path: &[FetchNodePathSegment],
    schema: &ApiSchema,
    apply: &mut dyn FnMut(&mut Data, &str),
) {
    if let Data::Array(items) = value {
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
                .and_then(Data::as_str)
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

fn value_at_mut<'v>(value: &'v mut Data, path: &[Seg<'_>]) -> Option<&'v mut Data> {
    let mut current = value;
    for seg in path {
        current = match (seg, current) {
            (Seg::Key(k), c) => c.get_mut(k)?,
            (Seg::Index(i), Data::Array(items)) => items.get_mut(*i)?,
            (Seg::Index(_), _) => return None,
        };
    }
    Some(current)
}

/// Merges `from` into `into`: objects key by key, lists item by item, else replace.
fn deep_merge(into: &mut Data, from: Data) {
    match (into, from) {
        (Data::Object(a), Data::Object(b)) => {
            for (k, v) in b {
                match a.iter_mut().find(|(key, _)| *key == k) {
                    Some((_, existing)) => deep_merge(existing, v),
                    None => a.push((k, v)),
                }
            }
        }
        (Data::Array(a), Data::Array(b)) if a.len() == b.len() => {
            for (x, y) in a.iter_mut().zip(b) {
                deep_merge(x, y);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// [`deep_merge`] from a borrowed value, copying only what it adds or replaces.
fn merge_ref(into: &mut Data, from: &Data) {
    match (into, from) {
        (Data::Object(a), Data::Object(b)) => {
            for (k, v) in b {
                match a.iter_mut().find(|(key, _)| key == k) {
                    Some((_, existing)) => merge_ref(existing, v),
                    None => a.push((k.clone(), v.clone())),
                }
            }
        }
        (Data::Array(a), Data::Array(b)) if a.len() == b.len() => {
            for (x, y) in a.iter_mut().zip(b) {
                merge_ref(x, y);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// A root fetch's error as the client sees it: its message, path and extensions, with
/// `SUBGRAPH_ERROR` and the service named where the subgraph gave no code.
fn subgraph_error(mut e: Value, service: &str) -> Value {
    let Value::Object(m) = &mut e else {
        return json!({
            "message": "a service returned an invalid error",
            "extensions": { "code": "SUBGRAPH_ERROR", "service": service },
        });
    };
    m.remove("locations");
    let ext = m.entry("extensions").or_insert_with(|| json!({}));
    if !ext.is_object() {
        *ext = json!({});
    }
    if let Value::Object(ext) = ext {
        ext.entry("code").or_insert_with(|| json!("SUBGRAPH_ERROR"));
        ext.entry("service").or_insert_with(|| json!(service));
    }
    e
}

/// Reports a fetch's errors once each: a subgraph that leaves the entity's index out of
/// its error paths sends one error per failed entity, which all land on the same places.
fn report_distinct(state: &State<'_>, errors: Vec<Value>) {
    let mut seen = std::collections::HashSet::new();
    for e in errors {
        if seen.insert(e.to_string()) {
            state.error(e);
        }
    }
}

/// An error of an entity fetch, at the client's path of each entity it is about.
///
/// `["<field>", i, rest…]` (`field` is `_entities`, or a batch's alias) is about the
/// entity of representation `i`: every object that representation stands for gets the
/// error, at its own path followed by `rest`. An error that names no representation (no
/// path, or a path without an index, as async-graphql subgraphs report errors inside
/// `_entities`) is about the entities that did not come back (`entities`, the answer's
/// list), or about all of them when every one came back.
fn entity_errors(
    e: Value,
    service: &str,
    field: &str,
    targets: &[Target<'_>],
    entities: &[Data],
) -> Vec<Value> {
    let error = subgraph_error(e, service);
    let path = error.get("path").and_then(Value::as_array).cloned();
    let (index, rest): (Option<usize>, Vec<Value>) = match path.as_deref() {
        Some([Value::String(root), Value::Number(i), rest @ ..]) if root == field => (
            i.as_u64().and_then(|i| usize::try_from(i).ok()),
            rest.to_vec(),
        ),
        Some([Value::String(root), rest @ ..]) if root == field => (None, rest.to_vec()),
        _ => (None, Vec::new()),
    };
    let missing = |rep: usize| !entities.get(rep).is_some_and(Data::is_object);
    let any_missing = targets.iter().any(|(_, rep)| missing(*rep));
    let mut located: Vec<Value> = targets
        .iter()
        .filter(|(_, rep)| match index {
            Some(i) => i == *rep,
            None => !any_missing || missing(*rep),
        })
        .map(|(target, _)| {
            let mut one = error.clone();
            if let Value::Object(m) = &mut one {
                let mut full = json_path(target);
                full.extend(rest.iter().cloned());
                m.insert("path".into(), Value::Array(full));
            }
            one
        })
        .collect();
    if located.is_empty() {
        // No entity of ours matches: keep the message, without a path that would point
        // into the subgraph's response rather than the client's.
        let mut unplaced = error;
        if let Value::Object(m) = &mut unplaced {
            m.remove("path");
        }
        located.push(unplaced);
    }
    located
}

/// A fetch that produced no GraphQL response: one `SUBGRAPH_UNAVAILABLE` error (at the
/// first object's path), which explains the missing data of every object it was for.
fn fetch_failed(state: &State<'_>, service: &str, e: &FetchError, targets: &[Target<'_>]) {
    state.error(unavailable(
        service,
        e,
        targets.first().map(|t| json_path(&t.0)),
    ));
    state.explain(targets.iter().map(|(p, _)| json_path(p)));
}

fn unavailable(service: &str, e: &FetchError, path: Option<Path>) -> Value {
    let reason = match e {
        FetchError::UnknownSubgraph(_) => "it is not configured",
        FetchError::Unavailable(_) => "it did not answer in time",
    };
    tracing::warn!(service, error = ?e, "subgraph fetch failed");
    let mut error = json!({
        "message": format!("the {service} service is unavailable ({reason}); try again shortly"),
        "extensions": { "code": "SUBGRAPH_UNAVAILABLE", "service": service },
    });
    if let (Some(p), Value::Object(m)) = (path, &mut error) {
        m.insert("path".into(), Value::Array(p));
    }
    error
}
