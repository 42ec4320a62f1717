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

    /// Digits after the decimal point in this currency's minor unit (ISO 4217): 0 for
    /// JPY and the like, 3 for KWD and the like, 2 for the rest.
    pub fn exponent(&self) -> u32 {
        const ZERO: [&str; 16] = [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF",
        ];
        const THREE: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
        let code = self.as_str();
        if ZERO.contains(&code) || code == "XPF" {
            0
        } else if THREE.contains(&code) {
            3
        } else {
            2
        }
    }

    /// Converts a decimal amount as text (`"19.99"`, `"-5"`, `"1e2"` is refused) to minor
    /// units exactly, never through floating point. Digits beyond the currency's exponent
    /// must be zeros (`"19.990"` is fine, `"19.995"` is refused).
    pub fn minor_units(&self, decimal: &str) -> Result<i64, ValidationError> {
        let bad = |why: &str| ValidationError {
            field: "amount",
            message: format!("`{decimal}` is not an amount in {self}: {why}"),
        };
        let text = decimal.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(bad("expected digits with an optional decimal point"));
        }
        let exponent = self.exponent() as usize;
        let (kept, dropped) = fraction.split_at(fraction.len().min(exponent));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(bad("more decimal places than the currency has"));
        }
        let scaled = format!("{whole}{kept:0<exponent$}");
        let magnitude: i64 = if scaled.is_empty() {
            0
        } else {
            scaled.parse().map_err(|_| bad("too large"))?
        };
        Ok(if negative { -magnitude } else { magnitude })
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

    #[test]
    fn decimal_text_converts_exactly_to_minor_units() {
        let gbp = Currency::parse("GBP").expect("GBP");
        let jpy = Currency::parse("JPY").expect("JPY");
        let kwd = Currency::parse("KWD").expect("KWD");
        for (currency, text, minor) in [
            (gbp, "19.99", 1999),
            (gbp, "0.1", 10),
            (gbp, "199", 19900),
            (gbp, "-5.50", -550),
            (gbp, "19.990", 1999),
            (gbp, ".5", 50),
            (gbp, "0.29", 29),
            (jpy, "1500", 1500),
            (jpy, "1500.00", 1500),
            (kwd, "1.234", 1234),
        ] {
            assert_eq!(currency.minor_units(text), Ok(minor), "{text} {currency}");
        }
        for text in [
            "19.995",
            "abc",
            "",
            "1e2",
            "1.2.3",
            "-",
            "99999999999999999999",
        ] {
            assert!(gbp.minor_units(text).is_err(), "{text}");
        }
        assert!(jpy.minor_units("1.5").is_err());
    }
}
