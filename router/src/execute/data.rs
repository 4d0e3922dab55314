//! [`Data`]: the subgraphs' answers as the executor holds, merges and projects them.
//!
//! A JSON value whose objects are plain vectors of (key, value) in the order they came:
//! a GraphQL object has as many keys as fields were selected, so finding one by
//! comparing keys is cheaper than hashing it, and parsing builds one vector per object
//! instead of an entry vector plus a hash index (serde_json's ordered `Map`, hashed
//! with SipHash). Parsed with serde, written back with serde; errors and variables stay
//! `serde_json::Value`.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};
use std::fmt;

/// An object's entries, in order.
pub type Object = Vec<(String, Data)>;

/// A JSON value of a subgraph's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Data {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Data>),
    Object(Object),
}

impl Data {
    /// The value of `key` when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Data> {
        match self {
            Data::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// [`Data::get`], mutable.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Data> {
        match self {
            Data::Object(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Takes the value of `key` out of an object (leaving the others).
    pub fn remove(&mut self, key: &str) -> Option<Data> {
        match self {
            Data::Object(entries) => {
                let i = entries.iter().position(|(k, _)| k == key)?;
                Some(entries.swap_remove(i).1)
            }
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Data::Object(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::String(s) => Some(s),
            _ => None,
        }
    }

    /// Replaces this value with `Null` and returns it.
    pub fn take(&mut self) -> Data {
        std::mem::take(self)
    }

    /// The same value as a `serde_json::Value` (for the rare paths that need one).
    pub fn to_value(&self) -> Value {
        match self {
            Data::Null => Value::Null,
            Data::Bool(b) => Value::Bool(*b),
            Data::Number(n) => Value::Number(n.clone()),
            Data::String(s) => Value::String(s.clone()),
            Data::Array(items) => Value::Array(items.iter().map(Data::to_value).collect()),
            Data::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl From<Value> for Data {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => Data::Null,
            Value::Bool(b) => Data::Bool(b),
            Value::Number(n) => Data::Number(n),
            Value::String(s) => Data::String(s),
            Value::Array(items) => Data::Array(items.into_iter().map(Data::from).collect()),
            Value::Object(m) => Data::Object(m.into_iter().map(|(k, v)| (k, v.into())).collect()),
        }
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => s.serialize_unit(),
            Data::Bool(b) => s.serialize_bool(*b),
            Data::Number(n) => n.serialize(s),
            Data::String(v) => s.serialize_str(v),
            Data::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Data::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Data, D::Error> {
        d.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Data, E> {
        Ok(Number::from_f64(v).map_or(Data::Null, Data::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Data, E> {
        Ok(Data::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Data, E> {
        Ok(Data::String(v))
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = map.next_entry::<String, Data>()? {
            entries.push((k, v));
        }
        Ok(Data::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_writes_back_in_order() {
        let text = r#"{"b":1,"a":[true,null,"x",{"z":2.5,"y":-3}],"c":{}}"#;
        let d: Data = serde_json::from_str(text).expect("parses");
        assert_eq!(serde_json::to_string(&d).expect("writes"), text);
        assert_eq!(
            d.get("a").and_then(|a| match a {
                Data::Array(items) => items.get(3).and_then(|o| o.get("y")).cloned(),
                _ => None,
            }),
            Some(Data::Number((-3).into()))
        );
        assert_eq!(Data::from(d.to_value()), d);
        assert_eq!(
            d.to_value(),
            json!({"b":1,"a":[true,null,"x",{"z":2.5,"y":-3}],"c":{}})
        );
    }

    #[test]
    fn remove_and_get_mut_find_keys() {
        let mut d: Data = serde_json::from_str(r#"{"a":1,"b":2,"c":3}"#).expect("parses");
        assert_eq!(d.remove("a"), Some(Data::Number(1.into())));
        assert_eq!(d.get("a"), None);
        if let Some(b) = d.get_mut("b") {
            *b = Data::Null;
        }
        assert_eq!(d.get("b"), Some(&Data::Null));
        assert_eq!(d.get("c"), Some(&Data::Number(3.into())));
    }
}
