//! Minor units as the platforms write them: decimal strings (`"19.99"`) for Shopify,
//! WooCommerce and Lightspeed, integers for Square and Stripe.

use concord_domain::money::Currency;

/// `minor` in `currency` as a decimal string with the currency's digits (`1999` USD →
/// `"19.99"`, `1500` JPY → `"1500"`).
pub(crate) fn decimal(minor: i64, currency: &str) -> String {
    let exponent = Currency::parse(currency).map_or(2, |c| c.exponent());
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = exponent as usize
    )
}

/// A decimal amount (`"19.99"`) in `currency` as minor units; `None` if it is not one.
pub(crate) fn parse_decimal(text: &str, currency: &str) -> Option<i64> {
    Currency::parse(currency).ok()?.minor_units(text).ok()
}

/// `minor` as a JSON number in currency units (WooCommerce's line `price`), exact for any
/// amount with at most the currency's digits.
pub(crate) fn number(minor: i64, currency: &str) -> serde_json::Value {
    let text = decimal(minor, currency);
    serde_json::from_str::<serde_json::Number>(&text)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_currency() {
        assert_eq!(decimal(1999, "USD"), "19.99");
        assert_eq!(decimal(5, "GBP"), "0.05");
        assert_eq!(decimal(-1999, "USD"), "-19.99");
        assert_eq!(decimal(1500, "JPY"), "1500");
        assert_eq!(decimal(1234, "KWD"), "1.234");
        assert_eq!(parse_decimal("19.99", "USD"), Some(1999));
        assert_eq!(number(1999, "USD").to_string(), "19.99");
    }
}
