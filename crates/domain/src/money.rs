//! Money: integer minor units with an ISO 4217 currency. Never floats.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// An ISO 4217 currency code (three upper-case letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a code, upper-casing it.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let code = input.trim().to_ascii_uppercase();
        match code.as_bytes() {
            [a, b, c] if code.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(ValidationError {
                field: "currency",
                message: format!("`{input}` is not a three-letter ISO 4217 code"),
            }),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// An amount in a currency's minor units (cents, pence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units; negative for money going out.
    pub amount_minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// An amount.
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(
            Currency::parse("gbp").map(|c| c.to_string()),
            Ok("GBP".into())
        );
        assert!(Currency::parse("GB").is_err());
        assert!(Currency::parse("G1P").is_err());
        assert!(Currency::parse("EURO").is_err());
    }
}
