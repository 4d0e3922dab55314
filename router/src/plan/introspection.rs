//! Introspection answered by the router itself: `__schema`, `__type` and root `__typename`,
//! run by a small executor of our own over the API schema, describing it exactly as
//! graphql-js 16.11 describes the same SDL (type order, built-in descriptions, default
//! values printed as GraphQL literals), so no `join__`/`link__` internals can leak and no
//! valid schema is refused.

use graphql_tools::static_graphql::schema::{self, Definition, Directive, TypeDefinition};
use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::{FieldSelection, SelectionSet};
use hive_router_query_planner::ast::value::Value as AstValue;
use hive_router_query_planner::state::supergraph_state::{
    OperationKind as HiveOperationKind, TypeNode,
};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use super::OperationKind;
use super::api_schema::ApiSchema;

/// What graphql-js 16.11 defines in every schema, as graphql-js prints it
/// (`printIntrospectionSchema` and the specified scalars, descriptions as plain strings):
/// the specified directives, the introspection types and the built-in scalars. Described
/// from this text, they come out of introspection with graphql-js's very words.
const BUILTINS: &str = r#"
"Directs the executor to include this field or fragment only when the `if` argument is true."
directive @include(
  "Included when true."
  if: Boolean!
) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"Directs the executor to skip this field or fragment when the `if` argument is true."
directive @skip(
  "Skipped when true."
  if: Boolean!
) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"Marks an element of a GraphQL schema as no longer supported."
directive @deprecated(
  "Explains why this element was deprecated, usually also including a suggestion for how to access supported similar data. Formatted using the Markdown syntax, as specified by [CommonMark](https://commonmark.org/)."
  reason: String = "No longer supported"
) on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE

"Exposes a URL that specifies the behavior of this scalar."
directive @specifiedBy(
  "The URL that specifies the behavior of this scalar."
  url: String!
) on SCALAR

"Indicates exactly one field must be supplied and this field must not be `null`."
directive @oneOf on INPUT_OBJECT

"A GraphQL Schema defines the capabilities of a GraphQL server. It exposes all available types and directives on the server, as well as the entry points for query, mutation, and subscription operations."
type __Schema {
  description: String
  "A list of all types supported by this server."
  types: [__Type!]!
  "The type that query operations will be rooted at."
  queryType: __Type!
  "If this server supports mutation, the type that mutation operations will be rooted at."
  mutationType: __Type
  "If this server support subscription, the type that subscription operations will be rooted at."
  subscriptionType: __Type
  "A list of all directives supported by this server."
  directives: [__Directive!]!
}

"The fundamental unit of any GraphQL Schema is the type. There are many kinds of types in GraphQL as represented by the `__TypeKind` enum.\n\nDepending on the kind of a type, certain fields describe information about that type. Scalar types provide no information beyond a name, description and optional `specifiedByURL`, while Enum types provide their values. Object and Interface types provide the fields they describe. Abstract types, Union and Interface, provide the Object types possible at runtime. List and NonNull types compose other types."
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  specifiedByURL: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean = false): [__InputValue!]
  ofType: __Type
  isOneOf: Boolean
}

"An enum describing what kind of type a given `__Type` is."
enum __TypeKind {
  "Indicates this type is a scalar."
  SCALAR
  "Indicates this type is an object. `fields` and `interfaces` are valid fields."
  OBJECT
  "Indicates this type is an interface. `fields`, `interfaces`, and `possibleTypes` are valid fields."
  INTERFACE
  "Indicates this type is a union. `possibleTypes` is a valid field."
  UNION
  "Indicates this type is an enum. `enumValues` is a valid field."
  ENUM
  "Indicates this type is an input object. `inputFields` is a valid field."
  INPUT_OBJECT
  "Indicates this type is a list. `ofType` is a valid field."
  LIST
  "Indicates this type is a non-null. `ofType` is a valid field."
  NON_NULL
}

"Object and Interface types are described by a list of Fields, each of which has a name, potentially a list of arguments, and a return type."
type __Field {
  name: String!
  description: String
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}

"Arguments provided to Fields or Directives and the input fields of an InputObject are represented as Input Values which describe their type and optionally a default value."
type __InputValue {
  name: String!
  description: String
  type: __Type!
  "A GraphQL-formatted string representing the default value for this input value."
  defaultValue: String
  isDeprecated: Boolean!
  deprecationReason: String
}

"One possible value for a given Enum. Enum values are unique values, not a placeholder for a string or numeric value. However an Enum value is returned in a JSON response as a string."
type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}

"A Directive provides a way to describe alternate runtime execution and type validation behavior in a GraphQL document.\n\nIn some cases, you need to provide options to alter GraphQL's execution behavior in ways field arguments will not suffice, such as conditionally including or skipping a field. Directives provide this by describing additional information to the executor."
type __Directive {
  name: String!
  description: String
  isRepeatable: Boolean!
  locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean = false): [__InputValue!]!
}

"A Directive can be adjacent to many parts of the GraphQL language, a __DirectiveLocation describes one such possible adjacencies."
enum __DirectiveLocation {
  "Location adjacent to a query operation."
  QUERY
  "Location adjacent to a mutation operation."
  MUTATION
  "Location adjacent to a subscription operation."
  SUBSCRIPTION
  "Location adjacent to a field."
  FIELD
  "Location adjacent to a fragment definition."
  FRAGMENT_DEFINITION
  "Location adjacent to a fragment spread."
  FRAGMENT_SPREAD
  "Location adjacent to an inline fragment."
  INLINE_FRAGMENT
  "Location adjacent to a variable definition."
  VARIABLE_DEFINITION
  "Location adjacent to a schema definition."
  SCHEMA
  "Location adjacent to a scalar definition."
  SCALAR
  "Location adjacent to an object type definition."
  OBJECT
  "Location adjacent to a field definition."
  FIELD_DEFINITION
  "Location adjacent to an argument definition."
  ARGUMENT_DEFINITION
  "Location adjacent to an interface definition."
  INTERFACE
  "Location adjacent to a union definition."
  UNION
  "Location adjacent to an enum definition."
  ENUM
  "Location adjacent to an enum value definition."
  ENUM_VALUE
  "Location adjacent to an input object type definition."
  INPUT_OBJECT
  "Location adjacent to an input object field definition."
  INPUT_FIELD_DEFINITION
}

"The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text."
scalar String

"The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1."
scalar Int

"The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point)."
scalar Float

"The `Boolean` scalar type represents `true` or `false`."
scalar Boolean

"The `ID` scalar type represents a unique identifier, often used to refetch an object or as key for a cache. The ID type appears in a JSON response as a String; however, it is not intended to be human-readable. When expected as an input type, any string (such as `\"4\"`) or integer (such as `4`) input value will be accepted as an ID."
scalar ID
"#;

/// [`BUILTINS`] parsed once. The text is a constant checked by the tests, so it always
/// parses; were it not to, introspection would merely lack the built-ins.
static BUILTIN_DOCUMENT: LazyLock<schema::Document> = LazyLock::new(|| {
    graphql_tools::parser::parse_schema::<String>(BUILTINS)
        .map(|d| d.into_static())
        .unwrap_or_else(|_| schema::Document {
            definitions: Vec::new(),
        })
});

/// How deep an input object default value may nest inside its own defaults: a cycle of
/// input field defaults is not a valid schema, and must not recurse forever here.
const MAX_DEFAULT_NESTING: usize = 64;

/// What executing an introspection operation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntrospectionResult {
    /// The `data` object (`null` when the request failed before execution).
    pub data: serde_json::Value,
    /// GraphQL errors (`message`, `extensions`), ready for the response's `errors`.
    pub errors: Vec<serde_json::Value>,
}

/// Executes the root introspection fields of operations against the API schema.
///
/// Only introspection is answered: any other root field resolves to `null` without running
/// anything, so give it just the introspection part of an operation
/// ([`super::Planned::introspection`]).
#[derive(Clone)]
pub struct Introspection {
    model: Arc<Model>,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspection")
            .field("types", &self.model.types.len())
            .field("directives", &self.model.directives.len())
            .finish_non_exhaustive()
    }
}

impl Introspection {
    /// Describes the API schema (with graphql-js's built-in scalars, directives and
    /// introspection types). Never fails: whatever the planner accepted is described.
    pub fn new(api: &ApiSchema) -> Self {
        Introspection {
            model: Arc::new(Model::build(api)),
        }
    }

    /// Executes an introspection operation (already validated and normalized: fragments
    /// inlined, `@skip`/`@include` with variables left as `skip_if`/`include_if`) with the
    /// request's variables, returning its `data` keyed by response name and its errors.
    pub fn execute(
        &self,
        operation: &OperationDefinition,
        variables: &Map<String, Value>,
    ) -> IntrospectionResult {
        let variables = match operation_variables(operation, variables) {
            Ok(v) => v,
            Err(errors) => {
                return IntrospectionResult {
                    data: Value::Null,
                    errors,
                };
            }
        };
        let kind = match operation.operation_kind {
            Some(HiveOperationKind::Mutation) => OperationKind::Mutation,
            Some(HiveOperationKind::Subscription) => OperationKind::Subscription,
            _ => OperationKind::Query,
        };
        let root = self.model.root(kind).unwrap_or(kind.as_str());
        let exec = Exec {
            model: &self.model,
            variables: &variables,
        };
        let data = exec.selections(root, &[&operation.selection_set], |field| {
            exec.resolve_root(field)
        });
        IntrospectionResult {
            data: Value::Object(data),
            errors: Vec::new(),
        }
    }
}

/// The variables the operation declares, with their defaults filled in; a missing or
/// `null` value for a non-null variable is the client's error, as in graphql-js.
fn operation_variables(
    operation: &OperationDefinition,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Value>> {
    let mut out = Map::new();
    let mut errors = Vec::new();
    for def in operation.variable_definitions.iter().flatten() {
        let value = match given.get(&def.name) {
            Some(v) => Some(v.clone()),
            None => def.default_value.as_ref().map(ast_to_json),
        };
        let required = matches!(def.variable_type, TypeNode::NonNull(_));
        match value {
            None if required => errors.push(bad_variable(format!(
                "Variable \"${}\" of required type \"{}\" was not provided.",
                def.name,
                type_node_string(&def.variable_type)
            ))),
            Some(Value::Null) if required => errors.push(bad_variable(format!(
                "Variable \"${}\" of non-null type \"{}\" must not be null.",
                def.name,
                type_node_string(&def.variable_type)
            ))),
            None => {}
            Some(v) => {
                out.insert(def.name.clone(), v);
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn bad_variable(message: String) -> Value {
    json!({ "message": message, "extensions": { "code": "BAD_USER_INPUT" } })
}

fn type_node_string(t: &TypeNode) -> String {
    match t {
        TypeNode::Named(n) => n.clone(),
        TypeNode::List(inner) => format!("[{}]", type_node_string(inner)),
        TypeNode::NonNull(inner) => format!("{}!", type_node_string(inner)),
    }
}

fn ast_to_json(v: &AstValue) -> Value {
    match v {
        AstValue::Variable(_) | AstValue::Null => Value::Null,
        AstValue::Int(n) => json!(n),
        AstValue::Float(f) => json!(f),
        AstValue::String(s) | AstValue::Enum(s) => Value::String(s.clone()),
        AstValue::Boolean(b) => Value::Bool(*b),
        AstValue::List(items) => Value::Array(items.iter().map(ast_to_json).collect()),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), ast_to_json(v)))
                .collect(),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// The described schema.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Scalar => "SCALAR",
            Kind::Object => "OBJECT",
            Kind::Interface => "INTERFACE",
            Kind::Union => "UNION",
            Kind::Enum => "ENUM",
            Kind::InputObject => "INPUT_OBJECT",
        }
    }
}

/// A named type as `__Type` describes it.
#[derive(Debug)]
struct NamedType {
    kind: Kind,
    name: String,
    description: Option<String>,
    specified_by_url: Option<String>,
    fields: Vec<FieldDef>,
    interfaces: Vec<String>,
    /// Union members in declared order; for interfaces, the object types declaring them,
    /// in type order (graphql-js's `getPossibleTypes`).
    possible_types: Vec<String>,
    enum_values: Vec<EnumValueDef>,
    input_fields: Vec<InputValueDef>,
    one_of: bool,
}

#[derive(Debug)]
struct FieldDef {
    name: String,
    description: Option<String>,
    args: Vec<InputValueDef>,
    ty: schema::Type,
    deprecation: Option<String>,
}

#[derive(Debug)]
struct InputValueDef {
    name: String,
    description: Option<String>,
    ty: schema::Type,
    /// Printed once, at startup, as graphql-js's `print(astFromValue(...))` would.
    default_value: Option<String>,
    deprecation: Option<String>,
}

#[derive(Debug)]
struct EnumValueDef {
    name: String,
    description: Option<String>,
    deprecation: Option<String>,
}

#[derive(Debug)]
struct DirectiveDef {
    name: String,
    description: Option<String>,
    repeatable: bool,
    locations: Vec<&'static str>,
    args: Vec<InputValueDef>,
}

/// The API schema plus graphql-js's built-ins, in graphql-js's order.
#[derive(Debug)]
struct Model {
    query: String,
    mutation: Option<String>,
    subscription: Option<String>,
    types: Vec<NamedType>,
    index: HashMap<String, usize>,
    directives: Vec<DirectiveDef>,
}

impl Model {
    fn build(api: &ApiSchema) -> Model {
        // The API schema's definitions first, then the built-ins it does not define, as
        // graphql-js's `buildSchema` does.
        let mut defs: HashMap<&str, &TypeDefinition> = HashMap::new();
        let mut declared: Vec<&str> = Vec::new();
        let mut directive_defs: Vec<&schema::DirectiveDefinition> = Vec::new();
        for def in &api.document().definitions {
            match def {
                Definition::TypeDefinition(t) => {
                    let name = type_definition_name(t);
                    if defs.insert(name, t).is_none() {
                        declared.push(name);
                    }
                }
                Definition::DirectiveDefinition(d) => directive_defs.push(d),
                Definition::SchemaDefinition(_) | Definition::TypeExtension(_) => {}
            }
        }
        let mut builtin_directives = Vec::new();
        for def in &BUILTIN_DOCUMENT.definitions {
            match def {
                Definition::TypeDefinition(t) => {
                    defs.entry(type_definition_name(t)).or_insert(t);
                }
                Definition::DirectiveDefinition(d)
                    if !directive_defs.iter().any(|u| u.name == d.name) =>
                {
                    builtin_directives.push(d);
                }
                _ => {}
            }
        }
        directive_defs.extend(builtin_directives);

        let query = api
            .root_type_name(OperationKind::Query)
            .unwrap_or("Query")
            .to_string();
        let mutation = api
            .root_type_name(OperationKind::Mutation)
            .map(str::to_string);
        let subscription = api
            .root_type_name(OperationKind::Subscription)
            .map(str::to_string);

        let order = type_order(
            &defs,
            &declared,
            [
                Some(query.as_str()),
                mutation.as_deref(),
                subscription.as_deref(),
            ],
            &directive_defs,
        );

        // graphql-js lists an interface's possible types as the object types declaring
        // it, in type-map order.
        let mut implementations: HashMap<&str, Vec<String>> = HashMap::new();
        for name in &order {
            if let Some(TypeDefinition::Object(o)) = defs.get(name) {
                for iface in &o.implements_interfaces {
                    implementations
                        .entry(iface.as_str())
                        .or_default()
                        .push(o.name.clone());
                }
            }
        }

        let printer = DefaultPrinter { defs: &defs };
        let types: Vec<NamedType> = order
            .iter()
            .filter_map(|name| defs.get(name))
            .map(|t| named_type(t, &printer, &implementations))
            .collect();
        let index = types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        let directives = directive_defs
            .iter()
            .map(|d| DirectiveDef {
                name: d.name.clone(),
                description: d.description.clone(),
                repeatable: d.repeatable,
                locations: d.locations.iter().map(|l| l.as_str()).collect(),
                args: d
                    .arguments
                    .iter()
                    .map(|a| input_value(a, &printer))
                    .collect(),
            })
            .collect();
        Model {
            query,
            mutation,
            subscription,
            types,
            index,
            directives,
        }
    }

    fn root(&self, kind: OperationKind) -> Option<&str> {
        match kind {
            OperationKind::Query => Some(&self.query),
            OperationKind::Mutation => self.mutation.as_deref(),
            OperationKind::Subscription => self.subscription.as_deref(),
        }
    }

    fn named(&self, name: &str) -> Option<&NamedType> {
        self.index.get(name).map(|&i| &self.types[i])
    }
}

/// The order of graphql-js's type map, which `__schema.types` lists: the `GraphQLSchema`
/// constructor takes the declared types in document order, each followed by the types it
/// references that are not declared (the built-in scalars), then whatever the root
/// types, the directives' arguments and `__Schema` reach, depth first.
fn type_order<'a>(
    defs: &HashMap<&'a str, &'a TypeDefinition>,
    declared: &[&'a str],
    roots: [Option<&'a str>; 3],
    directives: &[&'a schema::DirectiveDefinition],
) -> Vec<&'a str> {
    let mut seen: HashSet<&str> = declared.iter().copied().collect();
    let mut order = Vec::new();
    for name in declared {
        seen.remove(name);
        collect_type(defs, name, &mut seen, &mut order);
    }
    for root in roots.into_iter().flatten() {
        collect_type(defs, root, &mut seen, &mut order);
    }
    for d in directives {
        for arg in &d.arguments {
            collect_type(defs, named_type_of(&arg.value_type), &mut seen, &mut order);
        }
    }
    collect_type(defs, "__Schema", &mut seen, &mut order);
    order
}

/// graphql-js's `collectReferencedTypes`.
fn collect_type<'a>(
    defs: &HashMap<&'a str, &'a TypeDefinition>,
    name: &str,
    seen: &mut HashSet<&'a str>,
    order: &mut Vec<&'a str>,
) {
    let Some((&name, def)) = defs.get_key_value(name) else {
        return;
    };
    if !seen.insert(name) {
        return;
    }
    order.push(name);
    match def {
        TypeDefinition::Union(u) => {
            for member in &u.types {
                collect_type(defs, member, seen, order);
            }
        }
        TypeDefinition::Object(schema::ObjectType {
            implements_interfaces,
            fields,
            ..
        })
        | TypeDefinition::Interface(schema::InterfaceType {
            implements_interfaces,
            fields,
            ..
        }) => {
            for iface in implements_interfaces {
                collect_type(defs, iface, seen, order);
            }
            for f in fields {
                collect_type(defs, named_type_of(&f.field_type), seen, order);
                for arg in &f.arguments {
                    collect_type(defs, named_type_of(&arg.value_type), seen, order);
                }
            }
        }
        TypeDefinition::InputObject(i) => {
            for f in &i.fields {
                collect_type(defs, named_type_of(&f.value_type), seen, order);
            }
        }
        TypeDefinition::Scalar(_) | TypeDefinition::Enum(_) => {}
    }
}

fn named_type_of(ty: &schema::Type) -> &str {
    match ty {
        schema::Type::NamedType(n) => n,
        schema::Type::ListType(inner) | schema::Type::NonNullType(inner) => named_type_of(inner),
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

fn named_type(
    t: &TypeDefinition,
    printer: &DefaultPrinter<'_>,
    implementations: &HashMap<&str, Vec<String>>,
) -> NamedType {
    let mut out = NamedType {
        kind: Kind::Scalar,
        name: type_definition_name(t).to_string(),
        description: None,
        specified_by_url: None,
        fields: Vec::new(),
        interfaces: Vec::new(),
        possible_types: Vec::new(),
        enum_values: Vec::new(),
        input_fields: Vec::new(),
        one_of: false,
    };
    match t {
        TypeDefinition::Scalar(s) => {
            out.description = s.description.clone();
            out.specified_by_url =
                directive_string_arg(&s.directives, "specifiedBy", "url").map(str::to_string);
        }
        TypeDefinition::Object(o) => {
            out.kind = Kind::Object;
            out.description = o.description.clone();
            out.interfaces = o.implements_interfaces.clone();
            out.fields = o.fields.iter().map(|f| field(f, printer)).collect();
        }
        TypeDefinition::Interface(i) => {
            out.kind = Kind::Interface;
            out.description = i.description.clone();
            out.interfaces = i.implements_interfaces.clone();
            out.fields = i.fields.iter().map(|f| field(f, printer)).collect();
            out.possible_types = implementations
                .get(i.name.as_str())
                .cloned()
                .unwrap_or_default();
        }
        TypeDefinition::Union(u) => {
            out.kind = Kind::Union;
            out.description = u.description.clone();
            out.possible_types = u.types.clone();
        }
        TypeDefinition::Enum(e) => {
            out.kind = Kind::Enum;
            out.description = e.description.clone();
            out.enum_values = e
                .values
                .iter()
                .map(|v| EnumValueDef {
                    name: v.name.clone(),
                    description: v.description.clone(),
                    deprecation: deprecation(&v.directives),
                })
                .collect();
        }
        TypeDefinition::InputObject(i) => {
            out.kind = Kind::InputObject;
            out.description = i.description.clone();
            out.one_of = i.directives.iter().any(|d| d.name == "oneOf");
            out.input_fields = i.fields.iter().map(|f| input_value(f, printer)).collect();
        }
    }
    out
}

fn field(f: &schema::Field, printer: &DefaultPrinter<'_>) -> FieldDef {
    FieldDef {
        name: f.name.clone(),
        description: f.description.clone(),
        args: f
            .arguments
            .iter()
            .map(|a| input_value(a, printer))
            .collect(),
        ty: f.field_type.clone(),
        deprecation: deprecation(&f.directives),
    }
}

fn input_value(v: &schema::InputValue, printer: &DefaultPrinter<'_>) -> InputValueDef {
    InputValueDef {
        name: v.name.clone(),
        description: v.description.clone(),
        ty: v.value_type.clone(),
        default_value: v
            .default_value
            .as_ref()
            .and_then(|d| printer.print(d, &v.value_type)),
        deprecation: deprecation(&v.directives),
    }
}

/// `@deprecated`'s reason, the spec's default when the argument is omitted; an explicit
/// `null` reason is no deprecation, as in graphql-js (`isDeprecated` is `reason != null`).
fn deprecation(directives: &[Directive]) -> Option<String> {
    let d = directives.iter().find(|d| d.name == "deprecated")?;
    match d.arguments.iter().find(|(k, _)| k == "reason") {
        None => Some("No longer supported".to_string()),
        Some((_, schema::Value::String(s))) => Some(s.clone()),
        Some(_) => None,
    }
}

fn directive_string_arg<'a>(directives: &'a [Directive], name: &str, arg: &str) -> Option<&'a str> {
    directives
        .iter()
        .find(|d| d.name == name)?
        .arguments
        .iter()
        .find_map(|(k, v)| match v {
            schema::Value::String(s) if k == arg => Some(s.as_str()),
            _ => None,
        })
}

// ---------------------------------------------------------------------------------------
// Default values, printed as graphql-js prints them: the SDL literal is first coerced to
// its type (`valueFromAST`, which fills in input fields' own defaults and turns a single
// item into a list), then turned back into a literal (`astFromValue`) and printed.

/// A default value once coerced, as graphql-js holds it (a JavaScript value).
#[derive(Debug, Clone)]
enum Coerced {
    Null,
    Boolean(bool),
    Number(f64),
    String(String),
    Enum(String),
    List(Vec<Coerced>),
    Object(Vec<(String, Coerced)>),
}

struct DefaultPrinter<'a> {
    defs: &'a HashMap<&'a str, &'a TypeDefinition>,
}

impl DefaultPrinter<'_> {
    /// The printed default, or `None` where graphql-js has none to show (a literal that
    /// does not coerce to its type).
    fn print(&self, literal: &schema::Value, ty: &schema::Type) -> Option<String> {
        let value = self.coerce(literal, ty, 0)?;
        self.ast_from_value(&value, ty)
    }

    /// `valueFromAST`: `None` is graphql-js's `undefined` (invalid).
    fn coerce(&self, literal: &schema::Value, ty: &schema::Type, depth: usize) -> Option<Coerced> {
        if depth > MAX_DEFAULT_NESTING {
            return None;
        }
        match ty {
            schema::Type::NonNullType(inner) => match literal {
                schema::Value::Null => None,
                _ => self.coerce(literal, inner, depth),
            },
            _ if matches!(literal, schema::Value::Null) => Some(Coerced::Null),
            _ if matches!(literal, schema::Value::Variable(_)) => None,
            schema::Type::ListType(inner) => match literal {
                schema::Value::List(items) => items
                    .iter()
                    .map(|item| self.coerce(item, inner, depth))
                    .collect::<Option<Vec<_>>>()
                    .map(Coerced::List),
                _ => self
                    .coerce(literal, inner, depth)
                    .map(|item| Coerced::List(vec![item])),
            },
            schema::Type::NamedType(name) => match self.defs.get(name.as_str())? {
                TypeDefinition::Scalar(_) => coerce_scalar(name, literal),
                TypeDefinition::Enum(e) => match literal {
                    schema::Value::Enum(v) if e.values.iter().any(|ev| ev.name == *v) => {
                        Some(Coerced::Enum(v.clone()))
                    }
                    _ => None,
                },
                TypeDefinition::InputObject(io) => {
                    let schema::Value::Object(given) = literal else {
                        return None;
                    };
                    let mut fields = Vec::new();
                    for f in &io.fields {
                        match given.iter().find(|(k, _)| *k == f.name) {
                            Some((_, v)) => fields
                                .push((f.name.clone(), self.coerce(v, &f.value_type, depth + 1)?)),
                            None => {
                                let default = f
                                    .default_value
                                    .as_ref()
                                    .and_then(|d| self.coerce(d, &f.value_type, depth + 1));
                                match default {
                                    Some(d) => fields.push((f.name.clone(), d)),
                                    None if matches!(
                                        f.value_type,
                                        schema::Type::NonNullType(_)
                                    ) =>
                                    {
                                        return None;
                                    }
                                    None => {}
                                }
                            }
                        }
                    }
                    let one_of = io.directives.iter().any(|d| d.name == "oneOf");
                    if one_of
                        && (fields.len() != 1 || matches!(fields.first(), Some((_, Coerced::Null))))
                    {
                        return None;
                    }
                    Some(Coerced::Object(fields))
                }
                TypeDefinition::Object(_)
                | TypeDefinition::Interface(_)
                | TypeDefinition::Union(_) => None,
            },
        }
    }

    /// `astFromValue` then `print`.
    fn ast_from_value(&self, value: &Coerced, ty: &schema::Type) -> Option<String> {
        match ty {
            schema::Type::NonNullType(inner) => {
                let printed = self.ast_from_value(value, inner)?;
                (printed != "null").then_some(printed)
            }
            _ if matches!(value, Coerced::Null) => Some("null".to_string()),
            schema::Type::ListType(inner) => match value {
                Coerced::List(items) => Some(format!(
                    "[{}]",
                    items
                        .iter()
                        .filter_map(|item| self.ast_from_value(item, inner))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => self.ast_from_value(value, inner),
            },
            schema::Type::NamedType(name) => match self.defs.get(name.as_str())? {
                TypeDefinition::InputObject(io) => {
                    let Coerced::Object(given) = value else {
                        return None;
                    };
                    let fields: Vec<String> = io
                        .fields
                        .iter()
                        .filter_map(|f| {
                            let (_, v) = given.iter().find(|(k, _)| *k == f.name)?;
                            Some(format!(
                                "{}: {}",
                                f.name,
                                self.ast_from_value(v, &f.value_type)?
                            ))
                        })
                        .collect();
                    Some(format!("{{{}}}", fields.join(", ")))
                }
                TypeDefinition::Enum(_) => match value {
                    Coerced::Enum(v) => Some(v.clone()),
                    _ => None,
                },
                TypeDefinition::Scalar(_) => print_scalar(name, value),
                TypeDefinition::Object(_)
                | TypeDefinition::Interface(_)
                | TypeDefinition::Union(_) => None,
            },
        }
    }
}

/// `parseLiteral` of the built-in scalars; custom scalars take any literal as is
/// (`valueFromASTUntyped`, where an enum literal becomes its name as a string).
fn coerce_scalar(name: &str, literal: &schema::Value) -> Option<Coerced> {
    match (name, literal) {
        ("Int", schema::Value::Int(n)) => n
            .as_i64()
            .filter(|n| i32::try_from(*n).is_ok())
            .map(|n| Coerced::Number(n as f64)),
        ("Int", _) => None,
        ("Float", schema::Value::Int(n)) => n.as_i64().map(|n| Coerced::Number(n as f64)),
        ("Float", schema::Value::Float(f)) => Some(Coerced::Number(*f)),
        ("Float", _) => None,
        ("String", schema::Value::String(s)) => Some(Coerced::String(s.clone())),
        ("String", _) => None,
        ("Boolean", schema::Value::Boolean(b)) => Some(Coerced::Boolean(*b)),
        ("Boolean", _) => None,
        ("ID", schema::Value::String(s)) => Some(Coerced::String(s.clone())),
        ("ID", schema::Value::Int(n)) => n.as_i64().map(|n| Coerced::String(n.to_string())),
        ("ID", _) => None,
        _ => untyped(literal),
    }
}

fn untyped(literal: &schema::Value) -> Option<Coerced> {
    Some(match literal {
        schema::Value::Variable(_) => return None,
        schema::Value::Null => Coerced::Null,
        schema::Value::Int(n) => Coerced::Number(n.as_i64()? as f64),
        schema::Value::Float(f) => Coerced::Number(*f),
        schema::Value::String(s) | schema::Value::Enum(s) => Coerced::String(s.clone()),
        schema::Value::Boolean(b) => Coerced::Boolean(*b),
        schema::Value::List(items) => {
            Coerced::List(items.iter().map(untyped).collect::<Option<_>>()?)
        }
        schema::Value::Object(fields) => Coerced::Object(
            fields
                .iter()
                .map(|(k, v)| Some((k.clone(), untyped(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

/// `astFromValue` for a scalar: the serialized value as a literal (an `ID` that looks
/// like an integer prints as one). graphql-js cannot print a custom scalar's list or
/// object default at all; we print them as literals rather than fail.
fn print_scalar(name: &str, value: &Coerced) -> Option<String> {
    match value {
        Coerced::Null => Some("null".to_string()),
        Coerced::Boolean(b) => Some(b.to_string()),
        Coerced::Number(n) => js_number(*n),
        Coerced::String(s) if name == "ID" && is_integer_literal(s) => Some(s.clone()),
        Coerced::String(s) | Coerced::Enum(s) => Some(print_string(s)),
        Coerced::List(items) => Some(format!(
            "[{}]",
            items
                .iter()
                .filter_map(|i| print_scalar(name, i))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Coerced::Object(fields) => Some(format!(
            "{{{}}}",
            fields
                .iter()
                .filter_map(|(k, v)| Some(format!("{k}: {}", print_scalar(name, v)?)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// graphql-js's `/^-?(?:0|[1-9][0-9]*)$/`.
fn is_integer_literal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// A number as JavaScript's `String(n)` writes it: decimal between 1e-6 and 1e21,
/// exponent notation (`1e+21`, `1.5e-7`) outside; non-finite numbers have no literal.
fn js_number(n: f64) -> Option<String> {
    if !n.is_finite() {
        return None;
    }
    if n == 0.0 {
        return Some("0".to_string());
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        return Some(format!("{n}"));
    }
    let text = format!("{n:e}");
    Some(match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    })
}

/// graphql-js's `printString`.
fn print_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// Execution.

/// A value of one of the introspection object types.
#[derive(Clone, Copy)]
enum Node<'a> {
    Schema,
    Type(TypeRef<'a>),
    Field(&'a FieldDef),
    InputValue(&'a InputValueDef),
    EnumValue(&'a EnumValueDef),
    Directive(&'a DirectiveDef),
}

/// A `__Type`: a named type, or a list or non-null wrapper (kept as the declared type).
#[derive(Clone, Copy)]
enum TypeRef<'a> {
    Named(&'a NamedType),
    Wrapper(&'a schema::Type),
}

impl Node<'_> {
    fn typename(&self) -> &'static str {
        match self {
            Node::Schema => "__Schema",
            Node::Type(_) => "__Type",
            Node::Field(_) => "__Field",
            Node::InputValue(_) => "__InputValue",
            Node::EnumValue(_) => "__EnumValue",
            Node::Directive(_) => "__Directive",
        }
    }
}

/// What a field resolved to, before its sub-selection is applied.
enum Resolved<'a> {
    Leaf(Value),
    Node(Node<'a>),
    Nodes(Vec<Node<'a>>),
}

impl Resolved<'_> {
    fn text(s: Option<&str>) -> Self {
        Resolved::Leaf(s.map_or(Value::Null, |s| Value::String(s.to_string())))
    }
}

struct Exec<'a> {
    model: &'a Model,
    variables: &'a Map<String, Value>,
}

impl<'a> Exec<'a> {
    /// Executes selection sets (several when fields of one response name were merged) on
    /// an object of type `typename`, as graphql-js's `CollectFields` then
    /// `executeFields`.
    fn selections(
        &self,
        typename: &str,
        sets: &[&SelectionSet],
        resolve: impl Fn(&FieldSelection) -> Resolved<'a>,
    ) -> Map<String, Value> {
        let mut grouped: Vec<(&str, Vec<&FieldSelection>)> = Vec::new();
        for set in sets {
            self.collect(typename, set, &mut grouped);
        }
        let mut out = Map::new();
        for (key, fields) in grouped {
            let Some(&first) = fields.first() else {
                continue;
            };
            let value = if first.name == "__typename" {
                Value::String(typename.to_string())
            } else {
                let sub: Vec<&SelectionSet> = fields.iter().map(|f| &f.selections).collect();
                match resolve(first) {
                    Resolved::Leaf(v) => v,
                    Resolved::Node(n) => Value::Object(self.node(n, &sub)),
                    Resolved::Nodes(ns) => Value::Array(
                        ns.into_iter()
                            .map(|n| Value::Object(self.node(n, &sub)))
                            .collect(),
                    ),
                }
            };
            out.insert(key.to_string(), value);
        }
        out
    }

    fn node(&self, node: Node<'a>, sets: &[&SelectionSet]) -> Map<String, Value> {
        self.selections(node.typename(), sets, |field| self.resolve(node, field))
    }

    fn collect<'s>(
        &self,
        typename: &str,
        set: &'s SelectionSet,
        grouped: &mut Vec<(&'s str, Vec<&'s FieldSelection>)>,
    ) {
        for item in &set.items {
            match item {
                SelectionItem::Field(f) => {
                    if !self.included(&f.skip_if, &f.include_if) {
                        continue;
                    }
                    let key = f.selection_identifier();
                    match grouped.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, fields)) => fields.push(f),
                        None => grouped.push((key, vec![f])),
                    }
                }
                SelectionItem::InlineFragment(fragment) => {
                    if self.included(&fragment.skip_if, &fragment.include_if)
                        && self.applies(&fragment.type_condition, typename)
                    {
                        self.collect(typename, &fragment.selections, grouped);
                    }
                }
                // Normalization inlines every fragment spread.
                SelectionItem::FragmentSpread(_) => {}
            }
        }
    }

    /// `@skip`/`@include` with a variable (literal ones were applied by normalization).
    fn included(&self, skip_if: &Option<String>, include_if: &Option<String>) -> bool {
        let is_true = |v: &String| matches!(self.variables.get(v), Some(Value::Bool(true)));
        !skip_if.as_ref().is_some_and(is_true) && include_if.as_ref().is_none_or(is_true)
    }

    /// Whether a fragment on `condition` applies to an object of type `typename`.
    fn applies(&self, condition: &str, typename: &str) -> bool {
        condition == typename
            || self
                .model
                .named(condition)
                .is_some_and(|t| t.possible_types.iter().any(|p| p == typename))
    }

    /// An argument's value, from a literal or a variable; `None` when absent or `null`.
    fn argument(&self, field: &FieldSelection, name: &str) -> Option<Value> {
        let value = match field.arguments.as_ref()?.get_argument(name)? {
            AstValue::Variable(v) => self.variables.get(v).cloned()?,
            other => ast_to_json(other),
        };
        (!value.is_null()).then_some(value)
    }

    fn include_deprecated(&self, field: &FieldSelection) -> bool {
        matches!(
            self.argument(field, "includeDeprecated"),
            Some(Value::Bool(true))
        )
    }

    fn resolve_root(&self, field: &FieldSelection) -> Resolved<'a> {
        match field.name.as_str() {
            "__schema" => Resolved::Node(Node::Schema),
            "__type" => match self.argument(field, "name") {
                Some(Value::String(name)) => self.type_named(&name),
                _ => Resolved::Leaf(Value::Null),
            },
            _ => Resolved::Leaf(Value::Null),
        }
    }

    fn type_named(&self, name: &str) -> Resolved<'a> {
        match self.model.named(name) {
            Some(t) => Resolved::Node(Node::Type(TypeRef::Named(t))),
            None => Resolved::Leaf(Value::Null),
        }
    }

    fn type_ref(&self, ty: &'a schema::Type) -> Resolved<'a> {
        match ty {
            schema::Type::NamedType(name) => self.type_named(name),
            _ => Resolved::Node(Node::Type(TypeRef::Wrapper(ty))),
        }
    }

    fn types_named(&self, names: &[String]) -> Resolved<'a> {
        Resolved::Nodes(
            names
                .iter()
                .filter_map(|n| self.model.named(n))
                .map(|t| Node::Type(TypeRef::Named(t)))
                .collect(),
        )
    }

    fn resolve(&self, node: Node<'a>, field: &FieldSelection) -> Resolved<'a> {
        let name = field.name.as_str();
        match node {
            Node::Schema => self.schema_field(name),
            Node::Type(TypeRef::Named(t)) => self.type_field(t, field),
            Node::Type(TypeRef::Wrapper(ty)) => match (name, ty) {
                ("kind", schema::Type::ListType(_)) => Resolved::text(Some("LIST")),
                ("kind", _) => Resolved::text(Some("NON_NULL")),
                ("ofType", schema::Type::ListType(inner) | schema::Type::NonNullType(inner)) => {
                    self.type_ref(inner)
                }
                _ => Resolved::Leaf(Value::Null),
            },
            Node::Field(f) => match name {
                "name" => Resolved::text(Some(&f.name)),
                "description" => Resolved::text(f.description.as_deref()),
                "args" => self.input_values(&f.args, self.include_deprecated(field)),
                "type" => self.type_ref(&f.ty),
                "isDeprecated" => Resolved::Leaf(Value::Bool(f.deprecation.is_some())),
                "deprecationReason" => Resolved::text(f.deprecation.as_deref()),
                _ => Resolved::Leaf(Value::Null),
            },
            Node::InputValue(v) => match name {
                "name" => Resolved::text(Some(&v.name)),
                "description" => Resolved::text(v.description.as_deref()),
                "type" => self.type_ref(&v.ty),
                "defaultValue" => Resolved::text(v.default_value.as_deref()),
                "isDeprecated" => Resolved::Leaf(Value::Bool(v.deprecation.is_some())),
                "deprecationReason" => Resolved::text(v.deprecation.as_deref()),
                _ => Resolved::Leaf(Value::Null),
            },
            Node::EnumValue(v) => match name {
                "name" => Resolved::text(Some(&v.name)),
                "description" => Resolved::text(v.description.as_deref()),
                "isDeprecated" => Resolved::Leaf(Value::Bool(v.deprecation.is_some())),
                "deprecationReason" => Resolved::text(v.deprecation.as_deref()),
                _ => Resolved::Leaf(Value::Null),
            },
            Node::Directive(d) => match name {
                "name" => Resolved::text(Some(&d.name)),
                "description" => Resolved::text(d.description.as_deref()),
                "isRepeatable" => Resolved::Leaf(Value::Bool(d.repeatable)),
                "locations" => Resolved::Leaf(Value::Array(
                    d.locations
                        .iter()
                        .map(|l| Value::String((*l).to_string()))
                        .collect(),
                )),
                "args" => self.input_values(&d.args, self.include_deprecated(field)),
                _ => Resolved::Leaf(Value::Null),
            },
        }
    }

    fn schema_field(&self, name: &str) -> Resolved<'a> {
        let model = self.model;
        match name {
            "types" => Resolved::Nodes(
                model
                    .types
                    .iter()
                    .map(|t| Node::Type(TypeRef::Named(t)))
                    .collect(),
            ),
            "queryType" => self.type_named(&model.query),
            "mutationType" => match &model.mutation {
                Some(m) => self.type_named(m),
                None => Resolved::Leaf(Value::Null),
            },
            "subscriptionType" => match &model.subscription {
                Some(s) => self.type_named(s),
                None => Resolved::Leaf(Value::Null),
            },
            "directives" => Resolved::Nodes(model.directives.iter().map(Node::Directive).collect()),
            // `description`: the API schema has no schema description.
            _ => Resolved::Leaf(Value::Null),
        }
    }

    fn type_field(&self, t: &'a NamedType, field: &FieldSelection) -> Resolved<'a> {
        let has_fields = matches!(t.kind, Kind::Object | Kind::Interface);
        match field.name.as_str() {
            "kind" => Resolved::text(Some(t.kind.as_str())),
            "name" => Resolved::text(Some(&t.name)),
            "description" => Resolved::text(t.description.as_deref()),
            "specifiedByURL" => Resolved::text(t.specified_by_url.as_deref()),
            "fields" if has_fields => {
                let all = self.include_deprecated(field);
                Resolved::Nodes(
                    t.fields
                        .iter()
                        .filter(|f| all || f.deprecation.is_none())
                        .map(Node::Field)
                        .collect(),
                )
            }
            "interfaces" if has_fields => self.types_named(&t.interfaces),
            "possibleTypes" if matches!(t.kind, Kind::Interface | Kind::Union) => {
                self.types_named(&t.possible_types)
            }
            "enumValues" if t.kind == Kind::Enum => {
                let all = self.include_deprecated(field);
                Resolved::Nodes(
                    t.enum_values
                        .iter()
                        .filter(|v| all || v.deprecation.is_none())
                        .map(Node::EnumValue)
                        .collect(),
                )
            }
            "inputFields" if t.kind == Kind::InputObject => {
                self.input_values(&t.input_fields, self.include_deprecated(field))
            }
            "isOneOf" if t.kind == Kind::InputObject => Resolved::Leaf(Value::Bool(t.one_of)),
            _ => Resolved::Leaf(Value::Null),
        }
    }

    fn input_values(&self, values: &'a [InputValueDef], include_deprecated: bool) -> Resolved<'a> {
        Resolved::Nodes(
            values
                .iter()
                .filter(|v| include_deprecated || v.deprecation.is_none())
                .map(Node::InputValue)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtins_parse() {
        let types = BUILTIN_DOCUMENT
            .definitions
            .iter()
            .filter(|d| matches!(d, Definition::TypeDefinition(_)))
            .count();
        let directives = BUILTIN_DOCUMENT.definitions.len() - types;
        // __Schema, __Type, __TypeKind, __Field, __InputValue, __EnumValue, __Directive,
        // __DirectiveLocation and the five scalars; five directives.
        assert_eq!((types, directives), (13, 5));
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        for (n, text) in [
            (10.0, "10"),
            (-3.0, "-3"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (-0.0, "0"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123456789012.0, "123456789012"),
        ] {
            assert_eq!(js_number(n).as_deref(), Some(text), "{n}");
        }
        assert_eq!(js_number(f64::NAN), None);
    }

    #[test]
    fn strings_print_as_graphql_js_does() {
        assert_eq!(print_string("x"), "\"x\"");
        assert_eq!(
            print_string("a\"b\\c\nd\u{1}\u{7f}é"),
            "\"a\\\"b\\\\c\\nd\\u0001\\u007Fé\""
        );
        assert!(is_integer_literal("0") && is_integer_literal("-12"));
        assert!(!is_integer_literal("01") && !is_integer_literal("1.0") && !is_integer_literal(""));
    }
}
