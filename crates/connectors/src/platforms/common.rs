//! Small helpers several platform modules share: reading a body into a wire type, ids written
//! as numbers or strings, whole-number quantities, timestamps as RFC 3339 UTC, form fields,
//! and the buyer and hint shapes of [`Normalized`].

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, de};

use crate::{Customer, Hint, Line, Normalized, ParseError, money::Amount};

/// The body read as the wire type `T`, or why it cannot be.
pub(crate) fn json<'a, T: Deserialize<'a>>(
    platform: &'static str,
    body: &'a [u8],
) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(|e| malformed(platform, e.to_string()))
}

/// A [`ParseError::Malformed`] for `platform`.
pub(crate) fn malformed(platform: &'static str, reason: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        platform,
        reason: reason.into(),
    }
}

/// An id as platforms write it, a JSON string or integer, kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id(pub(crate) String);

impl Id {
    /// The id, unless it is empty or `0` (how several platforms write "none").
    pub(crate) fn present(&self) -> Option<String> {
        let text = self.0.trim();
        (!text.is_empty() && text != "0").then(|| text.to_owned())
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id (string or integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The id's text, unless absent, empty or `0`.
pub(crate) fn id(id: Option<&Id>) -> Option<String> {
    id.and_then(Id::present)
}

/// For `#[serde(default, deserialize_with = "seq")]`: a list that may also be `null`.
pub(crate) fn seq<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Trimmed text, unless empty.
pub(crate) fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// An ISO 4217 code, upper-case.
pub(crate) fn currency(code: Option<&str>) -> Option<String> {
    text(code).map(|c| c.to_ascii_uppercase())
}

/// A decimal amount in currency units as minor units, where both are given and it converts
/// exactly.
pub(crate) fn decimal(amount: Option<&Amount>, currency: Option<&str>) -> Option<i64> {
    amount?.decimal_minor(currency?)
}

/// A count written as a number or string (`2`, `"2"`, `2.0000`) as a whole number; `None` if
/// it has a fraction.
pub(crate) fn whole(amount: &Amount) -> Option<i64> {
    let text = amount.as_str().trim();
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.bytes().all(|b| b == b'0') {
        return None;
    }
    integer.parse().ok()
}

/// A timestamp with an offset (RFC 3339) as RFC 3339 UTC; `None` for one without an offset,
/// whose zone is unknown.
pub(crate) fn utc(text: &str) -> Option<String> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| format(t.with_timezone(&Utc)))
}

/// A timestamp the platform writes in UTC, with or without an offset (`2017-03-21T19:54:51`,
/// `2024-05-01 10:00:00`), as RFC 3339 UTC.
pub(crate) fn utc_naive(text: &str) -> Option<String> {
    utc(text).or_else(|| {
        let text = text.trim();
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| format(t.and_utc()))
    })
}

/// Seconds since 1970 as RFC 3339 UTC.
pub(crate) fn unix(seconds: i64) -> Option<String> {
    DateTime::from_timestamp(seconds, 0).map(format)
}

/// Milliseconds since 1970 as RFC 3339 UTC.
pub(crate) fn unix_millis(millis: i64) -> Option<String> {
    DateTime::from_timestamp_millis(millis).map(format)
}

fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The value of field `name` in an `application/x-www-form-urlencoded` body.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<String> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let at = pair.iter().position(|&b| b == b'=');
        let (key, value) = match at {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (percent_decode(key)? == name)
            .then(|| percent_decode(value))
            .flatten()
    })
}

fn percent_decode(bytes: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = rest.get(..2)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                rest = &rest[2..];
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// "First Last", from whichever parts are given.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<String> = [first, last].into_iter().filter_map(text).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The buyer, unless the payload names nothing about them.
pub(crate) fn customer(
    id: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
) -> Option<Customer> {
    (id.is_some() || email.is_some() || phone.is_some() || name.is_some()).then_some(Customer {
        id,
        email,
        phone,
        name,
    })
}

/// A resource to fetch.
pub(crate) fn hint(resource: &str, id: Option<String>) -> Option<Hint> {
    Some(Hint {
        resource: resource.to_owned(),
        id,
    })
}

/// Sets `event`'s lines; where one cannot be represented (`None`: a fractional quantity),
/// leaves them all out and asks for the order to be fetched instead.
pub(crate) fn set_lines(event: &mut Normalized, lines: Option<Vec<Line>>) {
    match lines {
        Some(lines) => event.lines = lines,
        None => event.hint = hint("order", event.external_order_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wire {
        id: Id,
        qty: Amount,
    }

    #[test]
    fn ids_and_quantities_read_as_written() {
        let wire: Wire =
            serde_json::from_str(r#"{"id": 820982911946154508, "qty": "2.000"}"#).expect("wire");
        assert_eq!(wire.id.present().as_deref(), Some("820982911946154508"));
        assert_eq!(whole(&wire.qty), Some(2));
        let wire: Wire = serde_json::from_str(r#"{"id": "0", "qty": 1.5}"#).expect("wire");
        assert_eq!(wire.id.present(), None);
        assert_eq!(whole(&wire.qty), None);
        assert!(serde_json::from_str::<Wire>(r#"{"id": 1.5, "qty": 1}"#).is_err());
    }

    #[test]
    fn timestamps_become_rfc_3339_utc() {
        assert_eq!(
            utc("2024-05-01T10:00:00-04:00").as_deref(),
            Some("2024-05-01T14:00:00Z")
        );
        assert_eq!(
            utc("2019-10-29T18:38:45.455006797Z").as_deref(),
            Some("2019-10-29T18:38:45.455006797Z")
        );
        assert_eq!(utc("2017-03-21T19:54:51"), None);
        assert_eq!(
            utc_naive("2017-03-21T19:54:51").as_deref(),
            Some("2017-03-21T19:54:51Z")
        );
        assert_eq!(
            utc_naive("2024-05-01 10:00:00").as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        assert_eq!(unix(1_561_479_335).as_deref(), Some("2019-06-25T16:15:35Z"));
        assert_eq!(
            unix_millis(1_561_479_335_123).as_deref(),
            Some("2019-06-25T16:15:35.123Z")
        );
        assert_eq!(utc("yesterday"), None);
    }

    #[test]
    fn form_fields_are_percent_decoded() {
        let body = b"type=sale.update&payload=%7B%22id%22%3A%22a+b%22%7D&x";
        assert_eq!(form_field(body, "type").as_deref(), Some("sale.update"));
        assert_eq!(
            form_field(body, "payload").as_deref(),
            Some(r#"{"id":"a b"}"#)
        );
        assert_eq!(form_field(body, "x").as_deref(), Some(""));
        assert_eq!(form_field(body, "missing"), None);
        assert_eq!(form_field(b"payload=%zz", "payload"), None);
        assert_eq!(form_field(b"payload=%4", "payload"), None);
    }

    #[test]
    fn no_module_panics_on_hostile_input() {
        use crate::{Delivery, Keys, platforms::Inbound};
        let modules: [&dyn Inbound; 10] = [
            &super::super::shopify::Shopify,
            &super::super::square::Square,
            &super::super::woocommerce::WooCommerce,
            &super::super::lightspeed_x::LightspeedX,
            &super::super::lightspeed_r::LightspeedR,
            &super::super::magento::Magento,
            &super::super::clover::Clover,
            &super::super::bigcommerce::BigCommerce,
            &super::super::revel::Revel,
            &super::super::stripe::Stripe,
        ];
        let deep = "[".repeat(10_000);
        let bodies: [&[u8]; 12] = [
            b"",
            b"\xff\xfe\x00",
            b"null",
            b"[]",
            b"{}",
            br#"{"id": 99999999999999999999999, "type": "order.updated", "data": {"object": {}}}"#,
            br#"{"scope": "store/order/created", "data": {"type": "order", "inventory": {"method": "absolute", "value": 1e400}}}"#,
            br#"{"merchants": {"M": [{"objectId": ":::"}, {"objectId": "O:"}]}}"#,
            b"payload=%7B%22id%22%3A1%7D&type=%&webhook_id=",
            b"webhook_id=12",
            br#"{"data": {"value": {"items": [{"qty_ordered": "1e99999", "price": "-0.000"}]}}, "type": "order"}"#,
            deep.as_bytes(),
        ];
        let header_sets: [Vec<(String, String)>; 2] = [
            Vec::new(),
            [
                "X-Shopify-Topic: orders/create",
                "X-Shopify-Hmac-Sha256: ====",
                "x-square-hmacsha256-signature: \u{e9}",
                "X-WC-Webhook-Signature: abc",
                "X-WC-Webhook-Resource: order",
                "X-WC-Webhook-Topic: order.deleted",
                "X-Signature: signature=zz, algorithm=HMAC-SHA256,,=,",
                "x-adobe-digital-signature-1: AAAA",
                "x-adobe-commerce-webhook-signature: AAAA",
                "X-Clover-Auth: \u{e9}\u{e9}",
                "webhook-id: msg",
                "webhook-timestamp: -99999999999999999999",
                "webhook-signature: v1,",
                "X-Revel-Signature: 0",
                "X-Revel-Event-Type: order.finalized",
                "Stripe-Signature: t=9223372036854775807,v1=00,t=",
            ]
            .iter()
            .filter_map(|h| h.split_once(": "))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        ];
        let keys = Keys {
            secret: Some("s"),
            public_key_pem: Some("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            client_id: Some("c"),
        };
        for module in modules {
            for body in bodies {
                for headers in &header_sets {
                    let delivery = Delivery {
                        body,
                        headers,
                        url: Some("https://example.com/hooks"),
                    };
                    assert!(module.verify(&delivery, &keys, i64::MIN).is_err());
                    let _ = module.event_id(&delivery);
                    let _ = module.parse(&delivery);
                    let _ = module.sign(body, &keys, None, i64::MAX);
                }
            }
        }
    }

    #[test]
    fn names_and_customers_only_from_what_is_given() {
        assert_eq!(
            full_name(Some(" Ada "), Some("Lovelace")).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(full_name(Some(""), None), None);
        assert_eq!(customer(None, None, None, None), None);
    }
}
