//! Validated user inputs: each raw string becomes a newtype once, by `parse`, and the
//! rest of the subgraph only ever sees valid values.
//!
//! Emails (and, in the store, names) are matched case-insensitively through keys
//! lower-cased by Rust's Unicode-aware `to_lowercase`, not by SQL's `lower()`, which
//! SQLite applies to ASCII only: lookups and filters behave the same on both databases.

use folio_common::InvalidInput;
use folio_common::input::{TextKind, trimmed_text};

/// Counts characters (Unicode scalar values), not bytes, as clients do.
fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// An email address as given (trimmed), with its case-insensitive identity. RFC 5322's
/// grammar admits no control character, so an `Email` can always be stored and compared
/// (it never holds a NUL, which PostgreSQL cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    /// The longest address SMTP can carry (RFC 5321).
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(InvalidInput::new("must not be empty"));
        }
        if char_len(s) > Self::MAX_LEN {
            return Err(InvalidInput::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        // email_address implements RFC 5322's grammar; we also insist on a dotted
        // domain, as a deliverable address outside an intranet has one.
        let parsed: email_address::EmailAddress = s
            .parse()
            .map_err(|_| InvalidInput::new("is not a valid email address"))?;
        if !parsed.domain().contains('.') || parsed.domain().starts_with('[') {
            return Err(InvalidInput::new("is not a valid email address"));
        }
        Ok(Email {
            display: s.to_owned(),
            normalized: s.to_lowercase(),
        })
    }

    /// The address as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lower-cased address that uniqueness and login compare.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// A password that meets the length rule; never logged (its `Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let n = char_len(raw);
        if n < Self::MIN_LEN {
            return Err(InvalidInput::new(format!(
                "must be at least {} characters",
                Self::MIN_LEN
            )));
        }
        if n > Self::MAX_LEN {
            return Err(InvalidInput::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A first or last name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        trimmed_text(raw, Self::MAX_LEN, TextKind::Line).map(|s| PersonName(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number: an optional leading `+`, then 7 to 15 digits (E.164's range), which
/// may be grouped with spaces, dots, dashes and parentheses. Stored as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNo(String);

impl PhoneNo {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim();
        let bad =
            || InvalidInput::new("must be a phone number: an optional '+' and 7 to 15 digits");
        let body = s.strip_prefix('+').unwrap_or(s);
        if !body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'))
        {
            return Err(bad());
        }
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits)
            || !body.starts_with(|c: char| c.is_ascii_digit() || c == '(')
        {
            return Err(bad());
        }
        Ok(PhoneNo(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A postal address: 1 to 500 characters after trimming; line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    pub const MAX_LEN: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.trim().is_empty() {
            return Err(InvalidInput::new(
                "must not be empty (use null to clear it)",
            ));
        }
        trimmed_text(raw, Self::MAX_LEN, TextKind::Lines).map(|s| Address(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_keep_their_case_but_compare_without_it() {
        let e = Email::parse("  Ada.Lovelace@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "Ada.Lovelace@Example.COM");
        assert_eq!(e.normalized(), "ada.lovelace@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "a\0b@example.com",
            "\"a\0b\"@example.com",
            "\"a\\\0b\"@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse(" Ada ").expect("ok").into_inner(), "Ada");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"n".repeat(101)).is_err());
        assert!(PersonName::parse("A\u{0}da").is_err());
    }

    #[test]
    fn phone_numbers_need_seven_to_fifteen_digits() {
        for ok in [
            "+44 20 7946 0958",
            "(555) 123-4567",
            "0612345678",
            "+1.555.123.4567",
        ] {
            assert!(PhoneNo::parse(ok).is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "123",
            "+",
            "phone",
            "+1 555 CALL NOW",
            "1234567890123456",
            "--1234567",
        ] {
            assert!(PhoneNo::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn addresses_are_bounded() {
        assert!(Address::parse("1 Main St\nSpringfield").is_ok());
        assert!(Address::parse("").is_err());
        assert!(Address::parse(&"a".repeat(501)).is_err());
    }
}
