//! Square: the `/v2` REST API with `Authorization: Bearer` (and `Square-Version`), OAuth
//! code flow (30-day tokens, a refresh token that is returned again) and PKCE (single-use
//! refresh tokens), catalog listing and search, inventory counts and batch changes applied
//! by `occurred_at` (an older physical count loses to newer changes), order search, and
//! webhooks in Square's envelope signed over notification URL + body, retried for a day,
//! to the catch-all URL and to the subscriptions made with the Webhook Subscriptions API
//! (see [`webhooks`]).
//!
//! Errors come in Square's shape `{"errors": [{"category", "code", "detail", "field"}]}`.
//! Square publishes no rate limit; this simulator refuses more than 20 requests at once
//! (refilling 10 a second) with `429 RATE_LIMITED`, configurable.

mod catalog;
mod orders;
mod webhooks;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::{
    config::SimConfig,
    core::{Cause, Change, Core, Time},
    delivery::doubling_within,
    http,
    oauth::{AccessError, GrantError},
    platform::{Body, DeliveryPolicy, Failure, Outgoing, PlatformApi},
    ratelimit::LeakyBucket,
    server::{Inner, lock},
};

pub(crate) use orders::refund_id;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A Square-looking id: `tag`, then `n` in base 32 padded to `len` characters.
pub(crate) fn sq_id(tag: char, n: u64, len: usize) -> String {
    let mut digits = Vec::new();
    let mut rest = n;
    while rest > 0 {
        digits.push(ALPHABET[(rest % 32) as usize] as char);
        rest /= 32;
    }
    let mut id = String::with_capacity(len);
    id.push(tag);
    for _ in digits.len() + 1..len {
        id.push('A');
    }
    id.extend(digits.iter().rev());
    id
}

/// The number in an id from [`sq_id`] with this `tag`.
pub(crate) fn parse_sq_id(tag: char, id: &str) -> Option<u64> {
    let rest = id.strip_prefix(tag)?;
    let mut n: u64 = 0;
    for c in rest.bytes() {
        let digit = ALPHABET.iter().position(|a| *a == c)? as u64;
        n = n.checked_mul(32)?.checked_add(digit)?;
    }
    (n > 0).then_some(n)
}

/// Square's id of a catalog item variation.
pub(crate) fn variation_id(product: u64) -> String {
    sq_id('V', product, 24)
}
/// Square's id of a catalog item.
pub(crate) fn item_id(product: u64) -> String {
    sq_id('I', product, 24)
}
/// Square's id of a location (from the location index).
pub(crate) fn location_id(core: &Core, location: usize) -> String {
    sq_id('L', core.locations.get(location).map_or(0, |l| l.id), 13)
}
/// The location index of a Square location id.
pub(crate) fn location_index(core: &Core, id: &str) -> Option<usize> {
    let n = parse_sq_id('L', id)?;
    core.locations.iter().position(|l| l.id == n)
}

/// Square's timestamps: RFC 3339 with milliseconds, UTC.
pub(crate) fn time(t: Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `{"amount", "currency"}`.
pub(crate) fn money(amount: i64, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

/// An error in Square's shape.
pub(crate) fn error(
    status: u16,
    category: &str,
    code: &str,
    detail: &str,
    field: Option<&str>,
) -> HttpResponse {
    let mut e = json!({"category": category, "code": code, "detail": detail});
    if let (Some(field), Some(map)) = (field, e.as_object_mut()) {
        map.insert("field".into(), json!(field));
    }
    http::json(status, &json!({"errors": [e]}))
}

/// A 400 `INVALID_REQUEST_ERROR` not yet turned into a response.
#[derive(Debug, Clone)]
pub(crate) struct Invalid {
    code: &'static str,
    detail: String,
    field: Option<String>,
}

impl Invalid {
    /// A refusal with `code`, `detail` and the offending `field`.
    pub fn new(code: &'static str, detail: impl Into<String>, field: Option<&str>) -> Self {
        Self {
            code,
            detail: detail.into(),
            field: field.map(str::to_owned),
        }
    }

    /// The 400 response.
    pub fn response(&self) -> HttpResponse {
        invalid(self.code, &self.detail, self.field.as_deref())
    }
}

/// A 400 `INVALID_REQUEST_ERROR`.
pub(crate) fn invalid(code: &str, detail: &str, field: Option<&str>) -> HttpResponse {
    error(400, "INVALID_REQUEST_ERROR", code, detail, field)
}

/// A 400 `MISSING_REQUIRED_PARAMETER` for `field`.
pub(crate) fn missing(field: &str) -> Invalid {
    Invalid::new(
        "MISSING_REQUIRED_PARAMETER",
        "Missing required parameter.",
        Some(field),
    )
}

/// A 404 `NOT_FOUND` saying `detail`.
pub(crate) fn not_found(detail: &str) -> HttpResponse {
    error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", detail, None)
}

/// A request body as a JSON object (an empty body is an empty object).
pub(crate) fn body_json(body: &[u8]) -> Result<Map<String, Value>, Invalid> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Invalid::new(
            "EXPECTED_JSON_BODY",
            "The request body is not a JSON object.",
            None,
        )),
    }
}

/// The ids a `batch-retrieve` body lists under `field` (its string entries).
pub(crate) fn batch_ids(body: &[u8], field: &str) -> Result<Vec<String>, http::Refusal> {
    let body = body_json(body).map_err(|e| Box::new(e.response()))?;
    let ids = body
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| Box::new(missing(field).response()))?;
    Ok(ids
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect())
}

/// What the inventory history of one variation at one location holds: the latest
/// physical count and the adjustments that happened after it, so changes apply by their
/// `occurred_at`, not by arrival.
#[derive(Debug, Clone)]
pub(crate) struct History {
    count_at: Time,
    count: i64,
    deltas: Vec<(Time, i64)>,
}

impl History {
    fn starting(count: i64, at: Time) -> Self {
        Self {
            count_at: at,
            count,
            deltas: Vec::new(),
        }
    }

    /// The computed count.
    pub fn quantity(&self) -> i64 {
        self.count + self.deltas.iter().map(|(_, d)| d).sum::<i64>()
    }

    /// A physical count at `at`; ignored when a later count exists.
    pub fn physical(&mut self, at: Time, quantity: i64) {
        if at < self.count_at {
            return;
        }
        self.count = quantity;
        self.count_at = at;
        self.deltas.retain(|(t, _)| *t > at);
    }

    /// An adjustment at `at`; absorbed when a later count exists.
    pub fn adjust(&mut self, at: Time, delta: i64) {
        if at < self.count_at {
            return;
        }
        self.deltas.push((at, delta));
    }
}

/// The Square simulator.
pub(crate) struct Square {
    merchant_id: String,
    currency: String,
    bucket: Mutex<LeakyBucket>,
    /// Responses of `batch-create` by idempotency key, with the request they answered.
    idempotent: Mutex<HashMap<String, (Value, Value)>>,
    history: Mutex<HashMap<(u64, usize), History>>,
    /// The Webhook Subscriptions API's subscriptions.
    subscriptions: Mutex<webhooks::Subscriptions>,
}

impl Square {
    /// A simulator for `config`.
    pub fn new(config: &SimConfig) -> Self {
        let limit = config.rate_limit.unwrap_or(crate::RateLimit {
            capacity: 20.0,
            per_second: 10.0,
        });
        Self {
            merchant_id: "MLSIMC0NC0RD1".into(),
            currency: config.currency.clone(),
            bucket: Mutex::new(LeakyBucket::new(limit)),
            idempotent: Mutex::new(HashMap::new()),
            history: Mutex::new(HashMap::new()),
            subscriptions: Mutex::new(webhooks::Subscriptions::default()),
        }
    }

    /// The history of `product` at `location`; a new one starts from `initial` units
    /// counted at the dawn of time (every later change passes through here), so a count a
    /// client dates slightly before the product appeared still applies.
    pub(crate) fn history<'a>(
        histories: &'a mut HashMap<(u64, usize), History>,
        core: &Core,
        product: u64,
        location: usize,
        initial: i64,
    ) -> Option<&'a mut History> {
        core.product(product)?;
        let since = chrono::DateTime::<Utc>::UNIX_EPOCH;
        Some(
            histories
                .entry((product, location))
                .or_insert_with(|| History::starting(initial, since)),
        )
    }

    fn event(&self, kind: &str, data_type: &str, id: &str, object: Value) -> Outgoing {
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "merchant_id": self.merchant_id,
            "type": kind,
            "event_id": event_id,
            "created_at": time(Utc::now()),
            "data": {"type": data_type, "id": id, "object": object},
        });
        Outgoing {
            topic: kind.to_owned(),
            event_id,
            body: Body::Ready(body.to_string().into_bytes()),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), "Square Connect v2".into()),
                ("Square-Environment".into(), "Sandbox".into()),
                ("Square-Initial-Delivery-Timestamp".into(), time(Utc::now())),
            ],
            dedup_key: None,
            target: None,
            hook: None,
        }
    }
}

impl PlatformApi for Square {
    fn register(self: Arc<Self>, app: &mut web::ServiceConfig) {
        app.app_data(web::Data::from(self))
            .route("/oauth2/authorize", web::get().to(authorize))
            .route("/oauth2/token", web::post().to(token));
    }

    fn api_prefix(&self) -> &'static str {
        "/v2"
    }

    fn api_routes(&self, api: &mut web::ServiceConfig) {
        catalog::routes(api);
        orders::routes(api);
        webhooks::routes(api);
        api.route("/merchants/me", web::get().to(merchant))
            .route("/merchants/{id}", web::get().to(merchant));
    }

    fn api_base(&self, base_url: &str) -> String {
        format!("{base_url}/v2")
    }

    fn info(&self) -> Value {
        json!({"merchant_id": self.merchant_id, "square_version": webhooks::DEFAULT_API_VERSION})
    }

    fn authenticate(&self, inner: &Inner, req: &HttpRequest) -> Result<(), http::Refusal> {
        if let Some(version) = http::header_str(req, "square-version")
            && chrono::NaiveDate::parse_from_str(version, "%Y-%m-%d").is_err()
        {
            return Err(Box::new(invalid(
                "INVALID_SQUARE_VERSION_FORMAT",
                "Square-Version must be a date in the form YYYY-MM-DD.",
                None,
            )));
        }
        match inner.oauth().check(http::bearer(req).as_deref()) {
            Ok(()) => Ok(()),
            Err(AccessError::Expired) => Err(Box::new(error(
                401,
                "AUTHENTICATION_ERROR",
                "ACCESS_TOKEN_EXPIRED",
                "The access token has expired.",
                None,
            ))),
            Err(_) => Err(Box::new(error(
                401,
                "AUTHENTICATION_ERROR",
                "UNAUTHORIZED",
                "This request could not be authorized.",
                None,
            ))),
        }
    }

    fn admit(&self, _req: &HttpRequest) -> Result<Vec<(String, String)>, http::Refusal> {
        match lock(&self.bucket).try_take(1.0) {
            Ok(()) => Ok(Vec::new()),
            Err(_) => Err(Box::new(error(
                429,
                "RATE_LIMIT_ERROR",
                "RATE_LIMITED",
                "Rate limit exceeded. Retry with exponential backoff.",
                None,
            ))),
        }
    }

    fn failure(&self, failure: Failure, _req: &HttpRequest) -> HttpResponse {
        match failure {
            Failure::Storm { retry_after } => {
                let mut response = error(
                    429,
                    "RATE_LIMIT_ERROR",
                    "RATE_LIMITED",
                    "Rate limit exceeded. Retry with exponential backoff.",
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
                let (code, detail) = match status {
                    502 => ("BAD_GATEWAY", "Bad gateway."),
                    503 => (
                        "SERVICE_UNAVAILABLE",
                        "The service is temporarily unavailable.",
                    ),
                    _ => (
                        "INTERNAL_SERVER_ERROR",
                        "An internal error has occurred, and the API was unable to service your request.",
                    ),
                };
                error(status, "API_ERROR", code, detail, None)
            }
            Failure::NotFound => not_found("The requested resource could not be found."),
        }
    }

    fn on_change(&self, core: &Core, change: &Change) -> Vec<Outgoing> {
        match *change {
            Change::StockChanged {
                product,
                location,
                before,
                after,
                cause,
                at,
            } => {
                if cause != Cause::Api {
                    let mut histories = lock(&self.history);
                    if let Some(history) =
                        Self::history(&mut histories, core, product, location, before)
                    {
                        match cause {
                            Cause::Merchant => history.physical(at, after),
                            _ => {
                                let before = history.quantity();
                                history.adjust(at, after - before);
                            }
                        }
                    }
                }
                let count = catalog::count(core, product, location, after, at);
                vec![self.event(
                    "inventory.count.updated",
                    "inventory_counts",
                    &variation_id(product),
                    json!({"inventory_counts": [count]}),
                )]
            }
            Change::OrderCreated { order } => orders::created_events(self, core, order),
            Change::RefundCreated { order, refund } => {
                orders::refund_events(self, core, order, refund)
            }
            Change::ProductCreated { .. } | Change::ProductUpdated { .. } => {
                let now = time(Utc::now());
                vec![self.event(
                    "catalog.version.updated",
                    "catalog_version",
                    "",
                    json!({"catalog_version": {"updated_at": now}}),
                )]
            }
            Change::OrderPaid { .. } | Change::PaymentFailed { .. } => Vec::new(),
        }
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        // Retries with exponential backoff for 24 hours (developer.squareup.com webhooks
        // troubleshooting; a newer page says 72 h); 10 s to answer.
        DeliveryPolicy {
            first_delay: Duration::ZERO,
            retries: doubling_within(Duration::from_secs(60), Duration::from_secs(86_400)),
            timeout: Duration::from_secs(10),
            success_up_to: 299,
        }
    }

    fn attempt_headers(&self, _out: &Outgoing, attempt: usize) -> Vec<(String, String)> {
        if attempt == 0 {
            Vec::new()
        } else {
            vec![
                ("Square-Retry-Number".into(), attempt.to_string()),
                ("Square-Retry-Reason".into(), "http_error".into()),
            ]
        }
    }

    fn order_ref(&self, _core: &Core, order: u64) -> String {
        orders::order_id(order)
    }

    fn refund_ref(&self, core: &Core, order: u64, refund: u64) -> String {
        refund_id(core, order, refund)
    }

    fn parse_order_ref(&self, _core: &Core, reference: &str) -> Option<u64> {
        parse_sq_id('O', reference.trim())
    }
}

async fn merchant(inner: web::Data<Inner>, square: web::Data<Square>) -> HttpResponse {
    let core = inner.core();
    HttpResponse::Ok().json(json!({"merchant": {
        "id": square.merchant_id,
        "business_name": "Concord Simulator",
        "country": "US",
        "language_code": "en-US",
        "currency": square.currency,
        "status": "ACTIVE",
        "main_location_id": location_id(&core, 0),
        "created_at": time(core.locations.first().map_or_else(Utc::now, |l| l.created_at)),
    }}))
}

/// `GET /oauth2/authorize`: the seller approves at once; back to `redirect_uri` with
/// `code`, `response_type` and `state`.
async fn authorize(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let query = http::query_pairs(&req);
    let client_id = http::query_value(&query, "client_id").unwrap_or_default();
    let Some(redirect_uri) = http::query_value(&query, "redirect_uri") else {
        return HttpResponse::BadRequest()
            .content_type("text/html")
            .body("<h1>The application has no redirect URL: pass redirect_uri</h1>");
    };
    let scope = http::query_value(&query, "scope").unwrap_or_default();
    let state = http::query_value(&query, "state").unwrap_or_default();
    let challenge = http::query_value(&query, "code_challenge");
    let code = {
        let mut oauth = inner.oauth();
        if !oauth.is_client(&client_id) {
            return HttpResponse::BadRequest()
                .content_type("text/html")
                .body("<h1>Invalid client_id</h1>");
        }
        oauth.authorize(Some(&redirect_uri), &scope, challenge.as_deref())
    };
    http::redirect(&http::with_query(
        &redirect_uri,
        &[
            ("code", code.as_str()),
            ("response_type", "code"),
            ("state", state.as_str()),
        ],
    ))
}

/// `POST /oauth2/token` (ObtainToken).
async fn token(
    inner: web::Data<Inner>,
    square: web::Data<Square>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = http::json_or_form(&req, &body);
    let client_id = http::field(&form, "client_id").unwrap_or_default();
    let secret = http::field(&form, "client_secret");
    let grant = http::field(&form, "grant_type").unwrap_or_default();
    let result = {
        let mut oauth = inner.oauth();
        match grant.as_str() {
            "authorization_code" => match http::field(&form, "code") {
                Some(code) => oauth.exchange(
                    &client_id,
                    secret.as_deref(),
                    &code,
                    http::field(&form, "redirect_uri").as_deref(),
                    http::field(&form, "code_verifier").as_deref(),
                ),
                None => {
                    return invalid(
                        "MISSING_REQUIRED_PARAMETER",
                        "Missing required parameter.",
                        Some("code"),
                    );
                }
            },
            "refresh_token" => match http::field(&form, "refresh_token") {
                Some(refresh) => oauth.refresh(Some(&client_id), secret.as_deref(), true, &refresh),
                None => {
                    return invalid(
                        "MISSING_REQUIRED_PARAMETER",
                        "Missing required parameter.",
                        Some("refresh_token"),
                    );
                }
            },
            _ => {
                return invalid(
                    "INVALID_VALUE",
                    "grant_type must be authorization_code or refresh_token.",
                    Some("grant_type"),
                );
            }
        }
    };
    match result {
        Ok(issued) => {
            let now = Utc::now();
            let expires_at = now
                + chrono::Duration::from_std(issued.expires_in)
                    .unwrap_or(chrono::Duration::days(30));
            let mut answer = json!({
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "merchant_id": square.merchant_id,
                "refresh_token": issued.refresh_token,
                "short_lived": false,
            });
            if http::field(&form, "code_verifier").is_some()
                && let Some(map) = answer.as_object_mut()
            {
                map.insert(
                    "refresh_token_expires_at".into(),
                    json!(
                        (now + chrono::Duration::days(90))
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                );
            }
            HttpResponse::Ok().json(answer)
        }
        Err(GrantError::InvalidClient) => error(
            401,
            "AUTHENTICATION_ERROR",
            "UNAUTHORIZED",
            "Invalid client credentials.",
            None,
        ),
        Err(GrantError::BadVerifier) => error(
            401,
            "AUTHENTICATION_ERROR",
            "UNAUTHORIZED",
            "The code verifier does not match the code challenge.",
            None,
        ),
        Err(_) => error(
            401,
            "AUTHENTICATION_ERROR",
            "UNAUTHORIZED",
            "Invalid, expired or already redeemed authorization code or refresh token.",
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for n in [1, 31, 32, 1_000_000] {
            let id = sq_id('V', n, 24);
            assert_eq!(id.len(), 24);
            assert_eq!(parse_sq_id('V', &id), Some(n));
            assert_eq!(parse_sq_id('I', &id), None);
        }
    }

    #[test]
    fn changes_apply_by_occurred_at() {
        let t = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap_or_default();
        let mut history = History::starting(10, t(0));
        history.adjust(t(20), -2);
        assert_eq!(history.quantity(), 8);
        // A count taken before the sale at 20 sets the base; the sale still applies.
        history.physical(t(10), 5);
        assert_eq!(history.quantity(), 3);
        // A count older than the last count is superseded.
        history.physical(t(5), 50);
        assert_eq!(history.quantity(), 3);
        // An adjustment older than the last count is already in it.
        history.adjust(t(7), -1);
        assert_eq!(history.quantity(), 3);
        history.physical(t(30), 7);
        assert_eq!(history.quantity(), 7);
    }
}
