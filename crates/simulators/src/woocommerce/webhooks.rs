//! The store's webhooks: `GET/POST /webhooks`, `GET/PUT/POST/DELETE /webhooks/{id}`.
//!
//! A webhook created here delivers its topic to its own `delivery_url`, signed with its own
//! `secret` (never echoed back), as WooCommerce does; several hooks may share a topic, and
//! each receives every delivery. Creating an active hook first sends WooCommerce's ping:
//! an unsigned `POST` with the form body `webhook_id=N`, whose answer is ignored. Without
//! a `secret` the hook signs with the simulator's `webhook_secret` (WooCommerce derives
//! one from the user; the simulator's is the one a test knows).
//!
//! The four preconfigured hooks deliver to the catch-all URL and are listed only while
//! one is set.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{
    Hook, USER_AGENT, WooCommerce, error,
    listing::{invalid_param, path_id},
    time,
};
use crate::{
    http,
    server::{Inner, lock},
};

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/webhooks", web::get().to(list_hooks))
        .route("/webhooks", web::post().to(create_hook))
        .route("/webhooks/{id}", web::get().to(get_hook))
        .route("/webhooks/{id}", web::put().to(update_hook))
        .route("/webhooks/{id}", web::post().to(update_hook))
        .route("/webhooks/{id}", web::delete().to(delete_hook));
}

/// The action names WooCommerce binds to a topic.
fn hook_names(resource: &str, event: &str) -> Vec<String> {
    match (resource, event) {
        ("order", "created") => vec!["woocommerce_new_order".into()],
        ("order", "updated") => vec!["woocommerce_update_order".into()],
        ("product", "created") => vec![
            "woocommerce_process_product_meta".into(),
            "woocommerce_new_product".into(),
            "woocommerce_new_product_variation".into(),
        ],
        ("product", "updated") => vec![
            "woocommerce_process_product_meta".into(),
            "woocommerce_update_product".into(),
            "woocommerce_update_product_variation".into(),
        ],
        ("action", name) => vec![name.to_owned()],
        (resource, "deleted") => vec![format!("woocommerce_delete_{resource}")],
        (resource, "restored") => vec![format!("woocommerce_untrash_{resource}")],
        (resource, "created") => vec![format!("woocommerce_new_{resource}")],
        (resource, event) => vec![format!("woocommerce_{event}_{resource}")],
    }
}

/// Whether WooCommerce accepts `topic` (`wc_is_webhook_valid_topic`).
fn valid_topic(topic: &str) -> bool {
    match topic.split_once('.') {
        Some(("action", name)) => !name.is_empty(),
        Some((resource, event)) => {
            ["coupon", "customer", "order", "product"].contains(&resource)
                && ["created", "updated", "deleted", "restored"].contains(&event)
        }
        None => false,
    }
}

fn valid_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

fn hook_json(inner: &Inner, hook: &Hook) -> Value {
    let (resource, event) = hook.topic.split_once('.').unwrap_or((&hook.topic, ""));
    json!({
        "id": hook.id,
        "name": hook.name,
        "status": hook.status,
        "topic": hook.topic,
        "resource": resource,
        "event": event,
        "hooks": hook_names(resource, event),
        "delivery_url": hook.delivery_url.clone().or_else(|| inner.webhook_url()).unwrap_or_default(),
        "date_created": time(hook.created_at),
        "date_created_gmt": time(hook.created_at),
        "date_modified": time(hook.updated_at),
        "date_modified_gmt": time(hook.updated_at),
        "_links": {
            "self": [{"href": format!("{}/webhooks/{}", inner.api_base(), hook.id)}],
            "collection": [{"href": format!("{}/webhooks", inner.api_base())}],
        },
    })
}

/// Whether `hook` exists for a caller: the preconfigured hooks only while the catch-all URL
/// is set.
fn visible(inner: &Inner, hook: &Hook) -> bool {
    hook.delivery_url.is_some() || inner.webhook_url().is_some()
}

fn invalid_id() -> HttpResponse {
    error(
        404,
        "woocommerce_rest_webhook_invalid_id",
        "Invalid webhook ID.",
    )
}

async fn list_hooks(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    req: HttpRequest,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let status = http::query_value(&query, "status").filter(|s| s != "all");
    let hooks: Vec<Value> = lock(&woo.hooks)
        .iter()
        .filter(|h| visible(&inner, h))
        .filter(|h| status.as_deref().is_none_or(|s| s == h.status))
        .map(|h| hook_json(&inner, h))
        .collect();
    HttpResponse::Ok()
        .insert_header(("X-WP-Total", hooks.len().to_string()))
        .insert_header(("X-WP-TotalPages", "1"))
        .json(hooks)
}

async fn get_hook(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
) -> HttpResponse {
    let wanted = path_id(&id);
    let hooks = lock(&woo.hooks);
    match hooks
        .iter()
        .find(|h| Some(h.id) == wanted && visible(&inner, h))
    {
        Some(h) => HttpResponse::Ok().json(hook_json(&inner, h)),
        None => invalid_id(),
    }
}

/// The `status` field, if given and valid.
fn status_field(fields: &Map<String, Value>) -> Result<Option<&'static str>, http::Refusal> {
    match http::field(fields, "status").as_deref() {
        None => Ok(None),
        Some("active") => Ok(Some("active")),
        Some("paused") => Ok(Some("paused")),
        Some("disabled") => Ok(Some("disabled")),
        Some(other) => Err(Box::new(invalid_param(
            "status",
            &format!("status is not one of active, paused, and disabled (got {other})."),
        ))),
    }
}

fn invalid_topic() -> HttpResponse {
    error(
        400,
        "woocommerce_rest_shop_webhook_invalid_topic",
        "Webhook topic is required and must be valid.",
    )
}

fn invalid_delivery_url() -> HttpResponse {
    error(
        400,
        "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
    )
}

/// `POST /webhooks`: a hook with its own delivery URL and secret; an active one is pinged.
async fn create_hook(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let fields = http::json_or_form(&req, &body);
    let topic = http::field(&fields, "topic")
        .map(|t| t.trim().to_lowercase())
        .unwrap_or_default();
    if !valid_topic(&topic) {
        return invalid_topic();
    }
    let url = http::field(&fields, "delivery_url")
        .map(|u| u.trim().to_owned())
        .unwrap_or_default();
    if !valid_url(&url) {
        return invalid_delivery_url();
    }
    let status = match status_field(&fields) {
        Ok(status) => status.unwrap_or("active"),
        Err(refusal) => return *refusal,
    };
    let now = Utc::now();
    let name = http::field(&fields, "name").unwrap_or_else(|| {
        format!(
            "Webhook created on {}",
            now.format("%B %-d, %Y @ %-I:%M %p")
        )
    });
    let hook = {
        let mut hooks = lock(&woo.hooks);
        let hook = Hook {
            id: hooks.iter().map(|h| h.id).max().unwrap_or(0) + 1,
            name,
            topic,
            status,
            failures: 0,
            delivery_url: Some(url.clone()),
            secret: http::field(&fields, "secret").filter(|s| !s.is_empty()),
            created_at: now,
            updated_at: now,
        };
        hooks.push(hook.clone());
        hook
    };
    if hook.active() {
        ping(&url, hook.id).await;
    }
    HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/wp-json/wc/v3/webhooks/{}", hook.id).as_str(),
        ))
        .json(hook_json(&inner, &hook))
}

/// WooCommerce's ping on creation (`WC_Webhook::deliver_ping`): unsigned, form-encoded
/// `webhook_id=N`; its answer does not matter to the API call.
async fn ping(url: &str, id: u64) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the ping client");
            return;
        }
    };
    let sent = client
        .post(url)
        .header("User-Agent", USER_AGENT)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("webhook_id={id}"))
        .send()
        .await;
    if let Err(e) = sent {
        tracing::info!(url, error = %e, "webhook ping failed");
    }
}

async fn update_hook(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let fields = http::json_or_form(&req, &body);
    let wanted = path_id(&id);
    let mut hooks = lock(&woo.hooks);
    let Some(hook) = hooks
        .iter_mut()
        .find(|h| Some(h.id) == wanted && visible(&inner, h))
    else {
        return invalid_id();
    };
    let status = match status_field(&fields) {
        Ok(status) => status,
        Err(refusal) => return *refusal,
    };
    let topic = match http::field(&fields, "topic") {
        Some(topic) => {
            let topic = topic.trim().to_lowercase();
            if !valid_topic(&topic) {
                return invalid_topic();
            }
            Some(topic)
        }
        None => None,
    };
    let url = match http::field(&fields, "delivery_url") {
        Some(url) => {
            let url = url.trim().to_owned();
            if !valid_url(&url) {
                return invalid_delivery_url();
            }
            Some(url)
        }
        None => None,
    };
    if let Some(status) = status {
        hook.status = status;
        if status == "active" {
            hook.failures = 0;
        }
    }
    if let Some(topic) = topic {
        hook.topic = topic;
    }
    if let Some(url) = url {
        hook.delivery_url = Some(url);
    }
    if let Some(secret) = http::field(&fields, "secret").filter(|s| !s.is_empty()) {
        hook.secret = Some(secret);
    }
    if let Some(name) = http::field(&fields, "name") {
        hook.name = name;
    }
    hook.updated_at = Utc::now();
    HttpResponse::Ok().json(hook_json(&inner, hook))
}

/// `DELETE /webhooks/{id}?force=true` (webhooks cannot be trashed).
async fn delete_hook(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let force = http::query_value(&query, "force").is_some_and(|f| f == "true" || f == "1");
    let wanted = path_id(&id);
    let mut hooks = lock(&woo.hooks);
    let Some(index) = hooks
        .iter()
        .position(|h| Some(h.id) == wanted && visible(&inner, h))
    else {
        return invalid_id();
    };
    if !force {
        return error(
            501,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        );
    }
    let removed = hooks.remove(index);
    HttpResponse::Ok().json(hook_json(&inner, &removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert!(valid_topic("order.created"));
        assert!(valid_topic("product.updated"));
        assert!(valid_topic("action.woocommerce_add_to_cart"));
        assert!(!valid_topic("order.paid"));
        assert!(!valid_topic("orders/create"));
        assert_eq!(hook_names("order", "created"), ["woocommerce_new_order"]);
    }
}
