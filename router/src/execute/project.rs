//! Shaping the merged subgraph data to exactly the client's selection, with GraphQL's
//! null propagation: a null (or failed) non-null field makes its parent null, up to the
//! nearest nullable field — or `data: null` at the root.
//!
//! Every value is completed against the API schema, as a GraphQL server completes its
//! resolvers' values: an enum value the API schema does not have (`@inaccessible`), an
//! object whose runtime type is not one of the API's possible types, a scalar of the wrong
//! kind, or a null no reported error explains is never sent. The field becomes null with a
//! `RESPONSE_VALIDATION_FAILED` error that names neither the hidden value nor the type.

use super::Path;
use crate::plan::ast::selection_item::SelectionItem;
use crate::plan::ast::selection_set::{FieldSelection, SelectionSet};
use crate::plan::{ApiSchema, TypeKind};
use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value, json};

/// A non-null position received null: the parent must become null.
struct Propagate;

/// The code of an error for a subgraph value the API cannot return as it is.
pub const RESPONSE_VALIDATION_FAILED: &str = "RESPONSE_VALIDATION_FAILED";

struct Projector<'a> {
    schema: &'a ApiSchema,
    variables: &'a Map<String, Value>,
    /// Paths whose missing data a reported error explains (see `State::explained`).
    explained: &'a [Path],
    errors: &'a mut Vec<Value>,
}

/// The response `data` for the root selection, from the subgraphs' merged data (with the
/// root introspection fields' answers, already shaped, among it).
pub(super) fn project_root(
    schema: &ApiSchema,
    root_type: &str,
    selection: &SelectionSet,
    merged: &Value,
    variables: &Map<String, Value>,
    explained: &[Path],
    errors: &mut Vec<Value>,
) -> Value {
    let mut p = Projector {
        schema,
        variables,
        explained,
        errors,
    };
    match p.object(selection, root_type, merged, &mut Vec::new(), true) {
        Ok(m) => Value::Object(m),
        Err(Propagate) => Value::Null,
    }
}

impl Projector<'_> {
    fn included(&self, skip_if: &Option<String>, include_if: &Option<String>) -> bool {
        let var = |name: &String| matches!(self.variables.get(name), Some(Value::Bool(true)));
        !skip_if.as_ref().is_some_and(var) && include_if.as_ref().is_none_or(var)
    }

    fn object(
        &mut self,
        set: &SelectionSet,
        typename: &str,
        data: &Value,
        path: &mut Path,
        is_root: bool,
    ) -> Result<Map<String, Value>, Propagate> {
        let mut out = Map::new();
        self.fields_into(set, typename, data, path, is_root, &mut out)?;
        Ok(out)
    }

    fn fields_into(
        &mut self,
        set: &SelectionSet,
        typename: &str,
        data: &Value,
        path: &mut Path,
        is_root: bool,
        out: &mut Map<String, Value>,
    ) -> Result<(), Propagate> {
        for item in &set.items {
            match item {
                SelectionItem::Field(field) => {
                    if field.omit_from_response || !self.included(&field.skip_if, &field.include_if)
                    {
                        continue;
                    }
                    let key = field.selection_identifier().to_owned();
                    path.push(Value::String(key.clone()));
                    let value = self.field(field, typename, data, path, is_root);
                    path.pop();
                    match value {
                        Ok(v) => match out.get_mut(&key) {
                            Some(existing) => super::deep_merge(existing, v),
                            None => {
                                out.insert(key, v);
                            }
                        },
                        Err(Propagate) => return Err(Propagate),
                    }
                }
                SelectionItem::InlineFragment(fragment) => {
                    if !self.included(&fragment.skip_if, &fragment.include_if) {
                        continue;
                    }
                    if fragment.type_condition == typename
                        || self
                            .schema
                            .is_possible_type(&fragment.type_condition, typename)
                    {
                        self.fields_into(&fragment.selections, typename, data, path, is_root, out)?;
                    }
                }
                // Normalization inlines every fragment spread.
                SelectionItem::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    fn field(
        &mut self,
        field: &FieldSelection,
        parent: &str,
        data: &Value,
        path: &mut Path,
        is_root: bool,
    ) -> Result<Value, Propagate> {
        if field.name == "__typename" {
            return Ok(Value::String(parent.to_owned()));
        }
        let key = field.selection_identifier();
        let raw = data.get(key).unwrap_or(&Value::Null);
        if is_root && field.name.starts_with("__") {
            // Answered by the router's introspection, already shaped.
            return Ok(raw.clone());
        }
        let Some(ty) = self.schema.field_type(parent, &field.name).cloned() else {
            return Ok(Value::Null);
        };
        self.complete(&ty, raw, parent, field, path)
    }

    fn complete(
        &mut self,
        ty: &Type,
        raw: &Value,
        parent: &str,
        field: &FieldSelection,
        path: &mut Path,
    ) -> Result<Value, Propagate> {
        match ty {
            Type::NonNullType(inner) => {
                let v = self.complete(inner, raw, parent, field, path)?;
                if v.is_null() {
                    if !self.is_explained(path) {
                        self.invalid(
                            path,
                            format!(
                                "Cannot return null for non-nullable field {parent}.{}.",
                                field.name
                            ),
                        );
                    }
                    return Err(Propagate);
                }
                Ok(v)
            }
            Type::ListType(inner) => {
                let items = match raw {
                    Value::Array(items) => items,
                    Value::Null => return Ok(Value::Null),
                    _ => {
                        self.invalid(
                            path,
                            format!("Expected a list for field {parent}.{}.", field.name),
                        );
                        return Ok(Value::Null);
                    }
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(json!(i));
                    let v = self.complete(inner, item, parent, field, path);
                    path.pop();
                    match v {
                        Ok(v) => out.push(v),
                        // A failed non-null item nulls the whole list.
                        Err(Propagate) => return Ok(Value::Null),
                    }
                }
                Ok(Value::Array(out))
            }
            Type::NamedType(name) => {
                if raw.is_null() {
                    return Ok(Value::Null);
                }
                match self.schema.type_kind(name) {
                    Some(kind @ (TypeKind::Object | TypeKind::Interface | TypeKind::Union)) => {
                        if !raw.is_object() {
                            self.invalid(
                                path,
                                format!("Expected an object for field {parent}.{}.", field.name),
                            );
                            return Ok(Value::Null);
                        }
                        let runtime = if kind == TypeKind::Object {
                            name.as_str()
                        } else {
                            // The planner asks for `__typename` wherever the selection
                            // depends on it; without one, the interface's own fields are
                            // all there is to project.
                            match raw.get("__typename") {
                                None => name.as_str(),
                                Some(Value::String(t))
                                    if self.schema.type_kind(t) == Some(TypeKind::Object)
                                        && self.schema.is_possible_type(name, t) =>
                                {
                                    t
                                }
                                _ => {
                                    self.invalid(
                                        path,
                                        format!(
                                            "Abstract type \"{name}\" resolved to a type that is not part of the API."
                                        ),
                                    );
                                    return Ok(Value::Null);
                                }
                            }
                        };
                        match self.object(&field.selections, runtime, raw, path, false) {
                            Ok(m) => Ok(Value::Object(m)),
                            Err(Propagate) => Ok(Value::Null),
                        }
                    }
                    Some(TypeKind::Enum) => match raw {
                        Value::String(v) if self.schema.has_enum_value(name, v) => Ok(raw.clone()),
                        _ => {
                            self.invalid(
                                path,
                                format!("Enum \"{name}\" cannot represent this value."),
                            );
                            Ok(Value::Null)
                        }
                    },
                    _ => match serialize_scalar(name, raw) {
                        Some(v) => Ok(v),
                        None => {
                            self.invalid(
                                path,
                                format!(
                                    "{name} cannot represent the value of {parent}.{}.",
                                    field.name
                                ),
                            );
                            Ok(Value::Null)
                        }
                    },
                }
            }
        }
    }

    /// Reports a value the API cannot return, at `path`.
    fn invalid(&mut self, path: &Path, message: String) {
        self.errors.push(json!({
            "message": message,
            "path": path.clone(),
            "extensions": { "code": RESPONSE_VALIDATION_FAILED },
        }));
    }

    /// Whether a reported error already accounts for a null at `path`: an error at, below
    /// or above it (or with no path: the whole fetch failed), or an object a failed fetch
    /// was for at or above it.
    fn is_explained(&self, path: &Path) -> bool {
        let related = |p: &[Value]| {
            let n = p.len().min(path.len());
            p[..n] == path[..n]
        };
        self.errors
            .iter()
            .any(|e| match e.get("path").and_then(Value::as_array) {
                Some(p) => related(p),
                None => true,
            })
            || self
                .explained
                .iter()
                .any(|x| x.len() <= path.len() && x[..] == path[..x.len()])
    }
}

/// A built-in scalar's value as graphql-js serializes it (`Int` within 32 bits, `ID` from
/// a string or an integer, lenient `String`/`Boolean`/`Float` conversions); custom scalars
/// pass as they are. `None` when the value cannot be represented.
fn serialize_scalar(name: &str, raw: &Value) -> Option<Value> {
    match (name, raw) {
        ("Int", Value::Number(n)) => {
            let i = n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e10)
                    .map(|f| f as i64)
            })?;
            i32::try_from(i).ok().map(Value::from)
        }
        ("Int", Value::Bool(b)) => Some(Value::from(i32::from(*b))),
        ("Float", Value::Number(_)) => Some(raw.clone()),
        ("Float", Value::Bool(b)) => Some(Value::from(if *b { 1.0 } else { 0.0 })),
        ("String", Value::String(_)) => Some(raw.clone()),
        ("String", Value::Bool(b)) => Some(Value::String(b.to_string())),
        ("String", Value::Number(n)) => Some(Value::String(n.to_string())),
        ("Boolean", Value::Bool(_)) => Some(raw.clone()),
        ("Boolean", Value::Number(n)) => n.as_f64().map(|f| Value::Bool(f != 0.0)),
        ("ID", Value::String(_)) => Some(raw.clone()),
        ("ID", Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Value::String(n.to_string())),
        ("Int" | "Float" | "String" | "Boolean" | "ID", _) => None,
        _ => Some(raw.clone()),
    }
}
