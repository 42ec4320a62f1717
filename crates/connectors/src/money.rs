//! Amounts as platforms write them — JSON numbers, decimal strings or integer minor units —
//! kept as the exact text of the payload and converted to minor units without floating point.

use concord_domain::money::Currency;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// An amount exactly as the payload wrote it (`19.99`, `"19.99"`, `1999`). Deserialize it
/// straight from the body (`serde_json::from_slice` into a wire struct); it cannot be read
/// back from a `serde_json::Value`, which has already lost the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount(String);

impl Amount {
    /// The amount as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A decimal amount in currency units (`"19.99"` GBP) as minor units (`1999`).
    pub fn decimal_minor(&self, currency: &str) -> Option<i64> {
        Currency::parse(currency).ok()?.minor_units(&self.0).ok()
    }

    /// An amount already in minor units (`1999`); `None` if it is not a whole number.
    pub fn minor(&self) -> Option<i64> {
        let text = self.0.trim();
        let whole = text.strip_suffix(".0").unwrap_or(text);
        whole.parse().ok()
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str::<String>(text)
                .map(Amount)
                .map_err(serde::de::Error::custom)
        } else if text.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
            Ok(Amount(text.to_owned()))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{text}` is not an amount"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wire {
        price: Amount,
    }

    fn price(json: &str) -> Amount {
        serde_json::from_str::<Wire>(json).expect("amount").price
    }

    #[test]
    fn numbers_and_strings_convert_exactly() {
        assert_eq!(
            price(r#"{"price": 19.99}"#).decimal_minor("gbp"),
            Some(1999)
        );
        assert_eq!(price(r#"{"price": "0.29"}"#).decimal_minor("USD"), Some(29));
        assert_eq!(price(r#"{"price": 1999}"#).minor(), Some(1999));
        assert_eq!(
            price(r#"{"price": "1500"}"#).decimal_minor("JPY"),
            Some(1500)
        );
        assert_eq!(price(r#"{"price": 19.995}"#).decimal_minor("GBP"), None);
        assert_eq!(price(r#"{"price": 1.5e1}"#).decimal_minor("GBP"), None);
        assert!(serde_json::from_str::<Wire>(r#"{"price": true}"#).is_err());
    }
}
