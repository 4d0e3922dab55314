//! Input at the API edge, the same in every subgraph: partial updates
//! (`MaybeUndefined`: absent, null or a value) parsed through a field's newtype, and the
//! rule every bounded text field shares ([`trimmed_text`]).

use crate::error::{Error, InvalidInput};
use async_graphql::MaybeUndefined;

/// A required field of a partial update: absent is "unchanged" (`None`), null is
/// `BAD_USER_INPUT` on `field`, a value is parsed (its error names `field`).
pub fn required<R, T>(
    value: MaybeUndefined<R>,
    field: &str,
    parse: impl FnOnce(&R) -> Result<T, InvalidInput>,
) -> Result<Option<T>, Error> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(Error::validation(field, "must not be null")),
        MaybeUndefined::Value(v) => parse(&v).map(Some).map_err(|e| e.on(field)),
    }
}

/// An optional field of a partial update: absent is "unchanged" (`None`), null clears it
/// (`Some(None)`), a value is parsed (its error names `field`).
pub fn optional<R, T>(
    value: MaybeUndefined<R>,
    field: &str,
    parse: impl FnOnce(&R) -> Result<T, InvalidInput>,
) -> Result<Option<Option<T>>, Error> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(&v).map(|t| Some(Some(t))).map_err(|e| e.on(field)),
    }
}

/// What a text field may hold besides printable characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: no control character at all (names, titles).
    Line,
    /// Line breaks and tabs allowed, no other control character (descriptions,
    /// comments, addresses).
    Lines,
}

/// `raw` without surrounding whitespace, if that has 1 to `max` characters of `kind`:
/// the rule of every bounded text field, with the same words for each break of it.
pub fn trimmed_text(raw: &str, max: usize, kind: TextKind) -> Result<&str, InvalidInput> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InvalidInput::new("must not be empty"));
    }
    if s.chars().count() > max {
        return Err(InvalidInput::new(format!(
            "must be at most {max} characters"
        )));
    }
    match kind {
        TextKind::Line if s.chars().any(char::is_control) => Err(InvalidInput::new(
            "must be one line without control characters",
        )),
        TextKind::Lines
            if s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Err(InvalidInput::new(
                "must not contain control characters other than line breaks and tabs",
            ))
        }
        _ => Ok(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_text_keeps_one_rule_with_one_wording() {
        assert_eq!(trimmed_text("  a b ", 3, TextKind::Line), Ok("a b"));
        assert_eq!(
            trimmed_text(" \t", 3, TextKind::Line),
            Err(InvalidInput::new("must not be empty"))
        );
        // Characters, not bytes.
        assert!(trimmed_text(&"é".repeat(3), 3, TextKind::Line).is_ok());
        assert_eq!(
            trimmed_text(&"é".repeat(4), 3, TextKind::Line),
            Err(InvalidInput::new("must be at most 3 characters"))
        );
        assert!(trimmed_text("a\nb", 3, TextKind::Line).is_err());
        assert_eq!(trimmed_text("a\nb", 3, TextKind::Lines), Ok("a\nb"));
        assert!(trimmed_text("a\0b", 3, TextKind::Lines).is_err());
    }

    #[allow(clippy::ptr_arg)] // MaybeUndefined<String> hands the parser a &String.
    fn short(s: &String) -> Result<String, InvalidInput> {
        if s.len() <= 3 {
            Ok(s.to_owned())
        } else {
            Err(InvalidInput::new("too long"))
        }
    }

    #[test]
    fn absent_null_and_values_mean_what_partial_updates_say() {
        assert_eq!(
            required(MaybeUndefined::Undefined, "f", short).ok(),
            Some(None)
        );
        assert!(matches!(
            required(MaybeUndefined::<String>::Null, "f", short),
            Err(Error::Validation { field, .. }) if field == "f"
        ));
        assert_eq!(
            required(MaybeUndefined::Value("abc".to_owned()), "f", short).ok(),
            Some(Some("abc".to_owned()))
        );
        assert!(required(MaybeUndefined::Value("abcd".to_owned()), "f", short).is_err());
        assert_eq!(
            optional(MaybeUndefined::Undefined, "f", short).ok(),
            Some(None)
        );
        assert_eq!(
            optional(MaybeUndefined::<String>::Null, "f", short).ok(),
            Some(Some(None))
        );
        assert_eq!(
            optional(MaybeUndefined::Value("ab".to_owned()), "f", short).ok(),
            Some(Some(Some("ab".to_owned())))
        );
    }
}
