//! Wix (Stores / eCommerce). The body of every webhook **is** a JWT signed RS256 with the app's
//! key; it is checked against the app's public key (App dashboard › Webhooks › Get Public Key)
//! with `alg` pinned to RS256 and `exp` enforced. There are no signature headers, so `sign`
//! adds none: a simulator makes the body itself with [`crate::schemes::jwt::sign`].
//!
//! The payload is nested JSON in strings: claim `data` → `{eventType, instanceId, data, identity}`
//! → `data` → `{id, slug, entityFqdn, entityId, eventTime, createdEvent{entity} |
//! updatedEvent{currentEntity} | actionEvent{body}}`. eCommerce orders
//! (`wix.ecom.v1.order`) are mapped in full, money being Price `{amount: "decimal string"}`;
//! other entities become hints for orders, inventory and products, or are ignored.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    Inbound,
    common::{self, Text},
};
use crate::{
    Customer, Delivery, Keys, Kind, Line, Normalized, ParseError, Rejection, money::Amount,
    schemes::jwt,
};

const PLATFORM: &str = "wix";
const ORDER_FQDN: &str = "wix.ecom.v1.order";

/// Wix.
pub struct Wix;

#[derive(Deserialize)]
struct Claims {
    data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    event_type: Option<String>,
    data: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Event {
    id: Option<String>,
    entity_fqdn: Option<String>,
    entity_id: Option<String>,
    event_time: Option<String>,
    created_event: Option<Created>,
    updated_event: Option<Updated>,
    action_event: Option<Action>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    entity: Option<Box<RawValue>>,
    entity_as_json: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Updated {
    current_entity: Option<Box<RawValue>>,
    current_entity_as_json: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Action {
    body: Option<Box<RawValue>>,
    body_as_json: Option<String>,
}

#[derive(Deserialize)]
struct ActionBody {
    order: Option<Order>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    id: Option<String>,
    status: Option<String>,
    payment_status: Option<String>,
    currency: Option<String>,
    price_summary: Option<PriceSummary>,
    line_items: Option<Vec<LineItem>>,
    buyer_info: Option<BuyerInfo>,
}

#[derive(Deserialize)]
struct PriceSummary {
    total: Option<Price>,
}

#[derive(Deserialize)]
struct Price {
    amount: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineItem {
    id: Option<String>,
    quantity: Text,
    physical_properties: Option<PhysicalProperties>,
    catalog_reference: Option<CatalogReference>,
    price: Option<Price>,
}

#[derive(Deserialize)]
struct PhysicalProperties {
    sku: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogReference {
    catalog_item_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuyerInfo {
    contact_id: Option<String>,
    email: Option<String>,
}

/// The body (the JWT) decoded, unverified, down to the event envelope and the event.
fn read(body: &[u8]) -> Result<(Envelope, Event), ParseError> {
    let token = std::str::from_utf8(body)
        .map_err(|_| common::malformed(PLATFORM, "the body is not text"))?;
    let claims = jwt::claims(token).map_err(|e| common::malformed(PLATFORM, e))?;
    let claims: Claims = common::json(PLATFORM, &claims)?;
    let envelope: Envelope = common::json(PLATFORM, claims.data.as_bytes())?;
    let event = match &envelope.data {
        Some(data) => common::json(PLATFORM, data.as_bytes())?,
        None => Event::default(),
    };
    Ok((envelope, event))
}

/// JSON given either inline or as a string (`…AsJson`).
fn inline_or_string<'a>(inline: Option<&'a RawValue>, string: Option<&'a str>) -> Option<&'a str> {
    inline.map(RawValue::get).or(string)
}

impl Event {
    /// The order this event carries in full, if it is an eCommerce order event that has one.
    fn order(&self) -> Result<Option<Order>, ParseError> {
        if self.entity_fqdn.as_deref() != Some(ORDER_FQDN) {
            return Ok(None);
        }
        let entity = self
            .created_event
            .as_ref()
            .and_then(|c| inline_or_string(c.entity.as_deref(), c.entity_as_json.as_deref()))
            .or_else(|| {
                self.updated_event.as_ref().and_then(|u| {
                    inline_or_string(
                        u.current_entity.as_deref(),
                        u.current_entity_as_json.as_deref(),
                    )
                })
            });
        if let Some(entity) = entity {
            return common::json(PLATFORM, entity.as_bytes()).map(Some);
        }
        let body = self
            .action_event
            .as_ref()
            .and_then(|a| inline_or_string(a.body.as_deref(), a.body_as_json.as_deref()));
        match body {
            Some(body) => Ok(common::json::<ActionBody>(PLATFORM, body.as_bytes())?.order),
            None => Ok(None),
        }
    }

    /// What to fetch when the event does not carry an order.
    fn hint(&self) -> Option<Normalized> {
        let fqdn = self.entity_fqdn.as_deref()?;
        let resource = if fqdn.contains("order") {
            "order"
        } else if fqdn.contains("inventory") {
            "inventory"
        } else if fqdn.contains("product") {
            "product"
        } else {
            return None;
        };
        Some(common::hint_event(resource, self.entity_id.clone()))
    }
}

impl Order {
    fn normalize(self, topic: Option<&str>) -> Result<Normalized, ParseError> {
        let currency = self.currency.as_deref().map(str::to_ascii_uppercase);
        let minor = |price: Option<&Price>| {
            let amount = price?.amount.as_ref()?;
            amount.decimal_minor(currency.as_deref()?)
        };
        let mut order = Normalized::new(Kind::Order);
        order.external_order_id = self.id;
        // The payment-status event is about the payment status; the others about the order's.
        let (first, second) = if topic.is_some_and(|t| t.ends_with("payment_status_updated")) {
            (self.payment_status, self.status)
        } else {
            (self.status, self.payment_status)
        };
        order.status = first.or(second);
        order.total_minor = minor(self.price_summary.as_ref().and_then(|p| p.total.as_ref()));
        order.lines = self
            .line_items
            .iter()
            .flatten()
            .map(|item| {
                Ok(Line {
                    line_id: item.id.clone(),
                    sku: item
                        .physical_properties
                        .as_ref()
                        .and_then(|p| p.sku.clone())
                        .filter(|sku| !sku.is_empty()),
                    external_item_id: item
                        .catalog_reference
                        .as_ref()
                        .and_then(|c| c.catalog_item_id.clone()),
                    quantity: common::units(PLATFORM, &item.quantity)?,
                    unit_price_minor: minor(item.price.as_ref()),
                })
            })
            .collect::<Result<_, ParseError>>()?;
        order.customer = self.buyer_info.map(|buyer| Customer {
            id: buyer.contact_id,
            email: buyer.email,
            phone: None,
            name: None,
        });
        order.currency = currency;
        Ok(order)
    }
}

impl Inbound for Wix {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, now: i64) -> Result<(), Rejection> {
        let public_pem = keys
            .public_key_pem
            .ok_or(Rejection::MissingKey("public key"))?;
        let token = delivery
            .text()
            .ok_or_else(|| Rejection::Malformed("the body is not text".into()))?;
        jwt::verify(public_pem, token, now).map(|_| ())
    }

    /// The webhook event id (`data.data.id`), which is not the entity's id.
    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        read(delivery.body).ok()?.1.id
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let (envelope, event) = read(delivery.body)?;
        let topic = envelope.event_type;
        let normalized = match event.order()? {
            Some(order) => Some(order.normalize(topic.as_deref())?),
            None => event.hint(),
        };
        Ok(normalized
            .map(|mut n| {
                n.topic = topic;
                n.event_id = event.id;
                n.occurred_at = event.event_time.as_deref().and_then(common::utc_minutes);
                n
            })
            .into_iter()
            .collect())
    }

    /// None: the body itself is the signed JWT.
    fn sign(
        &self,
        _body: &[u8],
        _keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::bare as delivery;

    // A 2048-bit key pair made once with `openssl genpkey -algorithm RSA` for these tests only,
    // and the public half of a second pair. Wix publishes no signed sample.
    const PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDi8wFnYydb40Fd
eViIXiOq8SLbrc2tAnU8q59ezsMw2mpfsi25INF0SZ3/uC/RJrzwEgZFtjqpCzw1
QC5dedSYgdhgaSFpbXahcdsuIowuboKDVGD1SjUFGL7VW7XNr3hJOVVd0WeULIez
6lD5Tp0MamsxYSktEW8cGpYs++bLfLWDdB0qlmNywfo1WXTMO+7Bc2Nx6E4iW8Bt
ZcXbp7GA0xbLPOD3juj08hid4vbW5wnbpEv9fZnrNZctxCkNGGZ3O+SkOeocwYq2
ElZK1BR+cYnHPqk5LkBASY2AN4clrqhda2pF5kLCL3wgxHJARC2I2P/BQ064W0zw
Ny7Z08ZFAgMBAAECggEACn61AJRJQaqPX0SOn4pwQ9DFjTsgWRvVUr+XrclfUBG0
UZs/xLaLzmuJGZuUOoEmw5inHu9/uZ7XY0RbNd9obBUKbeBEDJ1kmwVU3saiN5N3
XZ4NTcqSC8ZKgjtXe5zdsc/WRBxm7yc6r0tAALIYo8utYVSI6ZigzBU+qfM23Q9f
r24UctKxL9L4jEj0oUChicuqr2gablTrbYqIPusne1NnXgjgrqF7Mv6sY2F8GDp5
88Ampk1JOuuxTA1NUFMzZ4IJnFVsQPjdjrFkoQbST1BaTxHj1EbPQ62l8So65nOu
6Z/vG0oCoPhKNppOG8VbtjpHhe1zS0crO5NQP0EBgQKBgQDznaiq8DcKyir9eVSZ
HMn0zn0HOOvVuFs+8UB9BDVqhUhRz7jg9OQ6G6RymVybESxSpqWmL2lC7aT7gQvv
/JGfQ+2MQdRIID9JI315NGV4MQH9CcUBQJLjYM6tYoBrpGXu13nPSWdxQ9M2So39
dhQgiyB+F4UMqJl7BWfhmWJXGQKBgQDufHPVQ1ev2BrXZ8KOdlmGo8v42ggkE49H
uZY16REaZfSi2Qf+eaSPKRwlHLGmv+GADqL+AnTJoHUb3X4a2xkaULE/21Os7x/V
CbdidU9bP87rgf3cKNA5L3r2vdsHoAnDjJLTI9H/+1rD2MJkDu9VjrpiyTJF1E66
mNPvN41qDQKBgGWP4tNw1eGfqxCFVqmGgQOYWjN6nYc6FoBFH7d+264O5rmEufS+
4679+y7zlNHo9Ot4IjMILQAEBvX7NLjWOPeG4C/K+e8f0oJxU0wGdg8Hj2aofgMp
opM8tq0+FX/Kx9ws5NFwLrnfptxJdKyoX3e5yNAIiiVe3K2W8VnyEjdxAoGBANBv
h1GqdPYke3kun7WhrKdne3t5HEpjqgO3KZjepesblw/JfhokuPXCqW2qQX6LEAy7
Piuhe+9JRXFgSboxKiR8yB4WlHB94qVww43TF9OZ1kCxsW19YlfIrsD+uHNWpZH6
x8yv7ve6+N5ZEbUf9IAjqbVzQXQUleaycfEO7ZL1AoGAWxhnT3Efw/bs4wb8sqqZ
+2QSYYJccDjUZX38ujkgOS5kpdmJurwtXQz9W1gMJU5wx1rMnwRb2PpPVZRV+LtJ
MFFUvkDif6PPqiz7VmG/YaVHZeC2dVAJTsm6ur0H7KqoyYgCujmqyKN8L8kyJZGP
u2uMWLNKiUUHnSMHhawffcw=
-----END PRIVATE KEY-----
";
    const PUBLIC_PEM: &str = "\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4vMBZ2MnW+NBXXlYiF4j
qvEi263NrQJ1PKufXs7DMNpqX7ItuSDRdEmd/7gv0Sa88BIGRbY6qQs8NUAuXXnU
mIHYYGkhaW12oXHbLiKMLm6Cg1Rg9Uo1BRi+1Vu1za94STlVXdFnlCyHs+pQ+U6d
DGprMWEpLRFvHBqWLPvmy3y1g3QdKpZjcsH6NVl0zDvuwXNjcehOIlvAbWXF26ex
gNMWyzzg947o9PIYneL21ucJ26RL/X2Z6zWXLcQpDRhmdzvkpDnqHMGKthJWStQU
fnGJxz6pOS5AQEmNgDeHJa6oXWtqReZCwi98IMRyQEQtiNj/wUNOuFtM8Dcu2dPG
RQIDAQAB
-----END PUBLIC KEY-----
";
    const OTHER_PUBLIC_PEM: &str = "\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuBPkzJ/MEeVsC0HWDcvk
nVpMth6MseYsUHhQkJ47iCoy9bypFzCcXK5U0Ahn9qrfnMk0c2OtwJDzaCKhASXO
H12+fW4+AHGfQOvcDT4VbAbqRp+gS3o/Z89r5cJL2Ap7RJd0cbws980Iu/mbQBbN
VeO1/wuHgw+DxDB/ONYzzYEsvmUqAAjw760Cwq39xvQPuln5j5AnlmH927uiyLTJ
v/se67SV/E62SyUfhUEbAVjta9B2sknviNOCT1ztgow+0nceCOyVks0+O+x0iYXS
pI3rGdnpVl0ueaIMOhyhSHD/NOX2KScC3JFWPq+xY2Fu41HSbl5fL39MrmbWuXmd
qwIDAQAB
-----END PUBLIC KEY-----
";

    // TOKEN: a Wix-shaped `wix.ecom.v1.order_created` body made independently of this crate
    // (python3 building the JSON, `openssl dgst -sha256 -sign` signing it; verified with
    // `openssl dgst -verify`). Claims: iat 1772460311, exp 1772460611.
    const TOKEN: &str = concat!(
        "eyJraWQiOiI1YTFmNmUyYy05YjhkLTRjN2UtYTZmNS0wZDFjMmIzYTRlNWYiLCJhbGciOiJSUzI1NiJ9.eyJkYXR",
        "hIjoie1wiZXZlbnRUeXBlXCI6XCJ3aXguZWNvbS52MS5vcmRlcl9jcmVhdGVkXCIsXCJpbnN0YW5jZUlkXCI6XCI",
        "2YTFiMmMzZC00ZTVmLTRhNmItOGM3ZC05ZTBmMWEyYjNjNGRcIixcImRhdGFcIjpcIntcXFwiaWRcXFwiOlxcXCJ",
        "mMmE3YzllMS00YjNkLTRlNmYtOGExYi0yYzNkNGU1ZjZhN2JcXFwiLFxcXCJlbnRpdHlGcWRuXFxcIjpcXFwid2l",
        "4LmVjb20udjEub3JkZXJcXFwiLFxcXCJzbHVnXFxcIjpcXFwiY3JlYXRlZFxcXCIsXFxcImVudGl0eUlkXFxcIjp",
        "cXFwiOGMwZjJhNmUtMzFkNC00YjU3LTlhMTAtNWU3ZDJjNGI5ZjYxXFxcIixcXFwiY3JlYXRlZEV2ZW50XFxcIjp",
        "7XFxcImVudGl0eVxcXCI6e1xcXCJpZFxcXCI6XFxcIjhjMGYyYTZlLTMxZDQtNGI1Ny05YTEwLTVlN2QyYzRiOWY",
        "2MVxcXCIsXFxcIm51bWJlclxcXCI6XFxcIjEwMDQyXFxcIixcXFwiYnV5ZXJJbmZvXFxcIjp7XFxcImNvbnRhY3R",
        "JZFxcXCI6XFxcIjNmOWQxYjJjLTdhNmUtNGQ1Zi04YjljLTBhMWIyYzNkNGU1ZlxcXCIsXFxcImVtYWlsXFxcIjp",
        "cXFwiYW5hLnNpbHZhQGV4YW1wbGUuY29tXFxcIn0sXFxcInN0YXR1c1xcXCI6XFxcIkFQUFJPVkVEXFxcIixcXFw",
        "icGF5bWVudFN0YXR1c1xcXCI6XFxcIlBBSURcXFwiLFxcXCJjdXJyZW5jeVxcXCI6XFxcIkVVUlxcXCIsXFxcInB",
        "yaWNlU3VtbWFyeVxcXCI6e1xcXCJzdWJ0b3RhbFxcXCI6e1xcXCJhbW91bnRcXFwiOlxcXCI0NC45MFxcXCIsXFx",
        "cImZvcm1hdHRlZEFtb3VudFxcXCI6XFxcIuKCrDQ0LjkwXFxcIn0sXFxcInNoaXBwaW5nXFxcIjp7XFxcImFtb3V",
        "udFxcXCI6XFxcIjQuOTBcXFwiLFxcXCJmb3JtYXR0ZWRBbW91bnRcXFwiOlxcXCLigqw0LjkwXFxcIn0sXFxcInR",
        "heFxcXCI6e1xcXCJhbW91bnRcXFwiOlxcXCIwXFxcIixcXFwiZm9ybWF0dGVkQW1vdW50XFxcIjpcXFwi4oKsMC4",
        "wMFxcXCJ9LFxcXCJ0b3RhbFxcXCI6e1xcXCJhbW91bnRcXFwiOlxcXCI0OS44MFxcXCIsXFxcImZvcm1hdHRlZEF",
        "tb3VudFxcXCI6XFxcIuKCrDQ5LjgwXFxcIn19LFxcXCJsaW5lSXRlbXNcXFwiOlt7XFxcImlkXFxcIjpcXFwiMDA",
        "wMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAxXFxcIixcXFwicHJvZHVjdE5hbWVcXFwiOntcXFwib3J",
        "pZ2luYWxcXFwiOlxcXCJMaW5lbiB0b3RlXFxcIn0sXFxcImNhdGFsb2dSZWZlcmVuY2VcXFwiOntcXFwiY2F0YWx",
        "vZ0l0ZW1JZFxcXCI6XFxcImRmMTljMWY3LTA3ZDgtYTI2NS00MmY4LWU4ZGZhODI0Y2M2ZVxcXCIsXFxcImFwcEl",
        "kXFxcIjpcXFwiMjE1MjM4ZWItMjJhNS00YzM2LTllN2ItZTdjMDgwMjVlMDRlXFxcIixcXFwib3B0aW9uc1xcXCI",
        "6e1xcXCJ2YXJpYW50SWRcXFwiOlxcXCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDBcXFwifX0",
        "sXFxcInF1YW50aXR5XFxcIjoyLFxcXCJwaHlzaWNhbFByb3BlcnRpZXNcXFwiOntcXFwic2t1XFxcIjpcXFwiVE9",
        "URS1OQVRcXFwiLFxcXCJzaGlwcGFibGVcXFwiOnRydWV9LFxcXCJwcmljZVxcXCI6e1xcXCJhbW91bnRcXFwiOlx",
        "cXCIxNC45NVxcXCIsXFxcImZvcm1hdHRlZEFtb3VudFxcXCI6XFxcIuKCrDE0Ljk1XFxcIn19LHtcXFwiaWRcXFw",
        "iOlxcXCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDJcXFwiLFxcXCJwcm9kdWN0TmFtZVxcXCI",
        "6e1xcXCJvcmlnaW5hbFxcXCI6XFxcIkdpZnQgd3JhcFxcXCJ9LFxcXCJjYXRhbG9nUmVmZXJlbmNlXFxcIjp7XFx",
        "cImNhdGFsb2dJdGVtSWRcXFwiOlxcXCI1YjFlOWM3YS0yZDNmLTRlOGEtOWIwYy0xZDJlM2Y0YTViNmNcXFwiLFx",
        "cXCJhcHBJZFxcXCI6XFxcIjIxNTIzOGViLTIyYTUtNGMzNi05ZTdiLWU3YzA4MDI1ZTA0ZVxcXCJ9LFxcXCJxdWF",
        "udGl0eVxcXCI6MSxcXFwicGh5c2ljYWxQcm9wZXJ0aWVzXFxcIjp7XFxcInNoaXBwYWJsZVxcXCI6ZmFsc2V9LFx",
        "cXCJwcmljZVxcXCI6e1xcXCJhbW91bnRcXFwiOlxcXCIxNS4wMFxcXCIsXFxcImZvcm1hdHRlZEFtb3VudFxcXCI",
        "6XFxcIuKCrDE1LjAwXFxcIn19XSxcXFwiY3JlYXRlZERhdGVcXFwiOlxcXCIyMDI2LTAzLTAyVDE0OjA1OjEwLjk",
        "5OFpcXFwifX0sXFxcImV2ZW50VGltZVxcXCI6XFxcIjIwMjYtMDMtMDJUMTQ6MDU6MTEuMjUwWlxcXCIsXFxcInR",
        "yaWdnZXJlZEJ5QW5vbnltaXplUmVxdWVzdFxcXCI6ZmFsc2UsXFxcImVudGl0eUV2ZW50U2VxdWVuY2VcXFwiOlx",
        "cXCIxXFxcIn1cIixcImlkZW50aXR5XCI6XCJ7XFxcImlkZW50aXR5VHlwZVxcXCI6XFxcIkFQUFxcXCIsXFxcImF",
        "wcElkXFxcIjpcXFwiMjE1MjM4ZWItMjJhNS00YzM2LTllN2ItZTdjMDgwMjVlMDRlXFxcIn1cIn0iLCJpYXQiOjE",
        "3NzI0NjAzMTEsImV4cCI6MTc3MjQ2MDYxMX0.lgn-PQSh4ykIfD1pUWqSBPov833Qu8I0qN0TGDQoUUxX6grIHPt",
        "VcovasY-g7r02xn9rqREFNp_fC9cE9KoIXbywakf7Q1avxA20XmyX8GA-uv-zwbQNR8t-IdiEFToRWo9PaoYN5m_",
        "hOdz8lkLbTzYLdeFo9q8fhoL28Aqn0Ao0bLL0KRd0M1OQmQm1fziNAAeCHPgzWb8a1t-XDmQ2QqUh3INM2Ud6gBV",
        "CYsYwS-g2jcHSvEAiCdiGaxjtfOZC_vJY0PgvfyJ2uGG-fiY7ybNoWptx-3SwkHFvTeD0YcoTSf4oVAJXXZuL8-z",
        "KZ-7LvljAZwhxSYHY8FBWyrmRrw",
    );
    const NOW: i64 = 1_772_460_400;
    const EXP: i64 = 1_772_460_611;

    fn public(pem: &str) -> Keys<'_> {
        Keys {
            public_key_pem: Some(pem),
            ..Keys::default()
        }
    }

    /// A body for `event` (the inner `data.data`) signed with the test key.
    fn body(event_type: &str, event: &serde_json::Value) -> String {
        let envelope = serde_json::json!({
            "eventType": event_type,
            "instanceId": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "data": event.to_string(),
            "identity": r#"{"identityType":"APP","appId":"215238eb-22a5-4c36-9e7b-e7c08025e04e"}"#,
        });
        let claims = serde_json::json!({ "data": envelope.to_string() }).to_string();
        jwt::sign(PRIVATE_PEM, &claims, NOW).expect("sign")
    }

    /// TOKEN with its claims replaced by `claims`, the header and signature kept.
    fn with_claims(claims: &[u8]) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let mut parts = TOKEN.split('.');
        let header = parts.next().expect("header");
        let signature = parts.nth(1).expect("signature");
        format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn verify_accepts_the_independently_signed_token() {
        assert_eq!(
            Wix.verify(&delivery(TOKEN), &public(PUBLIC_PEM), NOW),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_tampering_other_keys_expiry_and_other_algorithms() {
        let claims = jwt::claims(TOKEN).expect("claims");
        let tampered = String::from_utf8(claims)
            .expect("utf-8")
            .replace("49.80", "4.98");
        assert_eq!(
            Wix.verify(
                &delivery(&with_claims(tampered.as_bytes())),
                &public(PUBLIC_PEM),
                NOW
            ),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            Wix.verify(&delivery(TOKEN), &public(OTHER_PUBLIC_PEM), NOW),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            Wix.verify(&delivery(TOKEN), &Keys::default(), NOW),
            Err(Rejection::MissingKey("public key"))
        );
        assert_eq!(
            Wix.verify(&delivery(TOKEN), &public(PUBLIC_PEM), EXP),
            Err(Rejection::Stale(0))
        );
        assert_eq!(
            Wix.verify(&delivery(TOKEN), &public(PUBLIC_PEM), EXP + 10),
            Err(Rejection::Stale(10))
        );
        assert!(matches!(
            Wix.verify(&delivery(TOKEN), &public("not a key"), NOW),
            Err(Rejection::BadPublicKey(_))
        ));
        // `alg: none` and HMAC algorithms are refused before any key is used.
        for header in [r#"{"alg":"none"}"#, r#"{"alg":"HS256","typ":"JWT"}"#] {
            use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
            let rest = TOKEN.split_once('.').expect("token").1;
            let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header));
            assert!(matches!(
                Wix.verify(&delivery(&forged), &public(PUBLIC_PEM), NOW),
                Err(Rejection::Malformed(_))
            ));
        }
        for body in ["", "{}", "a.b", "a.b.c.d", "!!.??.##"] {
            assert!(
                matches!(
                    Wix.verify(&delivery(body), &public(PUBLIC_PEM), NOW),
                    Err(Rejection::Malformed(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn signed_bodies_round_trip_and_expire_after_the_default_lifetime() {
        let event = serde_json::json!({
            "id": "0d4c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
            "entityFqdn": "wix.stores.v3.inventory_item",
            "slug": "updated",
            "entityId": "b7e3c1d2-6a5f-4e8d-9c0b-1a2f3e4d5c6b",
            "updatedEvent": {"currentEntity": {"id": "b7e3c1d2-6a5f-4e8d-9c0b-1a2f3e4d5c6b", "quantity": 4}},
            "eventTime": "2026-03-02T15:00:00Z",
        });
        let token = body("wix.stores.v3.inventory_item_updated", &event);
        assert_eq!(
            Wix.sign(token.as_bytes(), &Keys::default(), None, NOW),
            Ok(vec![])
        );
        let keys = public(PUBLIC_PEM);
        assert_eq!(Wix.verify(&delivery(&token), &keys, NOW), Ok(()));
        let lifetime = jwt::DEFAULT_LIFETIME_SECS;
        assert_eq!(
            Wix.verify(&delivery(&token), &keys, NOW + lifetime - 1),
            Ok(())
        );
        assert_eq!(
            Wix.verify(&delivery(&token), &keys, NOW + lifetime),
            Err(Rejection::Stale(0))
        );

        let mut expected = common::hint_event(
            "inventory",
            Some("b7e3c1d2-6a5f-4e8d-9c0b-1a2f3e4d5c6b".into()),
        );
        expected.topic = Some("wix.stores.v3.inventory_item_updated".into());
        expected.event_id = Some("0d4c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d".into());
        expected.occurred_at = Some("2026-03-02T15:00:00Z".into());
        assert_eq!(Wix.parse(&delivery(&token)), Ok(vec![expected]));
        assert!(matches!(
            jwt::sign(PRIVATE_PEM, "[1]", NOW),
            Err(Rejection::Malformed(_))
        ));
    }

    #[test]
    fn an_order_created_event_maps_the_order() {
        assert_eq!(
            Wix.event_id(&delivery(TOKEN)).as_deref(),
            Some("f2a7c9e1-4b3d-4e6f-8a1b-2c3d4e5f6a7b")
        );
        let mut expected = Normalized::new(Kind::Order);
        expected.topic = Some("wix.ecom.v1.order_created".into());
        expected.event_id = Some("f2a7c9e1-4b3d-4e6f-8a1b-2c3d4e5f6a7b".into());
        expected.occurred_at = Some("2026-03-02T14:05:11.250Z".into());
        expected.external_order_id = Some("8c0f2a6e-31d4-4b57-9a10-5e7d2c4b9f61".into());
        expected.currency = Some("EUR".into());
        expected.total_minor = Some(4980);
        expected.status = Some("APPROVED".into());
        expected.lines = vec![
            Line {
                line_id: Some("00000000-0000-0000-0000-000000000001".into()),
                sku: Some("TOTE-NAT".into()),
                external_item_id: Some("df19c1f7-07d8-a265-42f8-e8dfa824cc6e".into()),
                quantity: 2,
                unit_price_minor: Some(1495),
            },
            Line {
                line_id: Some("00000000-0000-0000-0000-000000000002".into()),
                sku: None,
                external_item_id: Some("5b1e9c7a-2d3f-4e8a-9b0c-1d2e3f4a5b6c".into()),
                quantity: 1,
                unit_price_minor: Some(1500),
            },
        ];
        expected.customer = Some(Customer {
            id: Some("3f9d1b2c-7a6e-4d5f-8b9c-0a1b2c3d4e5f".into()),
            email: Some("ana.silva@example.com".into()),
            phone: None,
            name: None,
        });
        assert_eq!(Wix.parse(&delivery(TOKEN)), Ok(vec![expected]));
    }

    #[test]
    fn action_events_carry_the_order_in_their_body() {
        let order = serde_json::json!({
            "id": "8c0f2a6e-31d4-4b57-9a10-5e7d2c4b9f61",
            "status": "APPROVED",
            "paymentStatus": "FULLY_REFUNDED",
            "currency": "jpy",
            "priceSummary": {"total": {"amount": "3300"}},
            "lineItems": [{"id": "l1", "quantity": 1, "price": {"amount": "3300"},
                           "catalogReference": {"catalogItemId": "c1"}}],
        });
        let event = serde_json::json!({
            "id": "evt-2",
            "entityFqdn": "wix.ecom.v1.order",
            "slug": "payment_status_updated",
            "entityId": "8c0f2a6e-31d4-4b57-9a10-5e7d2c4b9f61",
            "actionEvent": {"bodyAsJson": serde_json::json!({"order": order, "previousPaymentStatus": "PAID"}).to_string()},
            "eventTime": "2026-03-04T08:00:00.000Z",
        });
        let token = body("wix.ecom.v1.order_payment_status_updated", &event);
        let events = Wix.parse(&delivery(&token)).expect("parse");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, Kind::Order);
        assert_eq!(events[0].status.as_deref(), Some("FULLY_REFUNDED"));
        assert_eq!(events[0].currency.as_deref(), Some("JPY"));
        assert_eq!(events[0].total_minor, Some(3300));
        assert_eq!(events[0].lines[0].unit_price_minor, Some(3300));
        assert_eq!(events[0].customer, None);
    }

    #[test]
    fn other_entities_are_ignored_and_malformed_bodies_are_errors() {
        let contact = serde_json::json!({
            "id": "evt-3", "entityFqdn": "wix.contacts.v4.contact", "slug": "created",
            "entityId": "c-1", "createdEvent": {"entity": {"id": "c-1"}},
        });
        assert_eq!(
            Wix.parse(&delivery(&body(
                "wix.contacts.v4.contact_created",
                &contact
            ))),
            Ok(vec![])
        );

        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let claims = |json: &str| format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(json));
        let bad_quantity = serde_json::json!({
            "id": "e", "entityFqdn": "wix.ecom.v1.order",
            "createdEvent": {"entity": {"id": "o", "lineItems": [{"id": "l", "quantity": 1.5}]}},
        });
        let bad_quantity = claims(
            &serde_json::json!({"data": serde_json::json!({"data": bad_quantity.to_string()}).to_string()})
                .to_string(),
        );
        for body in [
            String::new(),
            "not a token".into(),
            claims("[]"),
            claims(r#"{"exp":1}"#),
            claims(r#"{"data":"not json"}"#),
            claims(r#"{"data":"{\"data\":\"{]\"}"}"#),
        ] {
            assert!(
                matches!(
                    Wix.parse(&delivery(&body)),
                    Err(ParseError::Malformed { .. })
                ),
                "{body}"
            );
            assert_eq!(Wix.event_id(&delivery(&body)), None);
        }
        // The event can be named even when its order cannot be read.
        assert!(Wix.parse(&delivery(&bad_quantity)).is_err());
        assert_eq!(Wix.event_id(&delivery(&bad_quantity)).as_deref(), Some("e"));
        let not_utf8 = Delivery {
            body: &[0xff, 0xfe, b'.', b'a'],
            headers: &[],
            url: None,
        };
        assert!(Wix.parse(&not_utf8).is_err());
        assert!(Wix.verify(&not_utf8, &public(PUBLIC_PEM), NOW).is_err());
    }
}
