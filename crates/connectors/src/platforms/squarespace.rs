//! Squarespace Commerce. Each notification carries `Squarespace-Signature` = lower-case
//! hex(HMAC-SHA256(raw body, key = the subscription secret hex-decoded to bytes)); there is no
//! timestamp, so replays are caught by the notification `id`.
//!
//! Notifications are thin: `{id, websiteId, subscriptionId, topic, createdOn, data}` where the
//! order topics (`order.create`, `order.update`) carry `data.orderId` only, so they become
//! order hints; `extension.uninstall` names nothing to fetch.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader},
};
use crate::{Delivery, Keys, Normalized, ParseError, Rejection};

const PLATFORM: &str = "squarespace";
const SIGNATURE: &str = "Squarespace-Signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Hex);

/// Squarespace Commerce.
pub struct Squarespace;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    id: Option<String>,
    topic: Option<String>,
    created_on: Option<String>,
    #[serde(default)]
    data: Data,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Data {
    order_id: Option<String>,
}

/// The HMAC key: the secret is shown as hex and used as the bytes it encodes.
fn key(keys: &Keys<'_>) -> Result<Vec<u8>, Rejection> {
    hex::decode(keys.require_secret()?.trim())
        .map_err(|_| Rejection::BadSecret("a hexadecimal secret"))
}

impl Inbound for Squarespace {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        SCHEME.verify(delivery, &key(keys)?, &[delivery.body])
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::json::<Notification>(PLATFORM, delivery.body)
            .ok()?
            .id
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let notification: Notification = common::json(PLATFORM, delivery.body)?;
        let Some(order_id) = notification.data.order_id else {
            return Ok(Vec::new());
        };
        let mut event = common::hint_event("order", Some(order_id));
        event.topic = notification.topic;
        event.event_id = notification.id;
        event.occurred_at = notification
            .created_on
            .as_deref()
            .and_then(common::utc_minutes);
        Ok(vec![event])
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Ok(SCHEME.header(&key(keys)?, &[body]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{assert_malformed, delivery, secret};

    // Squarespace publishes no signature vector. This one was computed independently, with
    // python3 `hmac.new(bytes.fromhex(SECRET), BODY.encode(), hashlib.sha256).hexdigest()` and
    // `openssl dgst -sha256 -mac HMAC -macopt hexkey:SECRET` (both agree).
    const SECRET: &str = "7d3e9f0a1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";
    const BODY: &str = r#"{"id":"65f1c2a9b7e4d31a2c9e8f01","websiteId":"5f3c3d55ac435e1a051f77b3","subscriptionId":"65f1c0d2e3a4b5c6d7e8f901","topic":"order.create","createdOn":"2026-03-02T14:05:11.250Z","data":{"orderId":"65f1c2a8a1b2c3d4e5f60718"}}"#;
    const SIGNATURE_HEX: &str = "0743e3635235e1d8bffab4a39d59e11451ca3fff32197108f59bd54a66617510";

    fn signed(signature: &str) -> Vec<(String, String)> {
        vec![("squarespace-signature".into(), signature.into())]
    }

    #[test]
    fn verify_accepts_the_fixed_vector() {
        let headers = signed(SIGNATURE_HEX);
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &headers), &secret(SECRET), 0),
            Ok(())
        );
        let upper = signed(&SIGNATURE_HEX.to_uppercase());
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &upper), &secret(SECRET), 0),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_tampering_wrong_or_bad_secret_and_missing_header() {
        let headers = signed(SIGNATURE_HEX);
        let tampered = BODY.replace("order.create", "order.update");
        assert_eq!(
            Squarespace.verify(&delivery(&tampered, &headers), &secret(SECRET), 0),
            Err(Rejection::Mismatch)
        );
        let other = "00".repeat(32);
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &headers), &secret(&other), 0),
            Err(Rejection::Mismatch)
        );
        // The secret used as text instead of decoded bytes does not match either.
        let as_text = hex::encode(crate::schemes::hmac_sha256(
            SECRET.as_bytes(),
            &[BODY.as_bytes()],
        ));
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &signed(&as_text)), &secret(SECRET), 0),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &headers), &secret("not-hex!"), 0),
            Err(Rejection::BadSecret("a hexadecimal secret"))
        );
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &[]), &secret(SECRET), 0),
            Err(Rejection::MissingHeader("Squarespace-Signature"))
        );
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &headers), &Keys::default(), 0),
            Err(Rejection::MissingKey("secret"))
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let keys = secret(SECRET);
        let headers = Squarespace
            .sign(BODY.as_bytes(), &keys, None, 0)
            .expect("sign");
        assert_eq!(
            headers,
            vec![(SIGNATURE.to_owned(), SIGNATURE_HEX.to_owned())]
        );
        assert_eq!(
            Squarespace.verify(&delivery(BODY, &headers), &keys, 0),
            Ok(())
        );
        assert_eq!(
            Squarespace.sign(BODY.as_bytes(), &secret("xyz"), None, 0),
            Err(Rejection::BadSecret("a hexadecimal secret"))
        );
    }

    #[test]
    fn order_notifications_become_order_hints() {
        assert_eq!(
            Squarespace.event_id(&delivery(BODY, &[])).as_deref(),
            Some("65f1c2a9b7e4d31a2c9e8f01")
        );
        let mut expected = common::hint_event("order", Some("65f1c2a8a1b2c3d4e5f60718".into()));
        expected.topic = Some("order.create".into());
        expected.event_id = Some("65f1c2a9b7e4d31a2c9e8f01".into());
        expected.occurred_at = Some("2026-03-02T14:05:11.250Z".into());
        assert_eq!(Squarespace.parse(&delivery(BODY, &[])), Ok(vec![expected]));

        let update = r#"{"id":"65f1c3b0aa","websiteId":"5f3c3d55ac435e1a051f77b3","subscriptionId":"65f1c0d2e3a4b5c6d7e8f901","topic":"order.update","createdOn":"2026-03-02T16:40+00:00","data":{"orderId":"65f1c2a8a1b2c3d4e5f60718","update":"FULFILLED"}}"#;
        let mut expected = common::hint_event("order", Some("65f1c2a8a1b2c3d4e5f60718".into()));
        expected.topic = Some("order.update".into());
        expected.event_id = Some("65f1c3b0aa".into());
        expected.occurred_at = Some("2026-03-02T16:40:00Z".into());
        assert_eq!(
            Squarespace.parse(&delivery(update, &[])),
            Ok(vec![expected])
        );
    }

    #[test]
    fn uninstall_names_nothing_and_malformed_bodies_are_errors() {
        let uninstall = r#"{"id":"65f1c4","websiteId":"5f3c","subscriptionId":"65f1c0","topic":"extension.uninstall","createdOn":"2026-03-02T16:40:00Z","data":{}}"#;
        assert_eq!(Squarespace.parse(&delivery(uninstall, &[])), Ok(vec![]));
        assert_malformed(
            &Squarespace,
            &["", "null", "[1]", r#"{"data":{"orderId":7}}"#, "{\"id\":"],
        );
    }
}
