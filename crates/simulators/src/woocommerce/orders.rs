//! WooCommerce orders and their refunds (which WooCommerce reports only through
//! `order.updated`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{
    WooCommerce, error, line_ids,
    listing::{dates, ids, ordering, page_response, paging, path_id},
    order_id, parse_order_id, refund_id, time,
};
use crate::{
    core::{Core, Order, OrderStatus},
    http,
    money::{self, decimal},
    server::Inner,
};

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/orders", web::get().to(list_orders))
        .route("/orders/{id}", web::get().to(get_order))
        .route("/orders/{id}/refunds", web::get().to(list_refunds))
        .route("/orders/{id}/refunds/{refund}", web::get().to(get_refund));
}

fn status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment => "pending",
        OrderStatus::Failed => "failed",
        OrderStatus::Paid | OrderStatus::PartiallyRefunded => "processing",
        OrderStatus::Refunded => "refunded",
    }
}

/// An order as the API and `order.*` webhooks show it.
pub(super) fn order(core: &Core, o: &Order, site: &str) -> Value {
    let c = o.currency.as_str();
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let (product_id, variation_id) = line_ids(core, l.product);
            let parent_name = core
                .product(l.product)
                .and_then(|p| p.parent)
                .and_then(|n| core.parent(n))
                .map(|v| v.title.clone());
            json!({
                "id": l.id,
                "name": l.title,
                "product_id": product_id,
                "variation_id": variation_id,
                "quantity": l.quantity,
                "tax_class": "",
                "subtotal": decimal(l.total_minor(), c),
                "subtotal_tax": decimal(0, c),
                "total": decimal(l.total_minor(), c),
                "total_tax": decimal(0, c),
                "taxes": [],
                "meta_data": [],
                "sku": l.sku,
                "price": money::number(l.unit_price_minor, c),
                "image": {"id": "", "src": ""},
                "parent_name": parent_name,
            })
        })
        .collect();
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .map(|r| {
            json!({
                "id": refund_id(r.id),
                "reason": r.reason.clone().unwrap_or_default(),
                "total": decimal(-r.amount_minor, c),
            })
        })
        .collect();
    let id = order_id(o.id);
    let paid = o.payment.as_ref().map(|p| time(p.created_at));
    let empty_address = json!({
        "first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "",
        "city": "", "state": "", "postcode": "", "country": "", "email": "", "phone": ""
    });
    json!({
        "id": id,
        "parent_id": 0,
        "status": status(o),
        "currency": o.currency,
        "version": "9.0.0",
        "prices_include_tax": false,
        "date_created": time(o.created_at),
        "date_created_gmt": time(o.created_at),
        "date_modified": time(o.updated_at),
        "date_modified_gmt": time(o.updated_at),
        "discount_total": decimal(0, c),
        "discount_tax": decimal(0, c),
        "shipping_total": decimal(0, c),
        "shipping_tax": decimal(0, c),
        "cart_tax": decimal(0, c),
        "total": decimal(o.total_minor, c),
        "total_tax": decimal(0, c),
        "customer_id": 0,
        "order_key": format!("wc_order_{:013x}", o.id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 12),
        "billing": empty_address,
        "shipping": empty_address,
        "payment_method": "stripe",
        "payment_method_title": "Credit Card",
        "transaction_id": o.payment.as_ref().map_or_else(String::new, |p| format!("ch_{:024}", p.id)),
        "customer_note": "",
        "created_via": "checkout",
        "date_paid": paid,
        "date_paid_gmt": paid,
        "date_completed": null,
        "date_completed_gmt": null,
        "cart_hash": "",
        "number": id.to_string(),
        "meta_data": [],
        "line_items": lines,
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": refunds,
        "needs_payment": false,
        "needs_processing": true,
        "is_editable": false,
        "_links": {
            "self": [{"href": format!("{site}wp-json/wc/v3/orders/{id}")}],
            "collection": [{"href": format!("{site}wp-json/wc/v3/orders")}],
        },
    })
}

fn refund(core: &Core, o: &Order, r: &crate::core::Refund) -> Value {
    let c = o.currency.as_str();
    let lines: Vec<Value> = r
        .lines
        .iter()
        .filter_map(|rl| {
            let l = o.line(rl.line)?;
            let amount = rl.quantity * l.unit_price_minor;
            let (product_id, variation_id) = line_ids(core, l.product);
            Some(json!({
                "id": 100_000 + r.id * 100 + rl.line,
                "name": l.title,
                "product_id": product_id,
                "variation_id": variation_id,
                "quantity": -rl.quantity,
                "tax_class": "",
                "subtotal": decimal(-amount, c),
                "subtotal_tax": decimal(0, c),
                "total": decimal(-amount, c),
                "total_tax": decimal(0, c),
                "taxes": [],
                "meta_data": [{"id": r.id, "key": "_refunded_item_id", "value": l.id.to_string()}],
                "sku": l.sku,
                "price": money::number(-l.unit_price_minor, c),
                "refund_total": money::number(amount, c),
            }))
        })
        .collect();
    json!({
        "id": refund_id(r.id),
        "date_created": time(r.created_at),
        "date_created_gmt": time(r.created_at),
        "amount": decimal(r.amount_minor, c),
        "reason": r.reason.clone().unwrap_or_default(),
        "refunded_by": 1,
        "refunded_payment": false,
        "meta_data": [],
        "line_items": lines,
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
    })
}

async fn list_orders(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    req: HttpRequest,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let paging = match paging(&query) {
        Ok(p) => p,
        Err(e) => return *e,
    };
    let dates = match dates(&query) {
        Ok(d) => d,
        Err(e) => return *e,
    };
    let statuses: Option<Vec<String>> = http::query_value(&query, "status")
        .filter(|s| s != "any")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let include = ids(&query, "include");
    let product_filter = http::query_value(&query, "product").and_then(|p| p.parse::<u64>().ok());
    let (by, ascending) = ordering(&query);
    let core = inner.core();
    let mut chosen: Vec<&Order> = core
        .orders
        .iter()
        .filter(|o| {
            statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == status(o)))
        })
        .filter(|o| include.as_ref().is_none_or(|i| i.contains(&order_id(o.id))))
        .filter(|o| {
            product_filter.is_none_or(|p| {
                o.lines.iter().any(|l| {
                    let (product, variation) = line_ids(&core, l.product);
                    product == p || variation == p
                })
            })
        })
        .filter(|o| dates.keeps(o.created_at, o.updated_at))
        .collect();
    chosen.sort_by(|a, b| {
        let key = match by.as_str() {
            "id" | "include" => a.id.cmp(&b.id),
            "modified" => a.updated_at.cmp(&b.updated_at).then(a.id.cmp(&b.id)),
            _ => a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)),
        };
        if ascending { key } else { key.reverse() }
    });
    let items = chosen
        .into_iter()
        .map(|o| order(&core, o, &woo.site_url))
        .collect();
    page_response(&inner, &req, items, &paging)
}

fn find_order<'a>(core: &'a Core, raw: &str) -> Option<&'a Order> {
    core.order(path_id(raw).and_then(parse_order_id)?)
}

async fn get_order(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
) -> HttpResponse {
    let core = inner.core();
    match find_order(&core, &id) {
        Some(o) => HttpResponse::Ok().json(order(&core, o, &woo.site_url)),
        None => error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
    }
}

async fn list_refunds(
    inner: web::Data<Inner>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let paging = match paging(&query) {
        Ok(p) => p,
        Err(e) => return *e,
    };
    let items = {
        let core = inner.core();
        let Some(o) = find_order(&core, &id) else {
            return error(
                404,
                "woocommerce_rest_order_invalid_id",
                "Invalid order ID.",
            );
        };
        let mut items: Vec<Value> = o.refunds.iter().map(|r| refund(&core, o, r)).collect();
        items.reverse();
        items
    };
    page_response(&inner, &req, items, &paging)
}

async fn get_refund(inner: web::Data<Inner>, path: web::Path<(String, String)>) -> HttpResponse {
    let (order_raw, refund_raw) = path.into_inner();
    let core = inner.core();
    let Some(o) = find_order(&core, &order_raw) else {
        return error(
            404,
            "woocommerce_rest_order_invalid_id",
            "Invalid order ID.",
        );
    };
    let wanted = path_id(&refund_raw);
    match o.refunds.iter().find(|r| Some(refund_id(r.id)) == wanted) {
        Some(r) => HttpResponse::Ok().json(refund(&core, o, r)),
        None => error(404, "woocommerce_rest_invalid_id", "Invalid resource ID."),
    }
}
