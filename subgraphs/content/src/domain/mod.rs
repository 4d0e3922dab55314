//! Validated content inputs: each raw value becomes a newtype once, by `parse`, with the
//! contract's rules. The GraphQL mutations and the CSV importer both parse through here,
//! so a rule exists once and both doors enforce it alike.

use folio_common::InvalidInput;
use folio_common::input::{TextKind, trimmed_text};

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn bounded(s: &str, min: usize, max: usize) -> Result<(), InvalidInput> {
    let n = char_len(s);
    if n < min {
        return Err(InvalidInput::new(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters")
        }));
    }
    if n > max {
        return Err(InvalidInput::new(format!(
            "must be at most {max} characters"
        )));
    }
    Ok(())
}

/// A title: 1 to 200 characters after trimming, on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        trimmed_text(raw, Self::MAX_LEN, TextKind::Line).map(|s| Title(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A description: at most 1,000 characters. Empty (after trimming) means none, so a
/// CSV cell left empty and an API value of `""` both clear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_LEN: usize = 1_000;

    /// `None` for an empty description.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidInput> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        trimmed_text(raw, Self::MAX_LEN, TextKind::Lines).map(|s| Some(Description(s.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The story itself: 1 to 100,000 characters. Kept as written (no trimming inside), but
/// a story of only whitespace is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story(String);

impl Story {
    pub const MAX_LEN: usize = 100_000;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.trim().is_empty() {
            return Err(InvalidInput::new("must not be empty"));
        }
        bounded(raw, 1, Self::MAX_LEN)?;
        if raw.contains('\0') {
            return Err(InvalidInput::new("must not contain NUL characters"));
        }
        Ok(Story(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// One tag: 1 to 32 characters of `a-z`, `0-9` and `-`. Letters are taken in any case
/// and stored lower-case, so `Rust` and `rust` are one tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(InvalidInput::new("a tag must not be empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(InvalidInput::new(format!(
                "a tag must be at most {} characters ({s:?} is longer)",
                Self::MAX_LEN
            )));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(InvalidInput::new(format!(
                "a tag may only hold a-z, 0-9 and '-' ({raw:?} does not)"
            )));
        }
        Ok(Tag(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A content's tags: at most 10, duplicates (in any case) counted once, in first-seen
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX_COUNT: usize = 10;

    pub fn parse<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidInput> {
        let mut tags: Vec<Tag> = Vec::new();
        for r in raw {
            let tag = Tag::parse(r)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > Self::MAX_COUNT {
            return Err(InvalidInput::new(format!(
                "at most {} tags are allowed ({} given)",
                Self::MAX_COUNT,
                tags.len()
            )));
        }
        Ok(Tags(tags))
    }

    /// Tags as the CSV importer receives them: one cell, separated by `|`; an empty cell
    /// is no tags.
    pub fn parse_cell(cell: &str) -> Result<Self, InvalidInput> {
        if cell.trim().is_empty() {
            return Ok(Tags::default());
        }
        Tags::parse(cell.split('|'))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(Tag::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_line_of_1_to_200_characters() {
        assert_eq!(Title::parse("  Hello  ").expect("ok").as_str(), "Hello");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"é".repeat(201)).is_err());
        assert!(Title::parse("two\nlines").is_err());
    }

    #[test]
    fn empty_descriptions_are_none() {
        assert_eq!(Description::parse("  ").expect("ok"), None);
        assert_eq!(
            Description::parse(" x ")
                .expect("ok")
                .map(|d| d.as_str().to_owned()),
            Some("x".into())
        );
        assert!(Description::parse(&"d".repeat(1_001)).is_err());
        assert!(Description::parse("line one\nline two").is_ok());
    }

    #[test]
    fn stories_hold_1_to_100_000_characters() {
        assert!(Story::parse("").is_err());
        assert!(Story::parse(" \n ").is_err());
        assert_eq!(
            Story::parse(" keep  spacing \n").expect("ok").as_str(),
            " keep  spacing \n"
        );
        assert!(Story::parse(&"s".repeat(100_000)).is_ok());
        assert!(Story::parse(&"s".repeat(100_001)).is_err());
    }

    #[test]
    fn tags_are_lower_case_slugs_at_most_ten() {
        let tags = Tags::parse(["Rust", "rust", "web-dev", "2026"]).expect("ok");
        assert_eq!(tags.iter().collect::<Vec<_>>(), ["rust", "web-dev", "2026"]);
        for bad in ["", "with space", "ünïcode", "under_score", &"t".repeat(33)] {
            assert!(Tag::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(eleven.iter().map(String::as_str)).is_err());
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        assert_eq!(
            Tags::parse(ten.iter().map(String::as_str))
                .expect("ok")
                .len(),
            10
        );
    }

    #[test]
    fn csv_cells_split_tags_on_bars() {
        assert!(Tags::parse_cell("").expect("ok").is_empty());
        assert_eq!(
            Tags::parse_cell("a|B|a")
                .expect("ok")
                .iter()
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(Tags::parse_cell("a||b").is_err());
    }
}
