//! Shaping the merged subgraph data to exactly the client's selection, with GraphQL's
//! null propagation: a null (or failed) non-null field makes its parent null, up to the
//! nearest nullable field — or `data: null` at the root.
//!
//! Every value is completed against the API schema, as a GraphQL server completes its
//! resolvers' values: an enum value the API schema does not have (`@inaccessible`), an
//! object whose runtime type is not one of the API's possible types, a scalar of the wrong
//! kind, or a null no reported error explains is never sent. The field becomes null with a
//! `RESPONSE_VALIDATION_FAILED` error that names neither the hidden value nor the type.

use super::data::Data;
use super::{Path, Seg, json_path};
use crate::plan::ast::selection_item::SelectionItem;
use crate::plan::ast::selection_set::{FieldSelection, SelectionSet};
use crate::plan::{ApiSchema, TypeKind};
use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value, json};

/// A non-null position received null: the parent must become null.
struct Propagate;

/// The code of an error for a subgraph value the API cannot return as it is.
pub const RESPONSE_VALIDATION_FAILED: &str = "RESPONSE_VALIDATION_FAILED";

/// The fields of one response key in an object: the first selection and any others the
/// operation merges into it (`{ a { x } ... on T { a { y } } }`), whose sub-selections
/// are completed together, as GraphQL's CollectFields groups them.
struct Group<'s> {
    key: &'s str,
    first: &'s FieldSelection,
    more: Vec<&'s FieldSelection>,
}

/// Writes the response `data` as JSON text straight from the subgraphs' merged data: no
/// response tree is built, and a null that propagates truncates what its parent wrote.
struct Projector<'a, 's> {
    schema: &'a ApiSchema,
    variables: &'a Map<String, Value>,
    /// Paths whose missing data a reported error explains (see `State::explained`).
    explained: &'a [Path],
    errors: &'a mut Vec<Value>,
    out: Vec<u8>,
    /// The response path being written (made JSON only for an error).
    path: Vec<Seg<'s>>,
}

/// The response `data` for the root selection, as JSON text, from the subgraphs' merged
/// data (with the root introspection fields' answers, already shaped, among it).
pub(super) fn project_root(
    schema: &ApiSchema,
    root_type: &str,
    selection: &SelectionSet,
    merged: &Data,
    variables: &Map<String, Value>,
    explained: &[Path],
    errors: &mut Vec<Value>,
) -> Vec<u8> {
    let mut p = Projector {
        schema,
        variables,
        explained,
        errors,
        out: Vec::with_capacity(1024),
        path: Vec::with_capacity(16),
    };
    match p.object(&[selection], root_type, merged, true) {
        Ok(()) => p.out,
        Err(Propagate) => b"null".to_vec(),
    }
}

impl<'s> Projector<'_, 's> {
    fn included(&self, skip_if: &Option<String>, include_if: &Option<String>) -> bool {
        let var = |name: &String| matches!(self.variables.get(name), Some(Value::Bool(true)));
        !skip_if.as_ref().is_some_and(var) && include_if.as_ref().is_none_or(var)
    }

    /// The fields `sets` select on an object of type `typename`, grouped by response key
    /// in the order they first appear (fragments that do not apply, and fields skipped
    /// or left out of the response, dropped).
    fn collect(&self, set: &'s SelectionSet, typename: &str, groups: &mut Vec<Group<'s>>) {
        for item in &set.items {
            match item {
                SelectionItem::Field(field) => {
                    if field.omit_from_response || !self.included(&field.skip_if, &field.include_if)
                    {
                        continue;
                    }
                    let key = field.selection_identifier();
                    match groups.iter_mut().find(|g| g.key == key) {
                        Some(group) => group.more.push(field),
                        None => groups.push(Group {
                            key,
                            first: field,
                            more: Vec::new(),
                        }),
                    }
                }
                SelectionItem::InlineFragment(fragment) => {
                    if self.included(&fragment.skip_if, &fragment.include_if)
                        && (fragment.type_condition == typename
                            || self
                                .schema
                                .is_possible_type(&fragment.type_condition, typename))
                    {
                        self.collect(&fragment.selections, typename, groups);
                    }
                }
                // Normalization inlines every fragment spread.
                SelectionItem::FragmentSpread(_) => {}
            }
        }
    }

    /// Writes the object `sets` select on `data` (of type `typename`).
    fn object(
        &mut self,
        sets: &[&'s SelectionSet],
        typename: &str,
        data: &Data,
        is_root: bool,
    ) -> Result<(), Propagate> {
        let mut groups = Vec::new();
        for set in sets {
            self.collect(set, typename, &mut groups);
        }
        self.out.push(b'{');
        for (i, group) in groups.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_str(&mut self.out, group.key);
            self.out.push(b':');
            self.path.push(Seg::Key(group.key));
            let written = self.field(group, typename, data, is_root);
            self.path.pop();
            written?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Writes one response key's value.
    fn field(
        &mut self,
        group: &Group<'s>,
        parent: &str,
        data: &Data,
        is_root: bool,
    ) -> Result<(), Propagate> {
        let field = group.first;
        if field.name == "__typename" {
            write_str(&mut self.out, parent);
            return Ok(());
        }
        let raw = data.get(group.key).unwrap_or(&Data::Null);
        if is_root && field.name.starts_with("__") {
            // Answered by the router's introspection, already shaped.
            write_value(&mut self.out, raw);
            return Ok(());
        }
        let schema = self.schema;
        let Some(ty) = schema.field_type(parent, &field.name) else {
            self.out.extend_from_slice(b"null");
            return Ok(());
        };
        self.complete(ty, raw, parent, group).map(|_| ())
    }

    /// Writes `raw` completed as a value of type `ty`; `Ok(false)` when it wrote `null`.
    fn complete(
        &mut self,
        ty: &Type,
        raw: &Data,
        parent: &str,
        group: &Group<'s>,
    ) -> Result<bool, Propagate> {
        let field = group.first;
        match ty {
            Type::NonNullType(inner) => {
                let mark = self.out.len();
                if self.complete(inner, raw, parent, group)? {
                    return Ok(true);
                }
                self.out.truncate(mark);
                if !self.is_explained() {
                    self.invalid(format!(
                        "Cannot return null for non-nullable field {parent}.{}.",
                        field.name
                    ));
                }
                Err(Propagate)
            }
            Type::ListType(inner) => {
                let items = match raw {
                    Data::Array(items) => items,
                    Data::Null => return Ok(self.null()),
                    _ => {
                        self.invalid(format!(
                            "Expected a list for field {parent}.{}.",
                            field.name
                        ));
                        return Ok(self.null());
                    }
                };
                let mark = self.out.len();
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(Seg::Index(i));
                    let v = self.complete(inner, item, parent, group);
                    self.path.pop();
                    if v.is_err() {
                        // A failed non-null item nulls the whole list.
                        self.out.truncate(mark);
                        return Ok(self.null());
                    }
                }
                self.out.push(b']');
                Ok(true)
            }
            Type::NamedType(name) => {
                if raw.is_null() {
                    return Ok(self.null());
                }
                match self.schema.type_kind(name) {
                    Some(kind @ (TypeKind::Object | TypeKind::Interface | TypeKind::Union)) => {
                        if !raw.is_object() {
                            self.invalid(format!(
                                "Expected an object for field {parent}.{}.",
                                field.name
                            ));
                            return Ok(self.null());
                        }
                        let runtime = if kind == TypeKind::Object {
                            name.as_str()
                        } else {
                            // The planner asks for `__typename` wherever the selection
                            // depends on it; without one, the interface's own fields are
                            // all there is to project.
                            match raw.get("__typename") {
                                None => name.as_str(),
                                Some(Data::String(t))
                                    if self.schema.type_kind(t) == Some(TypeKind::Object)
                                        && self.schema.is_possible_type(name, t) =>
                                {
                                    t
                                }
                                _ => {
                                    self.invalid(format!(
                                        "Abstract type \"{name}\" resolved to a type that is not part of the API."
                                    ));
                                    return Ok(self.null());
                                }
                            }
                        };
                        let mark = self.out.len();
                        let written = if group.more.is_empty() {
                            self.object(&[&field.selections], runtime, raw, false)
                        } else {
                            let sets: Vec<&'s SelectionSet> = std::iter::once(group.first)
                                .chain(group.more.iter().copied())
                                .map(|f| &f.selections)
                                .collect();
                            self.object(&sets, runtime, raw, false)
                        };
                        match written {
                            Ok(()) => Ok(true),
                            Err(Propagate) => {
                                self.out.truncate(mark);
                                Ok(self.null())
                            }
                        }
                    }
                    Some(TypeKind::Enum) => match raw {
                        Data::String(v) if self.schema.has_enum_value(name, v) => {
                            write_str(&mut self.out, v);
                            Ok(true)
                        }
                        _ => {
                            self.invalid(format!("Enum \"{name}\" cannot represent this value."));
                            Ok(self.null())
                        }
                    },
                    _ => {
                        if write_scalar(&mut self.out, name, raw) {
                            Ok(true)
                        } else {
                            self.invalid(format!(
                                "{name} cannot represent the value of {parent}.{}.",
                                field.name
                            ));
                            Ok(self.null())
                        }
                    }
                }
            }
        }
    }

    /// Writes `null`; false, for `complete`'s "wrote a value".
    fn null(&mut self) -> bool {
        self.out.extend_from_slice(b"null");
        false
    }

    /// Reports a value the API cannot return, at the current path.
    fn invalid(&mut self, message: String) {
        let path = json_path(&self.path);
        self.errors.push(json!({
            "message": message,
            "path": path,
            "extensions": { "code": RESPONSE_VALIDATION_FAILED },
        }));
    }

    /// Whether a reported error already accounts for a null at the current path: an error
    /// at, below or above it (or with no path: the whole fetch failed), or an object a
    /// failed fetch was for at or above it.
    fn is_explained(&self) -> bool {
        let path = json_path(&self.path);
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

/// Writes a string as JSON.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes any JSON value.
fn write_value(out: &mut Vec<u8>, v: &Data) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Writes a scalar's value as graphql-js serializes it (see [`serialize_scalar`]); false
/// (and nothing written) when it cannot be represented.
fn write_scalar(out: &mut Vec<u8>, name: &str, raw: &Data) -> bool {
    match (name, raw) {
        // The common cases, written as they came.
        ("String" | "ID", Data::String(s)) => {
            write_str(out, s);
            true
        }
        ("Boolean", Data::Bool(_)) | ("Float", Data::Number(_)) => {
            write_value(out, raw);
            true
        }
        ("Int", Data::Number(n)) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => {
            write_value(out, raw);
            true
        }
        _ => match serialize_scalar(name, &raw.to_value()) {
            Some(v) => {
                let _ = serde_json::to_writer(&mut *out, &v);
                true
            }
            None => false,
        },
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
