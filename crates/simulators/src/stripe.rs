//! Stripe: the `/v1` API with a secret key (`Authorization: Bearer sk_test_…` or Basic),
//! form-encoded POSTs, `Idempotency-Key` replays (`Idempotent-Replayed: true`; the same key
//! with other parameters is an `idempotency_error`), PaymentIntents with test payment
//! methods (`pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined), refunds, the
//! event list, webhook endpoints registered through `/v1/webhook_endpoints` (each with its
//! own `whsec_…` secret, see `api::webhook_endpoints`), and webhooks signed with
//! `Stripe-Signature` (a fresh timestamp on every attempt), retried three times as in test
//! mode. Stripe keeps no stock: the stock routes and `/_sim/stock` answer 404.
//!
//! Errors come in Stripe's shape `{"error": {"type", "code", "message", "param"}}`; the
//! test-mode rate limit is 25 requests a second.

mod api;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::{
    config::SimConfig,
    core::{Change, Core},
    delivery::doubling,
    http,
    platform::{Body, DeliveryPolicy, Failure, Outgoing, PlatformApi},
    ratelimit::LeakyBucket,
    server::{Inner, lock},
};

/// The API version events carry.
const API_VERSION: &str = "2025-09-30.clover";

/// An id of `prefix` for the shop's number `n` (`pi_3Concord00000000000042`).
pub(crate) fn stripe_id(prefix: &str, n: u64) -> String {
    format!("{prefix}_3Concord{n:014}")
}

/// The number in an id from [`stripe_id`].
pub(crate) fn parse_stripe_id(prefix: &str, id: &str) -> Option<u64> {
    id.strip_prefix(prefix)?
        .strip_prefix("_3Concord")?
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// Stripe's id of a refund.
pub(crate) fn refund_id(refund: u64) -> String {
    stripe_id("re", refund)
}

/// An error in Stripe's shape.
pub(crate) fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> HttpResponse {
    let mut e = json!({"type": kind, "message": message});
    if let Some(map) = e.as_object_mut() {
        if let Some(code) = code {
            map.insert("code".into(), json!(code));
            map.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(param) = param {
            map.insert("param".into(), json!(param));
        }
    }
    let mut response = http::json(status, &json!({"error": e}));
    if status >= 500
        && let Ok(value) = actix_web::http::header::HeaderValue::from_str("true")
    {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("stripe-should-retry"),
            value,
        );
    }
    response
}

/// A 400 `invalid_request_error`.
pub(crate) fn invalid(code: Option<&str>, message: &str, param: Option<&str>) -> HttpResponse {
    error(400, "invalid_request_error", code, message, param)
}

/// A response kept for an idempotency key.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    fingerprint: String,
    status: u16,
    body: Value,
}

/// The Stripe simulator.
pub(crate) struct Stripe {
    account: String,
    bucket: Mutex<LeakyBucket>,
    /// Every event, oldest first.
    events: Mutex<Vec<Value>>,
    idempotent: Mutex<HashMap<String, Kept>>,
    /// Webhook endpoints registered through the API.
    endpoints: Mutex<api::Endpoints>,
}

impl Stripe {
    /// A simulator for `config`.
    pub fn new(config: &SimConfig) -> Self {
        let limit = config.rate_limit.unwrap_or(crate::RateLimit {
            capacity: 25.0,
            per_second: 25.0,
        });
        Self {
            account: "acct_1ConcordSimulator".into(),
            bucket: Mutex::new(LeakyBucket::new(limit)),
            events: Mutex::new(Vec::new()),
            idempotent: Mutex::new(HashMap::new()),
            endpoints: Mutex::new(api::Endpoints::default()),
        }
    }

    /// Records an event and returns its webhook.
    fn event(&self, kind: &str, object: Value, previous: Option<Value>) -> Outgoing {
        let mut events = lock(&self.events);
        let id = stripe_id("evt", events.len() as u64 + 1);
        let mut data = json!({"object": object});
        if let (Some(previous), Some(map)) = (previous, data.as_object_mut()) {
            map.insert("previous_attributes".into(), previous);
        }
        let event = json!({
            "id": id,
            "object": "event",
            "api_version": API_VERSION,
            "created": chrono::Utc::now().timestamp(),
            "data": data,
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": kind,
        });
        let body = serde_json::to_vec_pretty(&event).unwrap_or_default();
        events.push(event);
        Outgoing {
            topic: kind.to_owned(),
            event_id: id,
            body: Body::Ready(body),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                (
                    "User-Agent".into(),
                    "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
                ),
            ],
            dedup_key: None,
            target: None,
            hook: None,
        }
    }
}

impl PlatformApi for Stripe {
    fn register(self: Arc<Self>, app: &mut web::ServiceConfig) {
        app.app_data(web::Data::from(self));
    }

    fn api_prefix(&self) -> &'static str {
        "/v1"
    }

    fn api_routes(&self, api: &mut web::ServiceConfig) {
        api::routes(api);
    }

    fn api_base(&self, base_url: &str) -> String {
        format!("{base_url}/v1")
    }

    fn info(&self) -> Value {
        json!({
            "account": self.account,
            "api_version": API_VERSION,
            "webhook_endpoints": lock(&self.endpoints).summary(),
        })
    }

    fn authenticate(&self, inner: &Inner, req: &HttpRequest) -> Result<(), http::Refusal> {
        let key = http::bearer(req).or_else(|| http::basic(req).map(|(user, _)| user));
        match key {
            None => Err(Box::new(error(
                401,
                "invalid_request_error",
                None,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
                None,
            ))),
            Some(key) if inner.oauth().check(Some(&key)).is_ok() => Ok(()),
            Some(key) => {
                let tail: String = key
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let prefix = if key.starts_with("sk_live_") {
                    "sk_live_"
                } else {
                    "sk_test_"
                };
                Err(Box::new(error(
                    401,
                    "invalid_request_error",
                    None,
                    &format!("Invalid API Key provided: {prefix}****{tail}"),
                    None,
                )))
            }
        }
    }

    fn admit(&self, _req: &HttpRequest) -> Result<Vec<(String, String)>, http::Refusal> {
        let request_id = format!("req_{}", crate::oauth::random_token(14));
        match lock(&self.bucket).try_take(1.0) {
            Ok(()) => Ok(vec![
                ("Request-Id".into(), request_id),
                ("Stripe-Version".into(), API_VERSION.into()),
            ]),
            Err(_) => Err(Box::new(error(
                429,
                "invalid_request_error",
                Some("rate_limit"),
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                None,
            ))),
        }
    }

    fn failure(&self, failure: Failure, req: &HttpRequest) -> HttpResponse {
        match failure {
            Failure::Storm { retry_after } => {
                let mut response = error(
                    429,
                    "invalid_request_error",
                    Some("rate_limit"),
                    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
                    None,
                );
                if let Ok(value) =
                    actix_web::http::header::HeaderValue::from_str(&retry_after.to_string())
                {
                    response
                        .headers_mut()
                        .insert(actix_web::http::header::RETRY_AFTER, value);
                }
                response
            }
            Failure::Injected(status) => {
                error(status, "api_error", None, "An unknown error occurred", None)
            }
            Failure::NotFound => error(
                404,
                "invalid_request_error",
                None,
                &format!(
                    "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
                    req.method(),
                    req.path()
                ),
                None,
            ),
        }
    }

    fn on_change(&self, core: &Core, change: &Change) -> Vec<Outgoing> {
        match *change {
            Change::OrderCreated { order } => core
                .order(order)
                .map(|o| self.event("payment_intent.created", api::created_intent(o), None))
                .into_iter()
                .collect(),
            Change::OrderPaid { order } => {
                let Some(o) = core.order(order) else {
                    return Vec::new();
                };
                let mut out =
                    vec![self.event("payment_intent.succeeded", api::payment_intent(o), None)];
                if let Some(charge) = api::charge(o) {
                    out.push(self.event("charge.succeeded", charge, None));
                }
                out
            }
            Change::PaymentFailed { order } => core
                .order(order)
                .map(|o| {
                    self.event(
                        "payment_intent.payment_failed",
                        api::payment_intent(o),
                        None,
                    )
                })
                .into_iter()
                .collect(),
            Change::RefundCreated { order, refund } => {
                let Some(o) = core.order(order) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                if let Some(r) = o.refunds.iter().find(|r| r.id == refund) {
                    out.push(self.event("refund.created", api::refund(o, r), None));
                }
                if let Some(charge) = api::charge(o) {
                    let before = o.refunded_minor()
                        - o.refunds
                            .iter()
                            .find(|r| r.id == refund)
                            .map_or(0, |r| r.amount_minor);
                    out.push(self.event(
                        "charge.refunded",
                        charge,
                        Some(json!({"amount_refunded": before, "refunded": false})),
                    ));
                }
                out
            }
            Change::StockChanged { .. }
            | Change::ProductCreated { .. }
            | Change::ProductUpdated { .. } => Vec::new(),
        }
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        // Test mode retries three times over a few hours (live mode: up to 3 days).
        DeliveryPolicy {
            first_delay: Duration::ZERO,
            retries: doubling(Duration::from_secs(3600), 3),
            timeout: Duration::from_secs(20),
            success_up_to: 299,
        }
    }

    fn order_ref(&self, _core: &Core, order: u64) -> String {
        stripe_id("pi", order)
    }

    fn refund_ref(&self, _core: &Core, _order: u64, refund: u64) -> String {
        refund_id(refund)
    }

    fn parse_order_ref(&self, _core: &Core, reference: &str) -> Option<u64> {
        parse_stripe_id("pi", reference.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let id = stripe_id("pi", 42);
        assert_eq!(id, "pi_3Concord00000000000042");
        assert_eq!(parse_stripe_id("pi", &id), Some(42));
        assert_eq!(parse_stripe_id("ch", &id), None);
    }
}
