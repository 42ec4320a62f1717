//! WooCommerce: the `/wp-json/wc/v3` REST API with consumer keys (HTTP Basic or
//! `consumer_key`/`consumer_secret` query parameters; the simulator accepts them over plain
//! HTTP as WooCommerce does over HTTPS), page-numbered listings with `X-WP-Total`,
//! `X-WP-TotalPages` and `Link`, `/products/batch` capped at 100 items, and webhooks the
//! way WooCommerce sends them: asynchronously, at most one queued per hook and resource,
//! the resource as it is at delivery time, **no retries**, and a hook disabled after its
//! 7th consecutive failure.
//!
//! Webhooks: four preconfigured hooks (`order.created`, `order.updated`,
//! `product.created`, `product.updated`) deliver to the catch-all URL
//! ([`crate::RunningSim::set_webhook_url`]) with the simulator's `webhook_secret`, and
//! `POST /webhooks` adds hooks of a connector's own, each with its delivery URL and secret
//! (see [`webhooks`]).
//!
//! Variable products: SKUs seeded as variants of one parent ([`crate::SeedProduct::parent`])
//! are the variations of a `variable` product, listed under `/products/{id}/variations`
//! (paged), each with its own SKU and stock, written through
//! `/products/{id}/variations/batch`; order lines selling one name it in `variation_id`,
//! and its `product.updated` deliveries show the variation (`type: variation`,
//! `parent_id`). A variable product's own record is read-only here.
//!
//! Errors come in the WordPress shape `{"code", "message", "data": {"status"}}`. Core
//! WooCommerce has no rate limit and no locations (one stock figure per product).

mod listing;
mod orders;
mod products;
mod variations;
mod webhooks;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, http::Method, web};
use serde_json::{Value, json};

use crate::{
    config::SimConfig,
    core::{Change, Core, Time},
    http,
    platform::{Body, DeliveryPolicy, Failure, Outgoing, PlatformApi, Resource, Target},
    server::{Inner, lock},
};

/// Where the ids of variable products start, apart from the ids of products and
/// variations (WordPress numbers every post in one sequence; the simulator keeps the
/// ranges apart so each kind maps back without a lookup).
const VARIABLE_IDS: u64 = 9_000_000;

/// WooCommerce's id of a product, or of a variation of a variable product.
pub(crate) fn product_id(product: u64) -> u64 {
    10 + product
}
/// The shop's product (or variation) for a WooCommerce product id.
pub(crate) fn parse_product_id(id: u64) -> Option<u64> {
    id.checked_sub(10).filter(|n| *n > 0 && id < VARIABLE_IDS)
}
/// WooCommerce's id of a variable product (a [`crate::core::Parent`]).
pub(crate) fn variable_id(parent: u64) -> u64 {
    VARIABLE_IDS + parent
}
/// The shop's parent for a WooCommerce variable product id.
pub(crate) fn parse_variable_id(id: u64) -> Option<u64> {
    id.checked_sub(VARIABLE_IDS).filter(|n| *n > 0)
}
/// The `product_id` and `variation_id` WooCommerce shows for the shop's `product` (a
/// variation names its variable product and itself; a product itself and 0).
pub(crate) fn line_ids(core: &Core, product: u64) -> (u64, u64) {
    match core.product(product).and_then(|p| p.parent) {
        Some(parent) => (variable_id(parent), product_id(product)),
        None => (product_id(product), 0),
    }
}
/// WooCommerce's id of an order (also its number).
pub(crate) fn order_id(order: u64) -> u64 {
    1000 + order
}
/// The shop's order for a WooCommerce order id.
pub(crate) fn parse_order_id(id: u64) -> Option<u64> {
    id.checked_sub(1000).filter(|n| *n > 0)
}
/// WooCommerce's id of a refund.
pub(crate) fn refund_id(refund: u64) -> u64 {
    5000 + refund
}

/// WooCommerce's dates: site time without offset (the site runs on UTC, so the `_gmt`
/// twins are equal).
pub(crate) fn time(t: Time) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// JSON as PHP's `wp_json_encode` writes it: slashes and non-ASCII escaped.
pub(crate) fn php_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// An error in the WordPress REST shape.
pub(crate) fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    http::json(
        status,
        &json!({"code": code, "message": message, "data": {"status": status}}),
    )
}

/// One webhook as configured in WooCommerce.
#[derive(Debug, Clone)]
pub(crate) struct Hook {
    pub id: u64,
    pub name: String,
    pub topic: String,
    /// `active`, `paused` or `disabled`.
    pub status: &'static str,
    pub failures: u32,
    /// `None`: one of the preconfigured hooks, delivering to the catch-all URL.
    pub delivery_url: Option<String>,
    /// `None`: the simulator's `webhook_secret`.
    pub secret: Option<String>,
    pub created_at: Time,
    pub updated_at: Time,
}

impl Hook {
    fn active(&self) -> bool {
        self.status == "active"
    }
}

/// Consecutive failures a hook survives; the next one disables it
/// (`woocommerce_max_webhook_delivery_failures`).
const MAX_FAILURES: u32 = 5;

/// The WooCommerce simulator.
pub(crate) struct WooCommerce {
    site_url: String,
    hooks: Mutex<Vec<Hook>>,
}

impl WooCommerce {
    /// A simulator for `config` served at `base_url`.
    pub fn new(_config: &SimConfig, base_url: &str) -> Self {
        let now = chrono::Utc::now();
        let hooks = [
            "order.created",
            "order.updated",
            "product.created",
            "product.updated",
        ]
        .into_iter()
        .enumerate()
        .map(|(i, topic)| Hook {
            id: i as u64 + 1,
            name: topic.replace('.', " "),
            topic: topic.to_owned(),
            status: "active",
            failures: 0,
            delivery_url: None,
            secret: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
        Self {
            site_url: format!("{base_url}/"),
            hooks: Mutex::new(hooks),
        }
    }

    fn hook_by_id(&self, id: u64) -> Option<Hook> {
        lock(&self.hooks).iter().find(|h| h.id == id).cloned()
    }

    /// One delivery per hook on `topic`.
    fn webhooks(&self, topic: &str, resource: Resource, id: u64) -> Vec<Outgoing> {
        let hooks: Vec<Hook> = lock(&self.hooks)
            .iter()
            .filter(|h| h.topic == topic)
            .cloned()
            .collect();
        let Some((kind, event)) = topic.split_once('.') else {
            return Vec::new();
        };
        hooks
            .into_iter()
            .map(|hook| Outgoing {
                topic: topic.to_owned(),
                event_id: format!("{kind}-{id}"),
                body: Body::AtDelivery(resource),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("User-Agent".into(), USER_AGENT.into()),
                    ("X-WC-Webhook-Source".into(), self.site_url.clone()),
                    ("X-WC-Webhook-Topic".into(), topic.to_owned()),
                    ("X-WC-Webhook-Resource".into(), kind.to_owned()),
                    ("X-WC-Webhook-Event".into(), event.to_owned()),
                    ("X-WC-Webhook-ID".into(), hook.id.to_string()),
                ],
                dedup_key: Some(format!("{}:{id}", hook.id)),
                target: hook.delivery_url.map(|url| Target {
                    url,
                    secret: hook.secret,
                }),
                hook: Some(hook.id),
            })
            .collect()
    }
}

/// What WooCommerce's deliveries (and pings) say they are.
const USER_AGENT: &str = "WooCommerce/9.0.0 Hookshot (WordPress/6.5.0)";

impl PlatformApi for WooCommerce {
    fn register(self: Arc<Self>, app: &mut web::ServiceConfig) {
        app.app_data(web::Data::from(self));
    }

    fn api_prefix(&self) -> &'static str {
        "/wp-json/wc/v3"
    }

    fn api_routes(&self, api: &mut web::ServiceConfig) {
        // Variation routes first: `/products/{id}/variations/batch` before `/products/{id}`.
        variations::routes(api);
        products::routes(api);
        orders::routes(api);
        webhooks::routes(api);
    }

    fn api_base(&self, base_url: &str) -> String {
        format!("{base_url}/wp-json/wc/v3")
    }

    fn info(&self) -> Value {
        let hooks: Vec<Value> = lock(&self.hooks)
            .iter()
            .map(|h| json!({"id": h.id, "topic": h.topic, "status": h.status, "failure_count": h.failures, "delivery_url": h.delivery_url}))
            .collect();
        json!({"site_url": self.site_url, "webhooks": hooks})
    }

    fn authenticate(&self, inner: &Inner, req: &HttpRequest) -> Result<(), http::Refusal> {
        let query = http::query_pairs(req);
        let credentials = http::basic(req).or_else(|| {
            Some((
                http::query_value(&query, "consumer_key")?,
                http::query_value(&query, "consumer_secret")?,
            ))
        });
        let Some((key, secret)) = credentials else {
            return Err(Box::new(if req.method() == Method::GET {
                error(
                    401,
                    "woocommerce_rest_cannot_view",
                    "Sorry, you cannot list resources.",
                )
            } else {
                error(
                    401,
                    "woocommerce_rest_cannot_edit",
                    "Sorry, you are not allowed to edit this resource.",
                )
            }));
        };
        if key != inner.config.client_id {
            return Err(Box::new(error(
                401,
                "woocommerce_rest_authentication_error",
                "Consumer key is invalid.",
            )));
        }
        if secret != inner.config.client_secret {
            return Err(Box::new(error(
                401,
                "woocommerce_rest_authentication_error",
                "Consumer secret is invalid.",
            )));
        }
        Ok(())
    }

    fn failure(&self, failure: Failure, _req: &HttpRequest) -> HttpResponse {
        match failure {
            Failure::Storm { retry_after } => {
                let mut response = error(
                    429,
                    "rest_too_many_requests",
                    "Too many requests. Please slow down.",
                );
                if let Ok(value) =
                    actix_web::http::header::HeaderValue::from_str(&retry_after.to_string())
                {
                    response
                        .headers_mut()
                        .insert(actix_web::http::header::RETRY_AFTER, value);
                }
                response
            }
            Failure::Injected(status) => error(
                status,
                "internal_server_error",
                "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>",
            ),
            Failure::NotFound => error(
                404,
                "rest_no_route",
                "No route was found matching the URL and request method.",
            ),
        }
    }

    fn on_change(&self, core: &Core, change: &Change) -> Vec<Outgoing> {
        let _ = core;
        match *change {
            Change::OrderCreated { order } => {
                let mut out =
                    self.webhooks("order.created", Resource::Order(order), order_id(order));
                out.extend(self.webhooks("order.updated", Resource::Order(order), order_id(order)));
                out
            }
            // WooCommerce has no refund topic: a refund updates the order.
            Change::RefundCreated { order, .. } | Change::OrderPaid { order } => {
                self.webhooks("order.updated", Resource::Order(order), order_id(order))
            }
            Change::StockChanged { product, .. } | Change::ProductUpdated { product } => self
                .webhooks(
                    "product.updated",
                    Resource::Product(product),
                    product_id(product),
                ),
            Change::ProductCreated { product } => self.webhooks(
                "product.created",
                Resource::Product(product),
                product_id(product),
            ),
            Change::PaymentFailed { .. } => Vec::new(),
        }
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        // Action Scheduler runs the delivery shortly after the event; one attempt, a
        // minute to answer, 200–302 count as success (class-wc-webhook.php).
        DeliveryPolicy {
            first_delay: Duration::from_secs(5),
            retries: Vec::new(),
            timeout: Duration::from_secs(60),
            success_up_to: 302,
        }
    }

    fn attempt_headers(&self, _out: &Outgoing, _attempt: usize) -> Vec<(String, String)> {
        vec![(
            "X-WC-Webhook-Delivery-ID".into(),
            uuid::Uuid::new_v4().simple().to_string(),
        )]
    }

    fn render_at_delivery(&self, core: &Core, resource: Resource) -> Option<Vec<u8>> {
        let value = match resource {
            Resource::Order(order) => orders::order(core, core.order(order)?, &self.site_url),
            Resource::Product(product) => {
                products::product(core, core.product(product)?, &self.site_url)
            }
        };
        Some(php_json(&value).into_bytes())
    }

    fn accepts(&self, out: &Outgoing) -> bool {
        out.hook
            .is_none_or(|id| self.hook_by_id(id).is_some_and(|h| h.active()))
    }

    fn delivery_outcome(&self, out: &Outgoing, ok: bool) {
        let Some(id) = out.hook else {
            return;
        };
        let mut hooks = lock(&self.hooks);
        let Some(hook) = hooks.iter_mut().find(|h| h.id == id) else {
            return;
        };
        hook.updated_at = chrono::Utc::now();
        if ok {
            hook.failures = 0;
        } else if hook.failures > MAX_FAILURES {
            hook.status = "disabled";
        } else {
            hook.failures += 1;
        }
    }

    fn webhook_url_changed(&self) {
        // Saving a webhook with a new delivery URL re-activates it.
        for hook in lock(&self.hooks)
            .iter_mut()
            .filter(|h| h.delivery_url.is_none())
        {
            hook.status = "active";
            hook.failures = 0;
        }
    }

    fn order_ref(&self, _core: &Core, order: u64) -> String {
        order_id(order).to_string()
    }

    fn refund_ref(&self, _core: &Core, _order: u64, refund: u64) -> String {
        refund_id(refund).to_string()
    }

    fn parse_order_ref(&self, _core: &Core, reference: &str) -> Option<u64> {
        parse_order_id(reference.trim().parse().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_json_escapes_slashes_and_unicode() {
        assert_eq!(php_json(&json!("https://x/y")), r#""https:\/\/x\/y""#);
        assert_eq!(
            php_json(&json!("Amélie 🎬")),
            r#""Am\u00e9lie \ud83c\udfac""#
        );
    }

    #[test]
    fn the_seventh_consecutive_failure_disables_the_hook() {
        let config = SimConfig::new(crate::Platform::WooCommerce);
        let woo = WooCommerce::new(&config, "http://127.0.0.1:1");
        let out = woo
            .webhooks("order.created", Resource::Order(1), order_id(1))
            .pop()
            .expect("a preconfigured hook");
        for _ in 0..6 {
            woo.delivery_outcome(&out, false);
            assert!(woo.accepts(&out));
        }
        woo.delivery_outcome(&out, false);
        assert!(!woo.accepts(&out));
        woo.webhook_url_changed();
        assert!(woo.accepts(&out));
        woo.delivery_outcome(&out, false);
        woo.delivery_outcome(&out, true);
        assert_eq!(woo.hook_by_id(1).map(|h| h.failures), Some(0));
    }
}
