//! Input at the API edge, the same in every subgraph: partial updates
//! (`MaybeUndefined`: absent, null or a value) parsed through a field's newtype.

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

#[cfg(test)]
mod tests {
    use super::*;

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
