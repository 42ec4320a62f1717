//! The Webhook Subscriptions API: `POST /v2/webhooks/subscriptions` (create; the answer
//! alone carries `signature_key`), `GET /v2/webhooks/subscriptions` (list),
//! `GET`/`DELETE /v2/webhooks/subscriptions/{id}`.
//!
//! An enabled subscription receives its `event_types` at its `notification_url`, signed
//! over that URL and the body with its signature key — the simulator's `webhook_secret`, so
//! a subscription signs exactly as the catch-all URL does. A repeated `idempotency_key`
//! returns the same subscription (with other request data it is refused).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{Invalid, Square, body_json, invalid, missing, not_found, time};
use crate::server::{Inner, Subscription, lock};

/// The version a subscription gets when the request names none.
pub(super) const DEFAULT_API_VERSION: &str = "2025-08-20";

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/webhooks/subscriptions", web::post().to(create))
        .route("/webhooks/subscriptions", web::get().to(list))
        .route("/webhooks/subscriptions/{id}", web::get().to(retrieve))
        .route("/webhooks/subscriptions/{id}", web::delete().to(delete));
}

/// Registered subscriptions (with their signature keys) and create answers by
/// idempotency key, with the request they answered.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    list: Vec<Value>,
    replays: std::collections::HashMap<String, (Value, Value)>,
}

fn without_key(subscription: &Value) -> Value {
    let mut shown = subscription.clone();
    if let Some(map) = shown.as_object_mut() {
        map.remove("signature_key");
    }
    shown
}

fn valid_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

/// The subscription a create request asks for, validated.
fn requested(request: &Map<String, Value>) -> Result<(Map<String, Value>, Vec<String>), Invalid> {
    let Some(Value::Object(subscription)) = request.get("subscription") else {
        return Err(missing("subscription"));
    };
    let url = subscription
        .get("notification_url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if url.is_empty() {
        return Err(missing("subscription.notification_url"));
    }
    if !valid_url(url) {
        return Err(Invalid::new(
            "INVALID_VALUE",
            "The notification URL must be a valid HTTP or HTTPS URL.",
            Some("subscription.notification_url"),
        ));
    }
    let types = match subscription.get("event_types") {
        Some(Value::Array(types)) if !types.is_empty() => types,
        _ => return Err(missing("subscription.event_types")),
    };
    let mut event_types = Vec::with_capacity(types.len());
    for (i, t) in types.iter().enumerate() {
        match t.as_str() {
            Some(t) if t.contains('.') && !t.contains(char::is_whitespace) => {
                event_types.push(t.to_owned());
            }
            _ => {
                return Err(Invalid::new(
                    "INVALID_VALUE",
                    "Invalid event type.",
                    Some(&format!("subscription.event_types[{i}]")),
                ));
            }
        }
    }
    Ok((subscription.clone(), event_types))
}

/// `POST /v2/webhooks/subscriptions` (CreateWebhookSubscription).
async fn create(
    inner: web::Data<Inner>,
    square: web::Data<Square>,
    body: web::Bytes,
) -> HttpResponse {
    let request = match body_json(&body) {
        Ok(request) => request,
        Err(e) => return e.response(),
    };
    let (input, event_types) = match requested(&request) {
        Ok(found) => found,
        Err(e) => return e.response(),
    };
    let key = request
        .get("idempotency_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let fingerprint = Value::Object(request.clone());
    let mut store = lock(&square.subscriptions);
    if let Some(key) = &key
        && let Some((seen, answer)) = store.replays.get(key)
    {
        return if *seen == fingerprint {
            HttpResponse::Ok().json(answer)
        } else {
            invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key can only be retried with the same request data.",
                Some("idempotency_key"),
            )
        };
    }
    let id = format!("wbhk_{}", uuid::Uuid::new_v4().simple());
    let url = input
        .get("notification_url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let enabled = input
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let now = time(Utc::now());
    let subscription = json!({
        "id": id,
        "name": input.get("name").cloned().unwrap_or(Value::Null),
        "enabled": enabled,
        "event_types": event_types,
        "notification_url": url,
        "api_version": input
            .get("api_version")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_API_VERSION),
        "signature_key": inner.config.webhook_secret,
        "created_at": now,
        "updated_at": now,
    });
    if enabled {
        inner.add_subscription(Subscription {
            id: id.clone(),
            topics: event_types,
            url,
            secret: Some(inner.config.webhook_secret.clone()),
        });
    }
    store.list.push(subscription.clone());
    let answer = json!({"subscription": subscription});
    if let Some(key) = key {
        store.replays.insert(key, (fingerprint, answer.clone()));
    }
    HttpResponse::Ok().json(answer)
}

/// `GET /v2/webhooks/subscriptions` (ListWebhookSubscriptions); Square leaves out an
/// empty list.
async fn list(square: web::Data<Square>) -> HttpResponse {
    let store = lock(&square.subscriptions);
    if store.list.is_empty() {
        return HttpResponse::Ok().json(json!({}));
    }
    let shown: Vec<Value> = store.list.iter().map(without_key).collect();
    HttpResponse::Ok().json(json!({"subscriptions": shown}))
}

fn unknown(id: &str) -> HttpResponse {
    not_found(&format!("Subscription with id `{id}` not found."))
}

/// `GET /v2/webhooks/subscriptions/{id}` (RetrieveWebhookSubscription).
async fn retrieve(square: web::Data<Square>, id: web::Path<String>) -> HttpResponse {
    let store = lock(&square.subscriptions);
    match store.list.iter().find(|s| s["id"] == id.as_str()) {
        Some(s) => HttpResponse::Ok().json(json!({"subscription": without_key(s)})),
        None => unknown(&id),
    }
}

/// `DELETE /v2/webhooks/subscriptions/{id}` (DeleteWebhookSubscription).
async fn delete(
    inner: web::Data<Inner>,
    square: web::Data<Square>,
    id: web::Path<String>,
) -> HttpResponse {
    let mut store = lock(&square.subscriptions);
    let before = store.list.len();
    store.list.retain(|s| s["id"] != id.as_str());
    if store.list.len() == before {
        return unknown(&id);
    }
    inner.remove_subscription(&id);
    HttpResponse::Ok().json(json!({}))
}
