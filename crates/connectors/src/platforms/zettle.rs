//! Zettle by PayPal (Pusher API webhooks). The signature covers two JSON fields, not the raw
//! body: `X-iZettle-Signature` = lower-case hex(HMAC-SHA256(key = the subscription's
//! `signingKey` as UTF-8, message = `timestamp + "." + payload`)), where `payload` is the
//! decoded string value of the envelope's `payload` field and `timestamp` the envelope's
//! `timestamp` as text (a number's literal text).
//!
//! Envelope: `{organizationUuid, messageUuid, eventName, messageId, payload: "<JSON>",
//! timestamp}`. `PurchaseCreated` is a sale, or a refund when the purchase has `refund: true`
//! (Zettle writes refunds as purchases with negative amounts and quantities, kept as written);
//! `InventoryBalanceChanged` gives the balances after the change at the single `STORE`
//! location; product events name the product.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Text},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
};

const PLATFORM: &str = "zettle";
const SIGNATURE: &str = "X-iZettle-Signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Hex);

/// Zettle by PayPal.
pub struct Zettle;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    event_name: Option<String>,
    message_id: Option<String>,
    payload: Option<Box<RawValue>>,
    timestamp: Option<Text>,
}

impl Envelope {
    /// The decoded string value of `payload` (a test message's object payload is not one).
    fn payload(&self) -> Option<String> {
        let raw = self.payload.as_ref()?.get();
        if raw.starts_with('"') {
            serde_json::from_str(raw).ok()
        } else {
            None
        }
    }

    /// The envelope timestamp as RFC 3339 UTC.
    fn occurred_at(&self) -> Option<String> {
        self.timestamp.as_ref().and_then(|t| time(&t.0))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Purchase {
    purchase_uuid1: Option<String>,
    #[serde(rename = "purchaseUUID1")]
    purchase_uuid1_upper: Option<String>,
    purchase_uuid: Option<String>,
    refunds_purchase_uuid1: Option<String>,
    #[serde(rename = "refundsPurchaseUUID1")]
    refunds_purchase_uuid1_upper: Option<String>,
    amount: Option<Amount>,
    currency: Option<String>,
    #[serde(default)]
    refund: bool,
    created: Option<String>,
    timestamp: Option<Text>,
    #[serde(default)]
    products: Vec<Product>,
    #[serde(default)]
    payments: Vec<Payment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Product {
    id: Option<Text>,
    sku: Option<String>,
    variant_uuid: Option<String>,
    quantity: Text,
    unit_price: Option<Amount>,
}

#[derive(Deserialize)]
struct Payment {
    uuid: Option<String>,
    amount: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BalanceChange {
    #[serde(default)]
    balance_after: Vec<Balance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Balance {
    location_uuid: Option<String>,
    location_type: Option<String>,
    variant_uuid: Option<String>,
    balance: Option<Text>,
}

/// The product events' payloads: the product itself, or `{newEntity, oldEntity}` on update.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductChange {
    uuid: Option<String>,
    product_uuid: Option<String>,
    new_entity: Option<ProductRef>,
}

#[derive(Deserialize)]
struct ProductRef {
    uuid: Option<String>,
}

/// A Zettle timestamp (ISO 8601, or milliseconds since 1970) as RFC 3339 UTC.
fn time(text: &str) -> Option<String> {
    match text.parse::<i64>() {
        Ok(millis) => common::unix_millis(millis),
        Err(_) => common::utc_minutes(text),
    }
}

/// The signed message's two parts, read from the body.
fn signed_parts(body: &[u8]) -> Result<(String, String), Rejection> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    let payload = envelope
        .payload()
        .ok_or_else(|| Rejection::Malformed("no `payload` string to check".into()))?;
    let timestamp = envelope
        .timestamp
        .ok_or_else(|| Rejection::Malformed("no `timestamp` to check".into()))?;
    Ok((timestamp.0, payload))
}

impl Purchase {
    fn uuid(&self) -> Option<String> {
        self.purchase_uuid1
            .clone()
            .or_else(|| self.purchase_uuid1_upper.clone())
            .or_else(|| self.purchase_uuid.clone())
    }

    fn lines(&self) -> Result<Vec<Line>, ParseError> {
        self.products
            .iter()
            .map(|product| {
                Ok(Line {
                    line_id: product.id.as_ref().map(|id| id.0.clone()),
                    sku: product.sku.clone().filter(|sku| !sku.is_empty()),
                    external_item_id: product.variant_uuid.clone(),
                    quantity: common::units(PLATFORM, &product.quantity)?,
                    unit_price_minor: product.unit_price.as_ref().and_then(Amount::minor),
                })
            })
            .collect()
    }

    fn normalize(&self, topic: &str, envelope: &Envelope) -> Result<Vec<Normalized>, ParseError> {
        let uuid = self
            .uuid()
            .ok_or_else(|| common::malformed(PLATFORM, "the purchase has no purchaseUUID1"))?;
        let currency = self.currency.as_deref().map(str::to_ascii_uppercase);
        let occurred_at = self
            .created
            .as_deref()
            .and_then(time)
            .or_else(|| self.timestamp.as_ref().and_then(|t| time(&t.0)))
            .or_else(|| envelope.occurred_at());
        let base = |kind| {
            let mut event = Normalized::new(kind);
            event.topic = Some(topic.to_owned());
            event.event_id.clone_from(&envelope.message_id);
            event.occurred_at.clone_from(&occurred_at);
            event.currency.clone_from(&currency);
            event
        };
        let amount = self.amount.as_ref().and_then(Amount::minor);
        if self.refund {
            let mut refund = base(Kind::Refund);
            refund.external_refund_id = Some(uuid);
            refund.external_order_id = self
                .refunds_purchase_uuid1
                .clone()
                .or_else(|| self.refunds_purchase_uuid1_upper.clone());
            refund.amount_minor = amount;
            refund.lines = self.lines()?;
            return Ok(vec![refund]);
        }
        let mut order = base(Kind::Order);
        order.external_order_id = Some(uuid.clone());
        order.total_minor = amount;
        order.lines = self.lines()?;
        let payments = self.payments.iter().map(|payment| {
            let mut event = base(Kind::Payment);
            event.external_order_id = Some(uuid.clone());
            event.external_payment_id.clone_from(&payment.uuid);
            event.amount_minor = payment.amount.as_ref().and_then(Amount::minor);
            event
        });
        Ok(std::iter::once(order).chain(payments).collect())
    }
}

impl Inbound for Zettle {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        let key = keys.require_secret()?;
        let (timestamp, payload) = signed_parts(delivery.body)?;
        SCHEME.verify(
            delivery,
            key.as_bytes(),
            &[timestamp.as_bytes(), b".", payload.as_bytes()],
        )
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::json::<Envelope>(PLATFORM, delivery.body)
            .ok()?
            .message_id
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let envelope: Envelope = common::json(PLATFORM, delivery.body)?;
        let Some(topic) = envelope.event_name.clone() else {
            return Err(common::malformed(PLATFORM, "the envelope has no eventName"));
        };
        let payload = || {
            envelope
                .payload()
                .ok_or_else(|| common::malformed(PLATFORM, "`payload` is not a JSON string"))
        };
        let stamp = |mut event: Normalized| {
            event.topic = Some(topic.clone());
            event.event_id.clone_from(&envelope.message_id);
            event.occurred_at = envelope.occurred_at();
            event
        };
        match topic.as_str() {
            "PurchaseCreated" => common::json::<Purchase>(PLATFORM, payload()?.as_bytes())?
                .normalize(&topic, &envelope),
            "InventoryBalanceChanged" => {
                common::json::<BalanceChange>(PLATFORM, payload()?.as_bytes())?
                    .balance_after
                    .iter()
                    // Balances are reported for the STORE location; skip any other type named.
                    .filter(|b| b.location_type.as_deref().is_none_or(|t| t == "STORE"))
                    .map(|balance| {
                        let mut event = stamp(Normalized::new(Kind::Inventory));
                        event.location_id.clone_from(&balance.location_uuid);
                        event.inventory = Some(Inventory {
                            sku: None,
                            external_item_id: balance.variant_uuid.clone(),
                            location_id: balance.location_uuid.clone(),
                            quantity: balance
                                .balance
                                .as_ref()
                                .map(|q| common::units(PLATFORM, q))
                                .transpose()?,
                        });
                        Ok(event)
                    })
                    .collect()
            }
            "ProductCreated"
            | "ProductUpdated"
            | "ProductDeleted"
            | "InventoryTrackingStarted"
            | "InventoryTrackingStopped" => {
                let change: ProductChange = common::json(PLATFORM, payload()?.as_bytes())?;
                let event = match topic.as_str() {
                    "ProductCreated" | "ProductUpdated" => {
                        let id = change.new_entity.and_then(|p| p.uuid).or(change.uuid);
                        let mut event = common::hint_event("product", id);
                        event.kind = Kind::Product;
                        event
                    }
                    "ProductDeleted" => common::hint_event("product", change.uuid),
                    _ => common::hint_event("inventory", change.product_uuid),
                };
                Ok(vec![stamp(event)])
            }
            _ => Ok(Vec::new()),
        }
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let key = keys.require_secret()?;
        let (timestamp, payload) = signed_parts(body)?;
        Ok(SCHEME.header(
            key.as_bytes(),
            &[timestamp.as_bytes(), b".", payload.as_bytes()],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{
        Vector, assert_malformed, delivery, headers, secret as key,
    };

    // Zettle publishes no signature vector; this one was computed independently with python3:
    //   hmac.new(KEY.encode(), (TIMESTAMP + "." + PAYLOAD).encode(), hashlib.sha256).hexdigest()
    // where PAYLOAD is the decoded `payload` string of BODY.
    const KEY: &str = "Qm9vdHN0cmFwU2lnbmluZ0tleUZvckNvbmNvcmRUZXN0c09ubHkxMjM0NTY3ODkw";
    const BODY: &str = r#"{"organizationUuid":"c5a1d1e2-0f3a-11ee-8b3e-2b1f5e6c7d80","messageUuid":"4b2f8a40-d8b1-11f0-a3c4-3f1e2d4c5b6a","eventName":"InventoryBalanceChanged","messageId":"9e1c7a52-36f4-5d2b-a3c4-3f1e2d4c5b6a","payload":"{\"organizationUuid\":\"c5a1d1e2-0f3a-11ee-8b3e-2b1f5e6c7d80\",\"updated\":{\"uuid\":\"0c7d6e5f-1a2b-4c3d-9e8f-7a6b5c4d3e2f\",\"timestamp\":\"2026-03-02T14:05:11.120+0000\",\"userType\":\"USER\"},\"balanceBefore\":[{\"organizationUuid\":\"c5a1d1e2-0f3a-11ee-8b3e-2b1f5e6c7d80\",\"locationUuid\":\"a1b2c3d0-0f3a-11ee-9c1d-7e6f5a4b3c2d\",\"productUuid\":\"d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a\",\"variantUuid\":\"d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a\",\"balance\":\"12\"}],\"balanceAfter\":[{\"organizationUuid\":\"c5a1d1e2-0f3a-11ee-8b3e-2b1f5e6c7d80\",\"locationUuid\":\"a1b2c3d0-0f3a-11ee-9c1d-7e6f5a4b3c2d\",\"productUuid\":\"d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a\",\"variantUuid\":\"d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a\",\"created\":\"2026-03-02T14:05:11.131+0000\",\"balance\":\"10\"}],\"externalUuid\":null}","timestamp":"2026-03-02T14:05:11.140Z"}"#;
    const SIGNATURE_HEX: &str = "8890d8893cb428fd23e491197b558ac8af151f5c7663c543ce0ece6776e4ed03";

    fn signed(signature: &str) -> Vec<(String, String)> {
        headers(&[(SIGNATURE, signature)])
    }

    fn vector() -> Vector<'static> {
        Vector {
            module: &Zettle,
            header: SIGNATURE,
            secret: KEY,
            other_secret: "another-signing-key",
            body: BODY,
            tampered: BODY.replace(r#"\"balance\":\"10\""#, r#"\"balance\":\"99\""#),
            signature: SIGNATURE_HEX,
        }
    }

    /// An envelope around `payload` (a JSON document, embedded as a string).
    fn envelope(event: &str, payload: &str) -> String {
        serde_json::json!({
            "organizationUuid": "c5a1d1e2-0f3a-11ee-8b3e-2b1f5e6c7d80",
            "messageUuid": "4b2f8a40-d8b1-11f0-a3c4-3f1e2d4c5b6a",
            "eventName": event,
            "messageId": "msg-1",
            "payload": payload,
            "timestamp": "2026-03-02T14:05:11.140Z",
        })
        .to_string()
    }

    #[test]
    fn verify_accepts_the_fixed_vector() {
        vector().assert_accepted();
    }

    #[test]
    fn verify_refuses_tampering_wrong_key_missing_header_and_malformed_bodies() {
        let vector = vector();
        assert_ne!(vector.tampered, BODY);
        vector.assert_refusals();
        let headers = signed(SIGNATURE_HEX);
        let retimed = BODY.replace("14:05:11.140Z", "14:05:12.140Z");
        assert_eq!(
            Zettle.verify(&delivery(&retimed, &headers), &key(KEY), 0),
            Err(Rejection::Mismatch)
        );
        for body in [
            "not json",
            r#"{"eventName":"PurchaseCreated","timestamp":"2026-03-02T14:05:11Z"}"#,
            r#"{"eventName":"PurchaseCreated","payload":"{}"}"#,
            r#"{"eventName":"TestMessage","payload":{"data":"payload"},"timestamp":"x"}"#,
        ] {
            assert!(
                matches!(
                    Zettle.verify(&delivery(body, &headers), &key(KEY), 0),
                    Err(Rejection::Malformed(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn a_numeric_timestamp_is_signed_as_its_literal_text() {
        let body = r#"{"eventName":"ProductDeleted","messageId":"m","payload":"{\"uuid\":\"p\"}","timestamp":1772460311140}"#;
        let expected =
            crate::schemes::hmac_sha256(KEY.as_bytes(), &[b"1772460311140.{\"uuid\":\"p\"}"]);
        let headers = signed(&hex::encode(expected));
        assert_eq!(
            Zettle.verify(&delivery(body, &headers), &key(KEY), 0),
            Ok(())
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        vector().assert_sign_round_trips();
        assert!(matches!(
            Zettle.sign(b"[]", &key(KEY), None, 0),
            Err(Rejection::Malformed(_))
        ));
    }

    #[test]
    fn balance_changes_give_the_store_balance_after() {
        assert_eq!(
            Zettle.event_id(&delivery(BODY, &[])).as_deref(),
            Some("9e1c7a52-36f4-5d2b-a3c4-3f1e2d4c5b6a")
        );
        let mut expected = Normalized::new(Kind::Inventory);
        expected.topic = Some("InventoryBalanceChanged".into());
        expected.event_id = Some("9e1c7a52-36f4-5d2b-a3c4-3f1e2d4c5b6a".into());
        expected.occurred_at = Some("2026-03-02T14:05:11.140Z".into());
        expected.location_id = Some("a1b2c3d0-0f3a-11ee-9c1d-7e6f5a4b3c2d".into());
        expected.inventory = Some(Inventory {
            sku: None,
            external_item_id: Some("d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a".into()),
            location_id: Some("a1b2c3d0-0f3a-11ee-9c1d-7e6f5a4b3c2d".into()),
            quantity: Some(10),
        });
        assert_eq!(Zettle.parse(&delivery(BODY, &[])), Ok(vec![expected]));

        let other_location = envelope(
            "InventoryBalanceChanged",
            r#"{"balanceAfter":[{"locationUuid":"sold-1","locationType":"SOLD","variantUuid":"v","balance":"3"}]}"#,
        );
        assert_eq!(Zettle.parse(&delivery(&other_location, &[])), Ok(vec![]));
    }

    #[test]
    fn a_purchase_becomes_an_order_and_its_payments() {
        let payload = r#"{"purchaseUuid1":"5e1a7c20-d8b1-11f0-9a1b-2c3d4e5f6a7b","source":"POS","currency":"gbp","amount":3650,"vatAmount":608,"created":"2026-03-02T14:05:10.798+0000","timestamp":1772460310798,"purchaseNumber":418,"products":[{"id":"0","productUuid":"d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a","variantUuid":"d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a","name":"Oat flat white","sku":"OFW-12","unitPrice":325,"quantity":"2","type":"PRODUCT"},{"id":"1","productUuid":"e1f2a3b0-0f3b-11ee-8d2e-6f5e4d3c2b1a","variantUuid":"e1f2a3b1-0f3b-11ee-8d2e-6f5e4d3c2b1a","name":"Gift box","sku":"","unitPrice":3000,"quantity":"1","type":"PRODUCT"}],"payments":[{"uuid":"6f2b8d31-d8b1-11f0-9a1b-2c3d4e5f6a7b","amount":3650,"type":"IZETTLE_CARD"}],"refund":false,"refunded":false}"#;
        let body = envelope("PurchaseCreated", payload);
        let events = Zettle.parse(&delivery(&body, &[])).expect("parse");

        let mut order = Normalized::new(Kind::Order);
        order.topic = Some("PurchaseCreated".into());
        order.event_id = Some("msg-1".into());
        order.occurred_at = Some("2026-03-02T14:05:10.798Z".into());
        order.currency = Some("GBP".into());
        order.external_order_id = Some("5e1a7c20-d8b1-11f0-9a1b-2c3d4e5f6a7b".into());
        order.total_minor = Some(3650);
        order.lines = vec![
            Line {
                line_id: Some("0".into()),
                sku: Some("OFW-12".into()),
                external_item_id: Some("d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a".into()),
                quantity: 2,
                unit_price_minor: Some(325),
            },
            Line {
                line_id: Some("1".into()),
                sku: None,
                external_item_id: Some("e1f2a3b1-0f3b-11ee-8d2e-6f5e4d3c2b1a".into()),
                quantity: 1,
                unit_price_minor: Some(3000),
            },
        ];
        let mut payment = Normalized::new(Kind::Payment);
        payment.topic = order.topic.clone();
        payment.event_id = order.event_id.clone();
        payment.occurred_at = order.occurred_at.clone();
        payment.currency = Some("GBP".into());
        payment.external_order_id = order.external_order_id.clone();
        payment.external_payment_id = Some("6f2b8d31-d8b1-11f0-9a1b-2c3d4e5f6a7b".into());
        payment.amount_minor = Some(3650);
        assert_eq!(events, vec![order, payment]);
    }

    #[test]
    fn a_refund_purchase_becomes_a_refund_with_zettles_negative_amounts() {
        let payload = r#"{"purchaseUUID1":"7a3c9e42-d8c2-11f0-9a1b-2c3d4e5f6a7b","refundsPurchaseUUID1":"5e1a7c20-d8b1-11f0-9a1b-2c3d4e5f6a7b","currency":"GBP","amount":-650,"timestamp":"2026-03-03T09:12:00.000+0000","products":[{"variantUuid":"d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a","sku":"OFW-12","unitPrice":325,"quantity":"-2"}],"payments":[{"uuid":"8b4d0f53","amount":-650,"references":{"refundsPayment":"6f2b8d31-d8b1-11f0-9a1b-2c3d4e5f6a7b"}}],"refund":true}"#;
        let body = envelope("PurchaseCreated", payload);
        let mut refund = Normalized::new(Kind::Refund);
        refund.topic = Some("PurchaseCreated".into());
        refund.event_id = Some("msg-1".into());
        refund.occurred_at = Some("2026-03-03T09:12:00Z".into());
        refund.currency = Some("GBP".into());
        refund.external_refund_id = Some("7a3c9e42-d8c2-11f0-9a1b-2c3d4e5f6a7b".into());
        refund.external_order_id = Some("5e1a7c20-d8b1-11f0-9a1b-2c3d4e5f6a7b".into());
        refund.amount_minor = Some(-650);
        refund.lines = vec![Line {
            line_id: None,
            sku: Some("OFW-12".into()),
            external_item_id: Some("d0e1f2a1-0f3b-11ee-8d2e-6f5e4d3c2b1a".into()),
            quantity: -2,
            unit_price_minor: Some(325),
        }];
        assert_eq!(Zettle.parse(&delivery(&body, &[])), Ok(vec![refund]));
    }

    #[test]
    fn product_events_name_the_product() {
        let created = envelope(
            "ProductCreated",
            r#"{"uuid":"d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a","name":"Oat flat white","variants":[]}"#,
        );
        let events = Zettle.parse(&delivery(&created, &[])).expect("parse");
        let mut expected = common::hint_event(
            "product",
            Some("d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a".into()),
        );
        expected.kind = Kind::Product;
        expected.topic = Some("ProductCreated".into());
        expected.event_id = Some("msg-1".into());
        expected.occurred_at = Some("2026-03-02T14:05:11.140Z".into());
        assert_eq!(events, vec![expected.clone()]);

        let updated = envelope(
            "ProductUpdated",
            r#"{"organizationUuid":"o","newEntity":{"uuid":"d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a"},"oldEntity":{"uuid":"d0e1f2a0-0f3b-11ee-8d2e-6f5e4d3c2b1a"}}"#,
        );
        expected.topic = Some("ProductUpdated".into());
        assert_eq!(Zettle.parse(&delivery(&updated, &[])), Ok(vec![expected]));

        let tracking = envelope("InventoryTrackingStarted", r#"{"productUuid":"p-1"}"#);
        let events = Zettle.parse(&delivery(&tracking, &[])).expect("parse");
        assert_eq!(events[0].kind, Kind::Hint);
        assert_eq!(
            events[0].hint.as_ref().map(|h| h.resource.as_str()),
            Some("inventory")
        );
    }

    #[test]
    fn other_events_are_ignored_and_malformed_bodies_are_errors() {
        let removed = envelope(
            "ApplicationConnectionRemoved",
            r#"{"type":"ApplicationConnectionRemoved"}"#,
        );
        assert_eq!(Zettle.parse(&delivery(&removed, &[])), Ok(vec![]));
        let test = r#"{"eventName":"TestMessage","organizationUuid":"o","messageId":"m","payload":{"data":"payload"}}"#;
        assert_eq!(Zettle.parse(&delivery(test, &[])), Ok(vec![]));

        let fractional = envelope(
            "PurchaseCreated",
            r#"{"purchaseUuid1":"p","currency":"GBP","amount":100,"products":[{"quantity":"1.5","unitPrice":100}]}"#,
        );
        assert_malformed(
            &Zettle,
            &[
                "",
                "{",
                r#"{"messageId":"m"}"#,
                r#"{"eventName":"PurchaseCreated","payload":{"purchaseUuid1":"p"}}"#,
                &envelope("PurchaseCreated", "not json"),
                &envelope("PurchaseCreated", r#"{"amount":100}"#),
                &fractional,
            ],
        );
    }
}
