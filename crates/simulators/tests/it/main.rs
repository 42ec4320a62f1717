//! Drives every simulator over real HTTP, as Concord's connectors will: authentication,
//! OAuth, pagination, batch writes with their limits, signed webhooks and their retry
//! habits, rate limits and faults.

mod common;
mod faults;
mod lightspeed_r;
mod shopify;
mod square;
mod stripe;
mod subscriptions;
mod woocommerce;
