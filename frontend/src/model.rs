//! The API's answers, as far as the dashboard reads them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The signed-in account.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct User {
    /// `usr_…`
    pub id: String,
    /// Sign-in email.
    pub email: String,
}

/// A membership of the signed-in user.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Membership {
    /// `tnt_…`
    pub tenant_id: String,
    /// The organization's name.
    pub tenant_name: String,
    /// The user's role there.
    pub role: String,
}

/// `GET /me`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Me {
    /// The account.
    pub user: User,
    /// Where it belongs.
    pub memberships: Vec<Membership>,
    /// Echoed on writes.
    pub csrf_token: Option<String>,
}

/// A tenant with the caller's role.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Tenant {
    /// `tnt_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `cancel`, `backorder` or `hold`.
    pub oversell_policy: String,
    /// Minutes between incremental reconciles.
    pub reconcile_every_minutes: i32,
    /// Hours between full reconciles.
    pub full_reconcile_every_hours: i32,
    /// The caller's role.
    pub role: String,
}

/// A tenant's health, for the portfolio overview.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Health {
    /// `tnt_…`
    pub tenant_id: String,
    /// Connections in all.
    pub connections: i64,
    /// Connections active and without errors.
    pub connections_ok: i64,
    /// SKUs some channel shows differently.
    pub discrepancies: i64,
    /// Orders on hold.
    pub holds: i64,
    /// Deliveries given up on.
    pub dead_letters: i64,
    /// The last time a platform was read or written.
    pub last_sync_at: Option<String>,
}

/// How a channel turns stock into its offer.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default)]
pub struct ConnectionSettings {
    /// Units held back.
    pub safety_buffer: i64,
    /// `{"kind":"percent"|"units","value":N}`.
    pub allocation_cap: Option<Value>,
    /// Locations whose stock the channel sells.
    pub sourcing: Vec<String>,
}

/// A channel.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Connection {
    /// `con_…`
    pub id: String,
    /// Platform slug.
    pub platform: String,
    /// Name.
    pub name: String,
    /// `pending`, `active`, …
    pub status: String,
    /// Offer settings.
    pub settings: ConnectionSettings,
    /// When a platform was last read or written for this connection.
    #[serde(default)]
    pub last_sync_at: Option<String>,
    /// Seconds the oldest unapplied delivery has waited.
    #[serde(default)]
    pub lag_seconds: Option<i64>,
    /// Calls the rate limit allows right now, out of its burst.
    #[serde(default)]
    pub rate_headroom: Option<Headroom>,
    /// Offers whose last write failed.
    #[serde(default)]
    pub push_errors: i64,
    /// The simulator behind the connection (demo mode).
    #[serde(default)]
    pub simulator_url: Option<String>,
}

/// A rate limit's state.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Headroom {
    /// Calls available now.
    pub available: f64,
    /// The burst.
    pub burst: f64,
}

/// A location.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Location {
    /// `loc_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// `store` or `warehouse`.
    pub kind: String,
}

/// Stock at one location.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Level {
    /// The location.
    pub location_id: String,
    /// Units present.
    pub on_hand: i64,
    /// Units promised.
    pub committed: i64,
    /// Units free to sell.
    pub sellable: i64,
}

/// A channel's offer.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Availability {
    /// The channel.
    pub connection_id: String,
    /// What Concord offers.
    pub available: i64,
    /// What the platform shows.
    pub reported: Option<i64>,
    /// They differ.
    pub discrepancy: bool,
    /// Why the last write failed.
    pub push_error: Option<String>,
}

/// A row of the inventory view.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct InventoryRow {
    /// `sku_…`
    pub sku_id: String,
    /// SKU code.
    pub code: String,
    /// Barcode.
    pub barcode: Option<String>,
    /// Title.
    pub title: String,
    /// Format.
    pub format: String,
    /// A kit.
    pub is_kit: bool,
    /// Units present.
    pub on_hand: i64,
    /// Units promised.
    pub committed: i64,
    /// Per location.
    pub levels: Vec<Level>,
    /// Per channel.
    pub availability: Vec<Availability>,
    /// Some channel differs.
    pub discrepancy: bool,
}

/// A page of something.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// A ledger entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Movement {
    /// Sequence.
    pub id: i64,
    /// Where.
    pub location_id: String,
    /// Why.
    pub reason: String,
    /// Units.
    pub delta: i64,
    /// Which channel caused it.
    pub source_connection_id: Option<String>,
    /// Who.
    pub actor: String,
    /// Note.
    pub note: Option<String>,
    /// When.
    pub occurred_at: String,
}

/// An order in the merged feed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Order {
    /// `ord_…`
    pub id: String,
    /// The channel.
    pub connection_id: String,
    /// The platform's id.
    pub external_id: String,
    /// Status.
    pub status: String,
    /// Currency.
    pub currency: String,
    /// Total in minor units.
    pub total_minor: i64,
    /// Customer.
    pub customer: Option<Value>,
    /// A line was not covered.
    pub oversold: bool,
    /// When placed.
    pub placed_at: String,
    /// Compliance state, when compliance is on.
    #[serde(default)]
    pub compliance: Option<String>,
}

/// A sync or reconcile job.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Job {
    /// `job_…`
    pub id: String,
    /// The connection.
    pub connection_id: String,
    /// Kind.
    pub kind: String,
    /// Status.
    pub status: String,
    /// Items done.
    pub done: i64,
    /// Items in all.
    pub total: Option<i64>,
    /// Discrepancies found.
    pub found: i64,
    /// Repaired.
    pub repaired: i64,
    /// Error.
    pub error: Option<String>,
    /// Started.
    pub created_at: String,
    /// Finished.
    pub finished_at: Option<String>,
}

/// A webhook delivery.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// Connection.
    pub connection_id: String,
    /// Platform event id.
    pub external_id: String,
    /// Status.
    pub status: String,
    /// Attempts.
    pub attempts: i32,
    /// Last error.
    pub last_error: Option<String>,
    /// Received.
    pub received_at: String,
}

/// A platform listing.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Listing {
    /// Id.
    pub id: i64,
    /// The platform's item id.
    pub external_item_id: String,
    /// SKU code on the platform.
    pub sku_code: Option<String>,
    /// Barcode on the platform.
    pub barcode: Option<String>,
    /// Title on the platform.
    pub title: Option<String>,
    /// Matched SKU.
    pub sku_id: Option<String>,
    /// How it matched.
    pub matched_by: Option<String>,
}

/// A duplicate SKU code on a platform.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Collision {
    /// The code.
    pub code: String,
    /// The listings sharing it.
    pub external_item_ids: Vec<String>,
}

/// The result of matching listings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct MatchReport {
    /// Listings read.
    pub listed: usize,
    /// Matched by SKU.
    pub matched_by_sku: usize,
    /// Matched by barcode.
    pub matched_by_barcode: usize,
    /// Matched before.
    pub already_matched: usize,
    /// Unmatched.
    pub unmatched: Vec<Listing>,
    /// Duplicates.
    #[serde(default)]
    pub collisions: Vec<Collision>,
}

/// A member.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Member {
    /// `usr_…`
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Joined.
    pub joined_at: String,
}

/// An API token.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ApiToken {
    /// `tok_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// First characters.
    pub prefix: String,
    /// Expires.
    pub expires_at: Option<String>,
    /// Last used.
    pub last_used_at: Option<String>,
    /// The secret, only when just created.
    #[serde(default)]
    pub secret: Option<String>,
}

/// An audit-log entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct AuditEntry {
    /// Position in the tenant's chain.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub subject: String,
}

/// Sales of one channel over a period.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ChannelSales {
    /// The channel.
    pub connection_id: String,
    /// Currency.
    pub currency: String,
    /// Orders.
    pub orders: i64,
    /// Units sold.
    pub units: i64,
    /// Revenue in minor units.
    pub revenue_minor: i64,
    /// Refunded in minor units.
    pub refunded_minor: i64,
}

/// Sales on one day.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct DaySales {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Orders.
    pub orders: i64,
    /// Revenue in minor units.
    pub revenue_minor: i64,
}

/// The analytics answer.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SalesReport {
    /// Per channel.
    pub by_channel: Vec<ChannelSales>,
    /// Per day.
    pub by_day: Vec<DaySales>,
    /// Store (POS) vs online.
    #[serde(default)]
    pub by_kind: Vec<KindSales>,
}

/// Sales of store or online channels.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct KindSales {
    /// `store` or `online`.
    pub kind: String,
    /// Orders.
    pub orders: i64,
    /// Revenue in minor units.
    pub revenue_minor: i64,
}

/// A location as the platform lists it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PlatformLocation {
    /// Its id on the platform.
    pub id: String,
    /// Its name there.
    pub name: String,
    /// The Concord location mapped to it.
    pub mapped_to: Option<String>,
}

/// A jurisdiction rule version.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Rule {
    /// Stable code, e.g. `UK-R18-ONLINE`.
    pub code: String,
    /// Version.
    pub version: i32,
    /// In force now.
    pub in_force: bool,
    /// What it says.
    pub summary: String,
    /// Where it applies.
    pub jurisdictions: Vec<String>,
    /// Which kinds of channel.
    pub channels: Vec<String>,
    /// What it does.
    pub action: String,
    /// Minimum age.
    pub min_age: Option<u8>,
}
