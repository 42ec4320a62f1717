//! Stripe objects and routes: PaymentIntents (create, retrieve, update, confirm, list),
//! charges, refunds, events, webhook endpoints and the account, with idempotency keys on
//! every POST.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{Kept, Stripe, error, invalid, parse_stripe_id, refund_id, stripe_id};
use crate::{
    core::{Core, CoreError, Order, OrderStatus, PaymentSpec, Refund, RefundSpec},
    http,
    paging::{self, Key},
    server::{Inner, lock},
};

mod refunds;
mod webhook_endpoints;

use refunds::{create_refund, get_refund, list_refunds};
pub(super) use webhook_endpoints::Endpoints;

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/payment_intents", web::post().to(create_intent))
        .route("/payment_intents", web::get().to(list_intents))
        .route("/payment_intents/{id}", web::get().to(get_intent))
        .route("/payment_intents/{id}", web::post().to(update_intent))
        .route(
            "/payment_intents/{id}/confirm",
            web::post().to(confirm_intent),
        )
        .route("/charges", web::get().to(list_charges))
        .route("/charges/{id}", web::get().to(get_charge))
        .route("/refunds", web::post().to(create_refund))
        .route("/refunds", web::get().to(list_refunds))
        .route("/refunds/{id}", web::get().to(get_refund))
        .route("/events", web::get().to(list_events))
        .route("/events/{id}", web::get().to(get_event))
        .route("/account", web::get().to(account));
    webhook_endpoints::routes(api);
}

fn lower(currency: &str) -> String {
    currency.to_ascii_lowercase()
}

fn metadata(o: &Order) -> Value {
    let mut map: Map<String, Value> = o
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if !o.lines.is_empty() && !map.contains_key("skus") {
        let skus: Vec<String> = o
            .lines
            .iter()
            .map(|l| format!("{}x{}", l.sku, l.quantity))
            .collect();
        map.insert("skus".into(), json!(skus.join(",")));
        map.insert("order_number".into(), json!(o.number.to_string()));
    }
    Value::Object(map)
}

fn description(o: &Order) -> Value {
    match (&o.description, o.lines.as_slice()) {
        (Some(d), _) => json!(d),
        (None, []) => Value::Null,
        (None, lines) => json!(
            lines
                .iter()
                .map(|l| format!("{} × {}", l.quantity, l.title))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment if o.payment_method.is_some() => "requires_confirmation",
        OrderStatus::AwaitingPayment | OrderStatus::Failed => "requires_payment_method",
        _ => "succeeded",
    }
}

/// A PaymentIntent as it stands.
pub(super) fn payment_intent(o: &Order) -> Value {
    let id = stripe_id("pi", o.id);
    let paid = o.payment.as_ref();
    let last_error = o.failure.as_ref().map(|code| {
        json!({
            "type": "card_error",
            "code": code,
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "payment_method": {"id": o.payment_method, "object": "payment_method", "type": "card"},
        })
    });
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": o.total_minor,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": paid.map_or(0, |p| p.amount_minor),
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic",
        "client_secret": format!("{id}_secret_{:016x}", o.id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        "confirmation_method": "automatic",
        "created": o.created_at.timestamp(),
        "currency": lower(&o.currency),
        "customer": null,
        "description": description(o),
        "last_payment_error": last_error,
        "latest_charge": paid.map(|p| stripe_id("ch", p.id)),
        "livemode": false,
        "metadata": metadata(o),
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": o.payment_method,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status(o),
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// The PaymentIntent as it was when created (for `payment_intent.created`).
pub(super) fn created_intent(o: &Order) -> Value {
    let mut value = payment_intent(o);
    if let Some(map) = value.as_object_mut() {
        let fresh = if o.payment_method.is_some() {
            "requires_confirmation"
        } else {
            "requires_payment_method"
        };
        map.insert("status".into(), json!(fresh));
        map.insert("amount_received".into(), json!(0));
        map.insert("latest_charge".into(), Value::Null);
        map.insert("last_payment_error".into(), Value::Null);
    }
    value
}

/// A Refund.
pub(super) fn refund(o: &Order, r: &Refund) -> Value {
    json!({
        "id": refund_id(r.id),
        "object": "refund",
        "amount": r.amount_minor,
        "balance_transaction": stripe_id("txn", 1_000_000 + r.id),
        "charge": o.payment.as_ref().map(|p| stripe_id("ch", p.id)),
        "created": r.created_at.timestamp(),
        "currency": lower(&o.currency),
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": {},
        "payment_intent": stripe_id("pi", o.id),
        "reason": r.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    })
}

/// The Charge of a paid order.
pub(super) fn charge(o: &Order) -> Option<Value> {
    let p = o.payment.as_ref()?;
    let id = stripe_id("ch", p.id);
    let refunds: Vec<Value> = o.refunds.iter().rev().map(|r| refund(o, r)).collect();
    let refunded = o.refunded_minor();
    Some(json!({
        "id": id,
        "object": "charge",
        "amount": p.amount_minor,
        "amount_captured": p.amount_minor,
        "amount_refunded": refunded,
        "application": null,
        "application_fee": null,
        "balance_transaction": stripe_id("txn", p.id),
        "billing_details": {"address": {"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null}, "email": null, "name": null, "phone": null},
        "calculated_statement_descriptor": "CONCORD SIM",
        "captured": true,
        "created": p.created_at.timestamp(),
        "currency": lower(&o.currency),
        "customer": null,
        "description": description(o),
        "disputed": false,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "livemode": false,
        "metadata": metadata(o),
        "outcome": {"network_status": "approved_by_network", "reason": null, "risk_level": "normal", "seller_message": "Payment complete.", "type": "authorized"},
        "paid": true,
        "payment_intent": stripe_id("pi", o.id),
        "payment_method": o.payment_method,
        "payment_method_details": {"card": {"brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2030, "funding": "credit", "last4": "4242", "network": "visa"}, "type": "card"},
        "receipt_url": null,
        "refunded": refunded >= p.amount_minor,
        "refunds": {"object": "list", "data": refunds, "has_more": false, "url": format!("/v1/charges/{id}/refunds")},
        "status": "succeeded",
    }))
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn metadata_params(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_owned(), v.clone()))
        })
        .collect()
}

/// Runs a POST under its `Idempotency-Key`: a repeated key with the same parameters
/// replays the first answer, with other parameters it is refused.
fn idempotent(
    stripe: &Stripe,
    req: &HttpRequest,
    pairs: &[(String, String)],
    run: impl FnOnce() -> (u16, Value),
) -> HttpResponse {
    let Some(key) = http::header_str(req, "idempotency-key").map(str::to_owned) else {
        let (status, body) = run();
        return http::json(status, &body);
    };
    let mut sorted = pairs.to_vec();
    sorted.sort();
    let fingerprint = format!("{} {} {sorted:?}", req.method(), req.path());
    let mut kept = lock(&stripe.idempotent);
    if let Some(previous) = kept.get(&key) {
        if previous.fingerprint != fingerprint {
            return error(
                400,
                "idempotency_error",
                None,
                &format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                ),
                None,
            );
        }
        let mut response = http::json(previous.status, &previous.body);
        for (name, value) in [
            ("idempotent-replayed", "true"),
            ("idempotency-key", key.as_str()),
        ] {
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(value) {
                response.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static(name),
                    value,
                );
            }
        }
        return response;
    }
    let (status, body) = run();
    if status < 500 {
        kept.insert(
            key.clone(),
            Kept {
                fingerprint,
                status,
                body: body.clone(),
            },
        );
    }
    let mut response = http::json(status, &body);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&key) {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("idempotency-key"),
            value,
        );
    }
    response
}

/// An error body with its status, for [`idempotent`].
fn err(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> (u16, Value) {
    let mut e = json!({"type": kind, "message": message});
    if let Some(map) = e.as_object_mut() {
        if let Some(code) = code {
            map.insert("code".into(), json!(code));
        }
        if let Some(param) = param {
            map.insert("param".into(), json!(param));
        }
    }
    (status, json!({"error": e}))
}

fn minimum(currency: &str) -> i64 {
    match currency {
        "usd" | "eur" | "cad" | "aud" | "chf" => 50,
        "gbp" => 30,
        _ => 1,
    }
}

async fn create_intent(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let pairs = http::form_pairs(&body);
    idempotent(&stripe, &req, &pairs, || {
        let Some(amount) = param(&pairs, "amount") else {
            return err(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                "Missing required param: amount.",
                Some("amount"),
            );
        };
        let Ok(amount) = amount.parse::<i64>() else {
            return err(
                400,
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                &format!("Invalid integer: {amount}"),
                Some("amount"),
            );
        };
        let Some(currency) = param(&pairs, "currency").map(|c| lower(&c)) else {
            return err(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                "Missing required param: currency.",
                Some("currency"),
            );
        };
        if concord_domain::money::Currency::parse(&currency).is_err() {
            return err(
                400,
                "invalid_request_error",
                Some("parameter_invalid_string"),
                &format!("Invalid currency: {currency}."),
                Some("currency"),
            );
        }
        if amount < minimum(&currency) {
            return err(
                400,
                "invalid_request_error",
                Some("amount_too_small"),
                &format!("Amount must be at least {} {currency}", minimum(&currency)),
                Some("amount"),
            );
        }
        let spec = PaymentSpec {
            amount_minor: amount,
            currency: currency.to_ascii_uppercase(),
            metadata: metadata_params(&pairs),
            payment_method: param(&pairs, "payment_method"),
            description: param(&pairs, "description"),
        };
        let now = Utc::now();
        let order = inner.mutate(|core| Ok::<_, CoreError>(core.create_payment(spec, now)));
        let Ok(order) = order else {
            return err(500, "api_error", None, "An unknown error occurred", None);
        };
        inner.count_write(1);
        if param(&pairs, "confirm").as_deref() == Some("true") {
            return confirm(&inner, order, None);
        }
        let core = inner.core();
        core.order(order).map_or_else(
            || err(500, "api_error", None, "An unknown error occurred", None),
            |o| (200, payment_intent(o)),
        )
    })
}

fn is_declining(method: &str) -> bool {
    let lower = method.to_ascii_lowercase();
    lower.contains("declined") || lower.contains("insufficientfunds")
}

/// Confirms `order` with `method` (or the one it has).
fn confirm(inner: &Inner, order: u64, method: Option<String>) -> (u16, Value) {
    let now = Utc::now();
    let outcome = inner.mutate(|core| {
        let Some(o) = core.order(order) else {
            return Err(err(404, "invalid_request_error", Some("resource_missing"), &format!("No such payment_intent: '{}'", stripe_id("pi", order)), Some("intent")));
        };
        if !matches!(o.status, OrderStatus::AwaitingPayment | OrderStatus::Failed) {
            return Err(err(400, "invalid_request_error", Some("payment_intent_unexpected_state"), &format!("You cannot confirm this PaymentIntent because it has a status of {}.", status(o)), None));
        }
        let Some(method) = method.or_else(|| o.payment_method.clone()) else {
            return Err(err(400, "invalid_request_error", Some("payment_intent_unexpected_state"), "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, specify a payment_method.", None));
        };
        if is_declining(&method) {
            let changes = core
                .decline(order, &method, "card_declined", now)
                .map_err(|e| err(400, "invalid_request_error", None, &e.to_string(), None))?;
            return Ok((false, changes));
        }
        let changes = core.pay(order, &method, now).map_err(|e| err(400, "invalid_request_error", None, &e.to_string(), None))?;
        Ok((true, changes))
    });
    let core = inner.core();
    match (outcome, core.order(order)) {
        (Ok(true), Some(o)) => (200, payment_intent(o)),
        (Ok(false), Some(o)) => {
            let (status, mut body) = err(
                402,
                "card_error",
                Some("card_declined"),
                "Your card was declined.",
                None,
            );
            if let Some(e) = body.get_mut("error").and_then(Value::as_object_mut) {
                e.insert("decline_code".into(), json!("generic_decline"));
                e.insert("payment_intent".into(), payment_intent(o));
            }
            (status, body)
        }
        (Err(e), _) => e,
        (Ok(_), None) => err(500, "api_error", None, "An unknown error occurred", None),
    }
}

async fn confirm_intent(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let pairs = http::form_pairs(&body);
    idempotent(&stripe, &req, &pairs, || match parse_stripe_id("pi", &id) {
        Some(order) => {
            let (status, body) = confirm(&inner, order, param(&pairs, "payment_method"));
            if status == 200 {
                inner.count_write(1);
            }
            (status, body)
        }
        None => err(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such payment_intent: '{id}'"),
            Some("intent"),
        ),
    })
}

fn find_intent<'a>(core: &'a Core, id: &str) -> Option<&'a Order> {
    core.order(parse_stripe_id("pi", id)?)
}

async fn get_intent(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    match find_intent(&core, &id) {
        Some(o) => HttpResponse::Ok().json(payment_intent(o)),
        None => invalid(
            Some("resource_missing"),
            &format!("No such payment_intent: '{id}'"),
            Some("intent"),
        ),
    }
}

async fn update_intent(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let pairs = http::form_pairs(&body);
    idempotent(&stripe, &req, &pairs, || {
        let Some(order) = parse_stripe_id("pi", &id) else {
            return err(
                404,
                "invalid_request_error",
                Some("resource_missing"),
                &format!("No such payment_intent: '{id}'"),
                Some("intent"),
            );
        };
        let mut core = inner.core();
        let Some(o) = core.order_mut(order) else {
            return err(
                404,
                "invalid_request_error",
                Some("resource_missing"),
                &format!("No such payment_intent: '{id}'"),
                Some("intent"),
            );
        };
        for (key, value) in metadata_params(&pairs) {
            o.metadata.retain(|(k, _)| *k != key);
            if !value.is_empty() {
                o.metadata.push((key, value));
            }
        }
        if let Some(description) = param(&pairs, "description") {
            o.description = Some(description);
        }
        if let Some(method) = param(&pairs, "payment_method") {
            if o.status == OrderStatus::AwaitingPayment || o.status == OrderStatus::Failed {
                o.payment_method = Some(method);
            } else {
                return err(
                    400,
                    "invalid_request_error",
                    Some("payment_intent_unexpected_state"),
                    "This PaymentIntent's payment_method could not be updated because it has a status of succeeded.",
                    Some("payment_method"),
                );
            }
        }
        o.updated_at = Utc::now();
        (200, payment_intent(o))
    })
}

/// Created-time filters: `created`, `created[gt]`, `created[gte]`, `created[lt]`,
/// `created[lte]`.
fn created_ok(pairs: &[(String, String)], created: i64) -> bool {
    pairs.iter().all(|(k, v)| {
        let Ok(bound) = v.parse::<i64>() else {
            return true;
        };
        match k.as_str() {
            "created" => created == bound,
            "created[gt]" => created > bound,
            "created[gte]" => created >= bound,
            "created[lt]" => created < bound,
            "created[lte]" => created <= bound,
            _ => true,
        }
    })
}

/// A list object: newest first, `limit` (1–100, default 10), `starting_after` /
/// `ending_before` object ids.
fn list(req: &HttpRequest, url: &str, items: Vec<(Key, String, Value)>) -> HttpResponse {
    let pairs = http::query_pairs(req);
    let limit = match param(&pairs, "limit") {
        None => 10,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            Ok(_) => {
                return invalid(
                    None,
                    "This value must be greater than or equal to 1 and less than or equal to 100.",
                    Some("limit"),
                );
            }
            Err(_) => return invalid(None, &format!("Invalid integer: {v}"), Some("limit")),
        },
    };
    let items: Vec<(Key, String, Value)> = items
        .into_iter()
        .filter(|((created, _), _, _)| created_ok(&pairs, *created))
        .collect();
    let key_of = |id: &str| items.iter().find(|(_, i, _)| i == id).map(|(k, _, _)| *k);
    let after = match param(&pairs, "starting_after") {
        Some(id) => match key_of(&id) {
            Some(k) => Some(k),
            None => {
                return invalid(
                    Some("resource_missing"),
                    &format!("No such object: '{id}'"),
                    Some("starting_after"),
                );
            }
        },
        None => None,
    };
    let before = match param(&pairs, "ending_before") {
        Some(id) => match key_of(&id) {
            Some(k) => Some(k),
            None => {
                return invalid(
                    Some("resource_missing"),
                    &format!("No such object: '{id}'"),
                    Some("ending_before"),
                );
            }
        },
        None => None,
    };
    let keyed = items.into_iter().map(|(k, _, v)| (k, v)).collect();
    let page = paging::window(keyed, paging::Order::Descending, after, before, limit);
    let has_more = if before.is_some() {
        page.has_previous
    } else {
        page.has_next
    };
    let data: Vec<Value> = page.items.into_iter().map(|(_, v)| v).collect();
    HttpResponse::Ok()
        .json(json!({"object": "list", "url": url, "has_more": has_more, "data": data}))
}

async fn list_intents(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let items = {
        let core = inner.core();
        core.orders
            .iter()
            .map(|o| {
                (
                    (o.created_at.timestamp(), o.id),
                    stripe_id("pi", o.id),
                    payment_intent(o),
                )
            })
            .collect()
    };
    list(&req, "/v1/payment_intents", items)
}

async fn list_charges(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let items = {
        let core = inner.core();
        core.orders
            .iter()
            .filter_map(|o| {
                let p = o.payment.as_ref()?;
                Some((
                    (p.created_at.timestamp(), p.id),
                    stripe_id("ch", p.id),
                    charge(o)?,
                ))
            })
            .collect()
    };
    list(&req, "/v1/charges", items)
}

fn order_of_charge<'a>(core: &'a Core, id: &str) -> Option<&'a Order> {
    let n = parse_stripe_id("ch", id)?;
    core.orders
        .iter()
        .find(|o| o.payment.as_ref().is_some_and(|p| p.id == n))
}

async fn get_charge(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    match order_of_charge(&core, &id).and_then(charge) {
        Some(c) => HttpResponse::Ok().json(c),
        None => invalid(
            Some("resource_missing"),
            &format!("No such charge: '{id}'"),
            Some("id"),
        ),
    }
}

async fn list_events(stripe: web::Data<Stripe>, req: HttpRequest) -> HttpResponse {
    let pairs = http::query_pairs(&req);
    let types: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "type" || k == "types[]" || k.starts_with("types["))
        .map(|(_, v)| v.clone())
        .collect();
    let items = lock(&stripe.events)
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            types.is_empty()
                || types.iter().any(|t| {
                    let kind = e["type"].as_str().unwrap_or_default();
                    match t.strip_suffix(".*") {
                        Some(prefix) => kind.starts_with(&format!("{prefix}.")),
                        None => kind == t,
                    }
                })
        })
        .map(|(i, e)| {
            (
                (e["created"].as_i64().unwrap_or(0), i as u64 + 1),
                e["id"].as_str().unwrap_or_default().to_owned(),
                e.clone(),
            )
        })
        .collect();
    list(&req, "/v1/events", items)
}

async fn get_event(stripe: web::Data<Stripe>, id: web::Path<String>) -> HttpResponse {
    let events = lock(&stripe.events);
    match events.iter().find(|e| e["id"] == id.as_str()) {
        Some(e) => HttpResponse::Ok().json(e),
        None => invalid(
            Some("resource_missing"),
            &format!("No such event: '{id}'"),
            Some("id"),
        ),
    }
}

async fn account(stripe: web::Data<Stripe>, inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": stripe.account,
        "object": "account",
        "business_profile": {"name": "Concord Simulator"},
        "charges_enabled": true,
        "country": "US",
        "default_currency": lower(&inner.config.currency),
        "details_submitted": true,
        "payouts_enabled": true,
        "type": "standard",
    }))
}
