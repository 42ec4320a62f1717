//! WooCommerce webhooks. `X-WC-Webhook-Signature` is base64(HMAC-SHA256(raw body)) under the
//! webhook secret after WordPress's `wp_specialchars_decode(secret, ENT_QUOTES)`. The topic and
//! resource are in `X-WC-Webhook-Topic`/`-Resource`; the body is the REST (wc/v3)
//! representation of the resource at delivery time (decimal-string totals, JSON-number line
//! prices). There is no event id, and creating a webhook sends an unsigned form-encoded ping
//! `webhook_id=N` that carries nothing to act on.
//!
//! A variation of a variable product is named `{product}:{variation}` (see [`item_id`]), so
//! one id reads its stock, writes it (`/products/{product}/variations/batch`) and matches
//! the order lines that sell it (`variation_id`); a `product.updated` delivery about a
//! variation is the variation itself (`type: variation`, `parent_id`).

use serde::Deserialize;

use super::{
    Inbound,
    common::{self, Encoding, HmacHeader, Id, seq},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
};

const PLATFORM: &str = "woocommerce";
const SIGNATURE: &str = "X-WC-Webhook-Signature";
const SCHEME: HmacHeader = HmacHeader::sha256(SIGNATURE, Encoding::Base64);

/// WooCommerce (online store).
pub struct WooCommerce;

/// Concord's id for a WooCommerce item: the product id, or `{product}:{variation}` for a
/// variation of a variable product (writes to it go through its product).
pub(crate) fn item_id(product: &str, variation: Option<&str>) -> String {
    match variation {
        Some(variation) => format!("{product}:{variation}"),
        None => product.to_owned(),
    }
}

/// The product and, for a variation, the variation an [`item_id`] names.
pub(crate) fn split_item_id(id: &str) -> Option<(u64, Option<u64>)> {
    match id.split_once(':') {
        Some((product, variation)) => Some((product.parse().ok()?, Some(variation.parse().ok()?))),
        None => Some((id.parse().ok()?, None)),
    }
}

#[derive(Deserialize)]
struct Order {
    id: Id,
    status: Option<String>,
    currency: Option<String>,
    total: Option<Amount>,
    customer_id: Option<Id>,
    billing: Option<Billing>,
    #[serde(default, deserialize_with = "seq")]
    line_items: Vec<OrderLine>,
    #[serde(default, deserialize_with = "seq")]
    refunds: Vec<RefundRef>,
    date_modified_gmt: Option<String>,
    date_created_gmt: Option<String>,
}

#[derive(Deserialize)]
struct Billing {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
struct OrderLine {
    id: Option<Id>,
    sku: Option<String>,
    product_id: Option<Id>,
    variation_id: Option<Id>,
    quantity: Amount,
    price: Option<Amount>,
}

#[derive(Deserialize)]
struct RefundRef {
    id: Id,
    total: Option<Amount>,
}

#[derive(Deserialize)]
struct Product {
    id: Id,
    /// The variable product, when this is one of its variations.
    parent_id: Option<Id>,
    sku: Option<String>,
    manage_stock: Option<serde_json::Value>,
    stock_quantity: Option<Amount>,
    date_modified_gmt: Option<String>,
}

/// What the event id is made of.
#[derive(Deserialize)]
struct Stamp {
    id: Option<Id>,
    date_modified_gmt: Option<String>,
    date_modified: Option<String>,
}

/// The ping sent when a webhook is created: `webhook_id=<digits>`, form-encoded.
fn is_ping(body: &[u8]) -> bool {
    body.strip_prefix(b"webhook_id=")
        .is_some_and(|id| !id.is_empty() && id.iter().all(u8::is_ascii_digit))
}

/// What a delivery is about: the resource header, else the topic's first part.
fn resource<'a>(delivery: &Delivery<'a>) -> Option<&'a str> {
    delivery.header("X-WC-Webhook-Resource").or_else(|| {
        delivery
            .header("X-WC-Webhook-Topic")
            .and_then(|t| t.split('.').next())
    })
}

/// The secret as WooCommerce signs with it: `wp_specialchars_decode($secret, ENT_QUOTES)`,
/// which decodes `&amp; &lt; &gt; &quot;` and the numeric forms of `& < > " '` (decimal with
/// any leading zeros; hex for `& " '` only), in one pass.
fn decoded_secret(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len());
    let mut rest = secret;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest
            .find(';')
            .map(|end| (&rest[1..end], end))
            .and_then(|(name, end)| entity(name).map(|c| (c, end)));
        match entity {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        _ => {}
    }
    let number = name.strip_prefix('#')?;
    let (digits, radix, allowed): (&str, u32, &[u32]) = match number
        .strip_prefix('x')
        .or_else(|| number.strip_prefix('X'))
    {
        Some(hex) => (hex, 16, &[0x22, 0x26, 0x27]),
        None => (number, 10, &[34, 38, 39, 60, 62]),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let code = u32::from_str_radix(digits, radix).ok()?;
    allowed
        .contains(&code)
        .then(|| char::from_u32(code))
        .flatten()
}

impl Inbound for WooCommerce {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        let Some(sent) = delivery.header(SIGNATURE) else {
            if is_ping(delivery.body) {
                return Err(Rejection::Unsigned(
                    "WooCommerce's webhook-creation ping (webhook_id=N) is unsigned; it carries nothing to act on",
                ));
            }
            return Err(Rejection::MissingHeader(SIGNATURE));
        };
        let secret = decoded_secret(keys.require_secret()?);
        SCHEME.matches(sent, secret.as_bytes(), &[delivery.body])
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        let resource = resource(delivery)?;
        let stamp: Stamp = serde_json::from_slice(delivery.body).ok()?;
        let id = common::id(stamp.id.as_ref())?;
        let modified = common::text(stamp.date_modified_gmt.or(stamp.date_modified).as_deref())?;
        Some(format!("{resource}:{id}:{modified}"))
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        if is_ping(delivery.body) {
            return Ok(Vec::new());
        }
        let topic = delivery.header("X-WC-Webhook-Topic");
        let resource = resource(delivery).ok_or_else(|| {
            common::malformed(
                PLATFORM,
                "no X-WC-Webhook-Resource or X-WC-Webhook-Topic header",
            )
        })?;
        let deleted = topic.is_some_and(|t| t.ends_with(".deleted"));
        let stamp = |kind| Normalized {
            topic: topic.map(str::to_owned),
            event_id: self.event_id(delivery),
            ..Normalized::new(kind)
        };
        let body = delivery.body;
        let events = match resource {
            "order" if deleted => vec![thin(stamp(Kind::Hint), body, "order")?],
            "order" => order(stamp, common::json(PLATFORM, body)?),
            "product" if deleted => vec![thin(stamp(Kind::Hint), body, "product")?],
            "product" => vec![product(stamp(Kind::Product), common::json(PLATFORM, body)?)],
            "customer" => vec![thin(stamp(Kind::Hint), body, "customer")?],
            _ => Vec::new(),
        };
        Ok(events)
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let secret = decoded_secret(keys.require_secret()?);
        Ok(SCHEME.header(secret.as_bytes(), &[body]))
    }
}

/// The order, then one refund per refund it lists (WooCommerce has no refund topic: a refund
/// arrives as `order.updated`).
fn order(stamp: impl Fn(Kind) -> Normalized, order: Order) -> Vec<Normalized> {
    let currency = common::currency(order.currency.as_deref());
    let order_id = order.id.present();
    let occurred_at = order
        .date_modified_gmt
        .or(order.date_created_gmt)
        .as_deref()
        .and_then(common::utc_naive);
    let mut event = stamp(Kind::Order);
    event.external_order_id = order_id.clone();
    event.status = common::text(order.status.as_deref());
    event.total_minor = common::decimal(order.total.as_ref(), currency.as_deref());
    event.occurred_at = occurred_at;
    event.customer = common::customer(
        common::id(order.customer_id.as_ref()),
        order
            .billing
            .as_ref()
            .and_then(|b| common::text(b.email.as_deref())),
        order
            .billing
            .as_ref()
            .and_then(|b| common::text(b.phone.as_deref())),
        order
            .billing
            .as_ref()
            .and_then(|b| common::full_name(b.first_name.as_deref(), b.last_name.as_deref())),
    );
    let lines = order
        .line_items
        .iter()
        .map(|l| {
            Some(Line {
                line_id: common::id(l.id.as_ref()),
                sku: common::text(l.sku.as_deref()),
                external_item_id: line_item(l),
                quantity: common::whole(&l.quantity)?,
                unit_price_minor: common::decimal(l.price.as_ref(), currency.as_deref()),
            })
        })
        .collect();
    common::set_lines(&mut event, lines);
    let refunds = order.refunds.iter().map(|r| {
        let mut refund = stamp(Kind::Refund);
        refund.external_refund_id = r.id.present();
        refund.external_order_id = order_id.clone();
        refund.currency = currency.clone();
        // Listed as negative totals ("-10.00"); Concord counts refunded money as positive.
        refund.amount_minor =
            common::decimal(r.total.as_ref(), currency.as_deref()).and_then(i64::checked_abs);
        refund
    });
    event.currency = currency.clone();
    std::iter::once(event).chain(refunds).collect()
}

/// The item an order line sells: the variation of its product, or the product.
fn line_item(line: &OrderLine) -> Option<String> {
    let variation = common::id(line.variation_id.as_ref());
    match common::id(line.product_id.as_ref()) {
        Some(product) => Some(item_id(&product, variation.as_deref())),
        None => variation,
    }
}

fn product(mut event: Normalized, product: Product) -> Normalized {
    let id = match (common::id(product.parent_id.as_ref()), product.id.present()) {
        (Some(parent), Some(id)) => Some(item_id(&parent, Some(&id))),
        (_, id) => id,
    };
    event.occurred_at = product
        .date_modified_gmt
        .as_deref()
        .and_then(common::utc_naive);
    if product.manage_stock == Some(serde_json::Value::Bool(true)) {
        event.inventory = Some(Inventory {
            sku: common::text(product.sku.as_deref()),
            external_item_id: id.clone(),
            location_id: None,
            quantity: product.stock_quantity.as_ref().and_then(common::whole),
        });
    }
    event.hint = common::hint("product", id);
    event
}

fn thin(mut event: Normalized, body: &[u8], resource: &str) -> Result<Normalized, ParseError> {
    let stamp: Stamp = common::json(PLATFORM, body)?;
    let id = common::id(stamp.id.as_ref());
    if resource == "order" {
        event.external_order_id = id.clone();
    }
    event.hint = common::hint(resource, id);
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::headers;
    use crate::{Customer, Hint};

    // Computed independently: printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'p&ss<w"rd' -binary
    // | base64 — the secret as WordPress stores it is `p&amp;ss&lt;w&quot;rd`. WooCommerce
    // publishes no fixed vector.
    const STORED_SECRET: &str = "p&amp;ss&lt;w&quot;rd";
    const BODY: &[u8] = br#"{"id":727,"status":"processing","total":"29.35"}"#;
    const SIGNATURE_VALUE: &str = "9j9l9LY/SYSAYN6jKENeOdGWvikOZmYz54tNBJ/zIC8=";

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
        WooCommerce.verify(&delivery, &keys, 0)
    }

    fn parse(topic: &str, body: &str) -> Result<Vec<Normalized>, ParseError> {
        let resource = topic.split('.').next().unwrap_or_default();
        let headers = headers(&[
            ("X-WC-Webhook-Topic", topic),
            ("X-WC-Webhook-Resource", resource),
        ]);
        WooCommerce.parse(&Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url: None,
        })
    }

    #[test]
    fn the_secret_is_entity_decoded_as_wordpress_does() {
        assert_eq!(decoded_secret(STORED_SECRET), r#"p&ss<w"rd"#);
        assert_eq!(decoded_secret("a&#039;b&#39;c&#x27;d"), "a'b'c'd");
        assert_eq!(
            decoded_secret("&amp;lt; &#60; &#x3c; &bogus; & &;"),
            "&lt; < &#x3c; &bogus; & &;"
        );
        assert_eq!(decoded_secret("plain"), "plain");
    }

    #[test]
    fn the_fixed_vector_verifies_and_changes_are_refused() {
        let good = headers(&[("x-wc-webhook-signature", SIGNATURE_VALUE)]);
        assert_eq!(check(&good, BODY, STORED_SECRET), Ok(()));
        assert_eq!(check(&good, BODY, r#"p&ss<w"rd"#), Ok(()));
        let tampered = String::from_utf8_lossy(BODY).replace("29.35", "0.01");
        assert_eq!(
            check(&good, tampered.as_bytes(), STORED_SECRET),
            Err(Rejection::Mismatch)
        );
        assert_eq!(check(&good, BODY, "p&ss"), Err(Rejection::Mismatch));
        assert_eq!(
            check(&[], BODY, STORED_SECRET),
            Err(Rejection::MissingHeader(SIGNATURE))
        );
    }

    #[test]
    fn the_creation_ping_is_unsigned_and_carries_nothing() {
        assert!(matches!(
            check(&[], b"webhook_id=15", STORED_SECRET),
            Err(Rejection::Unsigned(_))
        ));
        assert_eq!(parse("order.created", "webhook_id=15"), Ok(vec![]));
        let bare = WooCommerce.parse(&Delivery {
            body: b"webhook_id=15",
            headers: &[],
            url: None,
        });
        assert_eq!(bare, Ok(vec![]));
    }

    #[test]
    fn signing_round_trips() {
        let keys = Keys {
            secret: Some(STORED_SECRET),
            ..Keys::default()
        };
        let signed = WooCommerce.sign(BODY, &keys, None, 0).expect("signed");
        assert_eq!(signed, headers(&[(SIGNATURE, SIGNATURE_VALUE)]));
        assert_eq!(check(&signed, BODY, STORED_SECRET), Ok(()));
    }

    const ORDER: &str = r##"{
        "id": 723, "parent_id": 0, "number": "723", "status": "completed", "currency": "usd",
        "date_created": "2017-03-21T16:16:00", "date_created_gmt": "2017-03-21T19:16:00",
        "date_modified": "2017-03-21T16:54:51", "date_modified_gmt": "2017-03-21T19:54:51",
        "total": "39.00", "customer_id": 26,
        "billing": {"first_name": "João", "last_name": "Silva", "email": "joao.silva@example.com",
                    "phone": "(11) 1111-1111"},
        "line_items": [
          {"id": 311, "name": "Woo Album #2", "product_id": 87, "variation_id": 0, "quantity": 1,
           "subtotal": "9.00", "total": "9.00", "sku": "", "price": 9},
          {"id": 313, "name": "Woo Ninja", "product_id": 34, "variation_id": 40, "quantity": 2,
           "subtotal": "20.00", "total": "20.00", "sku": "NINJA-M", "price": 10.5}
        ],
        "refunds": [{"id": 726, "refund": "", "total": "-10.00"}, {"id": 724, "refund": "", "total": "-9.00"}]
    }"##;

    #[test]
    fn an_order_maps_lines_buyer_and_its_refunds() {
        let events = parse("order.updated", ORDER).expect("order");
        assert_eq!(events.len(), 3);
        let order = &events[0];
        assert_eq!(order.kind, Kind::Order);
        assert_eq!(order.topic.as_deref(), Some("order.updated"));
        assert_eq!(
            order.event_id.as_deref(),
            Some("order:723:2017-03-21T19:54:51")
        );
        assert_eq!(order.external_order_id.as_deref(), Some("723"));
        assert_eq!(order.currency.as_deref(), Some("USD"));
        assert_eq!(order.total_minor, Some(3900));
        assert_eq!(order.status.as_deref(), Some("completed"));
        assert_eq!(order.occurred_at.as_deref(), Some("2017-03-21T19:54:51Z"));
        assert_eq!(
            order.lines,
            vec![
                Line {
                    line_id: Some("311".into()),
                    sku: None,
                    external_item_id: Some("87".into()),
                    quantity: 1,
                    unit_price_minor: Some(900),
                },
                Line {
                    line_id: Some("313".into()),
                    sku: Some("NINJA-M".into()),
                    external_item_id: Some("34:40".into()),
                    quantity: 2,
                    unit_price_minor: Some(1050),
                },
            ]
        );
        assert_eq!(
            order.customer,
            Some(Customer {
                id: Some("26".into()),
                email: Some("joao.silva@example.com".into()),
                phone: Some("(11) 1111-1111".into()),
                name: Some("João Silva".into()),
            })
        );
        let refund = &events[1];
        assert_eq!(refund.kind, Kind::Refund);
        assert_eq!(refund.external_refund_id.as_deref(), Some("726"));
        assert_eq!(refund.external_order_id.as_deref(), Some("723"));
        assert_eq!(refund.amount_minor, Some(1000));
        assert_eq!(refund.currency.as_deref(), Some("USD"));
        assert_eq!(events[2].amount_minor, Some(900));
    }

    #[test]
    fn a_line_price_that_is_not_exact_in_cents_is_left_out() {
        let body = ORDER.replace(r#""price": 10.5"#, r#""price": 3.3333333333"#);
        let order = &parse("order.updated", &body).expect("order")[0];
        assert_eq!(order.lines[1].unit_price_minor, None);
        assert_eq!(order.lines[1].quantity, 2);
    }

    #[test]
    fn a_product_with_managed_stock_carries_its_figure() {
        let body = r#"{"id": 794, "name": "Premium Quality", "sku": "PQ-1", "type": "simple",
            "date_modified_gmt": "2017-03-23T20:01:14", "manage_stock": true, "stock_quantity": 18,
            "price": "21.99"}"#;
        let product = &parse("product.updated", body).expect("product")[0];
        assert_eq!(product.kind, Kind::Product);
        assert_eq!(
            product.inventory,
            Some(Inventory {
                sku: Some("PQ-1".into()),
                external_item_id: Some("794".into()),
                location_id: None,
                quantity: Some(18),
            })
        );
        assert_eq!(product.occurred_at.as_deref(), Some("2017-03-23T20:01:14Z"));
        assert_eq!(
            product.event_id.as_deref(),
            Some("product:794:2017-03-23T20:01:14")
        );
        let unmanaged = body.replace(
            r#""manage_stock": true, "stock_quantity": 18"#,
            r#""manage_stock": false, "stock_quantity": null"#,
        );
        assert_eq!(
            parse("product.updated", &unmanaged).expect("product")[0].inventory,
            None
        );
    }

    #[test]
    fn a_variation_is_named_with_its_product() {
        let body = r#"{"id": 41, "parent_id": 34, "name": "Woo Ninja - L", "sku": "NINJA-L",
            "type": "variation", "date_modified_gmt": "2017-03-23T20:01:14",
            "manage_stock": true, "stock_quantity": 6}"#;
        let variation = &parse("product.updated", body).expect("variation")[0];
        let inventory = variation.inventory.as_ref().expect("a figure");
        assert_eq!(inventory.external_item_id.as_deref(), Some("34:41"));
        assert_eq!(inventory.sku.as_deref(), Some("NINJA-L"));
        assert_eq!(inventory.quantity, Some(6));
        // A variation inheriting its product's stock reports no figure of its own.
        let inherited = body.replace(r#""manage_stock": true"#, r#""manage_stock": "parent""#);
        assert_eq!(
            parse("product.updated", &inherited).expect("variation")[0].inventory,
            None
        );
        let simple = body.replace(r#""parent_id": 34"#, r#""parent_id": 0"#);
        assert_eq!(
            parse("product.updated", &simple).expect("product")[0]
                .inventory
                .as_ref()
                .and_then(|i| i.external_item_id.as_deref()),
            Some("41")
        );
    }

    #[test]
    fn item_ids_split_into_product_and_variation() {
        assert_eq!(item_id("34", Some("40")), "34:40");
        assert_eq!(item_id("87", None), "87");
        assert_eq!(split_item_id("34:40"), Some((34, Some(40))));
        assert_eq!(split_item_id("87"), Some((87, None)));
        for bad in [
            "",
            "x",
            "34:",
            ":40",
            "34:40:1",
            "gid://shopify/ProductVariant/1",
        ] {
            assert_eq!(split_item_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn deletions_and_customers_are_hints() {
        let deleted = &parse("order.deleted", r#"{"id": 723}"#).expect("hint")[0];
        assert_eq!(deleted.kind, Kind::Hint);
        assert_eq!(
            deleted.hint,
            Some(Hint {
                resource: "order".into(),
                id: Some("723".into())
            })
        );
        assert_eq!(deleted.event_id, None);
        let customer = &parse(
            "customer.updated",
            r#"{"id": 25, "email": "x@example.com"}"#,
        )
        .expect("hint")[0];
        assert_eq!(
            customer.hint.as_ref().map(|h| h.resource.as_str()),
            Some("customer")
        );
        assert_eq!(parse("coupon.created", r#"{"id": 720}"#), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_and_missing_headers_are_errors() {
        assert!(parse("order.created", "{").is_err());
        assert!(
            parse(
                "order.created",
                r#"{"id": 1, "line_items": [{"quantity": null}]}"#
            )
            .is_err()
        );
        let none = WooCommerce.parse(&Delivery {
            body: ORDER.as_bytes(),
            headers: &[],
            url: None,
        });
        assert!(none.is_err());
    }
}
