//! Shaping the merged subgraph data to exactly the client's selection, with GraphQL's
//! null propagation: a null (or failed) non-null field makes its parent null, up to the
//! nearest nullable field — or `data: null` at the root.

use super::Path;
use crate::plan::ast::selection_item::SelectionItem;
use crate::plan::ast::selection_set::{FieldSelection, SelectionSet};
use crate::plan::{ApiSchema, TypeKind};
use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value, json};

/// A non-null position received null: the parent must become null.
struct Propagate;

struct Projector<'a> {
    schema: &'a ApiSchema,
    variables: &'a Map<String, Value>,
    errors: &'a mut Vec<Value>,
}

/// The response `data` for the root selection.
pub(super) fn project_root(
    schema: &ApiSchema,
    root_type: &str,
    selection: &SelectionSet,
    merged: &Value,
    introspected: &Map<String, Value>,
    variables: &Map<String, Value>,
    errors: &mut Vec<Value>,
) -> Value {
    let mut p = Projector {
        schema,
        variables,
        errors,
    };
    let mut root = merged.clone();
    if let Value::Object(m) = &mut root {
        for (k, v) in introspected {
            m.insert(k.clone(), v.clone());
        }
    }
    match p.object(selection, root_type, &root, &mut Vec::new(), true) {
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
        self.complete(&ty, raw, field, path)
    }

    fn complete(
        &mut self,
        ty: &Type,
        raw: &Value,
        field: &FieldSelection,
        path: &mut Path,
    ) -> Result<Value, Propagate> {
        match ty {
            Type::NonNullType(inner) => {
                let v = self.complete(inner, raw, field, path)?;
                if v.is_null() {
                    if !self.has_error_at_or_below(path) {
                        self.errors.push(json!({
                            "message": format!("cannot return null for non-nullable field {}", field.name),
                            "path": path.clone(),
                            "extensions": { "code": "INTERNAL_SERVER_ERROR" },
                        }));
                    }
                    return Err(Propagate);
                }
                Ok(v)
            }
            Type::ListType(inner) => {
                let Value::Array(items) = raw else {
                    return Ok(Value::Null);
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(json!(i));
                    let v = self.complete(inner, item, field, path);
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
                    Some(TypeKind::Object | TypeKind::Interface | TypeKind::Union) => {
                        let runtime = raw
                            .get("__typename")
                            .and_then(Value::as_str)
                            .unwrap_or(name)
                            .to_owned();
                        match self.object(&field.selections, &runtime, raw, path, false) {
                            Ok(m) => Ok(Value::Object(m)),
                            Err(Propagate) => Ok(Value::Null),
                        }
                    }
                    _ => Ok(raw.clone()),
                }
            }
        }
    }

    fn has_error_at_or_below(&self, path: &Path) -> bool {
        self.errors.iter().any(|e| {
            e.get("path")
                .and_then(Value::as_array)
                .is_some_and(|p| p.len() >= path.len() && p[..path.len()] == path[..])
                || e.get("path").is_none()
        })
    }
}
