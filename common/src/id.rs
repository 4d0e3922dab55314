//! `Id`: an entity id, parsed once where it enters a service (a GraphQL argument, a
//! federation representation, the viewer, an event, a CSV cell), so stores take only ids
//! that can name a stored row.
//!
//! Every id a service stores was minted by [`crate::new_id`] (a UUID) or came in as an
//! `Id` (another service's id, an admin's CSV `author_id`), so no stored row has an empty
//! id or one with a NUL character (which PostgreSQL cannot even store or compare). A text
//! that is not an `Id` therefore names nothing: where a client gave one, the answer is
//! what an unknown id gets (`null`, `NOT_FOUND`, an empty list), never a database error.

use crate::error::{Error, InvalidInput};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// An id that some stored row could have: not empty, no NUL character. It says nothing
/// about whether such a row exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(String);

impl Id {
    /// `raw` as an id, or why no stored row can have it.
    pub fn parse(raw: &str) -> Result<Id, InvalidInput> {
        check(raw)?;
        Ok(Id(raw.to_owned()))
    }

    /// `raw` as the id of an existing `what` ("user", "content"): an id no row can have
    /// is `NOT_FOUND`, the same answer as a well-formed id that names nothing.
    pub fn parse_or_not_found(raw: &str, what: &'static str) -> Result<Id, Error> {
        Id::parse(raw).map_err(|_| Error::NotFound(what))
    }

    /// The id of a row read back from the service's own database: it was an `Id` when it
    /// was written, so one that is not is a broken invariant (an internal error), never
    /// the client's doing.
    pub fn stored(raw: &str) -> Result<Id, Error> {
        Id::parse(raw).map_err(|e| Error::internal(format!("a stored id {e}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn check(raw: &str) -> Result<(), InvalidInput> {
    if raw.is_empty() {
        return Err(InvalidInput::new("must not be empty"));
    }
    if !crate::db::is_storable_text(raw) {
        return Err(InvalidInput::new("must not contain a NUL character"));
    }
    Ok(())
}

impl TryFrom<String> for Id {
    type Error = InvalidInput;

    /// Like [`Id::parse`], keeping the string.
    fn try_from(raw: String) -> Result<Id, InvalidInput> {
        check(&raw)?;
        Ok(Id(raw))
    }
}

impl Deref for Id {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Hashes and compares as the string does, so maps keyed by `Id` can be read with a `&str`.
impl Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Id {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<Id> for String {
    fn eq(&self, other: &Id) -> bool {
        *self == other.0
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

// Stores compare and bind ids as the text columns they are.
impl From<Id> for sea_orm::Value {
    fn from(id: Id) -> sea_orm::Value {
        id.0.into()
    }
}

impl From<&Id> for sea_orm::Value {
    fn from(id: &Id) -> sea_orm::Value {
        id.0.as_str().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_a_row_can_have_is_an_id() {
        for raw in [
            "0192f0c0-0000-7000-8000-000000000000",
            "u1",
            " spaced ",
            "ünï",
        ] {
            let id = Id::parse(raw).expect("an id");
            assert_eq!(id.as_str(), raw);
            assert_eq!(id, raw);
            assert_eq!(id.to_string(), raw);
            assert_eq!(String::from(id.clone()), raw);
            assert_eq!(Id::try_from(raw.to_owned()), Ok(id));
        }
    }

    #[test]
    fn empty_text_and_nul_characters_name_nothing() {
        for raw in ["", "\0", "nul\0id", "\0abc"] {
            assert!(Id::parse(raw).is_err(), "{raw:?}");
            assert!(Id::try_from(raw.to_owned()).is_err(), "{raw:?}");
            assert!(matches!(
                Id::parse_or_not_found(raw, "user"),
                Err(Error::NotFound("user"))
            ));
            assert!(matches!(Id::stored(raw), Err(Error::Internal(_))));
        }
    }

    #[test]
    fn minted_ids_are_ids() {
        let minted = crate::new_id();
        assert_eq!(Id::parse(&minted).map(String::from), Ok(minted));
    }

    #[test]
    fn maps_keyed_by_id_are_read_with_str() {
        let mut m = std::collections::HashMap::new();
        m.insert(Id::parse("a").expect("an id"), 1);
        assert_eq!(m.get("a"), Some(&1));
    }
}
