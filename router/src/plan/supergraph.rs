//! What the executor must know of the supergraph beyond the API schema: which fields have
//! side effects (so their fetches are never shared), and which fields an entity
//! representation cannot do without (so one bad entity does not poison a batch).
//!
//! Both are read once, when the planner is built, from the supergraph itself, so they hold
//! for any supergraph and name no Folio field.

use graphql_tools::parser::schema as sdl;
use hive_router_query_planner::ast::operation::SubgraphFetchOperation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::state::supergraph_state::{
    OperationKind as HiveOperationKind, SupergraphDefinition, SupergraphState, TypeNode,
};
use std::collections::{HashMap, HashSet};

/// The specification a subgraph links to declare `@sideEffect`: a field whose resolution
/// changes something (counts a view, spends a quota), so two requests must never share
/// one fetch of it. Subgraphs import it with `@link(url: "<this>/v0.1", import:
/// ["@sideEffect"])` and `@composeDirective(name: "@sideEffect")`, so that composition
/// keeps it in the supergraph.
pub const SIDE_EFFECT_SPEC: &str = "https://specs.folio.dev/side-effect/";

/// The demand control directives' specification (`@cost`, `@listSize`), as Apollo
/// Federation links it; IBM's cost directive spec under Apollo's URL.
const COST_SPEC: &str = "https://specs.apollo.dev/cost/";

/// The directive's name in the specification (a supergraph may import it under another).
const SIDE_EFFECT_NAME: &str = "sideEffect";

/// Every field of the document's object and interface types, with its type's name.
fn object_and_interface_fields<'d>(
    document: &'d sdl::Document<'static, String>,
) -> impl Iterator<Item = (&'d String, &'d sdl::Field<'static, String>)> {
    document.definitions.iter().flat_map(|def| {
        let (type_name, fields) = match def {
            sdl::Definition::TypeDefinition(sdl::TypeDefinition::Object(o)) => {
                (Some(&o.name), o.fields.as_slice())
            }
            sdl::Definition::TypeDefinition(sdl::TypeDefinition::Interface(i)) => {
                (Some(&i.name), i.fields.as_slice())
            }
            _ => (None, &[][..]),
        };
        fields.iter().filter_map(move |f| Some((type_name?, f)))
    })
}

/// A field's `@listSize`: how many items it returns when no argument says.
#[derive(Debug, Clone, Default)]
pub struct ListSize {
    /// The size when no slicing argument is given.
    pub assumed_size: Option<u64>,
    /// Arguments whose value is the size (`first`, `last`, `limit`…).
    pub slicing_arguments: Vec<String>,
    /// Fields of the returned object that are the list (a connection's `edges`, `nodes`).
    pub sized_fields: Vec<String>,
}

fn number(v: &sdl::Value<'static, String>) -> Option<f64> {
    match v {
        sdl::Value::Int(n) => n.as_i64().map(|n| n as f64),
        sdl::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Facts about a supergraph's types that the API schema does not carry.
#[derive(Debug, Default)]
pub struct SupergraphFacts {
    /// Per composite type: its fields' declared types, including `@inaccessible` ones.
    fields: HashMap<String, HashMap<String, TypeNode>>,
    /// Per entity type: the top-level fields of its keys, in every subgraph.
    key_fields: HashMap<String, HashSet<String>>,
    /// Per interface: the object types implementing it.
    implementations: HashMap<String, Vec<String>>,
    /// `(type, field)` pairs marked `@sideEffect`.
    side_effects: HashSet<(String, String)>,
    /// `@cost(weight:)` of fields, by `(type, field)` (the cost directive specification
    /// that Apollo and Hive follow; composed into the supergraph as `@cost`).
    costs: HashMap<(String, String), f64>,
    /// `@listSize` of fields, by `(type, field)`.
    list_sizes: HashMap<(String, String), ListSize>,
    /// The numeric default values of fields' arguments, by `(type, field)` then argument
    /// (`topContents(first: Int = 10)`), for sizing a list whose argument is left out.
    argument_defaults: HashMap<(String, String), HashMap<String, f64>>,
    query_type: String,
    mutation_type: Option<String>,
    subscription_type: Option<String>,
}

impl SupergraphFacts {
    /// Reads the facts from the planner's supergraph state and the supergraph document.
    pub fn new(state: &SupergraphState, document: &sdl::Document<'static, String>) -> Self {
        let mut facts = SupergraphFacts {
            query_type: state.query_type.clone(),
            mutation_type: state.mutation_type.clone(),
            subscription_type: state.subscription_type.clone(),
            ..SupergraphFacts::default()
        };
        for (name, definition) in &state.definitions {
            if !definition.is_composite_type() {
                continue;
            }
            facts.fields.insert(
                name.clone(),
                definition
                    .fields()
                    .iter()
                    .map(|(field, f)| (field.clone(), f.field_type.clone()))
                    .collect(),
            );
            let keys: HashSet<String> = definition
                .join_types()
                .iter()
                .filter_map(|j| j.key.as_deref())
                .flat_map(top_level_fields)
                .collect();
            if !keys.is_empty() {
                facts.key_fields.insert(name.clone(), keys);
            }
            if let SupergraphDefinition::Interface(_) = definition
                && let Some(members) = state.interface_members(name)
            {
                facts
                    .implementations
                    .insert(name.clone(), members.iter().cloned().collect());
            }
        }
        facts.read_cost_directives(document);
        if let Some(directive) = side_effect_directive_name(document) {
            for (type_name, f) in object_and_interface_fields(document) {
                if f.directives.iter().any(|d| d.name == directive) {
                    facts
                        .side_effects
                        .insert((type_name.clone(), f.name.clone()));
                }
            }
        }
        facts
    }

    fn read_cost_directives(&mut self, document: &sdl::Document<'static, String>) {
        // The cost directive specification's directives, under the names the
        // supergraph's `@link` to it gives them (imported, renamed or namespaced), or
        // their own names when it has no such link.
        let cost = linked_directive_name(document, COST_SPEC, "cost", "cost")
            .unwrap_or_else(|| "cost".to_owned());
        let list_size = linked_directive_name(document, COST_SPEC, "listSize", "cost")
            .unwrap_or_else(|| "listSize".to_owned());
        for (type_name, f) in object_and_interface_fields(document) {
            let key = || (type_name.clone(), f.name.clone());
            let defaults: HashMap<String, f64> = f
                .arguments
                .iter()
                .filter_map(|a| Some((a.name.clone(), number(a.default_value.as_ref()?)?)))
                .collect();
            if !defaults.is_empty() {
                self.argument_defaults.insert(key(), defaults);
            }
            for d in &f.directives {
                let arg = |name: &str| d.arguments.iter().find(|(k, _)| k == name).map(|(_, v)| v);
                match d.name.as_str() {
                    n if n == cost => {
                        if let Some(weight) = arg("weight").and_then(number) {
                            self.costs.insert(key(), weight);
                        }
                    }
                    n if n == list_size => {
                        let names = |name: &str| match arg(name) {
                            Some(sdl::Value::List(items)) => items
                                .iter()
                                .filter_map(|v| match v {
                                    sdl::Value::String(s) => Some(s.clone()),
                                    _ => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        self.list_sizes.insert(
                            key(),
                            ListSize {
                                assumed_size: arg("assumedSize")
                                    .and_then(number)
                                    .map(|n| n.max(0.0) as u64),
                                slicing_arguments: names("slicingArguments"),
                                sized_fields: names("sizedFields"),
                            },
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    /// The declared type of a field (`None` for unknown fields).
    pub fn field_type(&self, parent: &str, field: &str) -> Option<&TypeNode> {
        self.fields.get(parent)?.get(field)
    }

    /// Whether `type_name` is an object, interface or union type.
    pub fn is_composite(&self, type_name: &str) -> bool {
        self.fields.contains_key(type_name)
    }

    /// A field's `@cost(weight:)`, if it has one.
    pub fn cost_weight(&self, parent: &str, field: &str) -> Option<f64> {
        self.costs
            .get(&(parent.to_owned(), field.to_owned()))
            .copied()
    }

    /// A field's `@listSize`, if it has one.
    pub fn list_size(&self, parent: &str, field: &str) -> Option<&ListSize> {
        self.list_sizes.get(&(parent.to_owned(), field.to_owned()))
    }

    /// The default value of a field's argument, when the schema gives a number.
    pub fn argument_default(&self, parent: &str, field: &str, argument: &str) -> Option<f64> {
        self.argument_defaults
            .get(&(parent.to_owned(), field.to_owned()))?
            .get(argument)
            .copied()
    }

    /// The root type of operations of `kind`.
    pub fn root_type(&self, kind: crate::plan::OperationKind) -> Option<&str> {
        match kind {
            crate::plan::OperationKind::Query => Some(&self.query_type),
            crate::plan::OperationKind::Mutation => self.mutation_type.as_deref(),
            crate::plan::OperationKind::Subscription => self.subscription_type.as_deref(),
        }
    }

    /// The named type a field returns (`None` for unknown fields).
    pub fn field_type_name(&self, parent: &str, field: &str) -> Option<&str> {
        self.fields
            .get(parent)?
            .get(field)
            .map(TypeNode::inner_type)
    }

    /// Whether a representation of an object of `type_name` must have a non-null
    /// `field`: the field is part of one of the type's keys, or its declared type is
    /// non-null. A representation that lacks such a field cannot be resolved.
    pub fn must_not_be_null(&self, type_name: &str, field: &str) -> bool {
        self.key_fields
            .get(type_name)
            .is_some_and(|keys| keys.contains(field))
            || self
                .fields
                .get(type_name)
                .and_then(|fields| fields.get(field))
                .is_some_and(TypeNode::is_non_null)
    }

    /// Whether any field marked `@sideEffect` exists at all (a fast path for the rest).
    pub fn has_side_effects(&self) -> bool {
        !self.side_effects.is_empty()
    }

    /// Whether a subgraph fetch selects a field marked `@sideEffect` (on its parent type,
    /// or, for an interface, on any type implementing it).
    pub fn fetch_has_side_effects(
        &self,
        operation: &SubgraphFetchOperation,
        kind: Option<&HiveOperationKind>,
    ) -> bool {
        if !self.has_side_effects() {
            return false;
        }
        let root = match kind {
            Some(HiveOperationKind::Mutation) => self.mutation_type.as_deref(),
            Some(HiveOperationKind::Subscription) => self.subscription_type.as_deref(),
            _ => Some(self.query_type.as_str()),
        };
        let Some(root) = root else { return false };
        let document = &operation.document;
        let fragments: HashMap<&str, (&str, &SelectionSet)> = document
            .fragments
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    (f.type_condition.as_str(), &f.selection_set),
                )
            })
            .collect();
        self.selects_side_effect(
            root,
            &document.operation.selection_set,
            &fragments,
            &mut HashSet::new(),
        )
    }

    fn selects_side_effect<'a>(
        &self,
        parent: &str,
        set: &'a SelectionSet,
        fragments: &HashMap<&'a str, (&'a str, &'a SelectionSet)>,
        visited: &mut HashSet<&'a str>,
    ) -> bool {
        set.items.iter().any(|item| match item {
            SelectionItem::Field(field) => {
                if self.is_side_effect(parent, &field.name) {
                    return true;
                }
                if field.selections.items.is_empty() {
                    return false;
                }
                // `_entities` returns `_Entity`: its fragments name the real types.
                let child = self
                    .field_type_name(parent, &field.name)
                    .unwrap_or("_Entity");
                self.selects_side_effect(child, &field.selections, fragments, visited)
            }
            SelectionItem::InlineFragment(fragment) => self.selects_side_effect(
                &fragment.type_condition,
                &fragment.selections,
                fragments,
                visited,
            ),
            SelectionItem::FragmentSpread(name) => match fragments.get(name.as_str()) {
                Some((type_condition, selections)) if visited.insert(name.as_str()) => {
                    self.selects_side_effect(type_condition, selections, fragments, visited)
                }
                _ => false,
            },
        })
    }

    fn is_side_effect(&self, parent: &str, field: &str) -> bool {
        let marked = |t: &str| {
            self.side_effects
                .contains(&(t.to_owned(), field.to_owned()))
        };
        marked(parent)
            || self
                .implementations
                .get(parent)
                .is_some_and(|members| members.iter().any(|m| marked(m)))
    }
}

/// The top-level field names of a key's field set (`"id"`, `"id org { id }"`,
/// `"upc sku"`): names at brace depth 0, arguments skipped.
fn top_level_fields(fields: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut parens = 0usize;
    let mut current = String::new();
    let flush = |current: &mut String, names: &mut Vec<String>| {
        if !current.is_empty() {
            names.push(std::mem::take(current));
        }
    };
    for c in fields.chars() {
        match c {
            '{' => {
                flush(&mut current, &mut names);
                depth += 1;
            }
            '}' => depth = depth.saturating_sub(1),
            '(' => {
                flush(&mut current, &mut names);
                parens += 1;
            }
            ')' => parens = parens.saturating_sub(1),
            c if c.is_ascii_alphanumeric() || c == '_' => {
                if depth == 0 && parens == 0 {
                    current.push(c);
                }
            }
            // An alias (`a: b`) names the response key; the field is what follows.
            ':' if depth == 0 && parens == 0 => current.clear(),
            _ => flush(&mut current, &mut names),
        }
    }
    flush(&mut current, &mut names);
    names
}

/// The name `@sideEffect` has in this supergraph: as imported by its `@link`
/// (possibly renamed), or namespaced (`side-effect__sideEffect`); `None` without the link.
fn side_effect_directive_name(document: &sdl::Document<'static, String>) -> Option<String> {
    linked_directive_name(document, SIDE_EFFECT_SPEC, SIDE_EFFECT_NAME, "side-effect")
}

/// The name the directive `name` of the spec whose `@link` URL starts with `spec` has in
/// this document: imported (`import: ["@name"]`, or `{ name: "@name", as: "@other" }`),
/// else namespaced by the link's `as` or `namespace`: `namespace__name`, or the
/// namespace alone for the directive named like the spec (`@cost` of the cost spec).
/// `None` when the document links no such spec.
fn linked_directive_name(
    document: &sdl::Document<'static, String>,
    spec: &str,
    name: &str,
    namespace: &str,
) -> Option<String> {
    let links = document.definitions.iter().flat_map(|d| match d {
        sdl::Definition::SchemaDefinition(s) => s.directives.as_slice(),
        sdl::Definition::TypeExtension(_) | sdl::Definition::TypeDefinition(_) => &[],
        sdl::Definition::DirectiveDefinition(_) => &[],
    });
    for link in links.filter(|d| d.name == "link") {
        let argument = |key: &str| {
            link.arguments
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
        };
        let Some(sdl::Value::String(url)) = argument("url") else {
            continue;
        };
        if !url.starts_with(spec) {
            continue;
        }
        let wanted = format!("@{name}");
        if let Some(sdl::Value::List(imports)) = argument("import") {
            for import in imports {
                match import {
                    sdl::Value::String(s) if *s == wanted => return Some(name.to_owned()),
                    sdl::Value::Object(o) if matches!(entry(o, "name"), Some(sdl::Value::String(n)) if *n == wanted) =>
                    {
                        return Some(match entry(o, "as") {
                            Some(sdl::Value::String(alias)) => {
                                alias.trim_start_matches('@').to_owned()
                            }
                            _ => name.to_owned(),
                        });
                    }
                    _ => {}
                }
            }
        }
        let namespace = match argument("as") {
            Some(sdl::Value::String(alias)) => alias.trim_start_matches('@').to_owned(),
            _ => namespace.to_owned(),
        };
        return Some(if name == namespace_of(spec) {
            namespace
        } else {
            format!("{namespace}__{name}")
        });
    }
    None
}

/// The name a spec's URL gives it (`https://specs.apollo.dev/cost/` → `cost`).
fn namespace_of(spec: &str) -> &str {
    spec.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(spec)
}

fn entry<'v>(
    object: &'v [(String, sdl::Value<'static, String>)],
    key: &str,
) -> Option<&'v sdl::Value<'static, String>> {
    object.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::top_level_fields;

    #[test]
    fn key_field_sets_name_their_top_level_fields() {
        assert_eq!(top_level_fields("id"), ["id"]);
        assert_eq!(top_level_fields("upc sku"), ["upc", "sku"]);
        assert_eq!(top_level_fields("id org { id name }"), ["id", "org"]);
        assert_eq!(
            top_level_fields("id price(currency: EUR) tags"),
            ["id", "price", "tags"]
        );
        assert_eq!(top_level_fields("  "), Vec::<String>::new());
    }
}
