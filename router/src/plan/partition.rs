//! Splitting a normalized operation into what the subgraphs answer and what the router
//! answers itself: the root introspection fields (`__schema`, `__type`, `__typename`).

use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;

/// An operation split at its root.
pub(crate) struct Partitioned {
    /// The operation without its root introspection fields: what the planner plans.
    pub(crate) downstream: OperationDefinition,
    /// The root introspection fields (with the variables they use), if any.
    pub(crate) introspection: Option<OperationDefinition>,
}

/// Splits off the root fields whose names start with `__`. Root inline fragments (left
/// by `@skip`/`@include` on fragments) are split recursively, keeping their conditions on
/// both sides.
pub(crate) fn partition(op: &OperationDefinition) -> Partitioned {
    let (downstream, introspection) = split(&op.selection_set);
    let introspection = (!introspection.is_empty()).then(|| {
        let used = introspection.variable_usages();
        OperationDefinition {
            name: op.name.clone(),
            operation_kind: op.operation_kind.clone(),
            variable_definitions: op.variable_definitions.as_ref().map(|defs| {
                defs.iter()
                    .filter(|d| used.contains(&d.name))
                    .cloned()
                    .collect()
            }),
            selection_set: introspection,
        }
    });
    Partitioned {
        downstream: OperationDefinition {
            name: op.name.clone(),
            operation_kind: op.operation_kind.clone(),
            variable_definitions: op.variable_definitions.clone(),
            selection_set: downstream,
        },
        introspection,
    }
}

fn split(selection_set: &SelectionSet) -> (SelectionSet, SelectionSet) {
    let mut downstream = Vec::new();
    let mut introspection = Vec::new();
    for item in &selection_set.items {
        match item {
            SelectionItem::Field(field) if field.name.starts_with("__") => {
                introspection.push(item.clone());
            }
            SelectionItem::InlineFragment(fragment) => {
                let (down, intro) = split(&fragment.selections);
                if !down.is_empty() {
                    downstream.push(SelectionItem::InlineFragment(
                        fragment.with_new_selections(down),
                    ));
                }
                if !intro.is_empty() {
                    introspection.push(SelectionItem::InlineFragment(
                        fragment.with_new_selections(intro),
                    ));
                }
            }
            _ => downstream.push(item.clone()),
        }
    }
    (
        SelectionSet { items: downstream },
        SelectionSet {
            items: introspection,
        },
    )
}
