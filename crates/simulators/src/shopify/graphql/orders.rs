//! Orders as the Admin GraphQL API shows them: `orders` with its query filter and sort,
//! `order`, money bags and line items.

use super::*;

pub(super) fn financial_status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment => "PENDING",
        OrderStatus::Failed => "VOIDED",
        OrderStatus::Paid => "PAID",
        OrderStatus::PartiallyRefunded => "PARTIALLY_REFUNDED",
        OrderStatus::Refunded => "REFUNDED",
    }
}

pub(super) fn orders(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let terms = query_terms(ctx, field);
    let sort = field
        .arg("sortKey", ctx.vars)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "ID".into());
    let core = ctx.inner.core();
    let key = |o: &Order| -> Key {
        match sort.as_str() {
            "CREATED_AT" | "PROCESSED_AT" => (o.created_at.timestamp_millis(), o.id),
            "UPDATED_AT" => (o.updated_at.timestamp_millis(), o.id),
            _ => (0, o.id),
        }
    };
    let items = core
        .orders
        .iter()
        .filter(|o| o.status != OrderStatus::AwaitingPayment)
        .filter(|o| {
            terms.iter().all(|t| match t.field.as_str() {
                "updated_at" => time_term(t, o.updated_at),
                "created_at" | "processed_at" => time_term(t, o.created_at),
                "name" => {
                    text_term(t, &format!("#{}", o.number)) || text_term(t, &o.number.to_string())
                }
                "financial_status" => text_term(t, financial_status(o)),
                "id" => id_term(t, order_id(o.id)),
                _ => true,
            })
        })
        .map(|o| (key(o), o))
        .collect();
    let kind = format!("orders-{sort}");
    connection(ctx, field, &kind, items, |o| {
        order_node(ctx, &core, o, field)
    })
}

pub(super) fn money_bag(minor: i64, currency: &str) -> Value {
    let money = json!({"amount": decimal(minor, currency), "currencyCode": currency});
    json!({"shopMoney": money, "presentmentMoney": money})
}

pub(super) fn line_node(core: &Core, o: &Order, l: &Line) -> Value {
    let _ = core;
    json!({
        "__typename": "LineItem",
        "id": gid("LineItem", line_id(l.id)),
        "sku": l.sku,
        "name": l.title,
        "title": l.title,
        "quantity": l.quantity,
        "currentQuantity": l.quantity - l.refunded,
        "refundableQuantity": l.quantity - l.refunded,
        "variant": {
            "id": gid("ProductVariant", variant_id(l.product)),
            "sku": l.sku,
            "inventoryItem": {"id": gid("InventoryItem", item_id(l.product))},
        },
        "product": {"id": gid("Product", product_id(l.product))},
        "originalUnitPriceSet": money_bag(l.unit_price_minor, &o.currency),
        "discountedUnitPriceSet": money_bag(l.unit_price_minor, &o.currency),
        "originalTotalSet": money_bag(l.total_minor(), &o.currency),
    })
}

pub(super) fn order_node(ctx: &Ctx<'_>, core: &Core, o: &Order, field: &Field) -> Value {
    let line_items = ctx
        .doc
        .find(&field.selections, "lineItems")
        .map_or(Value::Null, |f| {
            let items = o.lines.iter().map(|l| ((0, l.id), l)).collect();
            let kind = format!("lines{}", o.id);
            connection(ctx, f, &kind, items, |l| line_node(core, o, l))
                .map(|(v, _)| v)
                .unwrap_or(Value::Null)
        });
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .map(|r| {
            let lines: Vec<Value> = r
                .lines
                .iter()
                .filter_map(|rl| {
                    let l = o.line(rl.line)?;
                    Some(json!({
                        "lineItem": line_node(core, o, l),
                        "quantity": rl.quantity,
                        "restockType": if r.restock { "RETURN" } else { "NO_RESTOCK" },
                        "restocked": r.restock,
                        "location": if r.restock { location_node(core, o.location) } else { Value::Null },
                        "subtotalSet": money_bag(rl.quantity * l.unit_price_minor, &o.currency),
                    }))
                })
                .collect();
            json!({
                "__typename": "Refund",
                "id": gid("Refund", refund_id(r.id)),
                "legacyResourceId": refund_id(r.id).to_string(),
                "createdAt": time(r.created_at),
                "updatedAt": time(r.created_at),
                "note": r.reason,
                "totalRefundedSet": money_bag(r.amount_minor, &o.currency),
                "refundLineItems": {
                    "nodes": lines,
                    "edges": lines.iter().map(|n| json!({"cursor": "", "node": n})).collect::<Vec<_>>(),
                    "pageInfo": {"hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null},
                },
            })
        })
        .collect();
    let mut transactions = Vec::new();
    if let Some(p) = &o.payment {
        transactions.push(json!({
            "id": gid("OrderTransaction", transaction_id(p.id)),
            "kind": "SALE",
            "status": "SUCCESS",
            "gateway": "shopify_payments",
            "amountSet": money_bag(p.amount_minor, &o.currency),
            "createdAt": time(p.created_at),
            "processedAt": time(p.created_at),
        }));
    }
    for r in &o.refunds {
        transactions.push(json!({
            "id": gid("OrderTransaction", refund_transaction_id(r.id)),
            "kind": "REFUND",
            "status": "SUCCESS",
            "gateway": "shopify_payments",
            "amountSet": money_bag(r.amount_minor, &o.currency),
            "createdAt": time(r.created_at),
            "processedAt": time(r.created_at),
        }));
    }
    let location = location_node(core, o.location);
    json!({
        "__typename": "Order",
        "id": gid("Order", order_id(o.id)),
        "legacyResourceId": order_id(o.id).to_string(),
        "name": format!("#{}", o.number),
        "createdAt": time(o.created_at),
        "updatedAt": time(o.updated_at),
        "processedAt": time(o.created_at),
        "cancelledAt": null,
        "closed": false,
        "closedAt": null,
        "test": false,
        "currencyCode": o.currency,
        "presentmentCurrencyCode": o.currency,
        "displayFinancialStatus": financial_status(o),
        "displayFulfillmentStatus": "UNFULFILLED",
        "sourceName": "web",
        "totalPriceSet": money_bag(o.total_minor, &o.currency),
        "subtotalPriceSet": money_bag(o.total_minor, &o.currency),
        "currentTotalPriceSet": money_bag(o.total_minor - o.refunded_minor(), &o.currency),
        "totalRefundedSet": money_bag(o.refunded_minor(), &o.currency),
        "totalTaxSet": money_bag(0, &o.currency),
        "customer": null,
        "retailLocation": location,
        "physicalLocation": location,
        "lineItems": line_items,
        "refunds": refunds,
        "transactions": transactions,
    })
}
