//! QuickBooks Online (the accounting API that replaced QuickBooks Commerce). Intuit signs each
//! delivery with `intuit-signature` = base64(HMAC-SHA256(raw body, key = the app's Verifier
//! Token as UTF-8)); there is no timestamp, so replays are caught by event id.
//!
//! Deliveries carry ids only, in one of two formats: CloudEvents (a JSON array of
//! `{specversion, id, type: "qbo.invoice.created.v1", time, intuitentityid, intuitaccountid}`)
//! or the legacy `{"eventNotifications":[{realmId, dataChangeEvent:{entities:[{name, id,
//! operation, lastUpdated}]}}]}`. Each entity becomes a hint: Invoice and SalesReceipt →
//! `order`, Payment → `payment`, RefundReceipt and CreditMemo → `refund`, Item → `product`,
//! Customer → `customer`; other entities (bills, vendors, accounts…) are not Concord's.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Text},
};
use crate::{Delivery, Keys, Normalized, ParseError, Rejection};

const PLATFORM: &str = "quickbooks";
const SIGNATURE: &str = "intuit-signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Base64);

/// QuickBooks Online.
pub struct QuickBooks;

#[derive(Deserialize)]
struct CloudEvent {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    time: Option<String>,
    intuitentityid: Option<Text>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Legacy {
    event_notifications: Vec<Notification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    realm_id: Option<Text>,
    data_change_event: Option<DataChange>,
}

#[derive(Deserialize)]
struct DataChange {
    #[serde(default)]
    entities: Vec<Entity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    name: String,
    id: Text,
    operation: Option<String>,
    last_updated: Option<String>,
}

/// The body in either format: CloudEvents are an array, the legacy format an object.
enum Body {
    CloudEvents(Vec<CloudEvent>),
    Legacy(Legacy),
}

fn body(bytes: &[u8]) -> Result<Body, ParseError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => common::json(PLATFORM, bytes).map(Body::CloudEvents),
        Some(b'{') => common::json(PLATFORM, bytes).map(Body::Legacy),
        _ => Err(common::malformed(
            PLATFORM,
            "expected a CloudEvents array or an eventNotifications object",
        )),
    }
}

/// Concord's resource for a QuickBooks entity name (any case).
fn resource(entity: &str) -> Option<&'static str> {
    match entity.to_ascii_lowercase().as_str() {
        "invoice" | "salesreceipt" => Some("order"),
        "payment" => Some("payment"),
        "refundreceipt" | "creditmemo" => Some("refund"),
        "item" => Some("product"),
        "customer" => Some("customer"),
        _ => None,
    }
}

impl CloudEvent {
    fn normalize(&self) -> Option<Normalized> {
        // `qbo.<entity>.<operation>.v1`
        let entity = self.kind.as_deref()?.split('.').nth(1)?;
        let mut event = common::hint_event(
            resource(entity)?,
            self.intuitentityid.as_ref().map(|id| id.0.clone()),
        );
        event.topic.clone_from(&self.kind);
        event.event_id.clone_from(&self.id);
        event.occurred_at = self.time.as_deref().and_then(common::utc_minutes);
        Some(event)
    }
}

impl Entity {
    /// The legacy dedup key Intuit documents: realm, entity, id, operation, last update.
    fn key(&self, realm: Option<&Text>) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            realm.map_or("", |r| r.0.as_str()),
            self.name,
            self.id.0,
            self.operation.as_deref().unwrap_or(""),
            self.last_updated.as_deref().unwrap_or(""),
        )
    }

    fn normalize(&self, realm: Option<&Text>) -> Option<Normalized> {
        let mut event = common::hint_event(resource(&self.name)?, Some(self.id.0.clone()));
        event.topic = Some(match &self.operation {
            Some(operation) => format!("{}.{operation}", self.name),
            None => self.name.clone(),
        });
        event.event_id = Some(self.key(realm));
        event.occurred_at = self.last_updated.as_deref().and_then(common::utc_minutes);
        Some(event)
    }
}

impl Inbound for QuickBooks {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        SCHEME.verify(
            delivery,
            keys.require_secret()?.as_bytes(),
            &[delivery.body],
        )
    }

    /// The CloudEvent's `id`, or the legacy key of the one entity; a batch of several events
    /// has none (each normalized event carries its own).
    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        match body(delivery.body).ok()? {
            Body::CloudEvents(events) => match events.as_slice() {
                [event] => event.id.clone(),
                _ => None,
            },
            Body::Legacy(legacy) => match legacy.event_notifications.as_slice() {
                [notification] => {
                    match notification.data_change_event.as_ref()?.entities.as_slice() {
                        [entity] => Some(entity.key(notification.realm_id.as_ref())),
                        _ => None,
                    }
                }
                _ => None,
            },
        }
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        Ok(match body(delivery.body)? {
            Body::CloudEvents(events) => events.iter().filter_map(CloudEvent::normalize).collect(),
            Body::Legacy(legacy) => legacy
                .event_notifications
                .iter()
                .flat_map(|notification| {
                    let realm = notification.realm_id.as_ref();
                    notification
                        .data_change_event
                        .iter()
                        .flat_map(|change| &change.entities)
                        .filter_map(move |entity| entity.normalize(realm))
                })
                .collect(),
        })
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
    use crate::platforms::test_support::{delivery, secret as token};
    use crate::{Hint, Kind};

    // Intuit's own vector: intuit/QuickBooks-V3-Java-SDK,
    // ipp-v3-java-devkit/src/test/java/com/intuit/ipp/services/WebhooksServiceTest.java.
    const VENDOR_TOKEN: &str = "b5771f19b12ddb4bcdb9f08bdc50bc63878a";
    const VENDOR_SIGNATURE: &str = "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q=";
    const VENDOR_BODY: &str = r#"{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}"#;

    const CLOUD_EVENTS: &str = r#"[
      {"specversion":"1.0","id":"7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e01","source":"intuit.qbo","type":"qbo.salesreceipt.created.v1","time":"2026-03-02T14:05:11.250Z","intuitentityid":"1043","intuitaccountid":"9341452810127395"},
      {"specversion":"1.0","id":"7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e02","source":"intuit.qbo","type":"qbo.payment.created.v1","time":"2026-03-02T14:05:12Z","intuitentityid":"188","intuitaccountid":"9341452810127395"},
      {"specversion":"1.0","id":"7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e03","source":"intuit.qbo","type":"qbo.refundreceipt.created.v1","time":"2026-03-02T15:00:00+01:00","intuitentityid":"77","intuitaccountid":"9341452810127395"},
      {"specversion":"1.0","id":"7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e04","source":"intuit.qbo","type":"qbo.item.updated.v1","time":"2026-03-02T14:06:00Z","intuitentityid":"31","intuitaccountid":"9341452810127395"},
      {"specversion":"1.0","id":"7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e05","source":"intuit.qbo","type":"qbo.bill.created.v1","time":"2026-03-02T14:07:00Z","intuitentityid":"12","intuitaccountid":"9341452810127395"}
    ]"#;

    fn signed(signature: &str) -> Vec<(String, String)> {
        vec![("Intuit-Signature".into(), signature.into())]
    }

    fn hint(resource: &'static str, id: &str, topic: &str, event_id: &str, at: &str) -> Normalized {
        let mut event = common::hint_event(resource, Some(id.into()));
        event.topic = Some(topic.into());
        event.event_id = Some(event_id.into());
        event.occurred_at = Some(at.into());
        event
    }

    #[test]
    fn verify_accepts_intuits_vector() {
        let headers = signed(VENDOR_SIGNATURE);
        let keys = token(VENDOR_TOKEN);
        assert_eq!(
            QuickBooks.verify(&delivery(VENDOR_BODY, &headers), &keys, 0),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_tampering_wrong_token_and_missing_parts() {
        let headers = signed(VENDOR_SIGNATURE);
        let tampered = VENDOR_BODY.replace("Create", "Delete");
        assert_eq!(
            QuickBooks.verify(&delivery(&tampered, &headers), &token(VENDOR_TOKEN), 0),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            QuickBooks.verify(&delivery(VENDOR_BODY, &headers), &token("other-token"), 0),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            QuickBooks.verify(&delivery(VENDOR_BODY, &[]), &token(VENDOR_TOKEN), 0),
            Err(Rejection::MissingHeader("intuit-signature"))
        );
        assert_eq!(
            QuickBooks.verify(&delivery(VENDOR_BODY, &headers), &Keys::default(), 0),
            Err(Rejection::MissingKey("secret"))
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let keys = token("verifier-token-123");
        let headers = QuickBooks
            .sign(CLOUD_EVENTS.as_bytes(), &keys, None, 0)
            .expect("sign");
        assert_eq!(headers[0].0, "intuit-signature");
        assert_eq!(
            QuickBooks.verify(&delivery(CLOUD_EVENTS, &headers), &keys, 0),
            Ok(())
        );
    }

    #[test]
    fn cloud_events_become_hints_per_entity() {
        let events = QuickBooks
            .parse(&delivery(CLOUD_EVENTS, &[]))
            .expect("parse");
        assert_eq!(
            events,
            vec![
                hint(
                    "order",
                    "1043",
                    "qbo.salesreceipt.created.v1",
                    "7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e01",
                    "2026-03-02T14:05:11.250Z"
                ),
                hint(
                    "payment",
                    "188",
                    "qbo.payment.created.v1",
                    "7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e02",
                    "2026-03-02T14:05:12Z"
                ),
                hint(
                    "refund",
                    "77",
                    "qbo.refundreceipt.created.v1",
                    "7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e03",
                    "2026-03-02T14:00:00Z"
                ),
                hint(
                    "product",
                    "31",
                    "qbo.item.updated.v1",
                    "7c1e2f4a-0b5d-4e61-9a8f-3d2c1b0a9e04",
                    "2026-03-02T14:06:00Z"
                ),
            ]
        );
        assert_eq!(events[0].external_order_id.as_deref(), Some("1043"));
        assert_eq!(events[1].external_payment_id.as_deref(), Some("188"));
        assert_eq!(events[2].external_refund_id.as_deref(), Some("77"));
        // A batch has no single id; each event carries its own.
        assert_eq!(QuickBooks.event_id(&delivery(CLOUD_EVENTS, &[])), None);
    }

    #[test]
    fn one_cloud_event_gives_its_id() {
        let body = r#"[{"specversion":"1.0","id":"d1a3aedd-9670-41bf-a4f9-c148a1cc4e03","source":"intuit.qbo","type":"qbo.invoice.updated.v1","time":"2026-03-02T14:05:11Z","intuitentityid":"1234","intuitaccountid":"310687"}]"#;
        assert_eq!(
            QuickBooks.event_id(&delivery(body, &[])).as_deref(),
            Some("d1a3aedd-9670-41bf-a4f9-c148a1cc4e03")
        );
        let events = QuickBooks.parse(&delivery(body, &[])).expect("parse");
        assert_eq!(events[0].kind, Kind::Hint);
        assert_eq!(
            events[0].hint,
            Some(Hint {
                resource: "order".into(),
                id: Some("1234".into())
            })
        );
    }

    #[test]
    fn legacy_notifications_become_hints_keyed_by_realm_entity_and_update() {
        let key = "1185883450:Customer:1:Create:2015-10-05T14:42:19-0700";
        assert_eq!(
            QuickBooks.event_id(&delivery(VENDOR_BODY, &[])).as_deref(),
            Some(key)
        );
        assert_eq!(
            QuickBooks.parse(&delivery(VENDOR_BODY, &[])),
            Ok(vec![hint(
                "customer",
                "1",
                "Customer.Create",
                key,
                "2015-10-05T21:42:19Z"
            )])
        );

        let body = r#"{"eventNotifications":[{"realmId":"9341452810127395","dataChangeEvent":{"entities":[
            {"name":"Invoice","id":"130","operation":"Update","lastUpdated":"2026-03-02T09:00:05.000Z"},
            {"name":"Vendor","id":"56","operation":"Create","lastUpdated":"2026-03-02T09:00:06.000Z"},
            {"name":"CreditMemo","id":"131","operation":"Void","lastUpdated":"2026-03-02T09:00:07.000Z"}]}}]}"#;
        let events = QuickBooks.parse(&delivery(body, &[])).expect("parse");
        assert_eq!(
            events,
            vec![
                hint(
                    "order",
                    "130",
                    "Invoice.Update",
                    "9341452810127395:Invoice:130:Update:2026-03-02T09:00:05.000Z",
                    "2026-03-02T09:00:05Z"
                ),
                hint(
                    "refund",
                    "131",
                    "CreditMemo.Void",
                    "9341452810127395:CreditMemo:131:Void:2026-03-02T09:00:07.000Z",
                    "2026-03-02T09:00:07Z"
                ),
            ]
        );
        assert_eq!(QuickBooks.event_id(&delivery(body, &[])), None);
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        for body in [
            "",
            "not json",
            "{}",
            r#"{"eventNotifications":"x"}"#,
            r#"[{"id":5}]"#,
            "[",
        ] {
            assert!(
                matches!(
                    QuickBooks.parse(&delivery(body, &[])),
                    Err(ParseError::Malformed { .. })
                ),
                "{body}"
            );
            assert_eq!(QuickBooks.event_id(&delivery(body, &[])), None);
        }
        assert_eq!(QuickBooks.parse(&delivery("[]", &[])), Ok(vec![]));
    }
}
