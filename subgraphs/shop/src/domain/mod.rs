//! Validated shop inputs: each raw value becomes a newtype once, by `parse`, with the
//! contract's rules, so a rule exists once whatever calls it.

use folio_common::InvalidInput;
use folio_common::input::{TextKind, trimmed_text};

/// A product's name: 1 to 200 characters after trimming, on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        trimmed_text(raw, Self::MAX_LEN, TextKind::Line).map(|s| ProductName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as `search` compares it: lower case.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A product's description: at most 2,000 characters; empty (after trimming) is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDescription(String);

impl ProductDescription {
    pub const MAX_LEN: usize = 2_000;

    /// `None` for an empty description.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidInput> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        trimmed_text(raw, Self::MAX_LEN, TextKind::Lines)
            .map(|s| Some(ProductDescription(s.to_owned())))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An integer between two bounds, inclusive, with the contract's wording.
fn within(n: i32, min: i32, max: i32) -> Result<i64, InvalidInput> {
    if n < min || n > max {
        return Err(InvalidInput::new(format!(
            "must be between {min} and {max}"
        )));
    }
    Ok(i64::from(n))
}

/// A price in minor units: 0 to 1,000,000 (so 20 lines of 99 units fit in an `Int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceAmount(i64);

impl PriceAmount {
    pub const MAX: i32 = 1_000_000;

    pub fn parse(n: i32) -> Result<Self, InvalidInput> {
        within(n, 0, Self::MAX).map(PriceAmount)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Units in stock: 0 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i64);

impl Stock {
    pub const MAX: i32 = 1_000_000;

    pub fn parse(n: i32) -> Result<Self, InvalidInput> {
        within(n, 0, Self::MAX).map(Stock)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// How many units of one product a cart holds: 1 to 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub const MAX: i64 = 99;

    pub fn parse(n: i32) -> Result<Self, InvalidInput> {
        within(n, 1, Self::MAX as i32).map(Quantity)
    }

    /// `setCartQuantity`'s value: 0 (remove the item) to 99.
    pub fn parse_or_zero(n: i32) -> Result<Option<Self>, InvalidInput> {
        within(n, 0, Self::MAX as i32).map(|q| (q > 0).then_some(Quantity(q)))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Different products a cart may hold.
pub const MAX_CART_PRODUCTS: usize = 20;

/// The shop's currency: ISO 4217 in upper case (checked at start from
/// `FOLIO_SHOP_CURRENCY`). An input currency must be exactly it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    /// The configured currency, or why it is not one.
    pub fn configured(raw: &str) -> Result<Self, String> {
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(raw.to_owned()))
        } else {
            Err(format!(
                "FOLIO_SHOP_CURRENCY must be an ISO 4217 code in upper case (like EUR), not {raw:?}"
            ))
        }
    }

    /// An input currency, which must be the shop's.
    pub fn parse(&self, raw: &str) -> Result<Currency, InvalidInput> {
        if raw == self.0 {
            Ok(self.clone())
        } else {
            Err(InvalidInput::new(format!(
                "must be the shop's currency, {}",
                self.0
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ProductName::parse("  Mug ").expect("ok").as_str(), "Mug");
        assert!(ProductName::parse("   ").is_err());
        assert!(ProductName::parse(&"é".repeat(200)).is_ok());
        assert!(ProductName::parse(&"é".repeat(201)).is_err());
        assert!(ProductName::parse("a\nb").is_err());
        assert_eq!(ProductName::parse("Big MUG").expect("ok").key(), "big mug");
    }

    #[test]
    fn numbers_keep_their_bounds() {
        assert!(PriceAmount::parse(0).is_ok());
        assert!(PriceAmount::parse(1_000_000).is_ok());
        assert!(PriceAmount::parse(-1).is_err());
        assert!(PriceAmount::parse(1_000_001).is_err());
        assert!(Stock::parse(-1).is_err());
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(100).is_err());
        assert_eq!(Quantity::parse_or_zero(0).expect("ok"), None);
        assert!(Quantity::parse_or_zero(-1).is_err());
    }

    #[test]
    fn only_the_shops_currency_is_accepted() {
        let eur = Currency::configured("EUR").expect("ok");
        assert!(eur.parse("EUR").is_ok());
        assert!(eur.parse("eur").is_err());
        assert!(eur.parse("USD").is_err());
        assert!(Currency::configured("euro").is_err());
    }
}
