//! Faithful local simulators of the commerce platforms Concord connects to.
//!
//! Each simulator is a real HTTP server on `127.0.0.1` that answers the platform API calls
//! Concord's connectors make — with the platform's authentication (OAuth or keys), wire
//! formats, error shapes, pagination, rate limits and signed webhooks — over an in-memory
//! shop: a catalog of products with stock per location, orders, payments and refunds.
//! Tests, the demo and the benchmarks start them in-process ([`Simulator::start`]); the
//! `concord-sim` binary runs one by hand.
//!
//! Beside the platform API every simulator serves a small JSON control API under `/_sim`
//! (a customer buys, a merchant edits stock, a refund is issued, faults are switched on)
//! that the demo, tests and benchmarks drive; see [`control`] for the routes. [`sink`] is a
//! small webhook receiver that records deliveries, for checking them.
//!
//! Webhooks go to the catch-all URL ([`SimConfig::webhook_url`],
//! [`RunningSim::set_webhook_url`]) and to the subscriptions a connector registers the way
//! it would on the platform: Shopify's `webhookSubscriptionCreate`, Square's
//! `POST /v2/webhooks/subscriptions`, WooCommerce's `POST /wp-json/wc/v3/webhooks` (each
//! hook signed with its own `secret`), Stripe's `POST /v1/webhook_endpoints` (each endpoint
//! signed with the `whsec_…` secret issued with it).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use concord_simulators::{Platform, SeedProduct, SimConfig, Simulator};
//!
//! let mut config = SimConfig::new(Platform::Shopify);
//! config.seed = vec![SeedProduct::new("DVD-1", "5012345000014", "Film", 1999, "USD", 5)];
//! config.webhook_url = Some("http://127.0.0.1:8080/webhooks/shopify/1".into());
//! let sim = Simulator::start(config)?;
//! // Connectors talk to `sim.api_base()` with `sim.access_token()`.
//! let sale = sim.sale(&concord_simulators::SaleRequest {
//!     sku: Some("DVD-1".into()),
//!     ..Default::default()
//! });
//! assert_eq!(sale.ok().and_then(|s| s.quantity_after), Some(4));
//! sim.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! Platform facts and the behaviour each module reproduces are in the module docs; where
//! a platform's documentation is silent or unconfirmed (Square's rate limit, Shopify's
//! exact retry intervals, the error text of a missing idempotency key), the simulator's
//! choice is written there.
//!
//! # Layout
//! One shared framework — the shop state (`core`), webhook delivery with each platform's
//! retry habit (`delivery`), OAuth (`oauth`), rate limiting (`ratelimit`), pagination
//! (`paging`), faults and counters (`faults`), the HTTP server and its guard (`server`) —
//! and one thin module per platform ([`Platform::Shopify`], [`Platform::Square`],
//! [`Platform::WooCommerce`], [`Platform::LightspeedR`], [`Platform::Stripe`]) that only
//! knows its wire formats and habits.
//!
//! # Time
//! Platform delays (webhook retry schedules, asynchronous delivery) are multiplied by
//! [`SimConfig::time_scale`], so Shopify's four-hour retry schedule can run in a second in a
//! test. Rate limits, token lifetimes and HTTP timeouts stay in real time: they are what
//! a connector must respect, and `POST /_sim/expire_tokens` ages tokens on demand.
//!
//! # Threads
//! Each simulator serves from a thread of its own (an actix system with
//! [`SimConfig::workers`] workers), so it works from any runtime, and its webhooks are
//! delivered from that thread. Faults apply to the platform API only: the control API and
//! the OAuth screens are never slowed or refused.

// The platforms' resources are wide JSON objects; `json!` needs the room to expand them.
#![recursion_limit = "256"]

pub mod config;
pub mod control;
mod core;
mod delivery;
pub mod faults;
mod gql;
mod http;
mod money;
mod oauth;
mod paging;
mod platform;
mod ratelimit;
mod server;
pub mod sink;

mod lightspeed_r;
mod shopify;
mod square;
mod stripe;
mod woocommerce;

pub use concord_connectors::Platform;
pub use config::{RateLimit, SIMULATED, SeedProduct, SimConfig, demo_catalog, ean13};
pub use control::{
    AdjustRequest, ControlError, RefundOutcome, RefundRequest, SaleLine, SaleOutcome, SaleRequest,
    StockReport,
};
pub use faults::{Faults, Stats};
pub use server::{RunningSim, Simulator};
