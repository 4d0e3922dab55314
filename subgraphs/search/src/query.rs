//! The reader's query language of `searchContents`, parsed into clauses.
//!
//! - `word`: must match, by whole word or stem (`crabs` finds `crab`), case-insensitively;
//! - `"an exact phrase"`: the words in this order, next to each other;
//! - `tag:rust`: contents with that whole tag;
//! - `author:ada`: contents whose author's first or last name is `ada` (whole, any case);
//! - the last bare word is also a prefix (`progr` finds `programming`), when it has at
//!   least [`MIN_PREFIX`] characters.
//!
//! Every clause must match. What is not a letter or digit separates words, as it does
//! in the indexed text, so `async-io` is the two words `async` and `io`. An unbalanced
//! quote, or `tag:`/`author:` with nothing after it, is `BAD_USER_INPUT` on `query`.

use folio_common::{Error, Result};

/// At most this many clauses of a query are used; the rest are ignored.
pub const MAX_CLAUSES: usize = 32;

/// A trailing word shorter than this is matched as a word only: a one- or two-letter
/// prefix would expand to much of the vocabulary.
pub const MIN_PREFIX: usize = 3;

/// What one part of a query asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Clause {
    /// A word (lower-cased); `prefix` when it is the query's trailing bare word and may
    /// also start a longer word.
    Word { text: String, prefix: bool },
    /// Words (lower-cased) that must appear in this order, next to each other.
    Phrase(Vec<String>),
    /// A whole tag, lower-cased.
    Tag(String),
    /// An author's first or last name, lower-cased.
    Author(String),
}

/// The clauses of `query`, in the order written.
pub fn parse(query: &str) -> Result<Vec<Clause>> {
    let mut clauses = Vec::new();
    let mut rest = query.trim_start();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('"') {
            let Some(end) = after.find('"') else {
                return Err(bad("has an opening quote (\") without a closing one"));
            };
            let words = words(&after[..end]);
            match words.len() {
                0 => {}
                1 => clauses.extend(words.into_iter().map(|text| Clause::Word {
                    text,
                    prefix: false,
                })),
                _ => clauses.push(Clause::Phrase(words)),
            }
            rest = &after[end + 1..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let token = &rest[..end];
            rest = &rest[end..];
            if let Some(value) = field(token, "tag:") {
                let tag = value.to_lowercase();
                if tag.is_empty() {
                    return Err(bad("has tag: without a tag after it (write tag:rust)"));
                }
                clauses.push(Clause::Tag(tag));
            } else if let Some(value) = field(token, "author:") {
                let name = value.to_lowercase();
                if name.is_empty() {
                    return Err(bad(
                        "has author: without a name after it (write author:ada)",
                    ));
                }
                clauses.push(Clause::Author(name));
            } else {
                clauses.extend(words(token).into_iter().map(|text| Clause::Word {
                    text,
                    prefix: false,
                }));
            }
        }
        rest = rest.trim_start();
    }
    clauses.truncate(MAX_CLAUSES);
    // The last clause, when it is a bare word typed last, may be a word being typed.
    if !query.trim_end().ends_with('"')
        && let Some(Clause::Word { text, prefix }) = clauses.last_mut()
    {
        *prefix = text.chars().count() >= MIN_PREFIX;
    }
    Ok(clauses)
}

/// `token`'s value when it is `name` followed by a value (`name` in any case).
fn field<'a>(token: &'a str, name: &str) -> Option<&'a str> {
    let head = token.get(..name.len())?;
    head.eq_ignore_ascii_case(name)
        .then(|| &token[name.len()..])
}

/// The words of `text`: runs of letters and digits, lower-cased.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn bad(message: &str) -> Error {
    Error::validation("query", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, prefix: bool) -> Clause {
        Clause::Word {
            text: text.into(),
            prefix,
        }
    }

    #[test]
    fn words_phrases_tags_and_authors() {
        assert_eq!(
            parse(r#"Rust "Fearless Concurrency" tag:Async-IO author:Ada crab"#).expect("parses"),
            vec![
                word("rust", false),
                Clause::Phrase(vec!["fearless".into(), "concurrency".into()]),
                Clause::Tag("async-io".into()),
                Clause::Author("ada".into()),
                word("crab", true),
            ]
        );
    }

    #[test]
    fn only_a_trailing_bare_word_of_three_letters_or_more_is_a_prefix() {
        assert_eq!(parse("progr").expect("ok"), vec![word("progr", true)]);
        assert_eq!(parse("pr").expect("ok"), vec![word("pr", false)]);
        assert_eq!(
            parse("progr rust ").expect("ok"),
            vec![word("progr", false), word("rust", true)]
        );
        assert_eq!(
            parse(r#"rust "crab""#).expect("ok"),
            vec![word("rust", false), word("crab", false)]
        );
        assert_eq!(
            parse("rust tag:web").expect("ok"),
            vec![word("rust", false), Clause::Tag("web".into())]
        );
    }

    #[test]
    fn punctuation_separates_words() {
        assert_eq!(
            parse("async-io, done!").expect("ok"),
            vec![word("async", false), word("io", false), word("done", true)]
        );
        assert_eq!(parse("  ").expect("ok"), vec![]);
        assert_eq!(parse(r#""" ..."#).expect("ok"), vec![]);
    }

    #[test]
    fn bad_syntax_is_bad_user_input_on_query() {
        for q in [r#"rust "fearless"#, "tag:", "rust author:", "TAG: rust"] {
            let err = parse(q).expect_err(q);
            assert_eq!(err.code(), folio_common::error::Code::BadUserInput, "{q}");
            assert!(
                matches!(&err, Error::Validation { field, .. } if field == "query"),
                "{q}: {err:?}"
            );
        }
    }

    #[test]
    fn clauses_are_capped() {
        let long = "word ".repeat(100);
        assert_eq!(parse(&long).expect("ok").len(), MAX_CLAUSES);
    }
}
