//! The helpers every platform module shares: reading a body into a wire type, ids and numbers
//! written as numbers or strings, whole-number quantities, timestamps as RFC 3339 UTC, form
//! fields, the buyer and hint shapes of [`Normalized`], the HMAC header schemes most platforms
//! sign with, and the shape of a platform that signs nothing.

use std::fmt::Display;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, de};
use serde_json::value::RawValue;

use super::Inbound;
use crate::{
    Customer, Delivery, Hint, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
    schemes,
};

// ---------------------------------------------------------------------------------------------
// Bodies and values

/// A [`ParseError::Malformed`] for `platform`: the body is not what it sends.
pub(super) fn malformed(platform: &'static str, reason: impl Display) -> ParseError {
    ParseError::Malformed {
        platform,
        reason: reason.to_string(),
    }
}

/// `bytes` read as JSON into a wire type of `platform`, or why they cannot be.
pub(super) fn json<'a, T: Deserialize<'a>>(
    platform: &'static str,
    bytes: &'a [u8],
) -> Result<T, ParseError> {
    serde_json::from_slice(bytes).map_err(|e| malformed(platform, e))
}

/// An id as platforms write it, a JSON string or integer, kept as text (an integer in its
/// canonical decimal form; a fraction is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Id(pub(super) String);

impl Id {
    /// The id, unless it is empty or `0` (how several platforms write "none").
    pub(super) fn present(&self) -> Option<String> {
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
pub(super) fn id(id: Option<&Id>) -> Option<String> {
    id.and_then(Id::present)
}

/// A JSON string's value, or a JSON number's literal text exactly as written (any number,
/// fractions included): platforms write ids, counts and timestamps either way, and a number's
/// text must not go through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text(pub(super) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str::<String>(text)
                .map(Text)
                .map_err(de::Error::custom)
        } else if text.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
            Ok(Text(text.to_owned()))
        } else {
            Err(de::Error::custom(format!(
                "`{text}` is neither a string nor a number"
            )))
        }
    }
}

/// For `#[serde(default, deserialize_with = "seq")]`: a list that may also be `null`.
pub(super) fn seq<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Trimmed text, unless empty.
pub(super) fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// An ISO 4217 code, upper-case.
pub(super) fn currency(code: Option<&str>) -> Option<String> {
    text(code).map(|c| c.to_ascii_uppercase())
}

/// A decimal amount in currency units as minor units, where both are given and it converts
/// exactly.
pub(super) fn decimal(amount: Option<&Amount>, currency: Option<&str>) -> Option<i64> {
    amount?.decimal_minor(currency?)
}

/// A number kept as the text the payload wrote it in.
pub(super) trait Numeral {
    /// The number as written.
    fn numeral(&self) -> &str;
}

impl Numeral for str {
    fn numeral(&self) -> &str {
        self
    }
}

impl Numeral for Amount {
    fn numeral(&self) -> &str {
        self.as_str()
    }
}

impl Numeral for Text {
    fn numeral(&self) -> &str {
        &self.0
    }
}

/// A count written as a number or string (`2`, `"2"`, `2.0000`, `"-1"`) as a whole number;
/// `None` if it has a fraction or is not a plain decimal.
pub(super) fn whole<N: Numeral + ?Sized>(count: &N) -> Option<i64> {
    let text = count.numeral().trim();
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.bytes().all(|b| b == b'0') {
        return None;
    }
    integer.parse().ok()
}

/// A quantity as a whole number of units; a fraction (a weighed sale) cannot be one, and is an
/// error rather than a rounded guess.
pub(super) fn units(platform: &'static str, quantity: &Text) -> Result<i64, ParseError> {
    whole(quantity).ok_or_else(|| {
        malformed(
            platform,
            format!("quantity {} is not a whole number of units", quantity.0),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/// A timestamp with an offset (RFC 3339, or ISO 8601 with `+0000`-style offsets) as RFC 3339
/// UTC; `None` for one without an offset, whose zone is unknown, or without seconds (see
/// [`utc_minutes`]).
pub(super) fn utc(text: &str) -> Option<String> {
    offset(text, false)
}

/// Like [`utc`], also accepting times written to the minute (`2020-04-22T22:18+00:00`), as
/// the QuickBooks … Dynamics 365 vendors write them.
pub(super) fn utc_minutes(text: &str) -> Option<String> {
    offset(text, true)
}

fn offset(text: &str, minutes: bool) -> Option<String> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|e| {
            if minutes {
                DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%z")
            } else {
                Err(e)
            }
        })
        .ok()
        .map(|t| rfc3339(t.with_timezone(&Utc)))
}

/// A timestamp the platform writes in UTC, with or without an offset (`2017-03-21T19:54:51`,
/// `2024-05-01 10:00:00`), as RFC 3339 UTC.
pub(super) fn utc_naive(text: &str) -> Option<String> {
    utc(text).or_else(|| {
        let text = text.trim();
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|t| rfc3339(t.and_utc()))
    })
}

/// Seconds since 1970 as RFC 3339 UTC.
pub(super) fn unix(seconds: i64) -> Option<String> {
    DateTime::from_timestamp(seconds, 0).map(rfc3339)
}

/// Milliseconds since 1970 as RFC 3339 UTC.
pub(super) fn unix_millis(millis: i64) -> Option<String> {
    DateTime::from_timestamp_millis(millis).map(rfc3339)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

// ---------------------------------------------------------------------------------------------
// Form bodies

/// The value of field `name` in an `application/x-www-form-urlencoded` body.
pub(super) fn form_field(body: &[u8], name: &str) -> Option<String> {
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

// ---------------------------------------------------------------------------------------------
// Shapes of `Normalized`

/// "First Last", from whichever parts are given.
pub(super) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<String> = [first, last].into_iter().filter_map(text).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The buyer, unless the payload names nothing about them.
pub(super) fn customer(
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
pub(super) fn hint(resource: &str, id: Option<String>) -> Option<Hint> {
    Some(Hint {
        resource: resource.to_owned(),
        id,
    })
}

/// A thin event: `resource` `id` changed, fetch it. The id also fills the matching external id
/// (order, payment, refund) so the event can be routed before the fetch.
pub(super) fn hint_event(resource: &'static str, id: Option<String>) -> Normalized {
    let mut event = Normalized::new(Kind::Hint);
    match resource {
        "order" => event.external_order_id.clone_from(&id),
        "payment" => event.external_payment_id.clone_from(&id),
        "refund" => event.external_refund_id.clone_from(&id),
        _ => {}
    }
    event.hint = hint(resource, id);
    event
}

/// Sets `event`'s lines; where one cannot be represented (`None`: a fractional quantity),
/// leaves them all out and asks for the order to be fetched instead.
pub(super) fn set_lines(event: &mut Normalized, lines: Option<Vec<Line>>) {
    match lines {
        Some(lines) => event.lines = lines,
        None => event.hint = hint("order", event.external_order_id.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures

/// Header `name` as sent, or the rejection for a delivery without it.
pub(super) fn required<'a>(
    delivery: &Delivery<'a>,
    name: &'static str,
) -> Result<&'a str, Rejection> {
    delivery.header(name).ok_or(Rejection::MissingHeader(name))
}

/// How a signature header encodes the MAC.
#[derive(Debug, Clone, Copy)]
pub(super) enum Encoding {
    /// Standard base64, padded.
    Base64,
    /// Hex (lower-case when sent; any case accepted).
    Hex,
}

/// The hash under an HMAC.
#[derive(Debug, Clone, Copy)]
pub(super) enum Digest {
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA1.
    Sha1,
}

/// A header carrying HMAC(key, signed parts) in one encoding: the scheme most platforms sign
/// with. Which key and which parts are the platform's own.
#[derive(Debug, Clone, Copy)]
pub(super) struct HmacHeader {
    /// The header's name as the platform sends it (read in any case).
    pub(super) name: &'static str,
    /// The hash.
    pub(super) digest: Digest,
    /// How the MAC is written in the header.
    pub(super) encoding: Encoding,
}

impl HmacHeader {
    /// HMAC-SHA256 in header `name`, written in `encoding`.
    pub(super) const fn sha256(name: &'static str, encoding: Encoding) -> Self {
        Self {
            name,
            digest: Digest::Sha256,
            encoding,
        }
    }

    /// HMAC-SHA1 in header `name`, written in `encoding`.
    pub(super) const fn sha1(name: &'static str, encoding: Encoding) -> Self {
        Self {
            name,
            digest: Digest::Sha1,
            encoding,
        }
    }

    fn mac(&self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self.digest {
            Digest::Sha256 => schemes::hmac_sha256(key, parts).to_vec(),
            Digest::Sha1 => schemes::hmac_sha1(key, parts).to_vec(),
        }
    }

    /// Checks, in constant time, that `sent` carries the MAC of `parts` under `key`.
    pub(super) fn matches(&self, sent: &str, key: &[u8], parts: &[&[u8]]) -> Result<(), Rejection> {
        let expected = self.mac(key, parts);
        match self.encoding {
            Encoding::Base64 => schemes::matches_base64(sent, &expected),
            Encoding::Hex => schemes::matches_hex(sent, &expected),
        }
    }

    /// Checks that the delivery carries the header (first) and that it matches `parts` under
    /// `key`.
    pub(super) fn verify(
        &self,
        delivery: &Delivery<'_>,
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<(), Rejection> {
        self.matches(required(delivery, self.name)?, key, parts)
    }

    /// The common case: the header (checked first) carries the MAC of the raw body under the
    /// secret as text.
    pub(super) fn verify_body(
        &self,
        delivery: &Delivery<'_>,
        keys: &Keys<'_>,
    ) -> Result<(), Rejection> {
        let sent = required(delivery, self.name)?;
        let secret = keys.require_secret()?;
        self.matches(sent, secret.as_bytes(), &[delivery.body])
    }

    /// The MAC of `parts` under `key`, written as the header writes it.
    pub(super) fn value(&self, key: &[u8], parts: &[&[u8]]) -> String {
        let mac = self.mac(key, parts);
        match self.encoding {
            Encoding::Base64 => schemes::base64(&mac),
            Encoding::Hex => hex::encode(mac),
        }
    }

    /// The header as the platform sends it for `parts` under `key`.
    pub(super) fn header(&self, key: &[u8], parts: &[&[u8]]) -> Vec<(String, String)> {
        vec![(self.name.to_owned(), self.value(key, parts))]
    }

    /// The header for the raw body under the secret as text (the counterpart of
    /// [`HmacHeader::verify_body`]).
    pub(super) fn sign_body(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Ok(self.header(keys.require_secret()?.as_bytes(), &[body]))
    }
}

// ---------------------------------------------------------------------------------------------
// Platforms that sign nothing

/// A platform whose deliveries carry no signature, so each is only a hint to fetch what it
/// names: verification always refuses with [`Unsigned::WHY`] and signing adds no header.
/// Implementing it implements [`Inbound`].
pub(super) trait Unsigned: Sync {
    /// Why nothing can be verified, shown as the rejection.
    const WHY: &'static str;

    /// The platform's id for the delivered event, where the body gives one.
    fn pushed_event_id(&self, _delivery: &Delivery<'_>) -> Option<String> {
        None
    }

    /// The delivery as hints.
    fn hints(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError>;
}

impl<T: Unsigned> Inbound for T {
    fn verify(
        &self,
        _delivery: &Delivery<'_>,
        _keys: &Keys<'_>,
        _now: i64,
    ) -> Result<(), Rejection> {
        Err(Rejection::Unsigned(T::WHY))
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        self.pushed_event_id(delivery)
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        self.hints(delivery)
    }

    fn sign(
        &self,
        _body: &[u8],
        _keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Platform;

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
    fn counts_must_be_whole() {
        assert_eq!(whole("2"), Some(2));
        assert_eq!(whole("-1"), Some(-1));
        assert_eq!(whole("5.0"), Some(5));
        assert_eq!(whole("1.5"), None);
        assert_eq!(whole("1e2"), None);
        assert_eq!(whole(""), None);
        assert_eq!(units("p", &Text("3.00".into())), Ok(3));
        assert!(units("p", &Text("0.5".into())).is_err());
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
    fn timestamps_become_rfc_3339_utc() {
        for (text, expected) in [
            ("2024-05-01T10:00:00-04:00", Some("2024-05-01T14:00:00Z")),
            (
                "2019-10-29T18:38:45.455006797Z",
                Some("2019-10-29T18:38:45.455006797Z"),
            ),
            (
                "2021-04-19T13:09:40.798+0000",
                Some("2021-04-19T13:09:40.798Z"),
            ),
            ("2015-10-05T14:42:19-0700", Some("2015-10-05T21:42:19Z")),
            ("2026-03-01T10:15:00+01:00", Some("2026-03-01T09:15:00Z")),
            ("2017-03-21T19:54:51", None),
            ("2026-01-01 00:00:00", None),
            ("yesterday", None),
        ] {
            assert_eq!(utc(text).as_deref(), expected, "{text}");
            assert_eq!(utc_minutes(text).as_deref(), expected, "{text}");
        }
        // To the minute: only where the vendor writes it so.
        assert_eq!(utc("2020-04-22T22:18+00:00"), None);
        assert_eq!(
            utc_minutes("2020-04-22T22:18+00:00").as_deref(),
            Some("2020-04-22T22:18:00Z")
        );
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
        assert_eq!(
            unix_millis(1_618_837_780_798).as_deref(),
            Some("2021-04-19T13:09:40.798Z")
        );
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
    fn names_and_customers_only_from_what_is_given() {
        assert_eq!(
            full_name(Some(" Ada "), Some("Lovelace")).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(full_name(Some(""), None), None);
        assert_eq!(customer(None, None, None, None), None);
    }

    #[test]
    fn hints_carry_the_id_where_routing_needs_it() {
        let order = hint_event("order", Some("42".into()));
        assert_eq!(order.kind, Kind::Hint);
        assert_eq!(order.external_order_id.as_deref(), Some("42"));
        let product = hint_event("product", Some("7".into()));
        assert_eq!(product.external_order_id, None);
        assert_eq!(
            product.hint,
            Some(Hint {
                resource: "product".into(),
                id: Some("7".into())
            })
        );
    }

    #[test]
    fn hmac_headers_sign_what_they_verify() {
        let scheme = HmacHeader::sha1("X-Sig", Encoding::Hex);
        let signed = scheme.header(b"k", &[b"a", b"b"]);
        assert_eq!(signed[0].1, hex::encode(schemes::hmac_sha1(b"k", &[b"ab"])));
        let delivery = Delivery {
            body: b"ab",
            headers: &signed,
            url: None,
        };
        assert_eq!(scheme.verify(&delivery, b"k", &[b"ab"]), Ok(()));
        assert_eq!(
            scheme.verify(&delivery, b"other", &[b"ab"]),
            Err(Rejection::Mismatch)
        );
        let keys = Keys {
            secret: Some("k"),
            ..Keys::default()
        };
        assert_eq!(scheme.verify_body(&delivery, &keys), Ok(()));
        assert_eq!(scheme.sign_body(b"ab", &keys), Ok(signed.clone()));
        let bare = Delivery {
            headers: &[],
            ..delivery
        };
        assert_eq!(
            scheme.verify_body(&bare, &Keys::default()),
            Err(Rejection::MissingHeader("X-Sig"))
        );
    }

    /// Every module (but the Standard Webhooks sender, whose scheme has its own tests) against
    /// bodies and headers crafted to break parsers and signature checks: nothing panics and
    /// nothing verifies.
    #[test]
    fn no_module_panics_on_hostile_input() {
        let deep = "[".repeat(10_000);
        let balanced = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let bodies: Vec<&[u8]> = vec![
            b"",
            b"\xff\xfe\x00",
            b"null",
            b"-0",
            b"[]",
            b"{}",
            b"[null, {}]",
            b"a.b.c",
            b"e30.e30.e30",
            deep.as_bytes(),
            balanced.as_bytes(),
            br#"{"id": 99999999999999999999999, "type": "order.updated", "data": {"object": {}}}"#,
            br#"{"scope": "store/order/created", "data": {"type": "order", "inventory": {"method": "absolute", "value": 1e400}}}"#,
            br#"{"merchants": {"M": [{"objectId": ":::"}, {"objectId": "O:"}]}}"#,
            b"payload=%7B%22id%22%3A1%7D&type=%&webhook_id=",
            b"webhook_id=12",
            br#"{"data": {"value": {"items": [{"qty_ordered": "1e99999", "price": "-0.000"}]}}, "type": "order"}"#,
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
        let header = |lines: &[&str]| -> Vec<(String, String)> {
            lines
                .iter()
                .filter_map(|h| h.split_once(": "))
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect()
        };
        let header_sets = [
            Vec::new(),
            header(&[
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
            ]),
            header(&[
                "intuit-signature: AA==",
                "X-iZettle-Signature: zz",
                "Toast-Signature: %%%",
            ]),
        ];
        let keys = [
            Keys {
                secret: Some("s"),
                public_key_pem: Some("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
                client_id: Some("c"),
            },
            Keys {
                secret: Some("00"),
                public_key_pem: Some("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"),
                client_id: None,
            },
        ];
        for platform in Platform::ALL
            .into_iter()
            .filter(|p| *p != Platform::StandardWebhooks)
        {
            let module = super::super::inbound(platform);
            for body in &bodies {
                for headers in &header_sets {
                    for (keys, url) in keys.iter().zip([Some("https://example.com/hooks"), None]) {
                        let delivery = Delivery { body, headers, url };
                        assert!(
                            module.verify(&delivery, keys, i64::MIN).is_err(),
                            "{platform}"
                        );
                        let _ = module.event_id(&delivery);
                        let _ = module.parse(&delivery);
                        let _ = module.sign(body, keys, None, i64::MAX);
                    }
                }
            }
        }
    }
}
