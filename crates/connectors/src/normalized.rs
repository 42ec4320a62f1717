//! What a platform's delivery says, in one vocabulary for every platform: the output of
//! `concord webhook parse` and the input the worker turns into domain events. A fact the
//! payload does not carry is `None` (printed as `null`), never invented.

use serde::{Deserialize, Serialize};

/// What kind of fact a normalized event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An order was placed or changed.
    Order,
    /// Money went back to a customer.
    Refund,
    /// A payment was taken or failed.
    Payment,
    /// A stock figure for an item at a location.
    Inventory,
    /// A product was created or changed.
    Product,
    /// Something changed and the payload does not say enough: fetch `hint.resource`.
    Hint,
}

/// One normalized event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalized {
    /// What kind of fact this is.
    pub kind: Kind,
    /// The platform's name for the event (`orders/create`, `payment_intent.succeeded`, …).
    pub topic: Option<String>,
    /// The platform's id for the event, where it gives one.
    pub event_id: Option<String>,
    /// When it happened, RFC 3339 UTC.
    pub occurred_at: Option<String>,
    /// The platform's order id.
    pub external_order_id: Option<String>,
    /// The platform's refund id.
    pub external_refund_id: Option<String>,
    /// The platform's payment id.
    pub external_payment_id: Option<String>,
    /// ISO 4217 code, upper-case.
    pub currency: Option<String>,
    /// An order's total in minor units.
    pub total_minor: Option<i64>,
    /// A payment's or refund's amount in minor units.
    pub amount_minor: Option<i64>,
    /// The platform's status word for the order, payment or refund, as it gives it.
    pub status: Option<String>,
    /// The order's (or refund's) lines.
    pub lines: Vec<Line>,
    /// A stock figure.
    pub inventory: Option<Inventory>,
    /// What to fetch, for thin deliveries.
    pub hint: Option<Hint>,
    /// The buyer, where the payload names them.
    pub customer: Option<Customer>,
    /// Whether a refund puts its items back in stock, where the platform says.
    pub restock: Option<bool>,
    /// The platform location that sold (POS) or ships the order, or holds the stock.
    pub location_id: Option<String>,
}

impl Normalized {
    /// An empty event of `kind`; fill in what the payload carries.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            topic: None,
            event_id: None,
            occurred_at: None,
            external_order_id: None,
            external_refund_id: None,
            external_payment_id: None,
            currency: None,
            total_minor: None,
            amount_minor: None,
            status: None,
            lines: Vec::new(),
            inventory: None,
            hint: None,
            customer: None,
            restock: None,
            location_id: None,
        }
    }
}

/// An order or refund line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The platform's line id.
    pub line_id: Option<String>,
    /// The SKU code, where the payload carries it.
    pub sku: Option<String>,
    /// The platform's id for the item (variant, catalog object), for SKU lookup.
    pub external_item_id: Option<String>,
    /// Units.
    pub quantity: i64,
    /// Price per unit in minor units.
    pub unit_price_minor: Option<i64>,
}

/// A stock figure for one item at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// The SKU code, where the payload carries it.
    pub sku: Option<String>,
    /// The platform's id for the item.
    pub external_item_id: Option<String>,
    /// The platform's location id.
    pub location_id: Option<String>,
    /// The figure (available units), where the payload carries it.
    pub quantity: Option<i64>,
}

/// A resource to fetch from the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    /// What kind of resource (`order`, `product`, `inventory`, `payment`, `refund`, `customer`).
    pub resource: String,
    /// Its id on the platform, if given.
    pub id: Option<String>,
}

/// The buyer as the platform names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// The platform's customer id.
    pub id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// Why a delivery could not be normalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not what the platform sends.
    #[error("the body is not a {platform} delivery: {reason}")]
    Malformed {
        /// The platform slug.
        platform: &'static str,
        /// What is wrong.
        reason: String,
    },
}
