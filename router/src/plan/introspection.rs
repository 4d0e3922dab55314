//! Introspection answered by the router itself: `__schema`, `__type` and root
//! `__typename` over the API schema, executed on an introspection-only async-graphql
//! dynamic schema mirroring it (so no `join__`/`link__` internals can leak).

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, InputObject, InputValue, Interface, InterfaceField, Object,
    Scalar, Schema, Subscription, SubscriptionField, SubscriptionFieldFuture, TypeRef, Union,
};
use async_graphql::{Name, Value};
use graphql_tools::static_graphql::schema::{self, Definition, Directive, TypeDefinition};

use super::OperationKind;
use super::api_schema::ApiSchema;

/// What executing an introspection document produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntrospectionResult {
    /// The `data` object (`null` when the request failed before execution).
    pub data: serde_json::Value,
    /// GraphQL errors (`message`, `locations`, `path`), ready for the response's `errors`.
    pub errors: Vec<serde_json::Value>,
}

/// Executes introspection operations against the API schema.
///
/// Only introspection is answered: any other field of the root type resolves to `null`
/// without running anything, so give it just the introspection part of an operation
/// ([`super::Planned::introspection`]).
#[derive(Clone)]
pub struct Introspection {
    schema: Schema,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspection").finish_non_exhaustive()
    }
}

impl Introspection {
    /// Mirrors the API schema into an introspection-only executable schema.
    ///
    /// Custom directive definitions are not mirrored: `__schema.directives` lists the
    /// built-in ones (`@skip`, `@include`, `@deprecated`, `@specifiedBy`, `@oneOf`).
    pub fn new(api: &ApiSchema) -> Result<Self, String> {
        let mut builder = Schema::build(
            api.root_type_name(OperationKind::Query).unwrap_or("Query"),
            api.root_type_name(OperationKind::Mutation),
            api.root_type_name(OperationKind::Subscription),
        )
        .introspection_only();
        let subscription_type = api.root_type_name(OperationKind::Subscription);
        for def in &api.document().definitions {
            let Definition::TypeDefinition(t) = def else {
                continue;
            };
            builder = match t {
                TypeDefinition::Scalar(s) => {
                    let mut scalar = Scalar::new(&s.name);
                    if let Some(d) = &s.description {
                        scalar = scalar.description(d);
                    }
                    if let Some(url) = directive_string_arg(&s.directives, "specifiedBy", "url") {
                        scalar = scalar.specified_by_url(url);
                    }
                    builder.register(scalar)
                }
                TypeDefinition::Object(o) if Some(o.name.as_str()) == subscription_type => {
                    let mut sub = Subscription::new(&o.name);
                    if let Some(d) = &o.description {
                        sub = sub.description(d);
                    }
                    for f in &o.fields {
                        let mut field =
                            SubscriptionField::new(&f.name, type_ref(&f.field_type), |_| {
                                SubscriptionFieldFuture::new(async {
                                    Ok(async_graphql::futures_util::stream::empty::<
                                        async_graphql::Result<Value>,
                                    >())
                                })
                            });
                        if let Some(d) = &f.description {
                            field = field.description(d);
                        }
                        if let Some(reason) = deprecation(&f.directives) {
                            field = field.deprecation(Some(&reason));
                        }
                        for a in &f.arguments {
                            field = field.argument(input_value(a));
                        }
                        sub = sub.field(field);
                    }
                    builder.register(sub)
                }
                TypeDefinition::Object(o) => {
                    let mut object = Object::new(&o.name);
                    if let Some(d) = &o.description {
                        object = object.description(d);
                    }
                    for i in &o.implements_interfaces {
                        object = object.implement(i);
                    }
                    for f in &o.fields {
                        let mut field = Field::new(&f.name, type_ref(&f.field_type), |_| {
                            FieldFuture::from_value(None)
                        });
                        if let Some(d) = &f.description {
                            field = field.description(d);
                        }
                        if let Some(reason) = deprecation(&f.directives) {
                            field = field.deprecation(Some(&reason));
                        }
                        for a in &f.arguments {
                            field = field.argument(input_value(a));
                        }
                        object = object.field(field);
                    }
                    builder.register(object)
                }
                TypeDefinition::Interface(i) => {
                    let mut interface = Interface::new(&i.name);
                    if let Some(d) = &i.description {
                        interface = interface.description(d);
                    }
                    for parent in &i.implements_interfaces {
                        interface = interface.implement(parent);
                    }
                    for f in &i.fields {
                        let mut field = InterfaceField::new(&f.name, type_ref(&f.field_type));
                        if let Some(d) = &f.description {
                            field = field.description(d);
                        }
                        if let Some(reason) = deprecation(&f.directives) {
                            field = field.deprecation(Some(&reason));
                        }
                        for a in &f.arguments {
                            field = field.argument(input_value(a));
                        }
                        interface = interface.field(field);
                    }
                    builder.register(interface)
                }
                TypeDefinition::Union(u) => {
                    let mut union = Union::new(&u.name);
                    if let Some(d) = &u.description {
                        union = union.description(d);
                    }
                    for member in &u.types {
                        union = union.possible_type(member);
                    }
                    builder.register(union)
                }
                TypeDefinition::Enum(e) => {
                    let mut enumeration = Enum::new(&e.name);
                    if let Some(d) = &e.description {
                        enumeration = enumeration.description(d);
                    }
                    for v in &e.values {
                        let mut item = EnumItem::new(&v.name);
                        if let Some(d) = &v.description {
                            item = item.description(d);
                        }
                        if let Some(reason) = deprecation(&v.directives) {
                            item = item.deprecation(Some(&reason));
                        }
                        enumeration = enumeration.item(item);
                    }
                    builder.register(enumeration)
                }
                TypeDefinition::InputObject(i) => {
                    let mut input = InputObject::new(&i.name);
                    if let Some(d) = &i.description {
                        input = input.description(d);
                    }
                    if i.directives.iter().any(|d| d.name == "oneOf") {
                        input = input.oneof();
                    }
                    for f in &i.fields {
                        input = input.field(input_value(f));
                    }
                    builder.register(input)
                }
            };
        }
        let schema = builder.finish().map_err(|e| e.0)?;
        Ok(Introspection { schema })
    }

    /// Executes an introspection document (one operation, or pick one by name) with the
    /// request's variables, returning its `data` and errors.
    pub async fn execute(
        &self,
        document: &str,
        operation_name: Option<&str>,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> IntrospectionResult {
        let mut request = async_graphql::Request::new(document).variables(
            async_graphql::Variables::from_json(serde_json::Value::Object(variables.clone())),
        );
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        let response = self.schema.execute(request).await;
        let data = response.data.into_json().unwrap_or(serde_json::Value::Null);
        let errors = response
            .errors
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or(serde_json::Value::Null))
            .collect();
        IntrospectionResult { data, errors }
    }
}

fn type_ref(ty: &schema::Type) -> TypeRef {
    match ty {
        schema::Type::NamedType(name) => TypeRef::named(name),
        schema::Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        schema::Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}

fn input_value(v: &schema::InputValue) -> InputValue {
    let mut input = InputValue::new(&v.name, type_ref(&v.value_type));
    if let Some(d) = &v.description {
        input = input.description(d);
    }
    if let Some(default) = &v.default_value {
        input = input.default_value(const_value(default));
    }
    if let Some(reason) = deprecation(&v.directives) {
        input = input.deprecation(Some(&reason));
    }
    input
}

/// `@deprecated`'s reason (the spec's default when the argument is omitted), if present.
fn deprecation(directives: &[Directive]) -> Option<String> {
    directives.iter().find(|d| d.name == "deprecated")?;
    Some(
        directive_string_arg(directives, "deprecated", "reason")
            .unwrap_or("No longer supported")
            .to_string(),
    )
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

fn const_value(v: &schema::Value) -> Value {
    match v {
        schema::Value::Variable(_) | schema::Value::Null => Value::Null,
        schema::Value::Int(n) => Value::from(n.as_i64().unwrap_or_default()),
        schema::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        schema::Value::String(s) => Value::String(s.clone()),
        schema::Value::Boolean(b) => Value::Boolean(*b),
        schema::Value::Enum(e) => Value::Enum(Name::new(e)),
        schema::Value::List(items) => Value::List(items.iter().map(const_value).collect()),
        schema::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (Name::new(k), const_value(v)))
                .collect(),
        ),
    }
}
