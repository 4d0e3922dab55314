//! Validated interactions inputs: each raw value becomes a newtype once, by `parse`.

use folio_common::InvalidInput;
use folio_common::input::{TextKind, trimmed_text};

/// What a user did to a content.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[graphql(name = "InteractionKind")]
pub enum Kind {
    Read,
    Like,
}

impl Kind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Read => "READ",
            Kind::Like => "LIKE",
        }
    }

    /// A stored kind back; `None` for anything else.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "READ" => Some(Kind::Read),
            "LIKE" => Some(Kind::Like),
            _ => None,
        }
    }
}

/// A comment's text: 1 to 1,000 characters after trimming; line breaks allowed, other
/// control characters (NUL included) not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub const MAX_LEN: usize = 1_000;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        trimmed_text(raw, Self::MAX_LEN, TextKind::Lines).map(|s| CommentBody(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_bodies_follow_the_contract() {
        assert_eq!(CommentBody::parse("  hi  ").unwrap().as_str(), "hi");
        assert!(CommentBody::parse("   ").is_err());
        assert!(CommentBody::parse("").is_err());
        assert!(CommentBody::parse(&"é".repeat(1_000)).is_ok());
        assert!(CommentBody::parse(&"é".repeat(1_001)).is_err());
        assert!(CommentBody::parse("two\nlines\tok").is_ok());
        assert!(CommentBody::parse("nul\0byte").is_err());
        assert!(CommentBody::parse("bell\u{7}").is_err());
    }

    #[test]
    fn kinds_round_trip_through_storage() {
        for k in [Kind::Read, Kind::Like] {
            assert_eq!(Kind::from_stored(k.as_str()), Some(k));
        }
        assert_eq!(Kind::from_stored("read"), None);
    }
}
