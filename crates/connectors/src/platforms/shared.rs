//! Helpers for the QuickBooks … Dynamics 365 modules: reading JSON bodies, the HMAC header
//! schemes several of them use, timestamps written in the vendors' various ISO 8601 dialects,
//! and thin "fetch this" events.

use std::fmt::Display;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::{Delivery, Hint, Kind, Normalized, ParseError, Rejection, schemes};

/// The error for a body that is not what `platform` sends.
pub(super) fn malformed(platform: &'static str, reason: impl Display) -> ParseError {
    ParseError::Malformed {
        platform,
        reason: reason.to_string(),
    }
}

/// `bytes` read as JSON into a wire type of `platform`.
pub(super) fn json<'a, T: Deserialize<'a>>(
    platform: &'static str,
    bytes: &'a [u8],
) -> Result<T, ParseError> {
    serde_json::from_slice(bytes).map_err(|e| malformed(platform, e))
}

/// A JSON string's value, or a JSON number's literal text: platforms write ids and timestamps
/// either way, and a number's text must not go through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text(pub(super) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str::<String>(text)
                .map(Text)
                .map_err(serde::de::Error::custom)
        } else if text.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
            Ok(Text(text.to_owned()))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{text}` is neither a string nor a number"
            )))
        }
    }
}

/// A count written as text (`"2"`, `2.0`, `"-1"`) as a whole number; `None` for a fraction.
pub(super) fn whole(text: &str) -> Option<i64> {
    let text = text.trim();
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.bytes().all(|b| b == b'0') {
        integer.parse().ok()
    } else {
        None
    }
}

/// A quantity written as text, as a whole number of units; a fraction (a weighed sale) cannot
/// be one, and is an error rather than a rounded guess.
pub(super) fn units(platform: &'static str, text: &Text) -> Result<i64, ParseError> {
    whole(&text.0).ok_or_else(|| {
        malformed(
            platform,
            format!("quantity {} is not a whole number of units", text.0),
        )
    })
}

/// An ISO 8601 timestamp with an offset (`…Z`, `…+00:00`, `…+0000`, with or without seconds
/// and fractions) as RFC 3339 UTC. A timestamp without an offset is `None`: its zone is unknown.
pub(super) fn utc(text: &str) -> Option<String> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%z"))
        .ok()
        .map(|at| rfc3339(at.with_timezone(&Utc)))
}

/// Milliseconds since 1970 as RFC 3339 UTC.
pub(super) fn utc_millis(millis: i64) -> Option<String> {
    DateTime::from_timestamp_millis(millis).map(rfc3339)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A thin event: `resource` `id` changed, fetch it. The id also fills the matching external id
/// (order, payment, refund) so the event can be routed before the fetch.
pub(super) fn hint(resource: &'static str, id: Option<String>) -> Normalized {
    let mut event = Normalized::new(Kind::Hint);
    match resource {
        "order" => event.external_order_id.clone_from(&id),
        "payment" => event.external_payment_id.clone_from(&id),
        "refund" => event.external_refund_id.clone_from(&id),
        _ => {}
    }
    event.hint = Some(Hint {
        resource: resource.to_owned(),
        id,
    });
    event
}

/// How a signature header encodes the MAC.
#[derive(Debug, Clone, Copy)]
pub(super) enum Encoding {
    /// Standard base64, padded.
    Base64,
    /// Hex (lower-case when sent; any case accepted).
    Hex,
}

/// Checks that header `name` carries HMAC-SHA256(`key`, `parts`) in `encoding`, in constant
/// time.
pub(super) fn verify_hmac(
    delivery: &Delivery<'_>,
    name: &'static str,
    encoding: Encoding,
    key: &[u8],
    parts: &[&[u8]],
) -> Result<(), Rejection> {
    let sent = delivery
        .header(name)
        .ok_or(Rejection::MissingHeader(name))?;
    let expected = schemes::hmac_sha256(key, parts);
    match encoding {
        Encoding::Base64 => schemes::matches_base64(sent, &expected),
        Encoding::Hex => schemes::matches_hex(sent, &expected),
    }
}

/// Header `name` carrying HMAC-SHA256(`key`, `parts`) in `encoding`, as the platform sends it.
pub(super) fn hmac_header(
    name: &str,
    encoding: Encoding,
    key: &[u8],
    parts: &[&[u8]],
) -> Vec<(String, String)> {
    let mac = schemes::hmac_sha256(key, parts);
    let value = match encoding {
        Encoding::Base64 => schemes::base64(&mac),
        Encoding::Hex => hex::encode(mac),
    };
    vec![(name.to_owned(), value)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_timestamps_become_rfc3339_utc() {
        assert_eq!(
            utc("2021-04-19T13:09:40.798+0000").as_deref(),
            Some("2021-04-19T13:09:40.798Z")
        );
        assert_eq!(
            utc("2015-10-05T14:42:19-0700").as_deref(),
            Some("2015-10-05T21:42:19Z")
        );
        assert_eq!(
            utc("2020-04-22T22:18+00:00").as_deref(),
            Some("2020-04-22T22:18:00Z")
        );
        assert_eq!(
            utc("2025-10-07T19:59:07.034359333Z").as_deref(),
            Some("2025-10-07T19:59:07.034359333Z")
        );
        assert_eq!(
            utc("2026-03-01T10:15:00+01:00").as_deref(),
            Some("2026-03-01T09:15:00Z")
        );
        assert_eq!(utc("2026-01-01 00:00:00"), None);
        assert_eq!(utc("yesterday"), None);
        assert_eq!(
            utc_millis(1_618_837_780_798).as_deref(),
            Some("2021-04-19T13:09:40.798Z")
        );
    }

    #[test]
    fn counts_must_be_whole() {
        assert_eq!(whole("2"), Some(2));
        assert_eq!(whole("-1"), Some(-1));
        assert_eq!(whole("5.0"), Some(5));
        assert_eq!(whole("1.5"), None);
        assert_eq!(whole("1e2"), None);
        assert_eq!(whole(""), None);
    }

    #[test]
    fn text_keeps_strings_and_number_literals() {
        #[derive(Deserialize)]
        struct Wire {
            a: Text,
            b: Text,
            c: Option<Text>,
        }
        let wire: Wire =
            serde_json::from_str(r#"{"a":"x\"y","b":1618837780798,"c":null}"#).expect("wire");
        assert_eq!(wire.a, Text("x\"y".into()));
        assert_eq!(wire.b, Text("1618837780798".into()));
        assert_eq!(wire.c, None);
        assert!(serde_json::from_str::<Wire>(r#"{"a":true,"b":1}"#).is_err());
    }

    #[test]
    fn odd_bodies_never_panic() {
        use crate::{Keys, Platform, platforms::inbound};
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let bodies: Vec<&[u8]> = vec![
            b"",
            b"null",
            b"-0",
            b"[]",
            b"{}",
            b"[null, {}]",
            b"\xff\xfe\x00",
            b"a.b.c",
            b"e30.e30.e30",
            deep.as_bytes(),
            br#"{"eventNotifications":[{"dataChangeEvent":null,"realmId":1e999}]}"#,
            br#"[{"id":"x","type":"qbo","time":"2026-13-45T99:99:99Z","intuitentityid":1e999}]"#,
            br#"{"NotificationType":"ORDER_CHANGE","Payload":null,"detail":{"detail":{}}}"#,
            br#"{"eventName":"PurchaseCreated","payload":"null","timestamp":1e999}"#,
            br#"{"eventName":"PurchaseCreated","payload":"{\"purchaseUuid1\":\"p\",\"amount\":1e999,\"products\":[{\"quantity\":\"99999999999999999999\"}]}"}"#,
            br#"{"eventName":"InventoryBalanceChanged","payload":"{\"balanceAfter\":[{\"balance\":\"-9223372036854775808\"}]}"}"#,
            br#"{"timestamp":null,"details":{"order":{"guid":"o","currency":"XXX","checks":[{"totalAmount":9e18},{"totalAmount":9e18}]}}}"#,
            br#"{"timestamp":"t","details":{"order":{"guid":"o","currency":"usd","checks":[{"totalAmount":92233720368547758.07},{"totalAmount":92233720368547758.07}]}}}"#,
            br#"{"EventTime":"/Date(-99999999999999999999)/","SalesId":"1"}"#,
            br#"{"receipt":null,"id":null}"#,
        ];
        let keys = Keys {
            secret: Some("00"),
            public_key_pem: Some("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"),
            client_id: None,
        };
        let headers = [
            ("intuit-signature".to_owned(), "AA==".to_owned()),
            ("X-iZettle-Signature".to_owned(), "zz".to_owned()),
            ("Toast-Signature".to_owned(), "%%%".to_owned()),
        ];
        for platform in [
            Platform::QuickBooks,
            Platform::Amazon,
            Platform::Squarespace,
            Platform::SapCco,
            Platform::OpenCart,
            Platform::Zettle,
            Platform::Toast,
            Platform::Wix,
            Platform::PrestaShop,
            Platform::NetSuite,
            Platform::Dynamics365,
        ] {
            let module = inbound(platform);
            for body in &bodies {
                let delivery = Delivery {
                    body,
                    headers: &headers,
                    url: None,
                };
                let _ = module.parse(&delivery);
                let _ = module.event_id(&delivery);
                assert!(module.verify(&delivery, &keys, i64::MIN).is_err());
                let _ = module.sign(body, &keys, None, i64::MAX);
            }
        }
    }

    #[test]
    fn hints_carry_the_id_where_routing_needs_it() {
        let order = hint("order", Some("42".into()));
        assert_eq!(order.kind, Kind::Hint);
        assert_eq!(order.external_order_id.as_deref(), Some("42"));
        let product = hint("product", Some("7".into()));
        assert_eq!(product.external_order_id, None);
        assert_eq!(
            product.hint,
            Some(Hint {
                resource: "product".into(),
                id: Some("7".into())
            })
        );
    }
}
