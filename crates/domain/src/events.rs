//! Normalized commerce events: the contract between connectors and the domain. A connector
//! turns a platform's payload into these; the domain applies them idempotently, keyed by the
//! connection, the event id and (for multi-line effects) the line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::orders::{Disposition, OrderStatus};

/// One event from one connection, with the platform's own id for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEvent {
    /// The platform's id for this event (or a content hash where it gives none); unique
    /// per connection.
    pub event_id: String,
    /// When it happened on the platform.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub event: CommerceEvent,
}

/// What happened on a platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommerceEvent {
    /// A new order (an online checkout or a POS sale).
    OrderPlaced(OrderSnapshot),
    /// An order changed (lines, fulfilment, status).
    OrderUpdated(OrderSnapshot),
    /// An order was cancelled.
    OrderCancelled {
        /// The platform's order id.
        order_id: String,
        /// The platform's time of the change.
        updated_at: DateTime<Utc>,
    },
    /// A payment was taken.
    PaymentCaptured(PaymentEvent),
    /// A payment attempt failed.
    PaymentFailed(PaymentEvent),
    /// Money went back to a customer; some lines may go back to stock.
    RefundIssued(RefundEvent),
    /// Items came back; each line has a disposition.
    ReturnReceived(ReturnEvent),
    /// Units shipped or were handed over.
    FulfilmentCreated(FulfilmentEvent),
    /// The platform reports its current stock figure for a SKU.
    StockLevelReported {
        /// The SKU code.
        sku: String,
        /// The platform's location id, if it has locations.
        location: Option<String>,
        /// The figure the platform shows.
        quantity: i64,
    },
    /// Stock was changed on the platform by hand.
    StockAdjusted {
        /// The SKU code.
        sku: String,
        /// The platform's location id, if it has locations.
        location: Option<String>,
        /// Units added (positive) or removed (negative).
        delta: i64,
        /// Why, if the platform says.
        note: Option<String>,
    },
    /// A product was created or changed on the platform.
    ProductUpserted(ProductSnapshot),
}

/// An order as the platform shows it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSnapshot {
    /// The platform's order id.
    pub order_id: String,
    /// Where the order stands.
    pub status: OrderStatus,
    /// Its lines.
    pub lines: Vec<LineSnapshot>,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Order total in minor units.
    pub total_minor: i64,
    /// The buyer, if known.
    pub customer: Option<CustomerSnapshot>,
    /// The platform location that sold it (POS) or should ship it, if any.
    pub location: Option<String>,
    /// Where it ships to, as a jurisdiction code (`GB`, `AU-NSW`), when the platform says;
    /// otherwise the channel's jurisdiction judges it.
    #[serde(default)]
    pub ship_to: Option<String>,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
    /// The platform's last-modified time; older snapshots never overwrite newer ones.
    pub updated_at: DateTime<Utc>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineSnapshot {
    /// The platform's line id.
    pub line_id: String,
    /// The SKU code sold.
    pub sku: String,
    /// Units ordered.
    pub quantity: i64,
    /// Units fulfilled so far.
    #[serde(default)]
    pub fulfilled_quantity: i64,
    /// Price per unit in minor units.
    pub unit_price_minor: i64,
}

/// The buyer as one platform knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSnapshot {
    /// The platform's customer id.
    pub customer_id: Option<String>,
    /// Email, if given.
    pub email: Option<String>,
    /// Phone, if given.
    pub phone: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// A payment on an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    /// The platform's order id.
    pub order_id: String,
    /// The platform's payment id.
    pub payment_id: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
}

/// A refund on an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundEvent {
    /// The platform's order id.
    pub order_id: String,
    /// The platform's refund id.
    pub refund_id: String,
    /// Amount refunded, minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines whose units go back to stock (empty when nothing is restocked).
    #[serde(default)]
    pub restock: Vec<ItemQuantity>,
    /// The payment it returns, when the platform names it: a payment processor's refund
    /// names its payment, not the order (then `order_id` is empty).
    #[serde(default)]
    pub payment_id: Option<String>,
}

/// Items received back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnEvent {
    /// The platform's order id.
    pub order_id: String,
    /// The platform's return id.
    pub return_id: String,
    /// What came back and what happens to it.
    pub lines: Vec<ReturnLine>,
}

/// A returned item and its fate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The SKU code.
    pub sku: String,
    /// Units.
    pub quantity: i64,
    /// What happens to them.
    pub disposition: Disposition,
}

/// Units shipped or handed over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfilmentEvent {
    /// The platform's order id.
    pub order_id: String,
    /// The platform's fulfilment id.
    pub fulfilment_id: String,
    /// Lines and units fulfilled by this fulfilment.
    pub lines: Vec<FulfilledLine>,
    /// Carrier, if shipped.
    pub carrier: Option<String>,
    /// Tracking number, if shipped.
    pub tracking: Option<String>,
}

/// Units of one order line fulfilled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfilledLine {
    /// The platform's line id.
    pub line_id: String,
    /// Units.
    pub quantity: i64,
}

/// A SKU and a number of units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemQuantity {
    /// The SKU code.
    pub sku: String,
    /// Units.
    pub quantity: i64,
}

/// A product as a platform describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    /// The platform's product id.
    pub product_id: String,
    /// Title.
    pub title: String,
    /// The SKU codes of its variants.
    pub skus: Vec<String>,
    /// Barcodes by SKU code, where given.
    #[serde(default)]
    pub barcodes: Vec<(String, String)>,
}

impl CommerceEvent {
    /// The platform order this event concerns, if any.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            Self::OrderPlaced(o) | Self::OrderUpdated(o) => Some(&o.order_id),
            Self::OrderCancelled { order_id, .. } => Some(order_id),
            Self::PaymentCaptured(p) | Self::PaymentFailed(p) => Some(&p.order_id),
            Self::RefundIssued(r) => Some(&r.order_id),
            Self::ReturnReceived(r) => Some(&r.order_id),
            Self::FulfilmentCreated(f) => Some(&f.order_id),
            Self::StockLevelReported { .. }
            | Self::StockAdjusted { .. }
            | Self::ProductUpserted(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_a_stable_tagged_json_form() {
        let json = r#"{"event_id":"evt_1","occurred_at":"2026-11-28T10:00:00Z","type":"stock_adjusted",
                       "sku":"DVD-1","location":null,"delta":-2,"note":"damaged"}"#;
        let parsed: InboundEvent = serde_json_lite(json);
        assert_eq!(parsed.event_id, "evt_1");
        assert!(matches!(
            parsed.event,
            CommerceEvent::StockAdjusted { delta: -2, .. }
        ));
        assert_eq!(parsed.event.order_id(), None);
    }

    fn serde_json_lite(json: &str) -> InboundEvent {
        serde_json::from_str(json).expect("valid event JSON")
    }
}
