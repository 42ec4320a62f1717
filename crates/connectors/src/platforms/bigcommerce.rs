//! BigCommerce webhooks. Signed hooks use the Standard Webhooks headers (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64>`) with the app's client secret bytes as
//! the HMAC key (the docs hand base64(client secret) to a Standard Webhooks library) and a
//! 300 s tolerance; older hooks are unsigned and are only hints. Payloads are thin:
//! `{scope, store_id, data{type, id, …}, hash, created_at, producer}`, so every delivery names
//! what to fetch, except inventory updates that state an absolute level.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Id},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Normalized, ParseError, Rejection, money::Amount,
    schemes::standard_webhooks,
};

const PLATFORM: &str = "bigcommerce";

/// BigCommerce (online store).
pub struct BigCommerce;

#[derive(Deserialize)]
struct Hook {
    scope: Option<String>,
    created_at: Option<i64>,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<Id>,
    #[serde(rename = "orderId")]
    order_id: Option<Id>,
    product_id: Option<Id>,
    variant_id: Option<Id>,
    location_id: Option<Id>,
    inventory: Option<Level>,
    refund: Option<RefundRef>,
}

#[derive(Deserialize)]
struct Level {
    product_id: Option<Id>,
    variant_id: Option<Id>,
    method: Option<String>,
    value: Option<Amount>,
}

#[derive(Deserialize)]
struct RefundRef {
    refund_id: Option<Id>,
}

impl Inbound for BigCommerce {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, now: i64) -> Result<(), Rejection> {
        if delivery.header("webhook-signature").is_none() {
            return Err(Rejection::Unsigned(
                "no webhook-signature header: an older unsigned BigCommerce hook: treated as a hint and re-fetched",
            ));
        }
        let secret = keys.require_secret()?;
        standard_webhooks::verify_with_key(secret.as_bytes(), delivery, now)
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::text(delivery.header("webhook-id"))
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let hook: Hook = common::json(PLATFORM, delivery.body)?;
        let scope = hook
            .scope
            .ok_or_else(|| common::malformed(PLATFORM, "the payload has no `scope`"))?;
        let Some(data) = hook.data else {
            return Ok(Vec::new());
        };
        let mut event = Normalized {
            topic: Some(scope.clone()),
            event_id: self.event_id(delivery),
            occurred_at: hook.created_at.and_then(common::unix),
            location_id: common::id(data.location_id.as_ref()),
            ..Normalized::new(Kind::Hint)
        };
        let id = common::id(data.id.as_ref());
        let (resource, id) = match (data.kind.as_deref(), data.inventory) {
            // `value` is the new level only when the adjustment was absolute.
            (_, Some(level)) if level.method.as_deref() == Some("absolute") => {
                event.kind = Kind::Inventory;
                event.inventory = Some(Inventory {
                    sku: None,
                    external_item_id: common::id(level.variant_id.as_ref())
                        .or_else(|| common::id(level.product_id.as_ref())),
                    location_id: event.location_id.clone(),
                    quantity: level.value.as_ref().and_then(common::whole),
                });
                return Ok(vec![event]);
            }
            (_, Some(level)) => (
                "inventory",
                common::id(level.variant_id.as_ref())
                    .or_else(|| common::id(level.product_id.as_ref())),
            ),
            (Some("order"), None) => {
                event.external_order_id = id.clone();
                match data.refund {
                    Some(refund) => ("refund", common::id(refund.refund_id.as_ref())),
                    None => ("order", id),
                }
            }
            (Some("shipment"), None) => {
                event.external_order_id = common::id(data.order_id.as_ref());
                ("order", event.external_order_id.clone())
            }
            (Some(kind @ ("product" | "sku" | "customer")), None) => (kind, id),
            // Multi-location inventory scopes carry ids but no `type`.
            (None, None) if scope.contains("/inventory/") && data.product_id.is_some() => (
                "inventory",
                common::id(data.variant_id.as_ref())
                    .or_else(|| common::id(data.product_id.as_ref())),
            ),
            _ => return Ok(Vec::new()),
        };
        event.hint = common::hint(resource, id);
        Ok(vec![event])
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let secret = keys.require_secret()?;
        let id = format!("msg_{}", &crate::content_id(body)[..24]);
        Ok(standard_webhooks::headers_with_key(
            secret.as_bytes(),
            &id,
            now,
            body,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;

    // BigCommerce publishes no fixed vector; computed independently with python:
    // base64(hmac.new(b"bc-client-secret", b"msg_2Pt.1700000000." + BODY, sha256).digest()).
    const SECRET: &str = "bc-client-secret";
    const ID: &str = "msg_2Pt";
    const TIMESTAMP: i64 = 1_700_000_000;
    const BODY: &str = r#"{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,"producer":"stores/abc123"}"#;
    const SIGNATURE_VALUE: &str = "SjGZT8RbnthZ2ANQVzlBg8iIbiK3KYwcjSKu4kId/Kg=";

    fn headers(id: &str, timestamp: i64, signature: Option<&str>) -> Vec<(String, String)> {
        let mut headers = vec![
            ("webhook-id".to_owned(), id.to_owned()),
            ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ];
        if let Some(signature) = signature {
            headers.push(("webhook-signature".to_owned(), signature.to_owned()));
        }
        headers
    }

    fn check(
        headers: &[(String, String)],
        body: &str,
        secret: &str,
        now: i64,
    ) -> Result<(), Rejection> {
        let delivery = Delivery {
            body: body.as_bytes(),
            headers,
            url: None,
        };
        let keys = Keys {
            secret: Some(secret),
            ..Keys::default()
        };
        BigCommerce.verify(&delivery, &keys, now)
    }

    fn parse(body: &str) -> Result<Vec<Normalized>, ParseError> {
        let headers = headers(ID, TIMESTAMP, None);
        BigCommerce.parse(&Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url: None,
        })
    }

    #[test]
    fn the_fixed_vector_verifies_with_the_raw_client_secret() {
        let signature = format!("v1,{SIGNATURE_VALUE}");
        let good = headers(ID, TIMESTAMP, Some(&signature));
        assert_eq!(check(&good, BODY, SECRET, TIMESTAMP + 60), Ok(()));
    }

    #[test]
    fn changes_stale_deliveries_and_unsigned_hooks_are_refused() {
        let signature = format!("v1,{SIGNATURE_VALUE}");
        let good = headers(ID, TIMESTAMP, Some(&signature));
        assert_eq!(
            check(&good, &BODY.replace("250", "251"), SECRET, TIMESTAMP),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(&good, BODY, "other", TIMESTAMP),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(&good, BODY, SECRET, TIMESTAMP + 301),
            Err(Rejection::Stale(301))
        );
        let unsigned = check(&headers(ID, TIMESTAMP, None), BODY, SECRET, TIMESTAMP);
        assert!(
            matches!(unsigned, Err(Rejection::Unsigned(why)) if why.contains("treated as a hint and re-fetched"))
        );
        assert_eq!(
            check(&good[1..], BODY, SECRET, TIMESTAMP),
            Err(Rejection::MissingHeader("webhook-id"))
        );
    }

    #[test]
    fn signing_round_trips_with_a_content_derived_id() {
        let keys = Keys {
            secret: Some(SECRET),
            ..Keys::default()
        };
        let signed = BigCommerce
            .sign(BODY.as_bytes(), &keys, None, TIMESTAMP)
            .expect("signed");
        assert_eq!(signed.len(), 3);
        assert!(signed[0].1.starts_with("msg_"));
        assert_eq!(check(&signed, BODY, SECRET, TIMESTAMP), Ok(()));
        let delivery = Delivery {
            body: BODY.as_bytes(),
            headers: &signed,
            url: None,
        };
        assert_eq!(BigCommerce.event_id(&delivery), Some(signed[0].1.clone()));
    }

    #[test]
    fn order_scopes_are_hints_naming_the_order() {
        let order = &parse(BODY).expect("hint")[0];
        assert_eq!(order.kind, Kind::Hint);
        assert_eq!(order.topic.as_deref(), Some("store/order/created"));
        assert_eq!(order.event_id.as_deref(), Some(ID));
        assert_eq!(order.occurred_at.as_deref(), Some("2019-06-25T16:15:35Z"));
        assert_eq!(order.external_order_id.as_deref(), Some("250"));
        assert_eq!(
            order.hint,
            Some(Hint {
                resource: "order".into(),
                id: Some("250".into())
            })
        );
        let refund = r#"{"scope":"store/order/refund/created","store_id":"1025646",
            "data":{"type":"order","id":250,"refund":{"refund_id":3}},"created_at":1561479923}"#;
        let refund = &parse(refund).expect("hint")[0];
        assert_eq!(refund.external_order_id.as_deref(), Some("250"));
        assert_eq!(
            refund.hint,
            Some(Hint {
                resource: "refund".into(),
                id: Some("3".into())
            })
        );
        let shipment = r#"{"scope":"store/shipment/created","data":{"type":"shipment","id":12,"orderId":251}}"#;
        assert_eq!(
            parse(shipment).expect("hint")[0]
                .external_order_id
                .as_deref(),
            Some("251")
        );
    }

    #[test]
    fn absolute_inventory_updates_carry_the_level() {
        let body = r#"{"scope":"store/sku/inventory/updated","store_id":"1025646",
            "data":{"type":"sku","id":461,"inventory":{"product_id":206,"method":"absolute","value":5,"variant_id":509}},
            "hash":"116ddb29d7bc1b2322cc1a4dc295221ee3637d4b","created_at":1561480673,"producer":"stores/abc123"}"#;
        let level = &parse(body).expect("inventory")[0];
        assert_eq!(level.kind, Kind::Inventory);
        assert_eq!(
            level.inventory,
            Some(Inventory {
                sku: None,
                external_item_id: Some("509".into()),
                location_id: None,
                quantity: Some(5),
            })
        );
        let relative = body.replace("absolute", "relative");
        let relative = &parse(&relative).expect("hint")[0];
        assert_eq!(relative.kind, Kind::Hint);
        assert_eq!(relative.inventory, None);
        assert_eq!(
            relative.hint,
            Some(Hint {
                resource: "inventory".into(),
                id: Some("509".into())
            })
        );
        let located = r#"{"scope":"store/channel/*/inventory/product/stock_changed","store_id":"1",
            "created_at":1682624640,"data":{"variant_id":127,"product_id":113,"location_id":2}}"#;
        let located = &parse(located).expect("hint")[0];
        assert_eq!(located.location_id.as_deref(), Some("2"));
        assert_eq!(
            located.hint.as_ref().and_then(|h| h.id.as_deref()),
            Some("127")
        );
    }

    #[test]
    fn catalog_and_customer_scopes_are_hints_and_others_nothing() {
        let product = r#"{"scope":"store/product/updated","data":{"type":"product","id":205},"created_at":1561479233}"#;
        assert_eq!(
            parse(product).expect("hint")[0].hint,
            Some(Hint {
                resource: "product".into(),
                id: Some("205".into())
            })
        );
        let sku = r#"{"scope":"store/sku/created","data":{"type":"sku","id":461,"sku":{"product_id":206,"variant_id":509}}}"#;
        assert_eq!(
            parse(sku).expect("hint")[0]
                .hint
                .as_ref()
                .map(|h| h.resource.as_str()),
            Some("sku")
        );
        let cart = r#"{"scope":"store/cart/created","data":{"type":"cart","id":"09346904-4175-44fd-be53-f7e598531b6c"}}"#;
        assert_eq!(parse(cart), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("").is_err());
        assert!(parse(r#"{"data":{"type":"order","id":1}}"#).is_err());
        assert!(
            parse(r#"{"scope":"store/order/created","data":{"type":"order","id":1.5}}"#).is_err()
        );
    }
}
