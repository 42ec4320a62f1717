//! Shopify's REST shapes, which its webhooks carry: orders, refunds and products, money as
//! decimal strings (refund line subtotals as numbers, as Shopify writes them).

use serde_json::{Value, json};

use super::{
    gid, item_id, line_id, location_id, order_id, product_id, refund_id, refund_transaction_id,
    time, transaction_id, variant_id,
};
use crate::{
    core::{Core, Line, Order, OrderStatus, Product, Refund},
    money::{decimal, number},
};

fn money_set(minor: i64, currency: &str) -> Value {
    let money = json!({"amount": decimal(minor, currency), "currency_code": currency});
    json!({"shop_money": money, "presentment_money": money})
}

/// `financial_status` of an order.
pub(super) fn financial_status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment => "pending",
        OrderStatus::Failed => "voided",
        OrderStatus::Paid => "paid",
        OrderStatus::PartiallyRefunded => "partially_refunded",
        OrderStatus::Refunded => "refunded",
    }
}

fn line_item(o: &Order, l: &Line) -> Value {
    json!({
        "id": line_id(l.id),
        "admin_graphql_api_id": gid("LineItem", line_id(l.id)),
        "variant_id": variant_id(l.product),
        "product_id": product_id(l.product),
        "sku": l.sku,
        "title": l.title,
        "name": l.title,
        "variant_title": null,
        "quantity": l.quantity,
        "current_quantity": l.quantity - l.refunded,
        "fulfillable_quantity": l.quantity - l.refunded,
        "fulfillment_status": null,
        "price": decimal(l.unit_price_minor, &o.currency),
        "price_set": money_set(l.unit_price_minor, &o.currency),
        "total_discount": decimal(0, &o.currency),
        "requires_shipping": true,
        "taxable": true,
        "gift_card": false,
        "tax_lines": [],
    })
}

/// An order as `orders/create` and friends carry it.
pub(super) fn order(core: &Core, o: &Order) -> Value {
    let total = decimal(o.total_minor, &o.currency);
    let refunds: Vec<Value> = o.refunds.iter().map(|r| refund(core, o, r)).collect();
    let current = o.total_minor - o.refunded_minor();
    json!({
        "id": order_id(o.id),
        "admin_graphql_api_id": gid("Order", order_id(o.id)),
        "name": format!("#{}", o.number),
        "order_number": o.number,
        "number": o.number - 1000,
        "email": "",
        "currency": o.currency,
        "presentment_currency": o.currency,
        "total_price": total,
        "subtotal_price": total,
        "current_total_price": decimal(current, &o.currency),
        "total_price_set": money_set(o.total_minor, &o.currency),
        "total_tax": decimal(0, &o.currency),
        "total_discounts": decimal(0, &o.currency),
        "financial_status": financial_status(o),
        "fulfillment_status": null,
        "confirmed": true,
        "test": false,
        "created_at": time(o.created_at),
        "updated_at": time(o.updated_at),
        "processed_at": time(o.created_at),
        "cancelled_at": null,
        "closed_at": null,
        "location_id": location_id(core, o.location),
        "source_name": "web",
        "gateway": "shopify_payments",
        "payment_gateway_names": ["shopify_payments"],
        "customer": null,
        "line_items": o.lines.iter().map(|l| line_item(o, l)).collect::<Vec<_>>(),
        "refunds": refunds,
    })
}

/// A refund as `refunds/create` carries it.
pub(super) fn refund(core: &Core, o: &Order, r: &Refund) -> Value {
    let lines: Vec<Value> = r
        .lines
        .iter()
        .filter_map(|rl| {
            let l = o.line(rl.line)?;
            let subtotal = rl.quantity * l.unit_price_minor;
            Some(json!({
                "id": line_id(l.id) + 1_000_000 * r.id,
                "line_item_id": line_id(l.id),
                "quantity": rl.quantity,
                "restock_type": if r.restock { "return" } else { "no_restock" },
                "location_id": if r.restock { Some(location_id(core, o.location)) } else { None },
                "subtotal": number(subtotal, &o.currency),
                "subtotal_set": money_set(subtotal, &o.currency),
                "total_tax": 0.0,
                "line_item": line_item(o, l),
            }))
        })
        .collect();
    json!({
        "id": refund_id(r.id),
        "admin_graphql_api_id": gid("Refund", refund_id(r.id)),
        "order_id": order_id(o.id),
        "created_at": time(r.created_at),
        "processed_at": time(r.created_at),
        "note": r.reason,
        "restock": r.restock,
        "user_id": null,
        "refund_line_items": lines,
        "order_adjustments": [],
        "transactions": [{
            "id": refund_transaction_id(r.id),
            "admin_graphql_api_id": gid("OrderTransaction", refund_transaction_id(r.id)),
            "order_id": order_id(o.id),
            "parent_id": o.payment.as_ref().map(|p| transaction_id(p.id)),
            "kind": "refund",
            "status": "success",
            "amount": decimal(r.amount_minor, &o.currency),
            "currency": o.currency,
            "gateway": "shopify_payments",
            "created_at": time(r.created_at),
        }],
    })
}

/// A product as `products/create` carries it.
pub(super) fn product(p: &Product) -> Value {
    json!({
        "id": product_id(p.id),
        "admin_graphql_api_id": gid("Product", product_id(p.id)),
        "title": p.title,
        "handle": p.sku.to_lowercase(),
        "status": "active",
        "created_at": time(p.created_at),
        "updated_at": time(p.updated_at),
        "variants": [{
            "id": variant_id(p.id),
            "admin_graphql_api_id": gid("ProductVariant", variant_id(p.id)),
            "product_id": product_id(p.id),
            "title": "Default Title",
            "sku": p.sku,
            "barcode": p.barcode,
            "price": decimal(p.price_minor, &p.currency),
            "inventory_item_id": item_id(p.id),
            "inventory_quantity": p.total_stock(),
            "inventory_management": "shopify",
            "created_at": time(p.created_at),
            "updated_at": time(p.updated_at),
        }],
    })
}
