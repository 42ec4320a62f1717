//! Square orders, payments and refunds: SearchOrders (location ids, date-time and state
//! filters, sort, cursor), RetrieveOrder, BatchRetrieveOrders, payments and refunds lists,
//! and the order/payment/refund webhooks.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{
    Square, invalid, location_id, location_index, money, parse_sq_id, sq_id, time, variation_id,
};
use crate::{
    core::{Core, Order, OrderStatus, Refund},
    http,
    paging::{self, Key},
    platform::Outgoing,
    server::Inner,
};

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/orders/search", web::post().to(search))
        .route("/orders/batch-retrieve", web::post().to(batch_retrieve))
        .route("/orders/{id}", web::get().to(retrieve))
        .route("/payments", web::get().to(payments))
        .route("/payments/{id}", web::get().to(payment))
        .route("/refunds", web::get().to(refunds))
        .route("/refunds/{id}", web::get().to(refund));
}

/// Square's id of an order.
pub(crate) fn order_id(order: u64) -> String {
    sq_id('O', order, 29)
}

/// Square's id of a payment.
pub(crate) fn payment_id(payment: u64) -> String {
    sq_id('P', payment, 29)
}

/// Square's id of a refund: the payment id, `_`, and a refund part.
pub(crate) fn refund_id(core: &Core, order: u64, refund: u64) -> String {
    let payment = core
        .order(order)
        .and_then(|o| o.payment.as_ref())
        .map_or(0, |p| p.id);
    format!("{}_{}", payment_id(payment), sq_id('R', refund, 20))
}

fn parse_refund_id(id: &str) -> Option<u64> {
    parse_sq_id('R', id.split_once('_')?.1)
}

/// The version Square shows: an order is created OPEN (1) and completed by its payment (2).
fn version(o: &Order) -> u32 {
    o.version + 1
}

fn state(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment | OrderStatus::Failed => "OPEN",
        _ => "COMPLETED",
    }
}

/// A full Order object.
pub(super) fn order_json(core: &Core, o: &Order) -> Value {
    let c = o.currency.as_str();
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "uid": sq_id('U', l.id, 22),
                "catalog_object_id": variation_id(l.product),
                "catalog_version": core.product(l.product).map_or(0, |p| p.updated_at.timestamp_millis()),
                "quantity": l.quantity.to_string(),
                "name": l.title,
                "variation_name": "Regular",
                "item_type": "ITEM",
                "base_price_money": money(l.unit_price_minor, c),
                "variation_total_price_money": money(l.total_minor(), c),
                "gross_sales_money": money(l.total_minor(), c),
                "total_tax_money": money(0, c),
                "total_discount_money": money(0, c),
                "total_money": money(l.total_minor(), c),
            })
        })
        .collect();
    let tenders: Vec<Value> = o
        .payment
        .iter()
        .map(|p| {
            json!({
                "id": payment_id(p.id),
                "location_id": location_id(core, o.location),
                "transaction_id": order_id(o.id),
                "created_at": time(p.created_at),
                "amount_money": money(p.amount_minor, c),
                "type": if p.method.eq_ignore_ascii_case("cash") { "CASH" } else { "CARD" },
                "card_details": {"status": "CAPTURED", "entry_method": "EMV", "card": {"card_brand": "VISA", "last_4": "1111"}},
                "payment_id": payment_id(p.id),
            })
        })
        .collect();
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .map(|r| {
            json!({
                "id": refund_id(core, o.id, r.id),
                "location_id": location_id(core, o.location),
                "transaction_id": order_id(o.id),
                "tender_id": o.payment.as_ref().map(|p| payment_id(p.id)),
                "created_at": time(r.created_at),
                "reason": r.reason.clone().unwrap_or_else(|| "Returned goods".into()),
                "amount_money": money(r.amount_minor, c),
                "status": "APPROVED",
            })
        })
        .collect();
    let returns: Vec<Value> = o
        .refunds
        .iter()
        .filter(|r| !r.lines.is_empty())
        .map(|r| {
            let items: Vec<Value> = r
                .lines
                .iter()
                .filter_map(|rl| {
                    let l = o.line(rl.line)?;
                    Some(json!({
                        "uid": sq_id('W', r.id * 1000 + rl.line, 22),
                        "source_line_item_uid": sq_id('U', l.id, 22),
                        "catalog_object_id": variation_id(l.product),
                        "name": l.title,
                        "quantity": rl.quantity.to_string(),
                        "base_price_money": money(l.unit_price_minor, c),
                        "total_money": money(rl.quantity * l.unit_price_minor, c),
                    }))
                })
                .collect();
            json!({"uid": sq_id('X', r.id, 22), "source_order_id": order_id(o.id), "return_line_items": items})
        })
        .collect();
    let returned = o.refunded_minor();
    let mut order = json!({
        "id": order_id(o.id),
        "location_id": location_id(core, o.location),
        "source": {"name": "Square Point of Sale"},
        "line_items": lines,
        "tenders": tenders,
        "refunds": refunds,
        "returns": returns,
        "net_amounts": {
            "total_money": money(o.total_minor - returned, c),
            "tax_money": money(0, c),
            "discount_money": money(0, c),
            "tip_money": money(0, c),
            "service_charge_money": money(0, c),
        },
        "created_at": time(o.created_at),
        "updated_at": time(o.updated_at),
        "state": state(o),
        "version": version(o),
        "total_money": money(o.total_minor, c),
        "total_tax_money": money(0, c),
        "total_discount_money": money(0, c),
        "total_tip_money": money(0, c),
        "total_service_charge_money": money(0, c),
    });
    if let Some(map) = order.as_object_mut() {
        if state(o) == "COMPLETED" {
            map.insert("closed_at".into(), json!(time(o.created_at)));
        }
        if returned > 0 {
            map.insert(
                "return_amounts".into(),
                json!({"total_money": money(returned, c), "tax_money": money(0, c)}),
            );
        }
    }
    order
}

/// A Payment object.
fn payment_json(core: &Core, o: &Order, status: &str) -> Option<Value> {
    let p = o.payment.as_ref()?;
    let c = o.currency.as_str();
    let refund_ids: Vec<String> = o
        .refunds
        .iter()
        .map(|r| refund_id(core, o.id, r.id))
        .collect();
    Some(json!({
        "id": payment_id(p.id),
        "created_at": time(p.created_at),
        "updated_at": time(o.updated_at),
        "amount_money": money(p.amount_minor, c),
        "approved_money": money(p.amount_minor, c),
        "total_money": money(p.amount_minor, c),
        "refunded_money": money(o.refunded_minor(), c),
        "refund_ids": refund_ids,
        "status": status,
        "source_type": if p.method.eq_ignore_ascii_case("cash") { "CASH" } else { "CARD" },
        "card_details": {"status": "CAPTURED", "entry_method": "EMV", "card": {"card_brand": "VISA", "last_4": "1111"}},
        "location_id": location_id(core, o.location),
        "order_id": order_id(o.id),
        "receipt_number": payment_id(p.id).chars().take(4).collect::<String>(),
        "version_token": format!("v{}", o.version),
    }))
}

/// A PaymentRefund object.
fn refund_json(core: &Core, o: &Order, r: &Refund, status: &str) -> Value {
    json!({
        "id": refund_id(core, o.id, r.id),
        "status": status,
        "amount_money": money(r.amount_minor, &o.currency),
        "payment_id": o.payment.as_ref().map(|p| payment_id(p.id)),
        "order_id": order_id(o.id),
        "location_id": location_id(core, o.location),
        "reason": r.reason,
        "created_at": time(r.created_at),
        "updated_at": time(r.created_at),
    })
}

/// order.created, payment.created, payment.updated and order.updated for a sale.
pub(super) fn created_events(square: &Square, core: &Core, order: u64) -> Vec<Outgoing> {
    let Some(o) = core.order(order) else {
        return Vec::new();
    };
    let id = order_id(o.id);
    let location = location_id(core, o.location);
    let mut out = vec![square.event(
        "order.created",
        "order_created",
        &id,
        json!({"order_created": {
            "order_id": id, "state": "OPEN", "version": 1, "location_id": location,
            "created_at": time(o.created_at),
        }}),
    )];
    if let (Some(approved), Some(completed)) = (
        payment_json(core, o, "APPROVED"),
        payment_json(core, o, "COMPLETED"),
    ) {
        let pid = approved["id"].as_str().unwrap_or_default().to_owned();
        out.push(square.event(
            "payment.created",
            "payment",
            &pid,
            json!({"payment": approved}),
        ));
        out.push(square.event(
            "payment.updated",
            "payment",
            &pid,
            json!({"payment": completed}),
        ));
    }
    out.push(order_updated(square, core, o));
    out
}

fn order_updated(square: &Square, core: &Core, o: &Order) -> Outgoing {
    let id = order_id(o.id);
    square.event(
        "order.updated",
        "order_updated",
        &id,
        json!({"order_updated": {
            "order_id": id, "state": state(o), "version": version(o),
            "location_id": location_id(core, o.location),
            "created_at": time(o.created_at), "updated_at": time(o.updated_at),
        }}),
    )
}

/// refund.created, refund.updated, payment.updated and order.updated for a refund.
pub(super) fn refund_events(
    square: &Square,
    core: &Core,
    order: u64,
    refund: u64,
) -> Vec<Outgoing> {
    let Some(o) = core.order(order) else {
        return Vec::new();
    };
    let Some(r) = o.refunds.iter().find(|r| r.id == refund) else {
        return Vec::new();
    };
    let id = refund_id(core, o.id, r.id);
    let mut out = vec![
        square.event(
            "refund.created",
            "refund",
            &id,
            json!({"refund": refund_json(core, o, r, "PENDING")}),
        ),
        square.event(
            "refund.updated",
            "refund",
            &id,
            json!({"refund": refund_json(core, o, r, "COMPLETED")}),
        ),
    ];
    if let Some(p) = payment_json(core, o, "COMPLETED") {
        let pid = p["id"].as_str().unwrap_or_default().to_owned();
        out.push(square.event("payment.updated", "payment", &pid, json!({"payment": p})));
    }
    out.push(order_updated(square, core, o));
    out
}

/// A date-time filter: the field and its bounds.
type TimeRange<'a> = (&'a str, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn parse_time(value: Option<&Value>) -> Result<Option<DateTime<Utc>>, ()> {
    match value.and_then(Value::as_str) {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| ()),
    }
}

async fn search(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let body = match super::body_json(&body) {
        Ok(b) => b,
        Err(e) => return e.response(),
    };
    let location_ids: Vec<String> = body
        .get("location_ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if location_ids.is_empty() {
        return invalid(
            "MISSING_REQUIRED_PARAMETER",
            "location_ids must contain at least one location.",
            Some("location_ids"),
        );
    }
    if location_ids.len() > 10 {
        return invalid(
            "ARRAY_LENGTH_TOO_LONG",
            "location_ids must contain at most 10 locations.",
            Some("location_ids"),
        );
    }
    let limit = match body.get("limit").and_then(Value::as_i64) {
        None => 500,
        Some(l) if (1..=1000).contains(&l) => l as usize,
        Some(_) => {
            return invalid(
                "VALUE_TOO_HIGH",
                "limit must be between 1 and 1000.",
                Some("limit"),
            );
        }
    };
    let query = body.get("query");
    let filter = query.and_then(|q| q.get("filter"));
    let sort = query.and_then(|q| q.get("sort"));
    let sort_field = sort
        .and_then(|s| s.get("sort_field"))
        .and_then(Value::as_str)
        .unwrap_or("CREATED_AT")
        .to_owned();
    let descending = sort
        .and_then(|s| s.get("sort_order"))
        .and_then(Value::as_str)
        == Some("DESC");
    let time_filter = filter.and_then(|f| f.get("date_time_filter"));
    let mut range: Option<TimeRange<'_>> = None;
    for field in ["created_at", "updated_at", "closed_at"] {
        if let Some(r) = time_filter.and_then(|t| t.get(field)) {
            if !sort_field.eq_ignore_ascii_case(field) {
                return invalid(
                    "BAD_REQUEST",
                    &format!(
                        "The sort_field must match the timestamp field of the date_time_filter ({field})."
                    ),
                    Some("query.sort.sort_field"),
                );
            }
            let (Ok(start), Ok(end)) = (parse_time(r.get("start_at")), parse_time(r.get("end_at")))
            else {
                return invalid(
                    "INVALID_TIME",
                    "start_at and end_at must be RFC 3339 timestamps.",
                    Some("query.filter.date_time_filter"),
                );
            };
            range = Some((field, start, end));
        }
    }
    let states: Option<Vec<String>> = filter
        .and_then(|f| f.get("state_filter"))
        .and_then(|s| s.get("states"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        });
    let kind = format!("orders-{sort_field}-{descending}");
    let after = match body.get("cursor").and_then(Value::as_str) {
        Some(c) => match paging::decode(&kind, c) {
            Some(k) => Some(k),
            None => {
                return invalid(
                    "INVALID_CURSOR",
                    "The cursor does not belong to this query.",
                    Some("cursor"),
                );
            }
        },
        None => None,
    };
    let core = inner.core();
    let wanted: Vec<usize> = location_ids
        .iter()
        .filter_map(|id| location_index(&core, id))
        .collect();
    let stamp = |o: &Order, field: &str| match field {
        "updated_at" => o.updated_at,
        _ => o.created_at,
    };
    let entries: Vec<(Key, &Order)> = core
        .orders
        .iter()
        .filter(|o| o.status != OrderStatus::AwaitingPayment && wanted.contains(&o.location))
        .filter(|o| {
            states
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == state(o)))
        })
        .filter(|o| {
            range.is_none_or(|(field, start, end)| {
                let t = stamp(o, field);
                start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e)
            })
        })
        .map(|o| {
            let t = stamp(o, &sort_field.to_ascii_lowercase());
            ((t.timestamp_millis(), o.id), o)
        })
        .collect();
    let order = if descending {
        paging::Order::Descending
    } else {
        paging::Order::Ascending
    };
    let page = paging::window(entries, order, after, None, limit);
    let mut answer = Map::new();
    if page.has_next
        && let Some(end) = page.end()
    {
        answer.insert("cursor".into(), json!(paging::encode(&kind, end)));
    }
    let entries_only = body
        .get("return_entries")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if entries_only {
        let list: Vec<Value> = page
            .items
            .iter()
            .map(|(_, o)| json!({"order_id": order_id(o.id), "version": version(o), "location_id": location_id(&core, o.location)}))
            .collect();
        answer.insert("order_entries".into(), Value::Array(list));
    } else {
        let list: Vec<Value> = page
            .items
            .iter()
            .map(|(_, o)| order_json(&core, o))
            .collect();
        answer.insert("orders".into(), Value::Array(list));
    }
    HttpResponse::Ok().json(Value::Object(answer))
}

fn find_order<'a>(core: &'a Core, id: &str) -> Option<&'a Order> {
    core.order(parse_sq_id('O', id)?)
        .filter(|o| o.status != OrderStatus::AwaitingPayment)
}

async fn retrieve(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    match find_order(&core, &id) {
        Some(o) => HttpResponse::Ok().json(json!({"order": order_json(&core, o)})),
        None => super::not_found(&format!("Order `{id}` not found.")),
    }
}

async fn batch_retrieve(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let ids = match super::batch_ids(&body, "order_ids") {
        Ok(ids) => ids,
        Err(response) => return *response,
    };
    let core = inner.core();
    let orders: Vec<Value> = ids
        .iter()
        .filter_map(|id| find_order(&core, id))
        .map(|o| order_json(&core, o))
        .collect();
    HttpResponse::Ok().json(json!({"orders": orders}))
}

/// Time-ordered listing shared by payments and refunds: `begin_time`, `end_time`,
/// `sort_order`, `location_id`, `cursor`, `limit` (≤ 100).
fn listing(
    req: &HttpRequest,
    kind: &str,
    mut entries: Vec<(Key, Value, usize)>,
    core: &Core,
    field: &str,
) -> HttpResponse {
    let query = http::query_pairs(req);
    let begin =
        http::query_value(&query, "begin_time").and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
    let end =
        http::query_value(&query, "end_time").and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
    let location = http::query_value(&query, "location_id");
    let descending = http::query_value(&query, "sort_order").as_deref() != Some("ASC");
    let limit = http::query_value(&query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| (1..=100).contains(l))
        .unwrap_or(100);
    entries.retain(|((ms, _), _, loc)| {
        begin.is_none_or(|b| *ms >= b.timestamp_millis())
            && end.is_none_or(|e| *ms < e.timestamp_millis())
            && location
                .as_ref()
                .is_none_or(|l| *l == location_id(core, *loc))
    });
    let kind = format!("{kind}-{descending}");
    let after = match http::query_value(&query, "cursor") {
        Some(c) => match paging::decode(&kind, &c) {
            Some(k) => Some(k),
            None => return invalid("INVALID_CURSOR", "The cursor is invalid.", Some("cursor")),
        },
        None => None,
    };
    let order = if descending {
        paging::Order::Descending
    } else {
        paging::Order::Ascending
    };
    let keyed = entries.into_iter().map(|(k, v, _)| (k, v)).collect();
    let page = paging::window(keyed, order, after, None, limit);
    let mut answer = Map::new();
    if page.has_next
        && let Some(end) = page.end()
    {
        answer.insert("cursor".into(), json!(paging::encode(&kind, end)));
    }
    answer.insert(
        field.into(),
        Value::Array(page.items.into_iter().map(|(_, v)| v).collect()),
    );
    HttpResponse::Ok().json(Value::Object(answer))
}

async fn payments(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let core = inner.core();
    let entries = core
        .orders
        .iter()
        .filter_map(|o| {
            let p = o.payment.as_ref()?;
            Some((
                (p.created_at.timestamp_millis(), p.id),
                payment_json(&core, o, "COMPLETED")?,
                o.location,
            ))
        })
        .collect();
    listing(&req, "payments", entries, &core, "payments")
}

async fn payment(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    let found = parse_sq_id('P', &id).and_then(|n| {
        core.orders
            .iter()
            .find(|o| o.payment.as_ref().is_some_and(|p| p.id == n))
    });
    match found.and_then(|o| payment_json(&core, o, "COMPLETED")) {
        Some(p) => HttpResponse::Ok().json(json!({"payment": p})),
        None => super::not_found("Payment not found."),
    }
}

async fn refunds(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let core = inner.core();
    let entries = core
        .orders
        .iter()
        .flat_map(|o| {
            o.refunds
                .iter()
                .map(move |r| ((r.created_at.timestamp_millis(), r.id), (o, r)))
        })
        .map(|(k, (o, r))| (k, refund_json(&core, o, r, "COMPLETED"), o.location))
        .collect();
    listing(&req, "refunds", entries, &core, "refunds")
}

async fn refund(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    let found = parse_refund_id(&id).and_then(|n| {
        core.orders
            .iter()
            .find_map(|o| o.refunds.iter().find(|r| r.id == n).map(|r| (o, r)))
    });
    match found {
        Some((o, r)) => {
            HttpResponse::Ok().json(json!({"refund": refund_json(&core, o, r, "COMPLETED")}))
        }
        None => super::not_found("Refund not found."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_ids_carry_the_payment() {
        let id = format!("{}_{}", payment_id(7), sq_id('R', 3, 20));
        assert_eq!(parse_refund_id(&id), Some(3));
    }
}
