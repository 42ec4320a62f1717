//! Toast. Each message carries `Toast-Signature` = base64(HMAC-SHA256(key = the subscription
//! secret, message = the raw body bytes followed by the message timestamp)). This follows
//! Toast's documented wording, "concatenating the body and timestamp of the webhook message";
//! the timestamp is the body's own `timestamp` field as text, because Toast sends no timestamp
//! header (its headers are `Toast-Signature`, `Toast-Attempt-Number`, `Toast-Event-Type`,
//! `Toast-Event-Category` and `Toast-Restaurant-External-ID`).
//!
//! Message: `{timestamp, eventCategory, eventType, guid, details}`. Order messages carry the
//! full order (`details.order`: checks → selections and payments); Toast writes money as JSON
//! numbers in currency units and names no currency, so currency and minor amounts stay `None`
//! unless the order states a currency. Stock messages carry `details.itemGuid`, `status` and,
//! for `QUANTITY`, `quantity`.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Text},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
};

const PLATFORM: &str = "toast";
const SIGNATURE: &str = "Toast-Signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Base64);

/// Toast.
pub struct Toast;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    timestamp: Option<Text>,
    event_type: Option<String>,
    guid: Option<String>,
    details: Option<Details>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    restaurant_guid: Option<String>,
    order: Option<Order>,
    item_guid: Option<String>,
    status: Option<String>,
    quantity: Option<Text>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    guid: Option<String>,
    voided: Option<bool>,
    deleted: Option<bool>,
    currency: Option<String>,
    checks: Option<Vec<Check>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Check {
    payment_status: Option<String>,
    total_amount: Option<Amount>,
    selections: Option<Vec<Selection>>,
    payments: Option<Vec<Payment>>,
}

#[derive(Deserialize)]
struct Selection {
    guid: Option<String>,
    item: Option<Reference>,
    quantity: Text,
    voided: Option<bool>,
}

#[derive(Deserialize)]
struct Reference {
    guid: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payment {
    guid: Option<String>,
    amount: Option<Amount>,
    payment_status: Option<String>,
}

/// The message timestamp the signature covers.
fn signed_timestamp(body: &[u8]) -> Result<String, Rejection> {
    let message: Message =
        serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    message
        .timestamp
        .map(|t| t.0)
        .ok_or_else(|| Rejection::Malformed("no `timestamp` to check".into()))
}

impl Order {
    fn checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().flatten()
    }

    fn normalize(
        &self,
        stamp: impl Fn(Normalized) -> Normalized,
    ) -> Result<Vec<Normalized>, ParseError> {
        let id = self
            .guid
            .clone()
            .ok_or_else(|| common::malformed(PLATFORM, "the order has no guid"))?;
        if self.voided == Some(true) || self.deleted == Some(true) {
            // Voided or deleted: nothing was sold; let the fetch settle what changed.
            return Ok(vec![stamp(common::hint_event("order", Some(id)))]);
        }
        let currency = self.currency.as_deref().map(str::to_ascii_uppercase);
        let minor = |amount: Option<&Amount>| {
            currency
                .as_deref()
                .and_then(|c| amount.and_then(|a| a.decimal_minor(c)))
        };
        let mut order = stamp(Normalized::new(Kind::Order));
        order.external_order_id = Some(id.clone());
        order.currency.clone_from(&currency);
        order.total_minor = self.checks().try_fold(0_i64, |total, check| {
            total.checked_add(minor(check.total_amount.as_ref())?)
        });
        let mut statuses = self.checks().filter_map(|c| c.payment_status.as_deref());
        let first = statuses.next();
        order.status = first
            .filter(|s| statuses.all(|other| other == *s))
            .map(str::to_owned);
        order.lines = self
            .checks()
            .flat_map(|check| check.selections.iter().flatten())
            .filter(|selection| selection.voided != Some(true))
            .map(|selection| {
                Ok(Line {
                    line_id: selection.guid.clone(),
                    sku: None,
                    external_item_id: selection.item.as_ref().and_then(|i| i.guid.clone()),
                    quantity: common::units(PLATFORM, &selection.quantity)?,
                    // Toast's selection price is the line's total, not a unit price.
                    unit_price_minor: None,
                })
            })
            .collect::<Result<_, ParseError>>()?;
        let payments = self
            .checks()
            .flat_map(|check| check.payments.iter().flatten())
            .map(|payment| {
                let mut event = stamp(Normalized::new(Kind::Payment));
                event.external_order_id = Some(id.clone());
                event.external_payment_id.clone_from(&payment.guid);
                event.status.clone_from(&payment.payment_status);
                event.currency.clone_from(&currency);
                event.amount_minor = minor(payment.amount.as_ref());
                event
            });
        Ok(std::iter::once(order).chain(payments).collect())
    }
}

impl Inbound for Toast {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        let secret = keys.require_secret()?;
        let timestamp = signed_timestamp(delivery.body)?;
        SCHEME.verify(
            delivery,
            secret.as_bytes(),
            &[delivery.body, timestamp.as_bytes()],
        )
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::json::<Message>(PLATFORM, delivery.body).ok()?.guid
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let message: Message = common::json(PLATFORM, delivery.body)?;
        let Some(details) = &message.details else {
            return Ok(Vec::new());
        };
        let location = details.restaurant_guid.clone().or_else(|| {
            delivery
                .header("Toast-Restaurant-External-ID")
                .map(str::to_owned)
        });
        let stamp = |mut event: Normalized| {
            event.topic.clone_from(&message.event_type);
            event.event_id.clone_from(&message.guid);
            event.occurred_at = message
                .timestamp
                .as_ref()
                .and_then(|t| common::utc_minutes(&t.0));
            event.location_id.clone_from(&location);
            event
        };
        if let Some(order) = &details.order {
            return order.normalize(stamp);
        }
        let Some(item) = &details.item_guid else {
            return Ok(Vec::new());
        };
        let mut event = stamp(Normalized::new(Kind::Inventory));
        event.status.clone_from(&details.status);
        event.inventory = Some(Inventory {
            sku: None,
            external_item_id: Some(item.clone()),
            location_id: location.clone(),
            quantity: details
                .quantity
                .as_ref()
                .map(|q| common::units(PLATFORM, q))
                .transpose()?,
        });
        Ok(vec![event])
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let secret = keys.require_secret()?;
        let timestamp = signed_timestamp(body)?;
        Ok(SCHEME.header(secret.as_bytes(), &[body, timestamp.as_bytes()]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{Vector, assert_malformed, delivery, headers, secret};

    // Toast publishes no signature vector; this one was computed independently with python3:
    //   base64(hmac.new(SECRET.encode(), BODY.encode() + TIMESTAMP.encode(), sha256).digest())
    // with TIMESTAMP = BODY's `timestamp` field.
    const SECRET: &str = "tst_whsec_5f0b1c2d3e4f5a6b7c8d9e0f";
    const BODY: &str = r#"{"timestamp":"2026-03-02T14:05:11.140+0000","eventCategory":"stock","eventType":"low_quantity","guid":"e445f586-081c-4a2a-bcd6-30717a48e17a","details":{"itemGuid":"1e199622-ccbf-4ba8-8c37-111519dca13b","restaurantGuid":"3325cc58-dc6e-4e21-85f9-7de275ffe820","status":"QUANTITY","quantity":4.0,"multiLocationId":"100000000171241912","versionId":"1e199622-ccbf-4ba8-8c37-111519dca13b"}}"#;
    const SIGNATURE_B64: &str = "FWwOGMcxbTWmApYNwAKvvSuqEubP40sBNxFLcTDUqCI=";

    fn signed(signature: &str) -> Vec<(String, String)> {
        headers(&[(SIGNATURE, signature)])
    }

    fn vector() -> Vector<'static> {
        Vector {
            module: &Toast,
            header: SIGNATURE,
            secret: SECRET,
            other_secret: "another-secret",
            body: BODY,
            tampered: BODY.replace("4.0", "40.0"),
            signature: SIGNATURE_B64,
        }
    }

    #[test]
    fn verify_accepts_the_fixed_vector() {
        vector().assert_accepted();
    }

    #[test]
    fn verify_refuses_tampering_wrong_secret_missing_header_and_malformed_bodies() {
        vector().assert_refusals();
        let headers = signed(SIGNATURE_B64);
        // The body alone (without the timestamp) is not what Toast signs.
        let body_only = crate::schemes::base64(&crate::schemes::hmac_sha256(
            SECRET.as_bytes(),
            &[BODY.as_bytes()],
        ));
        assert_eq!(
            Toast.verify(&delivery(BODY, &signed(&body_only)), &secret(SECRET), 0),
            Err(Rejection::Mismatch)
        );
        for body in ["<xml/>", r#"{"guid":"g"}"#] {
            assert!(matches!(
                Toast.verify(&delivery(body, &headers), &secret(SECRET), 0),
                Err(Rejection::Malformed(_))
            ));
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        vector().assert_sign_round_trips();
    }

    #[test]
    fn stock_messages_give_the_item_figure_at_the_restaurant() {
        assert_eq!(
            Toast.event_id(&delivery(BODY, &[])).as_deref(),
            Some("e445f586-081c-4a2a-bcd6-30717a48e17a")
        );
        let mut expected = Normalized::new(Kind::Inventory);
        expected.topic = Some("low_quantity".into());
        expected.event_id = Some("e445f586-081c-4a2a-bcd6-30717a48e17a".into());
        expected.occurred_at = Some("2026-03-02T14:05:11.140Z".into());
        expected.location_id = Some("3325cc58-dc6e-4e21-85f9-7de275ffe820".into());
        expected.status = Some("QUANTITY".into());
        expected.inventory = Some(Inventory {
            sku: None,
            external_item_id: Some("1e199622-ccbf-4ba8-8c37-111519dca13b".into()),
            location_id: Some("3325cc58-dc6e-4e21-85f9-7de275ffe820".into()),
            quantity: Some(4),
        });
        assert_eq!(Toast.parse(&delivery(BODY, &[])), Ok(vec![expected]));

        let out = r#"{"timestamp":"2026-03-02T15:00:00.000+0000","eventCategory":"stock","eventType":"out_of_stock","guid":"g2","details":{"itemGuid":"i2","restaurantGuid":"r1","status":"OUT_OF_STOCK","multiLocationId":"100000000171239569"}}"#;
        let events = Toast.parse(&delivery(out, &[])).expect("parse");
        assert_eq!(events[0].status.as_deref(), Some("OUT_OF_STOCK"));
        assert_eq!(events[0].inventory.as_ref().and_then(|i| i.quantity), None);
    }

    const ORDER: &str = r#"{"timestamp":"2026-03-02T19:41:02.513+0000","eventCategory":"orders","eventType":"order_updated","guid":"b7a1c3d5-2e4f-4a6b-8c9d-0e1f2a3b4c5d","details":{"restaurantGuid":"3325cc58-dc6e-4e21-85f9-7de275ffe820","order":{"guid":"5f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8","entityType":"Order","voided":false,"deleted":false,"businessDate":20260302,"approvalStatus":"APPROVED","checks":[{"guid":"c0ffee00-1111-4222-8333-444455556666","entityType":"Check","paymentStatus":"PAID","amount":21.5,"totalAmount":23.22,"voided":false,"selections":[{"guid":"5e1ec7ed-aaaa-4bbb-8ccc-ddddeeeeffff","entityType":"MenuItemSelection","item":{"guid":"9a8b7c6d-5e4f-4321-8fed-cba987654321","entityType":"MenuItem"},"quantity":2.0,"price":17.0,"voided":false},{"guid":"5e1ec7ed-0000-4111-8222-333344445555","entityType":"MenuItemSelection","item":{"guid":"0a1b2c3d-4e5f-4678-9abc-def012345678","entityType":"MenuItem"},"quantity":1.0,"price":4.5,"voided":false},{"guid":"5e1ec7ed-9999-4888-8777-666655554444","item":{"guid":"0a1b2c3d-4e5f-4678-9abc-def012345678"},"quantity":1.0,"price":4.5,"voided":true}],"payments":[{"guid":"9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d","entityType":"OrderPayment","amount":23.22,"tipAmount":3.0,"type":"CREDIT","paymentStatus":"CAPTURED","refundStatus":"NONE"}]}]}}}"#;

    #[test]
    fn order_messages_give_lines_and_payments_without_guessing_a_currency() {
        let at = Some("2026-03-02T19:41:02.513Z".to_owned());
        let mut order = Normalized::new(Kind::Order);
        order.topic = Some("order_updated".into());
        order.event_id = Some("b7a1c3d5-2e4f-4a6b-8c9d-0e1f2a3b4c5d".into());
        order.occurred_at.clone_from(&at);
        order.location_id = Some("3325cc58-dc6e-4e21-85f9-7de275ffe820".into());
        order.external_order_id = Some("5f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8".into());
        order.status = Some("PAID".into());
        order.lines = vec![
            Line {
                line_id: Some("5e1ec7ed-aaaa-4bbb-8ccc-ddddeeeeffff".into()),
                sku: None,
                external_item_id: Some("9a8b7c6d-5e4f-4321-8fed-cba987654321".into()),
                quantity: 2,
                unit_price_minor: None,
            },
            Line {
                line_id: Some("5e1ec7ed-0000-4111-8222-333344445555".into()),
                sku: None,
                external_item_id: Some("0a1b2c3d-4e5f-4678-9abc-def012345678".into()),
                quantity: 1,
                unit_price_minor: None,
            },
        ];
        let mut payment = Normalized::new(Kind::Payment);
        payment.topic = order.topic.clone();
        payment.event_id = order.event_id.clone();
        payment.occurred_at = at;
        payment.location_id = order.location_id.clone();
        payment.external_order_id = order.external_order_id.clone();
        payment.external_payment_id = Some("9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d".into());
        payment.status = Some("CAPTURED".into());
        assert_eq!(Toast.parse(&delivery(ORDER, &[])), Ok(vec![order, payment]));
    }

    #[test]
    fn a_stated_currency_gives_exact_minor_amounts() {
        let body = ORDER.replace(r#""voided":false,"deleted":false,"#, r#""currency":"usd","#);
        let events = Toast.parse(&delivery(&body, &[])).expect("parse");
        assert_eq!(events[0].currency.as_deref(), Some("USD"));
        assert_eq!(events[0].total_minor, Some(2322));
        assert_eq!(events[1].amount_minor, Some(2322));
    }

    #[test]
    fn a_voided_order_is_a_hint() {
        let body = ORDER.replace(
            r#""voided":false,"deleted":false"#,
            r#""voided":true,"deleted":false"#,
        );
        let events = Toast.parse(&delivery(&body, &[])).expect("parse");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, Kind::Hint);
        assert_eq!(
            events[0].external_order_id.as_deref(),
            Some("5f3e2d1c-0b9a-4876-a5b4-c3d2e1f0a9b8")
        );
    }

    #[test]
    fn other_messages_are_ignored_and_malformed_bodies_are_errors() {
        let partner = r#"{"timestamp":"2026-03-02T19:41:02.513+0000","eventCategory":"partners","eventType":"partner_added","guid":"g","details":{"restaurantGuid":"r","restaurantName":"Main St"}}"#;
        assert_eq!(Toast.parse(&delivery(partner, &[])), Ok(vec![]));
        let half = r#"{"timestamp":"t","guid":"g","details":{"order":{"guid":"o","checks":[{"selections":[{"guid":"s","quantity":0.5}]}]}}}"#;
        assert_malformed(
            &Toast,
            &[
                "",
                "[]",
                r#"{"details":"x"}"#,
                r#"{"details":{"order":{"checks":[]}}}"#,
                half,
            ],
        );
    }
}
