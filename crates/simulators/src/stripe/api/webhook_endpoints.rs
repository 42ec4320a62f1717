//! Stripe webhook endpoints: `POST /v1/webhook_endpoints` (form-encoded `url` and
//! `enabled_events[]`; only this answer carries the endpoint's signing secret `whsec_…`),
//! `GET /v1/webhook_endpoints` (a list object, newest first, with `limit`,
//! `starting_after` and `ending_before`), and `GET`, `POST` (update) and `DELETE`
//! `/v1/webhook_endpoints/{id}`.
//!
//! An enabled endpoint receives the events its `enabled_events` name (`*` for every
//! event) at its `url`, each signed with its own secret, beside the catch-all URL. Test
//! mode allows 16 endpoints per account.

use super::*;
use crate::server::Subscription;

/// Most endpoints an account may have in test mode.
const MAX_ENDPOINTS: usize = 16;

/// One registered endpoint.
#[derive(Debug, Clone)]
struct Endpoint {
    n: u64,
    id: String,
    url: String,
    events: Vec<String>,
    secret: String,
    description: Option<String>,
    metadata: Vec<(String, String)>,
    enabled: bool,
    created: i64,
}

/// The account's webhook endpoints.
#[derive(Debug, Default)]
pub(crate) struct Endpoints {
    list: Vec<Endpoint>,
    next: u64,
}

impl Endpoints {
    /// The endpoints as `GET /_sim/info` shows them (without secrets).
    pub(crate) fn summary(&self) -> Vec<Value> {
        self.list
            .iter()
            .map(|e| json!({"id": e.id, "url": e.url, "enabled_events": e.events, "status": status_word(e)}))
            .collect()
    }
}

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/webhook_endpoints", web::post().to(create))
        .route("/webhook_endpoints", web::get().to(list_endpoints))
        .route("/webhook_endpoints/{id}", web::get().to(retrieve))
        .route("/webhook_endpoints/{id}", web::post().to(update))
        .route("/webhook_endpoints/{id}", web::delete().to(delete));
}

fn status_word(e: &Endpoint) -> &'static str {
    if e.enabled { "enabled" } else { "disabled" }
}

/// An endpoint as Stripe shows it; the secret only in the answer to its creation.
fn endpoint_json(e: &Endpoint, with_secret: bool) -> Value {
    let metadata: Map<String, Value> = e
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut value = json!({
        "id": e.id,
        "object": "webhook_endpoint",
        "api_version": null,
        "application": null,
        "created": e.created,
        "description": e.description,
        "enabled_events": e.events,
        "livemode": false,
        "metadata": metadata,
        "status": status_word(e),
        "url": e.url,
    });
    if with_secret && let Some(map) = value.as_object_mut() {
        map.insert("secret".into(), json!(e.secret));
    }
    value
}

/// `enabled_events[]=…` (or `enabled_events[0]=…`) values; `None` when none is sent.
fn events_param(pairs: &[(String, String)]) -> Option<Vec<String>> {
    let events: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k.starts_with("enabled_events["))
        .map(|(_, v)| v.trim().to_owned())
        .collect();
    (!events.is_empty()).then_some(events)
}

/// Whether `event` is `*` or shaped like an event type (`charge.refund.updated`).
fn event_type(event: &str) -> bool {
    event == "*"
        || (event.contains('.')
            && event.split('.').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            }))
}

fn check_events(events: &[String]) -> Result<(), (u16, Value)> {
    match events.iter().position(|e| !event_type(e)) {
        None => Ok(()),
        Some(i) => Err(err(
            400,
            "invalid_request_error",
            None,
            &format!(
                "Invalid enabled_events[{i}]: must be `*` or an event type such as charge.succeeded"
            ),
            Some(&format!("enabled_events[{i}]")),
        )),
    }
}

fn check_url(url: &str) -> Result<(), (u16, Value)> {
    let valid = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if valid {
        Ok(())
    } else {
        Err(err(
            400,
            "invalid_request_error",
            Some("url_invalid"),
            &format!("Invalid URL: {url}"),
            Some("url"),
        ))
    }
}

fn missing(name: &str) -> (u16, Value) {
    err(
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        &format!("Missing required param: {name}."),
        Some(name),
    )
}

fn no_such(id: &str) -> (u16, Value) {
    err(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such webhook endpoint: '{id}'"),
        Some("id"),
    )
}

/// Routes the endpoint's events to it while it is enabled.
fn subscribe(inner: &Inner, e: &Endpoint) {
    inner.remove_subscription(&e.id);
    if e.enabled {
        inner.add_subscription(Subscription {
            id: e.id.clone(),
            topics: e.events.clone(),
            url: e.url.clone(),
            secret: Some(e.secret.clone()),
        });
    }
}

/// `POST /v1/webhook_endpoints`.
async fn create(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let pairs = http::form_pairs(&body);
    idempotent(&stripe, &req, &pairs, || {
        let Some(url) = param(&pairs, "url") else {
            return missing("url");
        };
        if let Err(e) = check_url(&url) {
            return e;
        }
        let Some(events) = events_param(&pairs) else {
            return missing("enabled_events");
        };
        if let Err(e) = check_events(&events) {
            return e;
        }
        let mut store = lock(&stripe.endpoints);
        if store.list.len() >= MAX_ENDPOINTS {
            return err(
                400,
                "invalid_request_error",
                None,
                &format!("You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints."),
                None,
            );
        }
        store.next += 1;
        let n = store.next;
        let endpoint = Endpoint {
            n,
            id: stripe_id("we", n),
            url,
            events,
            secret: format!("whsec_{}", crate::oauth::random_token(32)),
            description: param(&pairs, "description"),
            metadata: metadata_params(&pairs),
            enabled: true,
            created: Utc::now().timestamp(),
        };
        subscribe(&inner, &endpoint);
        inner.count_write(1);
        let shown = endpoint_json(&endpoint, true);
        store.list.push(endpoint);
        (200, shown)
    })
}

/// `GET /v1/webhook_endpoints`.
async fn list_endpoints(stripe: web::Data<Stripe>, req: HttpRequest) -> HttpResponse {
    let items = lock(&stripe.endpoints)
        .list
        .iter()
        .map(|e| ((e.created, e.n), e.id.clone(), endpoint_json(e, false)))
        .collect();
    list(&req, "/v1/webhook_endpoints", items)
}

/// `GET /v1/webhook_endpoints/{id}`.
async fn retrieve(stripe: web::Data<Stripe>, id: web::Path<String>) -> HttpResponse {
    let store = lock(&stripe.endpoints);
    let (status, body) = match store.list.iter().find(|e| e.id == *id) {
        Some(e) => (200, endpoint_json(e, false)),
        None => no_such(&id),
    };
    http::json(status, &body)
}

/// `POST /v1/webhook_endpoints/{id}`: `url`, `enabled_events[]`, `disabled`,
/// `description` and `metadata[…]`.
async fn update(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let pairs = http::form_pairs(&body);
    idempotent(&stripe, &req, &pairs, || {
        let url = param(&pairs, "url");
        if let Some(Err(e)) = url.as_deref().map(check_url) {
            return e;
        }
        let events = events_param(&pairs);
        if let Some(Err(e)) = events.as_deref().map(check_events) {
            return e;
        }
        let disabled = match param(&pairs, "disabled").as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return err(
                    400,
                    "invalid_request_error",
                    None,
                    &format!("Invalid boolean: {other}"),
                    Some("disabled"),
                );
            }
        };
        let mut store = lock(&stripe.endpoints);
        let Some(endpoint) = store.list.iter_mut().find(|e| e.id == *id) else {
            return no_such(&id);
        };
        if let Some(url) = url {
            endpoint.url = url;
        }
        if let Some(events) = events {
            endpoint.events = events;
        }
        if let Some(disabled) = disabled {
            endpoint.enabled = !disabled;
        }
        if let Some(description) = param(&pairs, "description") {
            endpoint.description = Some(description).filter(|d| !d.is_empty());
        }
        for (key, value) in metadata_params(&pairs) {
            endpoint.metadata.retain(|(k, _)| *k != key);
            if !value.is_empty() {
                endpoint.metadata.push((key, value));
            }
        }
        subscribe(&inner, endpoint);
        inner.count_write(1);
        (200, endpoint_json(endpoint, false))
    })
}

/// `DELETE /v1/webhook_endpoints/{id}`.
async fn delete(
    inner: web::Data<Inner>,
    stripe: web::Data<Stripe>,
    id: web::Path<String>,
) -> HttpResponse {
    let mut store = lock(&stripe.endpoints);
    let before = store.list.len();
    store.list.retain(|e| e.id != *id);
    if store.list.len() == before {
        let (status, body) = no_such(&id);
        return http::json(status, &body);
    }
    inner.remove_subscription(&id);
    inner.count_write(1);
    http::json(
        200,
        &json!({"id": *id, "object": "webhook_endpoint", "deleted": true}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_shaped_like_stripes() {
        for good in [
            "*",
            "charge.succeeded",
            "charge.refund.updated",
            "checkout.session.completed",
        ] {
            assert!(event_type(good), "{good}");
        }
        for bad in [
            "",
            "charge",
            "charge.",
            ".succeeded",
            "Charge.Succeeded",
            "charge succeeded",
        ] {
            assert!(!event_type(bad), "{bad}");
        }
    }
}
