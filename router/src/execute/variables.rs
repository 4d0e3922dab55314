//! Coercing the request's variables to the types the operation declares, before any
//! subgraph is asked: a value of the wrong type is the client's error (`BAD_USER_INPUT`,
//! no `data`), not something for a subgraph to discover halfway through a plan.
//!
//! Defaults of the operation's variable definitions are filled in. Input objects are
//! checked field by field (unknown fields, missing required ones); a single value where a
//! list is expected becomes a one-item list, as the spec's input coercion says. Custom
//! scalars are passed through for their subgraph to judge.

use crate::plan::{ApiSchema, Planned, TypeKind};
use graphql_tools::static_graphql::schema::{Definition, Type, TypeDefinition};
use hive_router_query_planner::state::supergraph_state::TypeNode;
use serde_json::{Map, Value, json};

/// The variables to run with, or the errors that make the request invalid.
pub fn coerce(
    planned: &Planned,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Value>> {
    let schema = &planned.schema;
    let mut out = Map::new();
    let mut errors = Vec::new();
    for def in planned.operation.variable_definitions.iter().flatten() {
        let name = &def.name;
        let ty = from_type_node(&def.variable_type);
        let value = match given.get(name) {
            Some(v) => Some(v.clone()),
            None => def
                .default_value
                .as_ref()
                .and_then(|d| serde_json::to_value(d).ok())
                .map(super::ast_value_to_json),
        };
        match value {
            None if matches!(ty, Type::NonNullType(_)) => errors.push(error(
                name,
                &format!(
                    "Variable \"${name}\" of required type \"{}\" was not provided.",
                    type_string(&ty)
                ),
            )),
            None => {}
            Some(v) => match check(schema, &ty, v) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(why) => errors.push(error(
                    name,
                    &format!(
                        "Variable \"${name}\" got invalid value: {why}; expected type \"{}\".",
                        type_string(&ty)
                    ),
                )),
            },
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn error(variable: &str, message: &str) -> Value {
    json!({ "message": message, "extensions": { "code": "BAD_USER_INPUT", "field": variable } })
}

fn from_type_node(t: &TypeNode) -> Type {
    match t {
        TypeNode::Named(n) => Type::NamedType(n.clone()),
        TypeNode::List(inner) => Type::ListType(Box::new(from_type_node(inner))),
        TypeNode::NonNull(inner) => Type::NonNullType(Box::new(from_type_node(inner))),
    }
}

fn type_string(t: &Type) -> String {
    match t {
        Type::NamedType(n) => n.clone(),
        Type::ListType(inner) => format!("[{}]", type_string(inner)),
        Type::NonNullType(inner) => format!("{}!", type_string(inner)),
    }
}

/// `value` coerced to `ty`, or why it cannot be.
fn check(schema: &ApiSchema, ty: &Type, value: Value) -> Result<Value, String> {
    match ty {
        Type::NonNullType(inner) => {
            if value.is_null() {
                return Err("null for a non-null type".into());
            }
            check(schema, inner, value)
        }
        _ if value.is_null() => Ok(Value::Null),
        Type::ListType(inner) => match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| check(schema, inner, v).map_err(|e| format!("at index {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            single => Ok(Value::Array(vec![check(schema, inner, single)?])),
        },
        Type::NamedType(name) => named(schema, name, value),
    }
}

fn named(schema: &ApiSchema, name: &str, value: Value) -> Result<Value, String> {
    match name {
        "Int" => match value.as_i64() {
            Some(n) if i32::try_from(n).is_ok() => Ok(value),
            _ => Err(format!("{value} is not a 32-bit integer")),
        },
        "Float" => match value {
            Value::Number(_) => Ok(value),
            _ => Err(format!("{value} is not a number")),
        },
        "String" => match value {
            Value::String(_) => Ok(value),
            _ => Err(format!("{value} is not a string")),
        },
        "Boolean" => match value {
            Value::Bool(_) => Ok(value),
            _ => Err(format!("{value} is not a boolean")),
        },
        "ID" => match &value {
            Value::String(_) => Ok(value),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Value::String(n.to_string())),
            _ => Err(format!("{value} is not an ID")),
        },
        _ => match schema.type_kind(name) {
            Some(TypeKind::Enum) => {
                let ok = value
                    .as_str()
                    .is_some_and(|v| enum_values(schema, name).contains(&v));
                if ok {
                    Ok(value)
                } else {
                    Err(format!("{value} is not a value of enum {name}"))
                }
            }
            Some(TypeKind::InputObject) => input_object(schema, name, value),
            // Custom scalars: the subgraph that defines them judges the value.
            _ => Ok(value),
        },
    }
}

fn input_object(schema: &ApiSchema, name: &str, value: Value) -> Result<Value, String> {
    let Value::Object(mut given) = value else {
        return Err(format!("{value} is not an object"));
    };
    let Some(fields) = input_fields(schema, name) else {
        return Ok(Value::Object(given));
    };
    if let Some(unknown) = given.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
        return Err(format!(
            "field \"{unknown}\" is not defined by type \"{name}\""
        ));
    }
    let mut out = Map::new();
    for field in fields {
        match given.remove(&field.name) {
            Some(v) => {
                let v = check(schema, &field.value_type, v)
                    .map_err(|e| format!("in field \"{}\": {e}", field.name))?;
                out.insert(field.name.clone(), v);
            }
            None if matches!(field.value_type, Type::NonNullType(_))
                && field.default_value.is_none() =>
            {
                return Err(format!(
                    "field \"{}\" of type \"{}\" is required",
                    field.name,
                    type_string(&field.value_type)
                ));
            }
            None => {}
        }
    }
    Ok(Value::Object(out))
}

fn input_fields<'s>(
    schema: &'s ApiSchema,
    name: &str,
) -> Option<&'s [graphql_tools::static_graphql::schema::InputValue]> {
    schema.document().definitions.iter().find_map(|d| match d {
        Definition::TypeDefinition(TypeDefinition::InputObject(i)) if i.name == name => {
            Some(i.fields.as_slice())
        }
        _ => None,
    })
}

fn enum_values<'s>(schema: &'s ApiSchema, name: &str) -> Vec<&'s str> {
    schema
        .document()
        .definitions
        .iter()
        .find_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Enum(e)) if e.name == name => {
                Some(e.values.iter().map(|v| v.name.as_str()).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}
