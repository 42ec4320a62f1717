//! Shopify webhooks. `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(raw body)) under the app's
//! client secret as text; nothing else is signed. The topic is in `X-Shopify-Topic`, the event
//! id in `X-Shopify-Event-Id`; bodies are the REST representation of the resource, with money
//! as decimal strings in the shop currency.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Id, seq},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
};

const PLATFORM: &str = "shopify";
const SIGNATURE: &str = "X-Shopify-Hmac-Sha256";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Base64);

/// Shopify (online store and POS).
pub struct Shopify;

#[derive(Deserialize)]
struct Order {
    id: Id,
    currency: Option<String>,
    total_price: Option<Amount>,
    financial_status: Option<String>,
    email: Option<String>,
    #[serde(default, deserialize_with = "seq")]
    line_items: Vec<OrderLine>,
    customer: Option<Buyer>,
    location_id: Option<Id>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct OrderLine {
    id: Option<Id>,
    sku: Option<String>,
    variant_id: Option<Id>,
    #[serde(default)]
    quantity: i64,
    price: Option<Amount>,
}

#[derive(Deserialize)]
struct Buyer {
    id: Option<Id>,
    email: Option<String>,
    phone: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct Refund {
    id: Id,
    order_id: Option<Id>,
    created_at: Option<String>,
    processed_at: Option<String>,
    restock: Option<bool>,
    #[serde(default, deserialize_with = "seq")]
    refund_line_items: Vec<RefundLine>,
    #[serde(default, deserialize_with = "seq")]
    transactions: Vec<Transaction>,
}

#[derive(Deserialize)]
struct RefundLine {
    line_item_id: Option<Id>,
    #[serde(default)]
    quantity: i64,
    restock_type: Option<String>,
    location_id: Option<Id>,
    line_item: Option<OrderLine>,
}

#[derive(Deserialize)]
struct Transaction {
    amount: Option<Amount>,
    currency: Option<String>,
    kind: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
struct InventoryLevel {
    inventory_item_id: Option<Id>,
    location_id: Option<Id>,
    available: Option<i64>,
    updated_at: Option<String>,
}

/// Any resource, for topics Concord only needs to know the id of.
#[derive(Deserialize)]
struct Resource {
    id: Option<Id>,
    order_id: Option<Id>,
    updated_at: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

impl Inbound for Shopify {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        SCHEME.verify_body(delivery, keys)
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::text(
            delivery
                .header("X-Shopify-Event-Id")
                .or_else(|| delivery.header("X-Shopify-Webhook-Id")),
        )
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let topic = delivery
            .header("X-Shopify-Topic")
            .ok_or_else(|| common::malformed(PLATFORM, "no X-Shopify-Topic header"))?;
        let stamp = |kind| Normalized {
            topic: Some(topic.to_owned()),
            event_id: self.event_id(delivery),
            ..Normalized::new(kind)
        };
        let body = delivery.body;
        let (family, _) = topic.split_once('/').unwrap_or((topic, ""));
        let event = match (family, topic) {
            (_, "orders/delete") => thin(stamp(Kind::Hint), common::json(PLATFORM, body)?, "order"),
            ("orders", _) => order(stamp(Kind::Order), common::json(PLATFORM, body)?),
            ("refunds", _) => refund(stamp(Kind::Refund), common::json(PLATFORM, body)?),
            ("inventory_levels", _) => {
                inventory(stamp(Kind::Inventory), common::json(PLATFORM, body)?)
            }
            (_, "products/delete") => {
                thin(stamp(Kind::Hint), common::json(PLATFORM, body)?, "product")
            }
            ("products", _) => thin(
                stamp(Kind::Product),
                common::json(PLATFORM, body)?,
                "product",
            ),
            ("customers", _) => buyer(stamp(Kind::Hint), common::json(PLATFORM, body)?),
            ("inventory_items", _) => thin(
                stamp(Kind::Hint),
                common::json(PLATFORM, body)?,
                "inventory",
            ),
            ("fulfillments" | "order_transactions", _) => {
                let resource: Resource = common::json(PLATFORM, body)?;
                let mut event = stamp(Kind::Hint);
                event.external_order_id = common::id(resource.order_id.as_ref());
                event.hint = common::hint("order", event.external_order_id.clone());
                event
            }
            _ => return Ok(Vec::new()),
        };
        Ok(vec![event])
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

fn order(mut event: Normalized, order: Order) -> Normalized {
    let currency = common::currency(order.currency.as_deref());
    event.external_order_id = order.id.present();
    event.total_minor = common::decimal(order.total_price.as_ref(), currency.as_deref());
    event.status = common::text(order.financial_status.as_deref());
    event.occurred_at = order
        .updated_at
        .or(order.created_at)
        .as_deref()
        .and_then(common::utc);
    event.location_id = common::id(order.location_id.as_ref());
    event.lines = order
        .line_items
        .iter()
        .map(|l| line(l, l.quantity, currency.as_deref()))
        .collect();
    let buyer = order.customer;
    event.customer = common::customer(
        buyer.as_ref().and_then(|b| common::id(b.id.as_ref())),
        buyer
            .as_ref()
            .and_then(|b| common::text(b.email.as_deref()))
            .or_else(|| common::text(order.email.as_deref())),
        buyer
            .as_ref()
            .and_then(|b| common::text(b.phone.as_deref())),
        buyer
            .as_ref()
            .and_then(|b| common::full_name(b.first_name.as_deref(), b.last_name.as_deref())),
    );
    event.currency = currency;
    event
}

fn line(line: &OrderLine, quantity: i64, currency: Option<&str>) -> Line {
    Line {
        line_id: common::id(line.id.as_ref()),
        sku: common::text(line.sku.as_deref()),
        external_item_id: common::id(line.variant_id.as_ref()),
        quantity,
        unit_price_minor: common::decimal(line.price.as_ref(), currency),
    }
}

fn refund(mut event: Normalized, refund: Refund) -> Normalized {
    // The money that went back: the successful refund transactions, all in one currency.
    let paid: Vec<&Transaction> = refund
        .transactions
        .iter()
        .filter(|t| t.kind.as_deref().is_none_or(|k| k == "refund"))
        .filter(|t| t.status.as_deref().is_none_or(|s| s == "success"))
        .collect();
    let currency = common::currency(paid.first().and_then(|t| t.currency.as_deref()));
    let same_currency = paid
        .iter()
        .all(|t| common::currency(t.currency.as_deref()) == currency);
    if same_currency && !paid.is_empty() {
        event.amount_minor = paid.iter().try_fold(0_i64, |sum, t| {
            sum.checked_add(common::decimal(t.amount.as_ref(), currency.as_deref())?)
        });
    }
    event.external_refund_id = refund.id.present();
    event.external_order_id = common::id(refund.order_id.as_ref());
    event.occurred_at = refund
        .processed_at
        .or(refund.created_at)
        .as_deref()
        .and_then(common::utc);
    event.restock = refund.restock.or_else(|| {
        let types: Vec<&str> = refund
            .refund_line_items
            .iter()
            .filter_map(|l| l.restock_type.as_deref())
            .collect();
        (!types.is_empty()).then(|| types.iter().any(|t| *t != "no_restock"))
    });
    event.location_id = refund
        .refund_line_items
        .iter()
        .find_map(|l| common::id(l.location_id.as_ref()));
    let currency = same_currency.then_some(currency).flatten();
    event.lines = refund
        .refund_line_items
        .iter()
        .map(|l| match &l.line_item {
            Some(item) => Line {
                line_id: common::id(l.line_item_id.as_ref())
                    .or_else(|| common::id(item.id.as_ref())),
                ..line(item, l.quantity, currency.as_deref())
            },
            None => Line {
                line_id: common::id(l.line_item_id.as_ref()),
                sku: None,
                external_item_id: None,
                quantity: l.quantity,
                unit_price_minor: None,
            },
        })
        .collect();
    event.currency = currency;
    event
}

fn inventory(mut event: Normalized, level: InventoryLevel) -> Normalized {
    event.location_id = common::id(level.location_id.as_ref());
    event.occurred_at = level.updated_at.as_deref().and_then(common::utc);
    event.inventory = Some(Inventory {
        sku: None,
        external_item_id: common::id(level.inventory_item_id.as_ref()),
        location_id: event.location_id.clone(),
        quantity: level.available,
    });
    event
}

fn thin(mut event: Normalized, resource: Resource, name: &str) -> Normalized {
    event.occurred_at = resource.updated_at.as_deref().and_then(common::utc);
    event.hint = common::hint(name, common::id(resource.id.as_ref()));
    if name == "order" {
        event.external_order_id = common::id(resource.id.as_ref());
    }
    event
}

fn buyer(mut event: Normalized, resource: Resource) -> Normalized {
    event.customer = common::customer(
        common::id(resource.id.as_ref()),
        common::text(resource.email.as_deref()),
        common::text(resource.phone.as_deref()),
        common::full_name(
            resource.first_name.as_deref(),
            resource.last_name.as_deref(),
        ),
    );
    thin(event, resource, "customer")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::headers;
    use crate::{Customer, Hint};

    // Computed independently: printf '%s' "$BODY" | openssl dgst -sha256 -hmac hush -binary
    // | base64 (Shopify publishes no fixed vector; its libraries compute one at test time).
    const SECRET: &str = "hush";
    const BODY: &[u8] =
        br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"199.00"}"#;
    const SIGNATURE_VALUE: &str = "19sb4TQ53/TxxyK6YcMtX+aMrJyVgshiuMO90SUSl08=";

    fn check(headers: &[(String, String)], body: &[u8], secret: &str) -> Result<(), Rejection> {
        let delivery = Delivery {
            body,
            headers,
            url: None,
        };
        let keys = Keys {
            secret: Some(secret),
            ..Keys::default()
        };
        Shopify.verify(&delivery, &keys, 0)
    }

    fn parse(topic: &str, body: &str) -> Result<Vec<Normalized>, ParseError> {
        let headers = headers(&[("X-Shopify-Topic", topic), ("X-Shopify-Event-Id", "evt-1")]);
        Shopify.parse(&Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url: None,
        })
    }

    #[test]
    fn the_fixed_vector_verifies_and_changes_are_refused() {
        let good = headers(&[("x-shopify-hmac-sha256", SIGNATURE_VALUE)]);
        assert_eq!(check(&good, BODY, SECRET), Ok(()));
        let tampered = String::from_utf8_lossy(BODY).replace("199.00", "1.00");
        assert_eq!(
            check(&good, tampered.as_bytes(), SECRET),
            Err(Rejection::Mismatch)
        );
        assert_eq!(check(&good, BODY, "other"), Err(Rejection::Mismatch));
        assert_eq!(
            check(&[], BODY, SECRET),
            Err(Rejection::MissingHeader(SIGNATURE))
        );
        assert_eq!(
            check(&headers(&[(SIGNATURE, "not base64!")]), BODY, SECRET),
            Err(Rejection::Mismatch)
        );
    }

    #[test]
    fn signing_produces_what_verification_accepts() {
        let keys = Keys {
            secret: Some(SECRET),
            ..Keys::default()
        };
        let signed = Shopify.sign(BODY, &keys, None, 0).expect("signed");
        assert_eq!(signed, headers(&[(SIGNATURE, SIGNATURE_VALUE)]));
        assert_eq!(check(&signed, BODY, SECRET), Ok(()));
        assert_eq!(
            Shopify.sign(BODY, &Keys::default(), None, 0),
            Err(Rejection::MissingKey("secret"))
        );
    }

    #[test]
    fn the_event_id_header_wins_over_the_webhook_id() {
        let both = headers(&[
            ("X-Shopify-Webhook-Id", "w-1"),
            ("X-Shopify-Event-Id", "e-1"),
        ]);
        let only_webhook = headers(&[("X-Shopify-Webhook-Id", "w-1")]);
        let delivery = |h| Delivery {
            body: b"{}",
            headers: h,
            url: None,
        };
        assert_eq!(Shopify.event_id(&delivery(&both)).as_deref(), Some("e-1"));
        assert_eq!(
            Shopify.event_id(&delivery(&only_webhook)).as_deref(),
            Some("w-1")
        );
        assert_eq!(Shopify.event_id(&delivery(&[])), None);
    }

    #[test]
    fn an_order_maps_lines_money_and_buyer() {
        let body = r##"{
            "id": 450789469, "name": "#1001", "email": "bob@example.com",
            "created_at": "2024-05-01T10:00:00-04:00", "updated_at": "2024-05-01T10:05:00-04:00",
            "currency": "usd", "total_price": "409.94", "financial_status": "paid",
            "location_id": 905684977,
            "line_items": [
              {"id": 466157049, "variant_id": 39072856, "sku": "IPOD2008GREEN", "quantity": 1, "price": "199.00"},
              {"id": 518995019, "variant_id": null, "sku": "", "quantity": 2, "price": "105.47"}
            ],
            "customer": {"id": 207119551, "email": "bob.norman@example.com", "phone": "+16136120707",
                         "first_name": "Bob", "last_name": "Norman"}
        }"##;
        let events = parse("orders/paid", body).expect("order");
        assert_eq!(events.len(), 1);
        let order = &events[0];
        assert_eq!(order.kind, Kind::Order);
        assert_eq!(order.topic.as_deref(), Some("orders/paid"));
        assert_eq!(order.event_id.as_deref(), Some("evt-1"));
        assert_eq!(order.external_order_id.as_deref(), Some("450789469"));
        assert_eq!(order.currency.as_deref(), Some("USD"));
        assert_eq!(order.total_minor, Some(40994));
        assert_eq!(order.status.as_deref(), Some("paid"));
        assert_eq!(order.occurred_at.as_deref(), Some("2024-05-01T14:05:00Z"));
        assert_eq!(order.location_id.as_deref(), Some("905684977"));
        assert_eq!(
            order.lines,
            vec![
                Line {
                    line_id: Some("466157049".into()),
                    sku: Some("IPOD2008GREEN".into()),
                    external_item_id: Some("39072856".into()),
                    quantity: 1,
                    unit_price_minor: Some(19900),
                },
                Line {
                    line_id: Some("518995019".into()),
                    sku: None,
                    external_item_id: None,
                    quantity: 2,
                    unit_price_minor: Some(10547),
                },
            ]
        );
        assert_eq!(
            order.customer,
            Some(Customer {
                id: Some("207119551".into()),
                email: Some("bob.norman@example.com".into()),
                phone: Some("+16136120707".into()),
                name: Some("Bob Norman".into()),
            })
        );
        assert_eq!(order.amount_minor, None);
        assert_eq!(order.hint, None);
    }

    #[test]
    fn a_refund_sums_its_successful_refund_transactions() {
        let body = r#"{
            "id": 509562969, "order_id": 450789469, "created_at": "2024-05-02T09:00:00Z",
            "processed_at": null, "restock": null,
            "refund_line_items": [
              {"id": 104689539, "line_item_id": 703073504, "quantity": 1, "restock_type": "return",
               "location_id": 487838322,
               "line_item": {"id": 703073504, "variant_id": 457924702, "sku": "IPOD2008BLACK", "quantity": 1, "price": "199.00"}}
            ],
            "transactions": [
              {"id": 179259969, "kind": "refund", "status": "success", "amount": "199.00", "currency": "USD"},
              {"id": 179259970, "kind": "refund", "status": "failure", "amount": "5.00", "currency": "USD"}
            ]
        }"#;
        let events = parse("refunds/create", body).expect("refund");
        let refund = &events[0];
        assert_eq!(refund.kind, Kind::Refund);
        assert_eq!(refund.external_refund_id.as_deref(), Some("509562969"));
        assert_eq!(refund.external_order_id.as_deref(), Some("450789469"));
        assert_eq!(refund.currency.as_deref(), Some("USD"));
        assert_eq!(refund.amount_minor, Some(19900));
        assert_eq!(refund.restock, Some(true));
        assert_eq!(refund.location_id.as_deref(), Some("487838322"));
        assert_eq!(refund.occurred_at.as_deref(), Some("2024-05-02T09:00:00Z"));
        assert_eq!(
            refund.lines,
            vec![Line {
                line_id: Some("703073504".into()),
                sku: Some("IPOD2008BLACK".into()),
                external_item_id: Some("457924702".into()),
                quantity: 1,
                unit_price_minor: Some(19900),
            }]
        );
    }

    #[test]
    fn a_refund_without_transactions_carries_no_money() {
        let body = r#"{"id": 1, "order_id": 2, "refund_line_items": [
            {"line_item_id": 3, "quantity": 2, "restock_type": "no_restock"}], "transactions": []}"#;
        let refund = &parse("refunds/create", body).expect("refund")[0];
        assert_eq!(refund.amount_minor, None);
        assert_eq!(refund.currency, None);
        assert_eq!(refund.restock, Some(false));
        assert_eq!(refund.lines[0].quantity, 2);
        assert_eq!(refund.lines[0].unit_price_minor, None);
    }

    #[test]
    fn inventory_levels_map_item_location_and_available() {
        let body = r#"{"inventory_item_id": 271878346596884015, "location_id": 24826418,
                       "available": 6, "updated_at": "2024-05-01T12:00:00-04:00",
                       "admin_graphql_api_id": "gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015"}"#;
        let level = &parse("inventory_levels/update", body).expect("level")[0];
        assert_eq!(level.kind, Kind::Inventory);
        assert_eq!(
            level.inventory,
            Some(Inventory {
                sku: None,
                external_item_id: Some("271878346596884015".into()),
                location_id: Some("24826418".into()),
                quantity: Some(6),
            })
        );
        assert_eq!(level.location_id.as_deref(), Some("24826418"));
        assert_eq!(level.occurred_at.as_deref(), Some("2024-05-01T16:00:00Z"));
    }

    #[test]
    fn thin_topics_become_hints() {
        let deleted = &parse("products/delete", r#"{"id": 788032119674292922}"#).expect("hint")[0];
        assert_eq!(deleted.kind, Kind::Hint);
        assert_eq!(
            deleted.hint,
            Some(Hint {
                resource: "product".into(),
                id: Some("788032119674292922".into())
            })
        );
        let updated = &parse(
            "products/update",
            r#"{"id": 632910392, "title": "IPod Nano", "updated_at": "2024-05-01T10:00:00Z"}"#,
        )
        .expect("product")[0];
        assert_eq!(updated.kind, Kind::Product);
        assert_eq!(
            updated.hint.as_ref().and_then(|h| h.id.as_deref()),
            Some("632910392")
        );
        let customer = &parse(
            "customers/update",
            r#"{"id": 706405506, "email": "bob@example.com", "first_name": "Bob", "last_name": null}"#,
        )
        .expect("customer")[0];
        assert_eq!(
            customer.hint.as_ref().map(|h| h.resource.as_str()),
            Some("customer")
        );
        assert_eq!(
            customer.customer.as_ref().and_then(|c| c.name.as_deref()),
            Some("Bob")
        );
        let fulfillment = &parse("fulfillments/create", r#"{"id": 1, "order_id": 450789469}"#)
            .expect("fulfillment")[0];
        assert_eq!(fulfillment.external_order_id.as_deref(), Some("450789469"));
        assert_eq!(parse("app/uninstalled", r#"{"id": 1}"#), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_and_missing_topics_are_errors() {
        assert!(matches!(
            parse("orders/create", "not json"),
            Err(ParseError::Malformed {
                platform: "shopify",
                ..
            })
        ));
        assert!(
            parse(
                "orders/create",
                r#"{"id": 1, "total_price": {"amount": 1}}"#
            )
            .is_err()
        );
        assert!(
            parse(
                "orders/create",
                r#"{"id": 1, "line_items": [{"quantity": "x"}]}"#
            )
            .is_err()
        );
        let none = Shopify.parse(&Delivery {
            body: b"{}",
            headers: &[],
            url: None,
        });
        assert!(none.is_err());
    }
}
