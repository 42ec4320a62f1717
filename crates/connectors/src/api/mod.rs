//! Calling the platforms' APIs: one [`Connector`] per platform that Concord writes stock to,
//! polls or subscribes to, over one shared HTTP layer that classifies every failure the same
//! way, so retry policy lives in one place (the worker), not in each connector.

mod http;
mod lightspeed_r;
pub mod oauth;
mod shopify;
mod square;
mod stripe;
mod woocommerce;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Normalized, Platform};

pub use http::retry_after;

/// What Concord holds to call a platform for one connection (stored sealed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// OAuth access token (or a platform's API token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// OAuth refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, seconds since 1970.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// API key (WooCommerce consumer key, Stripe secret key `sk_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// API secret (WooCommerce consumer secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_secret: Option<String>,
    /// The account on the platform (Lightspeed account id, Square merchant id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The platform's OAuth host, for refreshing the tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
}

/// One connection's way to the platform's API.
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    /// The API's base URL (the store's address, or a simulator's).
    pub base_url: &'a str,
    /// Its credentials.
    pub credentials: &'a Credentials,
    /// The shared HTTP client.
    pub http: &'a reqwest::Client,
}

impl Session<'_> {
    /// `base_url` joined with `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    fn token(&self) -> Result<&str, ConnectorError> {
        self.credentials.access_token.as_deref().ok_or_else(|| {
            ConnectorError::Auth("no access token: connect the platform first".into())
        })
    }
}

/// Why a call failed, classified for the retry policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The platform's rate limit: wait `retry_after` (or the bucket's own estimate).
    #[error("rate limited by the platform")]
    RateLimited {
        /// How long the platform asked to wait.
        retry_after: Option<Duration>,
    },
    /// Credentials refused: reconnect or refresh.
    #[error("the platform refused the credentials: {0}")]
    Auth(String),
    /// A passing failure (5xx, timeout, connection reset): retry with backoff.
    #[error("the platform failed for now: {0}")]
    Transient(String),
    /// The request cannot succeed as it is.
    #[error("the platform refused the request: {0}")]
    Permanent(String),
    /// The platform offers no way to do this.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// A platform's request budget, as Concord's per-connection token bucket models it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most stock writes per request.
    pub batch: usize,
    /// Bucket size, in requests.
    pub burst: f64,
    /// Requests regained per second.
    pub per_second: f64,
}

/// An item as the platform lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteItem {
    /// The id Concord writes stock to and reads stock reports by.
    pub external_item_id: String,
    /// Its product, where the platform has one.
    pub external_parent_id: Option<String>,
    /// SKU code.
    pub sku: Option<String>,
    /// Barcode.
    pub barcode: Option<String>,
    /// Title.
    pub title: Option<String>,
}

/// A platform location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLocation {
    /// Its id on the platform.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The platform's stock figure for an item at a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStock {
    /// The item.
    pub external_item_id: String,
    /// The location, where the platform has several.
    pub location_id: Option<String>,
    /// Units available.
    pub quantity: i64,
}

/// One page of a listing; `next` continues it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, if any.
    pub next: Option<String>,
}

/// Set an item's available figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockWrite {
    /// The item.
    pub external_item_id: String,
    /// The location, where the platform has several.
    pub location_id: Option<String>,
    /// The figure to show.
    pub quantity: i64,
    /// The figure Concord believes the platform shows now, for compare-and-set where the
    /// platform offers it.
    pub expected: Option<i64>,
}

/// How one write of a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteResult {
    /// The platform shows the figure now.
    Written,
    /// The platform's figure was not the one expected (a sale or edit raced the write):
    /// nothing written; it shows `actual` if the platform said.
    Stale {
        /// The figure the platform shows, if it said.
        actual: Option<i64>,
    },
    /// This item was refused.
    Refused(String),
}

/// Orders changed since a cursor, in Concord's vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// The changes, oldest first.
    pub events: Vec<Normalized>,
    /// The cursor to poll from next time (unchanged when nothing new).
    pub cursor: Option<String>,
    /// Whether more are waiting right now.
    pub more: bool,
}

/// A platform's API, as Concord uses it.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The platform.
    fn platform(&self) -> Platform;

    /// Its request budget and batch size.
    fn limits(&self) -> Limits;

    /// The platform's locations.
    async fn locations(&self, session: Session<'_>) -> Result<Vec<RemoteLocation>, ConnectorError>;

    /// One page of the items it lists.
    async fn items(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteItem>, ConnectorError>;

    /// One page of its stock figures (for reconcile).
    async fn stock(
        &self,
        session: Session<'_>,
        location_id: Option<&str>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteStock>, ConnectorError>;

    /// Writes up to [`Limits::batch`] figures in one request; one result per write, in order.
    async fn write_stock(
        &self,
        session: Session<'_>,
        writes: &[StockWrite],
        idempotency_key: &str,
    ) -> Result<Vec<WriteResult>, ConnectorError>;

    /// Subscribes `callback_url` to the platform's order, refund and stock webhooks. Returns
    /// the secret deliveries will be signed with when the platform issues one or takes the
    /// one offered (`secret`), `None` when it signs with a secret Concord already holds.
    async fn register_webhooks(
        &self,
        _session: Session<'_>,
        _callback_url: &str,
        _secret: &str,
    ) -> Result<Option<String>, ConnectorError> {
        Err(ConnectorError::Unsupported(
            "this platform sends no webhooks: Concord polls it",
        ))
    }

    /// One order, fetched because a thin webhook named it.
    async fn order(
        &self,
        _session: Session<'_>,
        _id: &str,
    ) -> Result<Vec<Normalized>, ConnectorError> {
        Err(ConnectorError::Unsupported(
            "this platform's webhooks carry whole orders",
        ))
    }

    /// Orders changed since `cursor` (the polling safety net behind webhooks).
    async fn order_changes(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Changes, ConnectorError>;
}

/// The connector for `platform`, where Concord calls its API.
pub fn connector(platform: Platform) -> Option<&'static dyn Connector> {
    match platform {
        Platform::Shopify => Some(&shopify::ShopifyApi),
        Platform::Square => Some(&square::SquareApi),
        Platform::WooCommerce => Some(&woocommerce::WooCommerceApi),
        Platform::LightspeedR => Some(&lightspeed_r::LightspeedRApi),
        Platform::Stripe => Some(&stripe::StripeApi),
        _ => None,
    }
}
