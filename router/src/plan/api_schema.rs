//! The API schema: what clients see of the supergraph (no `join__`/`link__` internals, no
//! `@inaccessible` elements), as SDL and as a small type index for response projection.

use graphql_tools::static_graphql::schema::{
    Definition, Document, Field, SchemaDefinition, Type, TypeDefinition,
};
use std::collections::BTreeSet;

/// The type index is read for every field of every response: a fast hasher (its keys are
/// the schema's own names, not request input).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use super::OperationKind;

/// Built-in scalars: always known, never printed in the API SDL.
const BUILTIN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];
/// Directives every GraphQL server defines: never printed in the API SDL.
const BUILTIN_DIRECTIVES: [&str; 5] = ["skip", "include", "deprecated", "specifiedBy", "oneOf"];

/// The kind of a named type in the API schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// A scalar (built-in or custom).
    Scalar,
    /// An object type.
    Object,
    /// An interface.
    Interface,
    /// A union.
    Union,
    /// An enum.
    Enum,
    /// An input object.
    InputObject,
}

#[derive(Debug)]
struct TypeEntry {
    kind: TypeKind,
    /// Output fields (objects and interfaces) by name, with their declared types.
    fields: HashMap<String, Type>,
    /// For interfaces and unions: the object types that may appear in their place.
    possible_types: BTreeSet<String>,
    /// For enums: the values clients may see (`@inaccessible` ones are not here).
    enum_values: BTreeSet<String>,
}

/// The API (consumer) schema of a supergraph.
///
/// Built from the planner's consumer schema; holds the client-facing SDL and answers the
/// type questions the executor has when it shapes subgraph data into the client's
/// selection: a field's declared type (for null propagation) and whether an object type
/// matches a fragment's type condition.
#[derive(Debug)]
pub struct ApiSchema {
    sdl: String,
    document: Document,
    query_type: String,
    mutation_type: Option<String>,
    subscription_type: Option<String>,
    types: HashMap<String, TypeEntry>,
}

impl ApiSchema {
    /// Builds the API schema from a consumer schema document: drops the introspection
    /// types and root fields (`__Schema`, `__schema`, …), built-in scalars and built-in
    /// directive definitions, which the planner's consumer schema carries for validation.
    pub fn from_consumer_schema(consumer: &Document) -> Self {
        let mut query_type = None;
        let mut mutation_type = None;
        let mut subscription_type = None;
        for def in &consumer.definitions {
            if let Definition::SchemaDefinition(s) = def {
                query_type = query_type.or_else(|| s.query.clone());
                mutation_type = mutation_type.or_else(|| s.mutation.clone());
                subscription_type = subscription_type.or_else(|| s.subscription.clone());
            }
        }
        let type_names: BTreeSet<&str> = consumer
            .definitions
            .iter()
            .filter_map(|d| match d {
                Definition::TypeDefinition(t) => Some(type_definition_name(t)),
                _ => None,
            })
            .collect();
        let default_root = |name: &str| type_names.contains(name).then(|| name.to_string());
        let query_type = query_type.unwrap_or_else(|| "Query".to_string());
        let mutation_type = mutation_type.or_else(|| default_root("Mutation"));
        let subscription_type = subscription_type.or_else(|| default_root("Subscription"));

        let mut definitions = Vec::new();
        let mut seen_types = BTreeSet::new();
        for def in &consumer.definitions {
            match def {
                Definition::SchemaDefinition(_) | Definition::TypeExtension(_) => {}
                Definition::DirectiveDefinition(d) => {
                    if !BUILTIN_DIRECTIVES.contains(&d.name.as_str()) {
                        definitions.push(def.clone());
                    }
                }
                Definition::TypeDefinition(t) => {
                    let name = type_definition_name(t);
                    if name.starts_with("__")
                        || BUILTIN_SCALARS.contains(&name)
                        || !seen_types.insert(name.to_string())
                    {
                        continue;
                    }
                    let mut t = t.clone();
                    if let TypeDefinition::Object(o) = &mut t {
                        o.fields.retain(|f| !f.name.starts_with("__"));
                    }
                    definitions.push(Definition::TypeDefinition(t));
                }
            }
        }
        let default_roots = query_type == "Query"
            && mutation_type.as_deref().is_none_or(|m| m == "Mutation")
            && subscription_type
                .as_deref()
                .is_none_or(|s| s == "Subscription");
        if !default_roots {
            definitions.insert(
                0,
                Definition::SchemaDefinition(SchemaDefinition {
                    position: Default::default(),
                    directives: Vec::new(),
                    query: Some(query_type.clone()),
                    mutation: mutation_type.clone(),
                    subscription: subscription_type.clone(),
                }),
            );
        }
        let document = Document { definitions };

        let mut types: HashMap<String, TypeEntry> = HashMap::default();
        for scalar in BUILTIN_SCALARS {
            types.insert(scalar.to_string(), TypeEntry::new(TypeKind::Scalar));
        }
        let mut implementations: Vec<(String, String)> = Vec::new();
        for def in &document.definitions {
            let Definition::TypeDefinition(t) = def else {
                continue;
            };
            let (kind, fields, possible): (TypeKind, &[Field], BTreeSet<String>) = match t {
                TypeDefinition::Scalar(_) => (TypeKind::Scalar, &[], BTreeSet::new()),
                TypeDefinition::Enum(e) => (
                    TypeKind::Enum,
                    &[],
                    e.values.iter().map(|v| v.name.clone()).collect(),
                ),
                TypeDefinition::InputObject(_) => (TypeKind::InputObject, &[], BTreeSet::new()),
                TypeDefinition::Union(u) => {
                    (TypeKind::Union, &[], u.types.iter().cloned().collect())
                }
                TypeDefinition::Interface(i) => {
                    for parent in &i.implements_interfaces {
                        implementations.push((parent.clone(), i.name.clone()));
                    }
                    (TypeKind::Interface, &i.fields, BTreeSet::new())
                }
                TypeDefinition::Object(o) => {
                    for parent in &o.implements_interfaces {
                        implementations.push((parent.clone(), o.name.clone()));
                    }
                    (TypeKind::Object, &o.fields, BTreeSet::new())
                }
            };
            let mut entry = TypeEntry::new(kind);
            entry.fields = fields
                .iter()
                .map(|f| (f.name.clone(), f.field_type.clone()))
                .collect();
            if kind == TypeKind::Enum {
                entry.enum_values = possible;
            } else {
                entry.possible_types = possible;
            }
            types.insert(type_definition_name(t).to_string(), entry);
        }
        // Possible types of an interface: the object types implementing it, directly or
        // through another interface.
        let objects: Vec<String> = types
            .iter()
            .filter(|(_, e)| e.kind == TypeKind::Object)
            .map(|(n, _)| n.clone())
            .collect();
        for object in objects {
            let mut stack = vec![object.clone()];
            let mut visited = BTreeSet::new();
            while let Some(current) = stack.pop() {
                for (parent, child) in &implementations {
                    if *child == current && visited.insert(parent.clone()) {
                        if let Some(entry) = types.get_mut(parent) {
                            entry.possible_types.insert(object.clone());
                        }
                        stack.push(parent.clone());
                    }
                }
            }
        }

        ApiSchema {
            sdl: document.to_string(),
            document,
            query_type,
            mutation_type,
            subscription_type,
            types,
        }
    }

    /// The API schema as SDL: what `introspection` describes, without the built-ins.
    pub fn sdl(&self) -> &str {
        &self.sdl
    }

    /// The API schema as a parsed document (the same content as [`ApiSchema::sdl`]).
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The name of the root type for an operation kind, if the schema has one.
    pub fn root_type_name(&self, kind: OperationKind) -> Option<&str> {
        match kind {
            OperationKind::Query => Some(&self.query_type),
            OperationKind::Mutation => self.mutation_type.as_deref(),
            OperationKind::Subscription => self.subscription_type.as_deref(),
        }
    }

    /// The kind of a named type, or `None` if the API schema has no such type.
    pub fn type_kind(&self, type_name: &str) -> Option<TypeKind> {
        self.types.get(type_name).map(|e| e.kind)
    }

    /// The declared type of `field` on the object or interface `parent_type`
    /// (`__typename` is `String!` everywhere).
    pub fn field_type(&self, parent_type: &str, field: &str) -> Option<&Type> {
        static TYPENAME: std::sync::LazyLock<Type> = std::sync::LazyLock::new(|| {
            Type::NonNullType(Box::new(Type::NamedType("String".to_string())))
        });
        if field == "__typename" {
            return Some(&TYPENAME);
        }
        self.types.get(parent_type)?.fields.get(field)
    }

    /// The object types that can stand in for an interface or union (empty for other
    /// kinds and unknown names).
    pub fn possible_types(&self, abstract_type: &str) -> impl Iterator<Item = &str> {
        self.types
            .get(abstract_type)
            .into_iter()
            .flat_map(|e| e.possible_types.iter().map(String::as_str))
    }

    /// Whether `value` is one of the enum `enum_type`'s values in the API schema.
    pub fn has_enum_value(&self, enum_type: &str, value: &str) -> bool {
        self.types
            .get(enum_type)
            .is_some_and(|e| e.enum_values.contains(value))
    }

    /// Whether an object of type `object_type` matches the type condition
    /// `type_condition`: the same type, or an interface/union it belongs to.
    pub fn is_possible_type(&self, type_condition: &str, object_type: &str) -> bool {
        type_condition == object_type
            || self
                .types
                .get(type_condition)
                .is_some_and(|e| e.possible_types.contains(object_type))
    }
}

impl TypeEntry {
    fn new(kind: TypeKind) -> Self {
        TypeEntry {
            kind,
            fields: HashMap::default(),
            possible_types: BTreeSet::new(),
            enum_values: BTreeSet::new(),
        }
    }
}

fn type_definition_name(t: &TypeDefinition) -> &str {
    match t {
        TypeDefinition::Scalar(s) => &s.name,
        TypeDefinition::Object(o) => &o.name,
        TypeDefinition::Interface(i) => &i.name,
        TypeDefinition::Union(u) => &u.name,
        TypeDefinition::Enum(e) => &e.name,
        TypeDefinition::InputObject(i) => &i.name,
    }
}
