//! Revel Systems webhooks. `X-Revel-Signature` is the hex HMAC-SHA1 of the raw body under the
//! shared secret Revel hands over at setup (which secret, exactly, is unconfirmed). The event
//! is named in `X-Revel-Event-Type`, the delivery in `X-Revel-Event-Id`/`X-Revel-Message-Id`.
//! `order.finalized` carries an `OrderAllInOne` (`orderInfo`, `items`, `payments`, …) with
//! money as JSON numbers in currency units and no currency, and with local, zone-less dates;
//! so neither totals nor times are given unless the payload states its currency or offset.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Id, seq},
};
use crate::{Delivery, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount};

const PLATFORM: &str = "revel";
const SIGNATURE: &str = "X-Revel-Signature";
const SCHEME: HmacHeader = HmacHeader::sha1(SIGNATURE, Encoding::Hex);

/// Revel Systems (POS).
pub struct Revel;

#[derive(Deserialize)]
struct Body {
    event: Option<String>,
    id: Option<Id>,
    #[serde(rename = "orderInfo")]
    order_info: Option<OrderInfo>,
    #[serde(default, deserialize_with = "seq")]
    items: Vec<Item>,
    // Customer and stock events.
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct OrderInfo {
    id: Option<Id>,
    created_date: Option<String>,
    updated_date: Option<String>,
    final_total: Option<Amount>,
    currency: Option<String>,
    customer: Option<Id>,
    establishment: Option<Id>,
}

#[derive(Deserialize)]
struct Item {
    id: Option<Id>,
    product: Option<Id>,
    sku: Option<String>,
    quantity: Option<Amount>,
    price: Option<Amount>,
}

/// The id in a Revel reference: a number, or a resource URI like `/resources/Product/501/`.
fn reference(value: Option<&Id>) -> Option<String> {
    let text = value?.0.trim();
    let last = text.trim_end_matches('/').rsplit('/').next()?;
    common::text(Some(last)).filter(|id| id != "0")
}

impl Inbound for Revel {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        SCHEME.verify_body(delivery, keys)
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::text(
            delivery
                .header("X-Revel-Event-Id")
                .or_else(|| delivery.header("X-Revel-Message-Id")),
        )
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let body: Body = common::json(PLATFORM, delivery.body)?;
        let Some(topic) = common::text(delivery.header("X-Revel-Event-Type"))
            .or_else(|| common::text(body.event.as_deref()))
            .or_else(|| {
                body.order_info
                    .is_some()
                    .then(|| "order.finalized".to_owned())
            })
        else {
            return Ok(Vec::new());
        };
        let mut event = Normalized {
            topic: Some(topic.clone()),
            event_id: self.event_id(delivery),
            location_id: common::text(delivery.header("X-Revel-Establishment-Id")),
            ..Normalized::new(Kind::Hint)
        };
        let id = reference(body.id.as_ref());
        match topic.as_str() {
            "order.finalized" => match body.order_info {
                Some(info) => {
                    event.kind = Kind::Order;
                    order(&mut event, info, &body.items);
                }
                None => {
                    event.external_order_id = id.clone();
                    event.hint = common::hint("order", id);
                }
            },
            "customer.created" | "customer.updated" => {
                event.customer = common::customer(
                    id.clone(),
                    common::text(body.email.as_deref()),
                    common::text(body.phone_number.as_deref()),
                    common::full_name(body.first_name.as_deref(), body.last_name.as_deref()),
                );
                event.hint = common::hint("customer", id);
            }
            // Only an in/out-of-stock flag: fetch the product's stock.
            "inout.stock" if body.kind.as_deref().is_none_or(|k| k == "product") => {
                event.hint = common::hint("inventory", id);
            }
            "menu.updated" => event.hint = common::hint("product", None),
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
        SCHEME.sign_body(body, keys)
    }
}

fn order(event: &mut Normalized, info: OrderInfo, items: &[Item]) {
    let currency = common::currency(info.currency.as_deref());
    event.external_order_id = reference(info.id.as_ref());
    event.currency = currency.clone();
    event.total_minor = common::decimal(info.final_total.as_ref(), currency.as_deref());
    event.occurred_at = info
        .updated_date
        .or(info.created_date)
        .as_deref()
        .and_then(common::utc);
    if event.location_id.is_none() {
        event.location_id = reference(info.establishment.as_ref());
    }
    event.customer = common::customer(reference(info.customer.as_ref()), None, None, None);
    let lines = items
        .iter()
        .map(|item| {
            Some(Line {
                line_id: reference(item.id.as_ref()),
                sku: common::text(item.sku.as_deref()),
                external_item_id: reference(item.product.as_ref()),
                quantity: item.quantity.as_ref().and_then(common::whole)?,
                unit_price_minor: common::decimal(item.price.as_ref(), currency.as_deref()),
            })
        })
        .collect();
    common::set_lines(event, lines);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;

    // Revel's docs show a readiness ping but not its secret, so this vector is computed
    // independently: printf '%s' '{"ping": "pong"}' | openssl dgst -sha1 -hmac revel-shared-secret
    const SECRET: &str = "revel-shared-secret";
    const PING: &[u8] = br#"{"ping": "pong"}"#;
    const SIGNATURE_VALUE: &str = "7629223c2150614af6d89f5be13f0989f9fc990a";

    fn check(signature: Option<&str>, body: &[u8], secret: &str) -> Result<(), Rejection> {
        let headers: Vec<(String, String)> = signature
            .map(|s| ("x-revel-signature".to_owned(), s.to_owned()))
            .into_iter()
            .collect();
        let delivery = Delivery {
            body,
            headers: &headers,
            url: None,
        };
        let keys = Keys {
            secret: Some(secret),
            ..Keys::default()
        };
        Revel.verify(&delivery, &keys, 0)
    }

    fn parse(event_type: &str, body: &str) -> Result<Vec<Normalized>, ParseError> {
        let headers = vec![
            ("X-Revel-Event-Type".to_owned(), event_type.to_owned()),
            ("X-Revel-Event-Id".to_owned(), "ev-77".to_owned()),
            ("X-Revel-Establishment-Id".to_owned(), "3".to_owned()),
        ];
        Revel.parse(&Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url: None,
        })
    }

    #[test]
    fn the_fixed_vector_verifies_and_changes_are_refused() {
        assert_eq!(check(Some(SIGNATURE_VALUE), PING, SECRET), Ok(()));
        assert_eq!(
            check(Some(&SIGNATURE_VALUE.to_uppercase()), PING, SECRET),
            Ok(())
        );
        assert_eq!(
            check(Some(SIGNATURE_VALUE), br#"{"ping": "pang"}"#, SECRET),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(Some(SIGNATURE_VALUE), PING, "other"),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(None, PING, SECRET),
            Err(Rejection::MissingHeader(SIGNATURE))
        );
    }

    #[test]
    fn signing_round_trips() {
        let keys = Keys {
            secret: Some(SECRET),
            ..Keys::default()
        };
        let signed = Revel.sign(PING, &keys, None, 0).expect("signed");
        assert_eq!(
            signed,
            vec![(SIGNATURE.to_owned(), SIGNATURE_VALUE.to_owned())]
        );
        assert_eq!(check(Some(&signed[0].1), PING, SECRET), Ok(()));
    }

    #[test]
    fn the_event_id_header_wins_over_the_message_id() {
        let headers = vec![
            ("X-Revel-Message-Id".to_owned(), "m-1".to_owned()),
            ("X-Revel-Event-Id".to_owned(), "e-1".to_owned()),
        ];
        let delivery = Delivery {
            body: PING,
            headers: &headers,
            url: None,
        };
        assert_eq!(Revel.event_id(&delivery).as_deref(), Some("e-1"));
        let delivery = Delivery {
            headers: &headers[..1],
            ..delivery
        };
        assert_eq!(Revel.event_id(&delivery).as_deref(), Some("m-1"));
    }

    const ORDER: &str = r#"{
        "orderInfo": {"id": 216962, "uuid": "550e8400-e29b-41d4-a716-446655440000",
          "created_date": "2024-05-01T12:30:00", "updated_date": "2024-05-01T12:41:07",
          "final_total": 18.5, "subtotal": 17.0, "tax": 1.5,
          "establishment": "/enterprise/Establishment/3/", "customer": "/resources/Customer/88/",
          "closed": true, "web_order": false},
        "items": [
          {"id": 901, "product": "/resources/Product/501/", "quantity": 2, "price": 5.5},
          {"id": 902, "product": "/resources/Product/8315/", "quantity": 1, "price": 6}
        ],
        "payments": [{"id": 77, "amount": 18.5, "payment_type": 1}]
    }"#;

    #[test]
    fn a_finalized_order_maps_what_is_there_and_guesses_no_money_or_time() {
        let events = parse("order.finalized", ORDER).expect("order");
        assert_eq!(events.len(), 1);
        let order = &events[0];
        assert_eq!(order.kind, Kind::Order);
        assert_eq!(order.topic.as_deref(), Some("order.finalized"));
        assert_eq!(order.event_id.as_deref(), Some("ev-77"));
        assert_eq!(order.external_order_id.as_deref(), Some("216962"));
        assert_eq!(order.location_id.as_deref(), Some("3"));
        assert_eq!(order.currency, None);
        assert_eq!(order.total_minor, None);
        assert_eq!(order.occurred_at, None);
        assert_eq!(
            order.customer.as_ref().and_then(|c| c.id.as_deref()),
            Some("88")
        );
        assert_eq!(
            order.lines,
            vec![
                Line {
                    line_id: Some("901".into()),
                    sku: None,
                    external_item_id: Some("501".into()),
                    quantity: 2,
                    unit_price_minor: None,
                },
                Line {
                    line_id: Some("902".into()),
                    sku: None,
                    external_item_id: Some("8315".into()),
                    quantity: 1,
                    unit_price_minor: None,
                },
            ]
        );
    }

    #[test]
    fn a_stated_currency_and_offset_are_used() {
        let body = ORDER
            .replace(
                r#""final_total": 18.5,"#,
                r#""final_total": 18.5, "currency": "usd","#,
            )
            .replace("2024-05-01T12:41:07", "2024-05-01T12:41:07-07:00");
        let order = &parse("order.finalized", &body).expect("order")[0];
        assert_eq!(order.currency.as_deref(), Some("USD"));
        assert_eq!(order.total_minor, Some(1850));
        assert_eq!(order.lines[0].unit_price_minor, Some(550));
        assert_eq!(order.occurred_at.as_deref(), Some("2024-05-01T19:41:07Z"));
    }

    #[test]
    fn thin_events_are_hints_and_the_ping_is_nothing() {
        let thin = &parse(
            "order.finalized",
            r#"{"event": "order.finalized", "id": 1}"#,
        )
        .expect("hint")[0];
        assert_eq!(thin.kind, Kind::Hint);
        assert_eq!(
            thin.hint,
            Some(Hint {
                resource: "order".into(),
                id: Some("1".into())
            })
        );
        let customer = &parse(
            "customer.updated",
            r#"{"id": 1, "first_name": "Jane", "last_name": "Doe", "email": "customer@example.com"}"#,
        )
        .expect("hint")[0];
        assert_eq!(
            customer.customer.as_ref().and_then(|c| c.name.as_deref()),
            Some("Jane Doe")
        );
        let stock = &parse(
            "inout.stock",
            r#"{"id": 1, "instock": false, "type": "product", "barcode": "0123456789012"}"#,
        )
        .expect("hint")[0];
        assert_eq!(
            stock.hint,
            Some(Hint {
                resource: "inventory".into(),
                id: Some("1".into())
            })
        );
        assert_eq!(
            parse(
                "inout.stock",
                r#"{"id": 4, "instock": true, "type": "modifier"}"#
            ),
            Ok(vec![])
        );
        assert_eq!(parse("ping", r#"{"ping": "pong"}"#), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("order.finalized", "<xml/>").is_err());
        assert!(
            parse(
                "order.finalized",
                r#"{"orderInfo": {"final_total": "x", "id": []}}"#
            )
            .is_err()
        );
    }
}
