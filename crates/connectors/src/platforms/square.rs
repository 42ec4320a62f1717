//! Square webhooks. `x-square-hmacsha256-signature` is base64(HMAC-SHA256(notification URL +
//! raw body)) under the subscription's signature key, so the URL exactly as configured is
//! needed; the legacy `x-square-signature` (HMAC-SHA1, same input) is accepted only when the
//! SHA-256 header is absent. Bodies are an envelope `{merchant_id, type, event_id, created_at,
//! data{type, id, object}}`; money is `{amount: minor units, currency}`, quantities are
//! decimal strings.

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, seq},
};
use crate::{
    Customer, Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection,
    money::Amount,
};

const PLATFORM: &str = "square";
const SIGNATURE: &str = "x-square-hmacsha256-signature";
const LEGACY_SIGNATURE: &str = "x-square-signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Base64);
const LEGACY_SCHEME: HmacHeader = HmacHeader::sha1(LEGACY_SIGNATURE, Encoding::Base64);

/// Square (POS and online).
pub struct Square;

#[derive(Deserialize)]
struct Envelope {
    event_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    created_at: Option<String>,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    id: Option<String>,
    object: Option<Object>,
}

#[derive(Deserialize)]
struct Object {
    order_created: Option<OrderState>,
    order_updated: Option<OrderState>,
    order_fulfillment_updated: Option<OrderState>,
    order: Option<Order>,
    payment: Option<Payment>,
    refund: Option<Refund>,
    #[serde(default, deserialize_with = "seq")]
    inventory_counts: Vec<Count>,
}

/// The thin order objects of `order.created`/`order.updated`: the worker fetches the order.
#[derive(Deserialize)]
struct OrderState {
    order_id: Option<String>,
    state: Option<String>,
    location_id: Option<String>,
}

#[derive(Deserialize)]
struct Order {
    id: Option<String>,
    state: Option<String>,
    location_id: Option<String>,
    customer_id: Option<String>,
    total_money: Option<Money>,
    #[serde(default, deserialize_with = "seq")]
    line_items: Vec<OrderLine>,
}

#[derive(Deserialize)]
struct OrderLine {
    uid: Option<String>,
    catalog_object_id: Option<String>,
    quantity: Amount,
    base_price_money: Option<Money>,
}

#[derive(Deserialize)]
struct Money {
    amount: Option<Amount>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct Payment {
    id: Option<String>,
    order_id: Option<String>,
    location_id: Option<String>,
    customer_id: Option<String>,
    status: Option<String>,
    amount_money: Option<Money>,
    total_money: Option<Money>,
}

#[derive(Deserialize)]
struct Refund {
    id: Option<String>,
    payment_id: Option<String>,
    order_id: Option<String>,
    location_id: Option<String>,
    status: Option<String>,
    amount_money: Option<Money>,
}

#[derive(Deserialize)]
struct Count {
    catalog_object_id: Option<String>,
    location_id: Option<String>,
    state: Option<String>,
    quantity: Option<Amount>,
    calculated_at: Option<String>,
}

impl Money {
    fn minor(&self) -> Option<i64> {
        self.amount.as_ref()?.minor()
    }

    fn currency(&self) -> Option<String> {
        common::currency(self.currency.as_deref())
    }
}

impl Inbound for Square {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        let (scheme, sent) = match delivery.header(SIGNATURE) {
            Some(sent) => (SCHEME, sent),
            None => (
                LEGACY_SCHEME,
                delivery
                    .header(LEGACY_SIGNATURE)
                    .ok_or(Rejection::MissingHeader(SIGNATURE))?,
            ),
        };
        let url = delivery.url.ok_or(Rejection::MissingUrl)?;
        let key = keys.require_secret()?.as_bytes();
        scheme.matches(sent, key, &[url.as_bytes(), delivery.body])
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        #[derive(Deserialize)]
        struct EventId {
            event_id: Option<String>,
        }
        let id: EventId = serde_json::from_slice(delivery.body).ok()?;
        common::text(id.event_id.as_deref())
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let envelope: Envelope = common::json(PLATFORM, delivery.body)?;
        let topic = envelope
            .kind
            .ok_or_else(|| common::malformed(PLATFORM, "the event has no `type`"))?;
        let stamp = |kind| Normalized {
            topic: Some(topic.clone()),
            event_id: common::text(envelope.event_id.as_deref()),
            occurred_at: envelope.created_at.as_deref().and_then(common::utc),
            ..Normalized::new(kind)
        };
        let data_id = envelope
            .data
            .as_ref()
            .and_then(|d| common::text(d.id.as_deref()));
        let object = envelope.data.and_then(|d| d.object);
        let (family, _) = topic.split_once('.').unwrap_or((topic.as_str(), ""));
        let events = match (family, object) {
            ("order", Some(Object { order: Some(o), .. })) => vec![order(stamp(Kind::Order), o)],
            ("order", Some(object)) => {
                let state = object
                    .order_updated
                    .or(object.order_created)
                    .or(object.order_fulfillment_updated);
                let mut event = stamp(Kind::Order);
                event.external_order_id = state
                    .as_ref()
                    .and_then(|s| common::text(s.order_id.as_deref()))
                    .or(data_id);
                event.status = state
                    .as_ref()
                    .and_then(|s| common::text(s.state.as_deref()));
                event.location_id = state
                    .as_ref()
                    .and_then(|s| common::text(s.location_id.as_deref()));
                vec![event]
            }
            (
                "payment",
                Some(Object {
                    payment: Some(p), ..
                }),
            ) => {
                vec![payment(stamp(Kind::Payment), p)]
            }
            (
                "refund",
                Some(Object {
                    refund: Some(r), ..
                }),
            ) => vec![refund(stamp(Kind::Refund), r)],
            ("inventory", Some(object)) => object
                .inventory_counts
                .into_iter()
                .filter(|c| c.state.as_deref() == Some("IN_STOCK"))
                .map(|c| count(stamp(Kind::Inventory), c))
                .collect(),
            // Carries only a timestamp: the worker searches the catalog.
            ("catalog", _) => vec![hint(stamp(Kind::Hint), "product", None)],
            ("customer", _) => vec![hint(stamp(Kind::Hint), "customer", data_id)],
            ("order" | "payment" | "refund", _) => {
                vec![hint(stamp(Kind::Hint), family, data_id)]
            }
            _ => Vec::new(),
        };
        Ok(events)
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let url = url.ok_or(Rejection::MissingUrl)?;
        let key = keys.require_secret()?.as_bytes();
        Ok(SCHEME.header(key, &[url.as_bytes(), body]))
    }
}

fn order(mut event: Normalized, order: Order) -> Normalized {
    let currency = order.total_money.as_ref().and_then(Money::currency);
    event.external_order_id = common::text(order.id.as_deref());
    event.status = common::text(order.state.as_deref());
    event.location_id = common::text(order.location_id.as_deref());
    event.total_minor = order.total_money.as_ref().and_then(Money::minor);
    event.customer = common::text(order.customer_id.as_deref()).map(|id| Customer {
        id: Some(id),
        email: None,
        phone: None,
        name: None,
    });
    let lines = order
        .line_items
        .iter()
        .map(|l| {
            Some(Line {
                line_id: common::text(l.uid.as_deref()),
                sku: None,
                external_item_id: common::text(l.catalog_object_id.as_deref()),
                quantity: common::whole(&l.quantity)?,
                unit_price_minor: l.base_price_money.as_ref().and_then(Money::minor),
            })
        })
        .collect();
    common::set_lines(&mut event, lines);
    event.currency = currency;
    event
}

fn payment(mut event: Normalized, payment: Payment) -> Normalized {
    let money = payment.total_money.or(payment.amount_money);
    event.external_payment_id = common::text(payment.id.as_deref());
    event.external_order_id = common::text(payment.order_id.as_deref());
    event.location_id = common::text(payment.location_id.as_deref());
    event.status = common::text(payment.status.as_deref());
    event.amount_minor = money.as_ref().and_then(Money::minor);
    event.currency = money.as_ref().and_then(Money::currency);
    event.customer = common::text(payment.customer_id.as_deref()).map(|id| Customer {
        id: Some(id),
        email: None,
        phone: None,
        name: None,
    });
    event
}

fn refund(mut event: Normalized, refund: Refund) -> Normalized {
    event.external_refund_id = common::text(refund.id.as_deref());
    event.external_payment_id = common::text(refund.payment_id.as_deref());
    event.external_order_id = common::text(refund.order_id.as_deref());
    event.location_id = common::text(refund.location_id.as_deref());
    event.status = common::text(refund.status.as_deref());
    event.amount_minor = refund.amount_money.as_ref().and_then(Money::minor);
    event.currency = refund.amount_money.as_ref().and_then(Money::currency);
    event
}

fn count(mut event: Normalized, count: Count) -> Normalized {
    event.location_id = common::text(count.location_id.as_deref());
    if let Some(at) = count.calculated_at.as_deref().and_then(common::utc) {
        event.occurred_at = Some(at);
    }
    event.inventory = Some(Inventory {
        sku: None,
        external_item_id: common::text(count.catalog_object_id.as_deref()),
        location_id: event.location_id.clone(),
        quantity: count.quantity.as_ref().and_then(common::whole),
    });
    event
}

fn hint(mut event: Normalized, resource: &str, id: Option<String>) -> Normalized {
    if resource == "order" {
        event.external_order_id = id.clone();
    }
    event.hint = common::hint(resource, id);
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;

    // Square's own test vector, shared by its SDKs' WebhooksHelper tests (square-nodejs-sdk,
    // square-go-sdk, square-php-sdk, square-python-sdk, square-ruby-sdk, square-java-sdk).
    const KEY: &str = "Ibxx_5AKakO-3qeNVR61Dw";
    const URL: &str = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
    const BODY: &str = r#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#;
    const SIGNATURE_VALUE: &str = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";
    // The same input under HMAC-SHA1 (legacy header), computed with python's hmac module.
    const LEGACY_VALUE: &str = "+9Qzy6LPYs08yM75TiRwUupYoS0=";

    fn check(
        header: Option<(&str, &str)>,
        body: &str,
        key: &str,
        url: Option<&str>,
    ) -> Result<(), Rejection> {
        let headers: Vec<(String, String)> = header
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .into_iter()
            .collect();
        let delivery = Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url,
        };
        let keys = Keys {
            secret: Some(key),
            ..Keys::default()
        };
        Square.verify(&delivery, &keys, 0)
    }

    fn parse(body: &str) -> Result<Vec<Normalized>, ParseError> {
        Square.parse(&Delivery {
            body: body.as_bytes(),
            headers: &[],
            url: None,
        })
    }

    #[test]
    fn squares_published_vector_verifies() {
        let sent = Some((SIGNATURE, SIGNATURE_VALUE));
        assert_eq!(check(sent, BODY, KEY, Some(URL)), Ok(()));
        // The SDKs' second vector: a body with characters some encoders escape.
        assert_eq!(
            check(
                Some((SIGNATURE, "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=")),
                r#"{"data":{"type":"webhooks","id":">id<"}}"#,
                "signature-key",
                Some("https://webhook.site/webhooks"),
            ),
            Ok(())
        );
    }

    #[test]
    fn changes_missing_headers_and_a_missing_url_are_refused() {
        let sent = Some((SIGNATURE, SIGNATURE_VALUE));
        let tampered = BODY.replace("MLEFBHHSJGVHD", "MLEFBHHSJGVHE");
        assert_eq!(
            check(sent, &tampered, KEY, Some(URL)),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(sent, BODY, "other-key", Some(URL)),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(sent, BODY, KEY, Some("https://webhook.site/other")),
            Err(Rejection::Mismatch)
        );
        assert_eq!(check(sent, BODY, KEY, None), Err(Rejection::MissingUrl));
        assert_eq!(
            check(None, BODY, KEY, Some(URL)),
            Err(Rejection::MissingHeader(SIGNATURE))
        );
    }

    #[test]
    fn the_legacy_sha1_header_counts_only_without_the_sha256_one() {
        let legacy = Some((LEGACY_SIGNATURE, LEGACY_VALUE));
        assert_eq!(check(legacy, BODY, KEY, Some(URL)), Ok(()));
        let headers = vec![
            (SIGNATURE.to_owned(), "bm90IGl0".to_owned()),
            (LEGACY_SIGNATURE.to_owned(), LEGACY_VALUE.to_owned()),
        ];
        let delivery = Delivery {
            body: BODY.as_bytes(),
            headers: &headers,
            url: Some(URL),
        };
        let keys = Keys {
            secret: Some(KEY),
            ..Keys::default()
        };
        assert_eq!(Square.verify(&delivery, &keys, 0), Err(Rejection::Mismatch));
    }

    #[test]
    fn signing_needs_the_url_and_round_trips() {
        let keys = Keys {
            secret: Some(KEY),
            ..Keys::default()
        };
        let signed = Square
            .sign(BODY.as_bytes(), &keys, Some(URL), 0)
            .expect("signed");
        assert_eq!(
            signed,
            vec![(SIGNATURE.to_owned(), SIGNATURE_VALUE.to_owned())]
        );
        assert_eq!(
            Square.sign(BODY.as_bytes(), &keys, None, 0),
            Err(Rejection::MissingUrl)
        );
    }

    #[test]
    fn the_event_id_comes_from_the_body() {
        let delivery = Delivery {
            body: BODY.as_bytes(),
            headers: &[],
            url: None,
        };
        assert_eq!(
            Square.event_id(&delivery).as_deref(),
            Some("ac3ac95b-f97d-458c-a6e6-18981597e05f")
        );
    }

    #[test]
    fn a_thin_order_event_names_the_order_and_its_state_only() {
        let body = r#"{"merchant_id":"5S9MXCS9Y99KK","type":"order.updated",
            "event_id":"4b8e5c91-9f17-4cf1-900a-4a0629f81add","created_at":"2020-04-16T23:14:26.359Z",
            "data":{"type":"order_updated","id":"eA3vssLHKJrv9H0IdJCM3gNqfdcZY",
              "object":{"order_updated":{"created_at":"2020-04-16T23:14:26.129Z","location_id":"FPYCBCHYMXFK1",
                "order_id":"eA3vssLHKJrv9H0IdJCM3gNqfdcZY","state":"OPEN","updated_at":"2020-04-16T23:14:26.359Z","version":2}}}}"#;
        let events = parse(body).expect("order");
        assert_eq!(events.len(), 1);
        let order = &events[0];
        assert_eq!(order.kind, Kind::Order);
        assert_eq!(order.topic.as_deref(), Some("order.updated"));
        assert_eq!(
            order.event_id.as_deref(),
            Some("4b8e5c91-9f17-4cf1-900a-4a0629f81add")
        );
        assert_eq!(
            order.occurred_at.as_deref(),
            Some("2020-04-16T23:14:26.359Z")
        );
        assert_eq!(
            order.external_order_id.as_deref(),
            Some("eA3vssLHKJrv9H0IdJCM3gNqfdcZY")
        );
        assert_eq!(order.status.as_deref(), Some("OPEN"));
        assert_eq!(order.location_id.as_deref(), Some("FPYCBCHYMXFK1"));
        assert_eq!(order.lines, vec![]);
        assert_eq!((order.total_minor, order.currency.as_deref()), (None, None));
    }

    #[test]
    fn a_full_order_maps_lines_with_decimal_string_quantities() {
        let body = r#"{"type":"order.created","event_id":"e1","created_at":"2024-05-01T10:00:00Z",
            "data":{"type":"order","id":"ord1","object":{"order":{"id":"ord1","location_id":"L1",
              "state":"COMPLETED","customer_id":"C9",
              "line_items":[{"uid":"u1","catalog_object_id":"VAR1","quantity":"2",
                             "base_price_money":{"amount":1250,"currency":"USD"}}],
              "total_money":{"amount":2500,"currency":"USD"}}}}}"#;
        let order = &parse(body).expect("order")[0];
        assert_eq!(order.external_order_id.as_deref(), Some("ord1"));
        assert_eq!(order.currency.as_deref(), Some("USD"));
        assert_eq!(order.total_minor, Some(2500));
        assert_eq!(order.status.as_deref(), Some("COMPLETED"));
        assert_eq!(
            order.lines,
            vec![Line {
                line_id: Some("u1".into()),
                sku: None,
                external_item_id: Some("VAR1".into()),
                quantity: 2,
                unit_price_minor: Some(1250),
            }]
        );
        assert_eq!(
            order.customer.as_ref().and_then(|c| c.id.as_deref()),
            Some("C9")
        );
        let weighed = body.replace(r#""quantity":"2""#, r#""quantity":"1.5""#);
        let order = &parse(&weighed).expect("order")[0];
        assert_eq!(order.lines, vec![]);
        assert_eq!(
            order.hint,
            Some(Hint {
                resource: "order".into(),
                id: Some("ord1".into())
            })
        );
    }

    #[test]
    fn payments_and_refunds_carry_minor_units() {
        let body = r#"{"merchant_id":"6SSW7HV8K2ST5","type":"payment.updated","event_id":"6a8f5f28",
            "created_at":"2020-02-06T21:27:34.308Z","data":{"type":"payment","id":"hYy9pRFVxpDsO1FB05SunFWUe9JZY",
            "object":{"payment":{"amount_money":{"amount":100,"currency":"USD"},
              "id":"hYy9pRFVxpDsO1FB05SunFWUe9JZY","location_id":"S8GWD5R9QB376",
              "order_id":"03O3USaPaAaFnI6kkwB1JxGgBsUZY","status":"COMPLETED",
              "total_money":{"amount":120,"currency":"USD"}}}}}"#;
        let payment = &parse(body).expect("payment")[0];
        assert_eq!(payment.kind, Kind::Payment);
        assert_eq!(
            payment.external_payment_id.as_deref(),
            Some("hYy9pRFVxpDsO1FB05SunFWUe9JZY")
        );
        assert_eq!(
            payment.external_order_id.as_deref(),
            Some("03O3USaPaAaFnI6kkwB1JxGgBsUZY")
        );
        assert_eq!(payment.amount_minor, Some(120));
        assert_eq!(payment.currency.as_deref(), Some("USD"));
        assert_eq!(payment.status.as_deref(), Some("COMPLETED"));
        assert_eq!(payment.location_id.as_deref(), Some("S8GWD5R9QB376"));

        let body = r#"{"type":"refund.updated","event_id":"bc316346","created_at":"2020-02-06T22:14:16.421Z",
            "data":{"type":"refund","id":"R1","object":{"refund":{"amount_money":{"amount":1000,"currency":"jpy"},
              "id":"R1","location_id":"NAQ1FHV6ZJ8YV","order_id":"haOyDuHiqtAXMk0d8pDKXpL7Jg4F",
              "payment_id":"KkAkhdMsgzn59SM8A89WgKwekxLZY","status":"COMPLETED"}}}}"#;
        let refund = &parse(body).expect("refund")[0];
        assert_eq!(refund.kind, Kind::Refund);
        assert_eq!(refund.external_refund_id.as_deref(), Some("R1"));
        assert_eq!(
            refund.external_payment_id.as_deref(),
            Some("KkAkhdMsgzn59SM8A89WgKwekxLZY")
        );
        assert_eq!(refund.amount_minor, Some(1000));
        assert_eq!(refund.currency.as_deref(), Some("JPY"));
    }

    #[test]
    fn inventory_counts_in_stock_become_inventory_figures() {
        let body = r#"{"merchant_id":"6SSW7HV8K2ST5","type":"inventory.count.updated","event_id":"df5f3813",
            "created_at":"2019-10-29T18:38:45.455006797Z","data":{"type":"inventory_counts","id":"84e4ac73",
            "object":{"inventory_counts":[
              {"calculated_at":"2019-10-29T18:38:45.10296Z","catalog_object_id":"FGQ5JJWT2PYTHF35CKZ2DSKP",
               "catalog_object_type":"ITEM_VARIATION","location_id":"YYQR03DGCTXA4","quantity":"10","state":"IN_STOCK"},
              {"catalog_object_id":"FGQ5JJWT2PYTHF35CKZ2DSKP","location_id":"YYQR03DGCTXA4","quantity":"2","state":"WASTE"}]}}}"#;
        let events = parse(body).expect("counts");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, Kind::Inventory);
        assert_eq!(
            events[0].inventory,
            Some(Inventory {
                sku: None,
                external_item_id: Some("FGQ5JJWT2PYTHF35CKZ2DSKP".into()),
                location_id: Some("YYQR03DGCTXA4".into()),
                quantity: Some(10),
            })
        );
        assert_eq!(
            events[0].occurred_at.as_deref(),
            Some("2019-10-29T18:38:45.102960Z")
        );
    }

    #[test]
    fn catalog_and_customer_events_are_hints() {
        let body = r#"{"type":"catalog.version.updated","event_id":"aeaaa5f6","created_at":"2019-10-29T17:26:16.808603647Z",
            "data":{"type":"catalog_version","id":"732b6677","object":{"catalog_version":{"updated_at":"2019-10-29T17:26:16.53Z"}}}}"#;
        let catalog = &parse(body).expect("hint")[0];
        assert_eq!(catalog.kind, Kind::Hint);
        assert_eq!(
            catalog.hint,
            Some(Hint {
                resource: "product".into(),
                id: None
            })
        );
        let body = r#"{"type":"customer.updated","event_id":"x","data":{"type":"customer","id":"CUST1","object":{}}}"#;
        assert_eq!(
            parse(body).expect("hint")[0].hint,
            Some(Hint {
                resource: "customer".into(),
                id: Some("CUST1".into())
            })
        );
        assert_eq!(parse(BODY), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("").is_err());
        assert!(parse(r#"{"event_id":"x"}"#).is_err());
        assert!(parse(r#"{"type":"payment.updated","data":{"object":{"payment":{"amount_money":{"amount":true}}}}}"#).is_err());
    }
}
