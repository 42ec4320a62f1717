//! OpenCart. OpenCart core has no webhooks; deliveries come from **Concord's own companion
//! extension**, which listens to OpenCart's internal events (for example
//! `catalog/model/checkout/order.addHistory/after` and
//! `admin/model/catalog/product.editProduct/after`) and pushes what changed. This is Concord's
//! scheme, not OpenCart's: `X-Concord-Signature` = base64(HMAC-SHA256(raw body, key = the
//! shared API key set in the extension)). It has no timestamp; the poll path remains the
//! safety net.
//!
//! The extension sends ids only: `{event, order_id?, product_id?, order_status_id?, date?}`.
//! An order id makes an order hint, a product id a product hint.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Text},
};
use crate::{Delivery, Keys, Normalized, ParseError, Rejection};

const PLATFORM: &str = "opencart";
const SIGNATURE: &str = "X-Concord-Signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Base64);

/// OpenCart, through Concord's companion extension.
pub struct OpenCart;

#[derive(Deserialize)]
struct Push {
    event: Option<String>,
    order_id: Option<Text>,
    product_id: Option<Text>,
    date: Option<String>,
}

impl Inbound for OpenCart {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        SCHEME.verify(
            delivery,
            keys.require_secret()?.as_bytes(),
            &[delivery.body],
        )
    }

    fn event_id(&self, _delivery: &Delivery<'_>) -> Option<String> {
        None
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let push: Push = common::json(PLATFORM, delivery.body)?;
        let mut hint = match (push.order_id, push.product_id) {
            (Some(order), _) => common::hint_event("order", Some(order.0)),
            (None, Some(product)) => common::hint_event("product", Some(product.0)),
            (None, None) => return Ok(Vec::new()),
        };
        hint.topic = push.event;
        hint.occurred_at = push.date.as_deref().and_then(common::utc_minutes);
        Ok(vec![hint])
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        SCHEME.sign_body(body, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{Vector, assert_malformed, delivery};

    // Concord's own scheme, so there is no vendor vector; computed independently with
    //   printf %s "$BODY" | openssl dgst -sha256 -hmac "$KEY" -binary | base64
    const KEY: &str = "oc-api-key-3b7c1f9e2d4a6b8c0e1f2a3b4c5d6e7f";
    const BODY: &str = r#"{"event":"order.addHistory","store_id":0,"order_id":"1042","order_status_id":"5","date":"2026-03-02T14:05:11+00:00"}"#;
    const SIGNATURE_B64: &str = "03A/DpH0jo7+HEDdp7ICAZvJXqQNz4kS/AS4sl1TIxs=";

    fn vector() -> Vector<'static> {
        Vector {
            module: &OpenCart,
            header: SIGNATURE,
            secret: KEY,
            other_secret: "another-key",
            body: BODY,
            tampered: BODY.replace("1042", "1043"),
            signature: SIGNATURE_B64,
        }
    }

    #[test]
    fn verify_accepts_the_fixed_vector() {
        vector().assert_accepted();
    }

    #[test]
    fn verify_refuses_tampering_wrong_key_and_missing_parts() {
        vector().assert_refusals();
    }

    #[test]
    fn sign_then_verify_round_trips() {
        vector().assert_sign_round_trips();
    }

    #[test]
    fn pushes_become_hints() {
        assert_eq!(OpenCart.event_id(&delivery(BODY, &[])), None);
        let mut expected = common::hint_event("order", Some("1042".into()));
        expected.topic = Some("order.addHistory".into());
        expected.occurred_at = Some("2026-03-02T14:05:11Z".into());
        assert_eq!(OpenCart.parse(&delivery(BODY, &[])), Ok(vec![expected]));

        let product = r#"{"event":"product.editProduct","product_id":88}"#;
        let mut expected = common::hint_event("product", Some("88".into()));
        expected.topic = Some("product.editProduct".into());
        assert_eq!(OpenCart.parse(&delivery(product, &[])), Ok(vec![expected]));
    }

    #[test]
    fn pushes_naming_nothing_are_ignored_and_malformed_bodies_are_errors() {
        assert_eq!(
            OpenCart.parse(&delivery(r#"{"event":"ping"}"#, &[])),
            Ok(vec![])
        );
        assert_malformed(&OpenCart, &["", "order_id=1", r#"{"order_id":{}}"#]);
    }
}
