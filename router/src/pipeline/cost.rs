//! Stage 5, demand control: an operation's estimated cost, before any fetch, from its
//! shape and its variables (`FOLIO_MAX_COST`; off when unset, but every request's cost is
//! in the metrics).
//!
//! The model is the cost directive specification's (IBM's, which Apollo and Hive follow):
//! a field of an object, interface or union type costs 1, a scalar or enum field 0, and
//! `@cost(weight: …)` in the supergraph overrides either. A list field costs its size
//! times (its weight plus its selection's cost): the size is its slicing argument's value
//! (`first` or `last`, or the `slicingArguments` of its `@listSize`; a variable counts
//! with the value it was given), else its `@listSize(assumedSize:)`, else
//! `FOLIO_COST_DEFAULT_LIST_SIZE`. A connection (a non-list field with a slicing
//! argument) passes its size to its `edges` and `nodes` (or its `@listSize(sizedFields:)`),
//! which are that list rather than a second one. Nested lists multiply. Of the
//! type-conditioned parts of an abstract selection only the dearest counts (an object is
//! one of the types, not all of them). Introspection fields cost nothing.

use crate::plan::Planned;
use crate::plan::SupergraphFacts;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::{FieldSelection, SelectionSet};
use hive_router_query_planner::ast::value::Value as AstValue;
use serde_json::{Map, Value};

/// The slicing arguments of a list field without `@listSize`.
const SLICING: [&str; 2] = ["first", "last"];
/// The fields of a connection that are its list, without `@listSize(sizedFields:)`.
const SIZED: [&str; 2] = ["edges", "nodes"];

/// The estimated cost of running `planned` with `variables` (coerced).
pub fn estimate(planned: &Planned, variables: &Map<String, Value>, default_list_size: u64) -> u64 {
    let facts = &planned.facts;
    let Some(root) = facts.root_type(planned.kind) else {
        return 0;
    };
    let estimator = Estimator {
        facts,
        variables,
        default_list_size,
    };
    let cost = estimator.selections(root, &planned.operation.selection_set, None);
    if cost.is_finite() {
        cost.max(0.0).ceil().min(u64::MAX as f64) as u64
    } else {
        u64::MAX
    }
}

struct Estimator<'a> {
    facts: &'a SupergraphFacts,
    variables: &'a Map<String, Value>,
    default_list_size: u64,
}

/// A connection's size and the fields that are its list.
type Sized<'a> = Option<(f64, Vec<&'a str>)>;

impl<'a> Estimator<'a> {
    fn selections(&self, parent: &str, set: &'a SelectionSet, sized: Sized<'a>) -> f64 {
        let mut fields = 0.0;
        let mut dearest_fragment: f64 = 0.0;
        for item in &set.items {
            match item {
                SelectionItem::Field(field) => fields += self.field(parent, field, &sized),
                SelectionItem::InlineFragment(fragment) => {
                    let cost = self.selections(
                        &fragment.type_condition,
                        &fragment.selections,
                        sized.clone(),
                    );
                    dearest_fragment = dearest_fragment.max(cost);
                }
                // The planner's operation has its fragments written out.
                SelectionItem::FragmentSpread(_) => {}
            }
        }
        fields + dearest_fragment
    }

    fn field(&self, parent: &str, field: &'a FieldSelection, sized: &Sized<'a>) -> f64 {
        if field.name.starts_with("__") {
            return 0.0;
        }
        let Some(ty) = self.facts.field_type(parent, &field.name) else {
            return 0.0;
        };
        let named = ty.inner_type();
        let composite = self.facts.is_composite(named);
        let weight = self
            .facts
            .cost_weight(parent, &field.name)
            .unwrap_or(if composite { 1.0 } else { 0.0 });
        let directive = self.facts.list_size(parent, &field.name);
        // With `@listSize`, only its slicing arguments size the list (none: its
        // `assumedSize` does).
        let slicing: Vec<&str> = match directive {
            Some(d) => d.slicing_arguments.iter().map(String::as_str).collect(),
            None => SLICING.to_vec(),
        };
        let argument = self.slicing_value(parent, field, &slicing);
        let assumed = directive.and_then(|d| d.assumed_size).map(|n| n as f64);
        let (size, passed) = if ty.is_list() {
            let size = match sized {
                Some((n, names)) if names.contains(&field.name.as_str()) => *n,
                _ => argument
                    .or(assumed)
                    .unwrap_or(self.default_list_size as f64),
            };
            (size, None)
        } else {
            let names: Vec<&str> = match directive {
                Some(d) if !d.sized_fields.is_empty() => {
                    d.sized_fields.iter().map(String::as_str).collect()
                }
                _ => SIZED.to_vec(),
            };
            (1.0, argument.or(assumed).map(|n| (n, names)))
        };
        let children = if composite {
            self.selections(named, &field.selections, passed)
        } else {
            0.0
        };
        size * (weight + children)
    }

    /// The largest value of one of the slicing arguments `names`: a literal, a variable's
    /// value, or — for an argument left out, or given a variable that was not provided —
    /// the schema's default. An explicit null sizes nothing.
    fn slicing_value(&self, parent: &str, field: &FieldSelection, names: &[&str]) -> Option<f64> {
        let default = |name: &str| self.facts.argument_default(parent, &field.name, name);
        names
            .iter()
            .filter_map(
                |&name| match field.arguments.as_ref().and_then(|a| a.get_argument(name)) {
                    None => default(name),
                    Some(AstValue::Int(n)) => Some(*n as f64),
                    Some(AstValue::Variable(var)) => match self.variables.get(var) {
                        None => default(name),
                        Some(v) => v.as_f64(),
                    },
                    Some(_) => None,
                },
            )
            .map(|n| n.max(0.0))
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{HivePlanner, PlanRequest, QueryPlanner};
    use serde_json::json;

    /// Folio's supergraph, with the cost directives a subgraph could declare: `topContents`
    /// weighs 5 per item and is sized by `first` (when it is given; else `assumedSize` 7),
    /// `suggest` is assumed to return 3 whatever its `first`.
    fn planner() -> HivePlanner {
        let sdl = crate::EMBEDDED_SUPERGRAPH
            .replace(
                "topContents(first: Int = 10, by: RankingMetric = TOTAL): [Content!]! @join__field(graph: CONTENT)",
                "topContents(first: Int = 10, by: RankingMetric = TOTAL): [Content!]! @join__field(graph: CONTENT) @cost(weight: 5) @listSize(assumedSize: 7, slicingArguments: [\"first\"])",
            )
            .replace(
                "suggest(prefix: String!, first: Int = 8): [Suggestion!]! @join__field(graph: SEARCH)",
                "suggest(prefix: String!, first: Int = 8): [Suggestion!]! @join__field(graph: SEARCH) @listSize(assumedSize: 3, slicingArguments: [])",
            );
        assert_ne!(sdl, crate::EMBEDDED_SUPERGRAPH, "the directives went in");
        HivePlanner::from_supergraph_sdl(&sdl).expect("planner")
    }

    fn cost(planner: &HivePlanner, query: &str, variables: Value) -> u64 {
        let planned = planner
            .plan(&PlanRequest::new(query, None))
            .expect("planned");
        let Value::Object(variables) = variables else {
            panic!("variables are an object")
        };
        estimate(&planned, &variables, 10)
    }

    #[test]
    fn cost_and_list_size_directives_count() {
        let planner = planner();
        // 4 × (@cost 5 + author 1).
        assert_eq!(
            cost(
                &planner,
                "{ topContents(first: 4) { id author { id } } }",
                json!({})
            ),
            24
        );
        // No `first` given: the argument's schema default sizes it (`first: Int = 10`),
        // 10 × (5 + 0); the assumed size only when no value is known (an explicit null).
        assert_eq!(cost(&planner, "{ topContents { id } }", json!({})), 50);
        assert_eq!(
            cost(
                &planner,
                "query($n: Int) { topContents(first: $n) { id } }",
                json!({ "n": null })
            ),
            35
        );
        // A variable counts with its value.
        assert_eq!(
            cost(
                &planner,
                "query($n: Int) { topContents(first: $n) { id } }",
                json!({ "n": 2 })
            ),
            10
        );
        // Explicitly no slicing argument: `first` does not size it, the assumed size does.
        assert_eq!(
            cost(
                &planner,
                "{ suggest(prefix: \"a\", first: 50) { text } }",
                json!({})
            ),
            3
        );
        // A variable that was not provided leaves the argument to its default.
        assert_eq!(
            cost(
                &planner,
                "query($n: Int) { topContents(first: $n) { id } }",
                json!({})
            ),
            50
        );
        // Introspection costs nothing. (Folio's API has no abstract type; that only the
        // dearest type-conditioned part of one counts is the `selections` rule.)
        assert_eq!(
            cost(
                &planner,
                "{ __typename __schema { types { name } } }",
                json!({})
            ),
            0
        );
    }

    #[test]
    fn cost_directives_imported_under_other_names_count() {
        // The cost spec linked with its directives renamed (`@weight`, `@size`); plain
        // `@cost` then means nothing.
        let sdl = crate::EMBEDDED_SUPERGRAPH
            .replace(
                "@link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)",
                "@link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY) @link(url: \"https://specs.apollo.dev/cost/v0.1\", import: [{name: \"@cost\", as: \"@weight\"}, {name: \"@listSize\", as: \"@size\"}])",
            )
            .replace(
                "topContents(first: Int = 10, by: RankingMetric = TOTAL): [Content!]! @join__field(graph: CONTENT)",
                "topContents(first: Int = 10, by: RankingMetric = TOTAL): [Content!]! @join__field(graph: CONTENT) @weight(weight: 5) @size(assumedSize: 7, slicingArguments: [\"first\"])",
            )
            .replace(
                "suggest(prefix: String!, first: Int = 8): [Suggestion!]! @join__field(graph: SEARCH)",
                "suggest(prefix: String!, first: Int = 8): [Suggestion!]! @join__field(graph: SEARCH) @cost(weight: 100)",
            );
        assert_eq!(sdl.matches("@weight(").count(), 1, "the directives went in");
        assert!(sdl.contains("specs.apollo.dev/cost"));
        let planner = HivePlanner::from_supergraph_sdl(&sdl).expect("planner");
        // 4 × (@weight 5 + author 1).
        assert_eq!(
            cost(
                &planner,
                "{ topContents(first: 4) { id author { id } } }",
                json!({})
            ),
            24
        );
        // @size's assumed size when nothing sizes it.
        assert_eq!(
            cost(
                &planner,
                "query($n: Int) { topContents(first: $n) { id } }",
                json!({ "n": null })
            ),
            35
        );
        // An unlinked `@cost` is not the spec's: 8 suggestions (its default `first`) × 1.
        assert_eq!(
            cost(&planner, "{ suggest(prefix: \"a\") { text } }", json!({})),
            8
        );
    }

    #[test]
    fn an_argument_default_sizes_a_list_before_the_default_list_size() {
        let planner =
            HivePlanner::from_supergraph_sdl(crate::EMBEDDED_SUPERGRAPH).expect("planner");
        let cost = |query: &str| {
            let planned = planner
                .plan(&PlanRequest::new(query, None))
                .expect("planned");
            estimate(&planned, &Map::new(), 3)
        };
        // `topContents(first: Int = 10)`: 10 contents, not the default list size 3.
        assert_eq!(cost("{ topContents { id } }"), 10);
        // `newContents(first: Int)` has no default: the connection 1 + 3 nodes.
        assert_eq!(cost("{ newContents { nodes { id } } }"), 4);
    }
}
