//! What each platform module provides to the shared framework: its routes, how it
//! authenticates and rate-limits a call, its error shapes, how shop changes become its
//! webhooks, and its delivery habits.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::{
    core::{Change, Core},
    http::Refusal,
    server::Inner,
};

/// A webhook ready to be delivered.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// The platform's topic or event type (`orders/create`, `inventory.count.updated`).
    pub topic: String,
    /// The platform's event id (the same on every retry).
    pub event_id: String,
    pub body: Body,
    /// Headers beside the signature, the same on every attempt.
    pub headers: Vec<(String, String)>,
    /// While a delivery with this key waits, another one is not queued (WooCommerce
    /// schedules at most one delivery per webhook and resource).
    pub dedup_key: Option<String>,
    /// Where this webhook goes when the platform routes it itself (a WooCommerce webhook
    /// with its own delivery URL and secret); `None` sends it to the catch-all URL and to
    /// every subscription for its topic.
    pub target: Option<Target>,
    /// The platform's webhook (subscription) this delivery belongs to, for platforms that
    /// keep a status per webhook (WooCommerce).
    pub hook: Option<u64>,
}

/// One destination of a webhook: a URL and the key its deliveries are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub url: String,
    /// `None`: the simulator's `webhook_secret`.
    pub secret: Option<String>,
}

/// The bytes of a webhook.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Fixed when the event happened (retries carry the original payload).
    Ready(Vec<u8>),
    /// Rendered from the resource as it is when the delivery runs (WooCommerce).
    AtDelivery(Resource),
}

/// A resource rendered at delivery time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resource {
    Order(u64),
    Product(u64),
}

/// How a platform delivers its webhooks.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryPolicy {
    /// Wait before the first attempt (asynchronous queues), in platform time.
    pub first_delay: Duration,
    /// Waits before each retry, in platform time; empty means no retries.
    pub retries: Vec<Duration>,
    /// How long the receiver has to answer (real time).
    pub timeout: Duration,
    /// The highest status that counts as success (WooCommerce accepts up to 302).
    pub success_up_to: u16,
}

/// Why the framework answers for the platform instead of a route.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Failure {
    /// Every call is refused for rate limiting (`storm_429`).
    Storm { retry_after: u64 },
    /// An injected server error with this status.
    Injected(u16),
    /// No route matches.
    NotFound,
}

/// One platform's behaviour.
pub(crate) trait PlatformApi: Send + Sync + 'static {
    /// Registers the platform object as app data and the routes outside the guarded API
    /// (OAuth screens and token endpoints).
    fn register(self: Arc<Self>, app: &mut web::ServiceConfig);

    /// The path prefix of the guarded API (`/admin/api`, `/v2`, …).
    fn api_prefix(&self) -> &'static str;

    /// The API routes, relative to [`PlatformApi::api_prefix`].
    fn api_routes(&self, api: &mut web::ServiceConfig);

    /// The URL a connector should use as its API base.
    fn api_base(&self, base_url: &str) -> String;

    /// Facts a connector needs besides the base URL (account ids, shop domain, versions).
    fn info(&self) -> Value;

    /// Checks the caller's credentials; `Err` is the platform's refusal.
    fn authenticate(&self, inner: &Inner, req: &HttpRequest) -> Result<(), Refusal>;

    /// Charges the call to the rate limit: `Ok` holds headers to add to the answer, `Err`
    /// the platform's refusal.
    fn admit(&self, _req: &HttpRequest) -> Result<Vec<(String, String)>, Refusal> {
        Ok(Vec::new())
    }

    /// The platform's answer for a failure the framework raises.
    fn failure(&self, failure: Failure, req: &HttpRequest) -> HttpResponse;

    /// Webhooks (and platform-side records) for a change in the shop.
    fn on_change(&self, core: &Core, change: &Change) -> Vec<Outgoing>;

    /// Delivery habits.
    fn delivery_policy(&self) -> DeliveryPolicy;

    /// Headers that differ per attempt (`attempt` 0 is the first).
    fn attempt_headers(&self, _out: &Outgoing, _attempt: usize) -> Vec<(String, String)> {
        Vec::new()
    }

    /// A body for [`Body::AtDelivery`].
    fn render_at_delivery(&self, _core: &Core, _resource: Resource) -> Option<Vec<u8>> {
        None
    }

    /// Whether the subscription `out` belongs to still receives deliveries.
    fn accepts(&self, _out: &Outgoing) -> bool {
        true
    }

    /// Told after every attempt (WooCommerce counts failures and disables the hook).
    fn delivery_outcome(&self, _out: &Outgoing, _ok: bool) {}

    /// Told when the webhook URL is set again (a re-saved webhook is active again).
    fn webhook_url_changed(&self) {}

    /// The order id as the platform shows it.
    fn order_ref(&self, core: &Core, order: u64) -> String;

    /// The refund id as the platform shows it.
    fn refund_ref(&self, core: &Core, order: u64, refund: u64) -> String;

    /// The shop's order id for a platform order id from [`PlatformApi::order_ref`].
    fn parse_order_ref(&self, core: &Core, reference: &str) -> Option<u64>;
}
