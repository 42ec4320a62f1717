//! From a platform's normalized delivery to domain events: the one place where the words
//! platforms use for order states become Concord's, and where item ids become SKU codes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_connectors::{Hint, Kind, Normalized};
use concord_domain::{
    events::{
        CommerceEvent, CustomerSnapshot, InboundEvent, ItemQuantity, LineSnapshot, OrderSnapshot,
        PaymentEvent, RefundEvent,
    },
    orders::OrderStatus,
};

/// What one normalized event becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Translated {
    /// A domain event to apply.
    Apply(Box<InboundEvent>),
    /// The delivery names something to fetch from the platform before acting.
    Fetch(Hint),
    /// Nothing Concord acts on, and why.
    Skip(String),
    /// It cannot be applied yet (an item not matched to a SKU): retry later.
    Wait(String),
}

/// Translates `event` (the `index`-th of a delivery whose id is `delivery_id`), looking up
/// SKU codes of platform item ids in `skus`.
pub fn translate(
    event: Normalized,
    delivery_id: &str,
    index: usize,
    skus: &HashMap<String, String>,
    received_at: DateTime<Utc>,
) -> Translated {
    let event_id = match &event.event_id {
        Some(id) if index == 0 => id.clone(),
        Some(id) => format!("{id}#{index}"),
        None if index == 0 => delivery_id.to_owned(),
        None => format!("{delivery_id}#{index}"),
    };
    let occurred_at = event
        .occurred_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(received_at, |t| t.with_timezone(&Utc));
    let wrap = |event| {
        Translated::Apply(Box::new(InboundEvent {
            event_id: event_id.clone(),
            occurred_at,
            event,
        }))
    };
    // The listing the item is matched to (by SKU code, barcode or by hand) names the SKU;
    // the code the platform prints is used only for items Concord has not matched.
    let sku_of = |sku: &Option<String>, item: &Option<String>| {
        item.as_deref()
            .and_then(|i| skus.get(i))
            .cloned()
            .or_else(|| sku.clone().filter(|s| !s.trim().is_empty()))
    };
    match event.kind {
        Kind::Hint => match event.hint {
            Some(hint) => Translated::Fetch(hint),
            None => Translated::Skip("a hint naming nothing".into()),
        },
        // A product's own stock figure (WooCommerce's product.updated) is a stock report;
        // the rest of a product is matched when listings are mapped.
        Kind::Product if event.inventory.is_none() => {
            Translated::Skip("products are matched when listings are mapped".into())
        }
        Kind::Product | Kind::Inventory => {
            let Some(inventory) = event.inventory else {
                return Translated::Skip("an inventory event without a figure".into());
            };
            let (Some(quantity), Some(sku)) = (
                inventory.quantity,
                sku_of(&inventory.sku, &inventory.external_item_id),
            ) else {
                return match inventory.external_item_id {
                    Some(id) if inventory.quantity.is_some() => {
                        Translated::Skip(format!("item {id} is not matched to a SKU"))
                    }
                    id => Translated::Fetch(Hint {
                        resource: "inventory".into(),
                        id,
                    }),
                };
            };
            wrap(CommerceEvent::StockLevelReported {
                sku,
                location: inventory.location_id.or(event.location_id),
                quantity,
            })
        }
        Kind::Order => {
            let Some(order_id) = event.external_order_id.clone() else {
                return Translated::Skip("an order without an id".into());
            };
            let status = order_status(event.topic.as_deref(), event.status.as_deref());
            if status == OrderStatus::Cancelled && event.lines.is_empty() {
                return wrap(CommerceEvent::OrderCancelled {
                    order_id,
                    updated_at: occurred_at,
                });
            }
            if event.lines.is_empty() {
                return Translated::Fetch(Hint {
                    resource: "order".into(),
                    id: Some(order_id),
                });
            }
            // An order whose lines are known moves stock even when its platform names no
            // currency or total (Lightspeed R-Series' sales are in the account's currency,
            // never stated): the money is kept as "no currency" (ISO 4217 XXX) and the
            // lines' sum, not guessed.
            let currency = event.currency.clone().unwrap_or_else(|| "XXX".to_owned());
            let total_minor = event.total_minor.unwrap_or_else(|| {
                event
                    .lines
                    .iter()
                    .map(|l| l.unit_price_minor.unwrap_or(0).saturating_mul(l.quantity))
                    .fold(0_i64, i64::saturating_add)
            });
            let mut lines = Vec::with_capacity(event.lines.len());
            for (n, line) in event.lines.into_iter().enumerate() {
                let Some(sku) = sku_of(&line.sku, &line.external_item_id) else {
                    return Translated::Wait(format!(
                        "order {order_id}: line {} names no SKU Concord knows",
                        line.line_id.as_deref().unwrap_or("?")
                    ));
                };
                lines.push(LineSnapshot {
                    line_id: line.line_id.unwrap_or_else(|| format!("{}", n + 1)),
                    sku,
                    quantity: line.quantity,
                    fulfilled_quantity: 0,
                    unit_price_minor: line.unit_price_minor.unwrap_or(0),
                });
            }
            let snapshot = OrderSnapshot {
                order_id,
                status,
                lines,
                currency,
                total_minor,
                customer: event.customer.map(|c| CustomerSnapshot {
                    customer_id: c.id,
                    email: c.email,
                    phone: c.phone,
                    name: c.name,
                }),
                location: event.location_id,
                ship_to: None,
                placed_at: occurred_at,
                updated_at: occurred_at,
            };
            if event.topic.as_deref().is_some_and(|t| t.contains("create")) {
                wrap(CommerceEvent::OrderPlaced(snapshot))
            } else {
                wrap(CommerceEvent::OrderUpdated(snapshot))
            }
        }
        Kind::Payment => {
            let (Some(order_id), Some(payment_id), Some(amount_minor), Some(currency)) = (
                event.external_order_id,
                event.external_payment_id.clone(),
                event.amount_minor,
                event.currency,
            ) else {
                return Translated::Skip(format!(
                    "payment {} is tied to no order",
                    event.external_payment_id.as_deref().unwrap_or("?")
                ));
            };
            let payment = PaymentEvent {
                order_id,
                payment_id,
                amount_minor,
                currency,
            };
            let status = event
                .status
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase();
            // A payment begun but not made (Stripe's `requires_payment_method`, a pending
            // charge, an unpaid session) is neither captured nor failed yet.
            if status.starts_with("requires_")
                || ["processing", "pending", "unpaid", "incomplete"].contains(&status.as_str())
            {
                return Translated::Skip(format!(
                    "payment {} is not made yet ({status})",
                    payment.payment_id
                ));
            }
            let failed = ["fail", "declin", "cancel"]
                .iter()
                .any(|w| status.contains(w));
            wrap(if failed {
                CommerceEvent::PaymentFailed(payment)
            } else {
                CommerceEvent::PaymentCaptured(payment)
            })
        }
        Kind::Refund => {
            let order_id = event
                .external_order_id
                .or_else(|| event.external_payment_id.as_ref().map(|_| String::new()));
            let (Some(order_id), Some(refund_id), Some(currency)) =
                (order_id, event.external_refund_id.clone(), event.currency)
            else {
                return Translated::Skip(format!(
                    "refund {} is tied to no order",
                    event.external_refund_id.as_deref().unwrap_or("?")
                ));
            };
            let mut restock = Vec::new();
            if event.restock != Some(false) {
                for line in event.lines {
                    match sku_of(&line.sku, &line.external_item_id) {
                        Some(sku) if event.restock == Some(true) => restock.push(ItemQuantity {
                            sku,
                            quantity: line.quantity,
                        }),
                        Some(_) => {}
                        None if event.restock == Some(true) => {
                            return Translated::Wait(format!(
                                "refund {refund_id}: a restocked line names no SKU Concord knows"
                            ));
                        }
                        None => {}
                    }
                }
            }
            wrap(CommerceEvent::RefundIssued(RefundEvent {
                order_id,
                refund_id,
                amount_minor: event.amount_minor.unwrap_or(0).abs(),
                currency,
                restock,
                payment_id: event.external_payment_id,
            }))
        }
    }
}

/// Concord's order state for a platform's status word (and event name, which says
/// "cancelled" on platforms whose status does not).
pub fn order_status(topic: Option<&str>, status: Option<&str>) -> OrderStatus {
    let word = status.unwrap_or_default().to_ascii_lowercase();
    let topic = topic.unwrap_or_default().to_ascii_lowercase();
    if topic.contains("cancel") || ["cancel", "void"].iter().any(|w| word.contains(w)) {
        OrderStatus::Cancelled
    } else if word.contains("hold") {
        OrderStatus::OnHold
    } else if [
        "completed",
        "complete",
        "fulfilled",
        "closed",
        "delivered",
        "shipped",
        "refunded",
    ]
    .contains(&word.as_str())
    {
        OrderStatus::Completed
    } else {
        OrderStatus::Open
    }
}

#[cfg(test)]
mod tests {
    use concord_connectors::{Inventory, Line};

    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    fn order() -> Normalized {
        let mut n = Normalized::new(Kind::Order);
        n.topic = Some("orders/create".into());
        n.external_order_id = Some("1001".into());
        n.currency = Some("GBP".into());
        n.total_minor = Some(2598);
        n.status = Some("paid".into());
        n.lines = vec![
            Line {
                line_id: Some("l1".into()),
                sku: Some("DVD-1".into()),
                external_item_id: None,
                quantity: 1,
                unit_price_minor: Some(1299),
            },
            Line {
                line_id: Some("l2".into()),
                sku: None,
                external_item_id: Some("var-9".into()),
                quantity: 1,
                unit_price_minor: Some(1299),
            },
        ];
        n
    }

    #[test]
    fn orders_resolve_item_ids_to_skus_or_wait_for_them() {
        let skus = HashMap::from([("var-9".to_owned(), "DVD-9".to_owned())]);
        let Translated::Apply(event) = translate(order(), "d1", 0, &skus, at()) else {
            panic!("applied");
        };
        assert_eq!(event.event_id, "d1");
        let CommerceEvent::OrderPlaced(snapshot) = event.event else {
            panic!("placed");
        };
        assert_eq!(snapshot.status, OrderStatus::Open);
        assert_eq!(snapshot.lines[1].sku, "DVD-9");
        assert!(matches!(
            translate(order(), "d1", 0, &HashMap::new(), at()),
            Translated::Wait(_)
        ));
    }

    #[test]
    fn a_matched_listing_names_the_sku_whatever_code_the_platform_prints() {
        // A WooCommerce variation matched by barcode, whose SKU code differs from Concord's.
        let mut sale = order();
        sale.lines[1].sku = Some("MV-VELVET-DVD".into());
        sale.lines[1].external_item_id = Some("9000001:12".into());
        let skus = HashMap::from([("9000001:12".to_owned(), "MV-DVD".to_owned())]);
        let Translated::Apply(event) = translate(sale, "d1", 0, &skus, at()) else {
            panic!("applied");
        };
        let CommerceEvent::OrderPlaced(snapshot) = event.event else {
            panic!("placed");
        };
        assert_eq!(
            snapshot.lines[0].sku, "DVD-1",
            "unmatched: the printed code"
        );
        assert_eq!(
            snapshot.lines[1].sku, "MV-DVD",
            "matched: the listing's SKU"
        );
    }

    #[test]
    fn thin_orders_and_unmatched_stock_become_fetches() {
        let mut thin = Normalized::new(Kind::Order);
        thin.external_order_id = Some("sq-1".into());
        thin.status = Some("OPEN".into());
        assert_eq!(
            translate(thin, "d", 0, &HashMap::new(), at()),
            Translated::Fetch(Hint {
                resource: "order".into(),
                id: Some("sq-1".into())
            })
        );
        let mut stock = Normalized::new(Kind::Inventory);
        stock.inventory = Some(Inventory {
            sku: None,
            external_item_id: Some("item-1".into()),
            location_id: Some("L1".into()),
            quantity: Some(4),
        });
        assert!(matches!(
            translate(stock.clone(), "d", 0, &HashMap::new(), at()),
            Translated::Skip(_)
        ));
        let skus = HashMap::from([("item-1".to_owned(), "DVD-1".to_owned())]);
        let Translated::Apply(event) = translate(stock, "d", 1, &skus, at()) else {
            panic!("applied");
        };
        assert_eq!(event.event_id, "d#1");
        assert_eq!(
            event.event,
            CommerceEvent::StockLevelReported {
                sku: "DVD-1".into(),
                location: Some("L1".into()),
                quantity: 4
            }
        );
    }

    #[test]
    fn orders_whose_platform_names_no_currency_still_apply() {
        let mut sale = order();
        sale.topic = Some("Sale".into());
        sale.currency = None;
        sale.total_minor = None;
        let skus = HashMap::from([("var-9".to_owned(), "DVD-9".to_owned())]);
        let Translated::Apply(event) = translate(sale, "d1", 0, &skus, at()) else {
            panic!("applied");
        };
        let CommerceEvent::OrderUpdated(snapshot) = event.event else {
            panic!("an order");
        };
        assert_eq!(snapshot.currency, "XXX");
        assert_eq!(snapshot.total_minor, 2598);
    }

    #[test]
    fn payments_not_made_yet_are_neither_captured_nor_failed() {
        let payment = |status: &str| {
            let mut n = Normalized::new(Kind::Payment);
            n.external_order_id = Some("1001".into());
            n.external_payment_id = Some("pi_1".into());
            n.amount_minor = Some(1999);
            n.currency = Some("USD".into());
            n.status = Some(status.into());
            translate(n, "d", 0, &HashMap::new(), at())
        };
        for waiting in [
            "requires_payment_method",
            "requires_confirmation",
            "processing",
        ] {
            assert!(matches!(payment(waiting), Translated::Skip(_)), "{waiting}");
        }
        let Translated::Apply(paid) = payment("succeeded") else {
            panic!("applied");
        };
        assert!(matches!(paid.event, CommerceEvent::PaymentCaptured(_)));
        let Translated::Apply(declined) = payment("payment_failed") else {
            panic!("applied");
        };
        assert!(matches!(declined.event, CommerceEvent::PaymentFailed(_)));
    }

    #[test]
    fn status_words_map_to_order_states() {
        for (topic, word, status) in [
            (None, "paid", OrderStatus::Open),
            (None, "processing", OrderStatus::Open),
            (None, "COMPLETED", OrderStatus::Completed),
            (None, "CANCELED", OrderStatus::Cancelled),
            (Some("orders/cancelled"), "refunded", OrderStatus::Cancelled),
            (None, "on-hold", OrderStatus::OnHold),
            (None, "voided", OrderStatus::Cancelled),
        ] {
            assert_eq!(order_status(topic, Some(word)), status, "{word}");
        }
    }
}
