//! Lightspeed Retail X-Series (formerly Vend) webhooks. The signature scheme is unconfirmed:
//! community code has `X-Signature: signature=<hex>, algorithm=HMAC-SHA256`, an HMAC over the
//! raw body under the app's client secret; the parameters are read in any order and any other
//! algorithm is refused. Bodies are form-encoded with the event in `type` and the entity as a
//! JSON string in `payload`; sales carry no currency, so their money is left out, and times
//! without an offset (the 0.9-era `2013-10-30 22:33:17`) are left out rather than guessed.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Id, seq},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
};

const PLATFORM: &str = "lightspeed-x";
const SIGNATURE: &str = "X-Signature";
const ALGORITHM: &str = "HMAC-SHA256";
/// The MAC inside `X-Signature`'s `signature=` field.
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Hex);

/// Lightspeed Retail X-Series (POS).
pub struct LightspeedX;

#[derive(Deserialize)]
struct Entity {
    id: Option<Id>,
    version: Option<Id>,
    status: Option<String>,
    outlet_id: Option<Id>,
    customer_id: Option<Id>,
    created_at: Option<String>,
    updated_at: Option<String>,
    currency: Option<String>,
    total_price: Option<Amount>,
    #[serde(default, deserialize_with = "seq", alias = "register_sale_products")]
    line_items: Vec<SaleLine>,
    // Inventory records.
    product_id: Option<Id>,
    count: Option<Amount>,
    current_amount: Option<Amount>,
    inventory_level: Option<Amount>,
    product: Option<ProductRef>,
    sku: Option<String>,
}

#[derive(Deserialize)]
struct SaleLine {
    id: Option<Id>,
    product_id: Option<Id>,
    sku: Option<String>,
    quantity: Amount,
    price: Option<Amount>,
}

#[derive(Deserialize)]
struct ProductRef {
    sku: Option<String>,
}

/// The event type and the entity JSON of a form-encoded delivery.
fn fields(body: &[u8]) -> (Option<String>, Option<String>) {
    (
        common::form_field(body, "type"),
        common::form_field(body, "payload"),
    )
}

impl Inbound for LightspeedX {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        let header = common::required(delivery, SIGNATURE)?;
        let mut signature = None;
        let mut algorithm = None;
        for (name, value) in header.split(',').filter_map(|p| p.split_once('=')) {
            match name.trim().to_ascii_lowercase().as_str() {
                "signature" => signature = Some(value.trim()),
                "algorithm" => algorithm = Some(value.trim()),
                _ => {}
            }
        }
        match algorithm {
            Some(a) if a.eq_ignore_ascii_case(ALGORITHM) => {}
            Some(_) => {
                return Err(Rejection::Malformed(format!(
                    "X-Signature names an algorithm other than {ALGORITHM}"
                )));
            }
            None => {
                return Err(Rejection::Malformed(
                    "X-Signature names no algorithm".to_owned(),
                ));
            }
        }
        let signature = signature.ok_or(Rejection::Mismatch)?;
        let secret = keys.require_secret()?;
        SCHEME.matches(signature, secret.as_bytes(), &[delivery.body])
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        let (_, payload) = fields(delivery.body);
        let entity: Entity = serde_json::from_str(&payload?).ok()?;
        let id = common::id(entity.id.as_ref())?;
        let version = common::id(entity.version.as_ref())?;
        Some(format!("{id}:{version}"))
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let (topic, payload) = fields(delivery.body);
        let payload =
            payload.ok_or_else(|| common::malformed(PLATFORM, "no form field `payload`"))?;
        let entity: Entity = common::json(PLATFORM, payload.as_bytes())?;
        let topic = topic.ok_or_else(|| common::malformed(PLATFORM, "no form field `type`"))?;
        let mut event = Normalized {
            topic: Some(topic.clone()),
            event_id: self.event_id(delivery),
            occurred_at: entity
                .updated_at
                .as_deref()
                .or(entity.created_at.as_deref())
                .and_then(common::utc),
            location_id: common::id(entity.outlet_id.as_ref()),
            ..Normalized::new(Kind::Hint)
        };
        let id = common::id(entity.id.as_ref());
        match topic.as_str() {
            "sale.update" => {
                event.kind = Kind::Order;
                sale(&mut event, entity);
            }
            "inventory.update" => {
                event.kind = Kind::Inventory;
                event.inventory = Some(Inventory {
                    sku: common::text(entity.product.as_ref().and_then(|p| p.sku.as_deref()))
                        .or_else(|| common::text(entity.sku.as_deref())),
                    external_item_id: common::id(entity.product_id.as_ref()),
                    location_id: event.location_id.clone(),
                    quantity: entity
                        .current_amount
                        .or(entity.count)
                        .or(entity.inventory_level)
                        .as_ref()
                        .and_then(common::whole),
                });
            }
            "product.update" => {
                event.kind = Kind::Product;
                event.hint = common::hint("product", id);
            }
            "customer.update" => {
                event.customer = common::customer(id.clone(), None, None, None);
                event.hint = common::hint("customer", id);
            }
            // Stock moved for the consignment's products: re-read inventory.
            "consignment.send" | "consignment.receive" => {
                event.hint = common::hint("inventory", None);
            }
            _ => return Ok(Vec::new()),
        }
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
        let mac = SCHEME.value(secret.as_bytes(), &[body]);
        Ok(vec![(
            SIGNATURE.to_owned(),
            format!("signature={mac}, algorithm={ALGORITHM}"),
        )])
    }
}

fn sale(event: &mut Normalized, sale: Entity) {
    let currency = common::currency(sale.currency.as_deref());
    event.external_order_id = common::id(sale.id.as_ref());
    event.status = common::text(sale.status.as_deref());
    event.total_minor = common::decimal(sale.total_price.as_ref(), currency.as_deref());
    event.customer = common::customer(common::id(sale.customer_id.as_ref()), None, None, None);
    let lines = sale
        .line_items
        .iter()
        .map(|l| {
            Some(Line {
                line_id: common::id(l.id.as_ref()),
                sku: common::text(l.sku.as_deref()),
                external_item_id: common::id(l.product_id.as_ref()),
                quantity: common::whole(&l.quantity)?,
                unit_price_minor: common::decimal(l.price.as_ref(), currency.as_deref()),
            })
        })
        .collect();
    common::set_lines(event, lines);
    event.currency = currency;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;

    // Lightspeed documents no vector (the scheme itself is unconfirmed); computed
    // independently: printf '%s' "$BODY" | openssl dgst -sha256 -hmac ls-client-secret
    const SECRET: &str = "ls-client-secret";
    const BODY: &str = "type=inventory.update&payload=%7B%22id%22%3A%22inv-1%22%2C%22product_id%22%3A%22prod-9%22%2C%22outlet_id%22%3A%22out-1%22%2C%22count%22%3A7%2C%22version%22%3A42%7D&domain_prefix=demo";
    const HEX: &str = "1bd7ad5ed78e8f6da7c37dc9e7ed810be594ac9d969f6c80a063323594cda12d";

    fn check(signature: Option<&str>, body: &str, secret: &str) -> Result<(), Rejection> {
        let headers: Vec<(String, String)> = signature
            .map(|s| ("x-signature".to_owned(), s.to_owned()))
            .into_iter()
            .collect();
        let delivery = Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url: None,
        };
        let keys = Keys {
            secret: Some(secret),
            ..Keys::default()
        };
        LightspeedX.verify(&delivery, &keys, 0)
    }

    fn form(kind: &str, payload: &str) -> String {
        let mut encoded = String::new();
        for b in payload.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        format!("type={kind}&payload={encoded}")
    }

    fn parse(body: &str) -> Result<Vec<Normalized>, ParseError> {
        LightspeedX.parse(&Delivery {
            body: body.as_bytes(),
            headers: &[],
            url: None,
        })
    }

    #[test]
    fn the_fixed_vector_verifies_with_parameters_in_any_order() {
        let header = format!("signature={HEX}, algorithm=HMAC-SHA256");
        assert_eq!(check(Some(&header), BODY, SECRET), Ok(()));
        let reordered = format!("algorithm=hmac-sha256,signature={HEX}");
        assert_eq!(check(Some(&reordered), BODY, SECRET), Ok(()));
    }

    #[test]
    fn changes_other_algorithms_and_missing_parts_are_refused() {
        let header = format!("signature={HEX}, algorithm=HMAC-SHA256");
        assert_eq!(
            check(Some(&header), &BODY.replace("%3A7%2C", "%3A8%2C"), SECRET),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(Some(&header), BODY, "other"),
            Err(Rejection::Mismatch)
        );
        assert!(matches!(
            check(
                Some(&format!("signature={HEX}, algorithm=HMAC-SHA1")),
                BODY,
                SECRET
            ),
            Err(Rejection::Malformed(_))
        ));
        assert!(matches!(
            check(Some(&format!("signature={HEX}")), BODY, SECRET),
            Err(Rejection::Malformed(_))
        ));
        assert_eq!(
            check(Some("algorithm=HMAC-SHA256"), BODY, SECRET),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(None, BODY, SECRET),
            Err(Rejection::MissingHeader(SIGNATURE))
        );
    }

    #[test]
    fn signing_round_trips() {
        let keys = Keys {
            secret: Some(SECRET),
            ..Keys::default()
        };
        let signed = LightspeedX
            .sign(BODY.as_bytes(), &keys, None, 0)
            .expect("signed");
        assert_eq!(
            signed,
            vec![(
                SIGNATURE.to_owned(),
                format!("signature={HEX}, algorithm=HMAC-SHA256")
            )]
        );
        assert_eq!(check(Some(&signed[0].1), BODY, SECRET), Ok(()));
    }

    #[test]
    fn an_inventory_update_is_a_figure_per_outlet() {
        let events = parse(BODY).expect("inventory");
        assert_eq!(events.len(), 1);
        let level = &events[0];
        assert_eq!(level.kind, Kind::Inventory);
        assert_eq!(level.topic.as_deref(), Some("inventory.update"));
        assert_eq!(level.event_id.as_deref(), Some("inv-1:42"));
        assert_eq!(
            level.inventory,
            Some(Inventory {
                sku: None,
                external_item_id: Some("prod-9".into()),
                location_id: Some("out-1".into()),
                quantity: Some(7),
            })
        );
        let newer = form(
            "inventory.update",
            r#"{"id":"inv-2","product_id":"prod-9","outlet_id":"out-2","current_amount":3.0,"product":{"id":"prod-9","sku":"TEE-S"}}"#,
        );
        let level = &parse(&newer).expect("inventory")[0];
        assert_eq!(level.event_id, None);
        assert_eq!(
            level
                .inventory
                .as_ref()
                .map(|i| (i.sku.as_deref(), i.quantity)),
            Some((Some("TEE-S"), Some(3)))
        );
    }

    #[test]
    fn a_sale_maps_lines_but_no_money_without_a_currency() {
        let body = form(
            "sale.update",
            r#"{"id":"0a4b6f34-3c5c-11e6-9a1e-0a2b3c4d5e6f","outlet_id":"out-1","customer_id":"cust-3",
                "status":"CLOSED","created_at":"2024-05-01T10:00:00+00:00","updated_at":"2024-05-01T10:02:00+00:00",
                "total_price":18.26,"version":9007,
                "register_sale_products":[{"id":"li-1","product_id":"prod-9","quantity":2,"price":9.13},
                                          {"id":"li-2","product_id":"prod-4","quantity":-1,"price":0}]}"#,
        );
        let sale = &parse(&body).expect("sale")[0];
        assert_eq!(sale.kind, Kind::Order);
        assert_eq!(
            sale.external_order_id.as_deref(),
            Some("0a4b6f34-3c5c-11e6-9a1e-0a2b3c4d5e6f")
        );
        assert_eq!(sale.status.as_deref(), Some("CLOSED"));
        assert_eq!(sale.occurred_at.as_deref(), Some("2024-05-01T10:02:00Z"));
        assert_eq!(sale.location_id.as_deref(), Some("out-1"));
        assert_eq!((sale.currency.as_deref(), sale.total_minor), (None, None));
        assert_eq!(
            sale.lines,
            vec![
                Line {
                    line_id: Some("li-1".into()),
                    sku: None,
                    external_item_id: Some("prod-9".into()),
                    quantity: 2,
                    unit_price_minor: None,
                },
                Line {
                    line_id: Some("li-2".into()),
                    sku: None,
                    external_item_id: Some("prod-4".into()),
                    quantity: -1,
                    unit_price_minor: None,
                },
            ]
        );
        assert_eq!(
            sale.customer.as_ref().and_then(|c| c.id.as_deref()),
            Some("cust-3")
        );
    }

    #[test]
    fn products_customers_and_consignments_are_hints() {
        let product = &parse(&form("product.update", r#"{"id":"prod-9","sku":"TEE-S"}"#))
            .expect("product")[0];
        assert_eq!(product.kind, Kind::Product);
        assert_eq!(
            product.hint,
            Some(Hint {
                resource: "product".into(),
                id: Some("prod-9".into())
            })
        );
        let customer = &parse(&form("customer.update", r#"{"id":"cust-3"}"#)).expect("hint")[0];
        assert_eq!(
            customer.hint.as_ref().map(|h| h.resource.as_str()),
            Some("customer")
        );
        let received = &parse(&form("consignment.receive", r#"{"id":"con-1"}"#)).expect("hint")[0];
        assert_eq!(
            received.hint.as_ref().map(|h| h.resource.as_str()),
            Some("inventory")
        );
        assert_eq!(
            parse(&form("register_closure.create", r#"{"id":"rc-1"}"#)),
            Ok(vec![])
        );
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("type=sale.update").is_err());
        assert!(parse("type=sale.update&payload=not%20json").is_err());
        assert!(
            parse(&form(
                "sale.update",
                r#"{"id":"s","line_items":[{"quantity":true}]}"#
            ))
            .is_err()
        );
        assert!(parse("payload=%7B%7D").is_err());
        assert!(parse("\u{0}\u{1}").is_err());
    }
}
