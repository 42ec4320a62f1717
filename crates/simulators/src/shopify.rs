//! Shopify: the Admin GraphQL API (`POST /admin/api/{version}/graphql.json` with
//! `X-Shopify-Access-Token`), OAuth with expiring offline tokens, calculated query cost with
//! a leaky bucket (1000 points, 100/s) and `THROTTLED` answers, idempotent inventory
//! mutations with compare-and-set, and REST-shaped webhooks signed with
//! `X-Shopify-Hmac-Sha256`, retried 8 times with exponential backoff — to the catch-all
//! URL and to the subscriptions made with `webhookSubscriptionCreate`.
//!
//! Ids: variants, inventory items, locations, orders… are numbers in disjoint ranges, shown
//! as `gid://shopify/Kind/N` in GraphQL and as plain numbers in webhooks, as Shopify does.

mod graphql;
mod rest;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::{
    config::SimConfig,
    core::{Change, Core, Time},
    delivery::doubling,
    http,
    oauth::GrantError,
    platform::{Body, DeliveryPolicy, Failure, Outgoing, PlatformApi},
    ratelimit::LeakyBucket,
    server::{Inner, lock},
};

/// The API version this simulator reports (any `YYYY-MM` in the path is served).
const API_VERSION: &str = "2025-01";

const PRODUCT_BASE: u64 = 7_400_000_000;
const VARIANT_BASE: u64 = 44_100_000_000;
const ITEM_BASE: u64 = 46_200_000_000;
const LOCATION_BASE: u64 = 71_000_000_000;
const ORDER_BASE: u64 = 5_810_000_000_000;
const LINE_BASE: u64 = 14_300_000_000_000;
const REFUND_BASE: u64 = 921_000_000_000;
const TRANSACTION_BASE: u64 = 7_120_000_000_000;
const REFUND_TRANSACTION_BASE: u64 = 7_190_000_000_000;

/// Shopify's REST id of a variant.
pub(crate) fn variant_id(product: u64) -> u64 {
    VARIANT_BASE + product
}
/// Shopify's REST id of a product.
pub(crate) fn product_id(product: u64) -> u64 {
    PRODUCT_BASE + product
}
/// Shopify's REST id of an inventory item.
pub(crate) fn item_id(product: u64) -> u64 {
    ITEM_BASE + product
}
/// Shopify's REST id of a location (from the location index).
pub(crate) fn location_id(core: &Core, location: usize) -> u64 {
    LOCATION_BASE + core.locations.get(location).map_or(0, |l| l.id)
}
/// Shopify's REST id of an order.
pub(crate) fn order_id(order: u64) -> u64 {
    ORDER_BASE + order
}
/// Shopify's REST id of a line item.
pub(crate) fn line_id(line: u64) -> u64 {
    LINE_BASE + line
}
/// Shopify's REST id of a refund.
pub(crate) fn refund_id(refund: u64) -> u64 {
    REFUND_BASE + refund
}
/// Shopify's id of the sale transaction of a payment.
pub(crate) fn transaction_id(payment: u64) -> u64 {
    TRANSACTION_BASE + payment
}
/// Shopify's id of the refund transaction of a refund.
pub(crate) fn refund_transaction_id(refund: u64) -> u64 {
    REFUND_TRANSACTION_BASE + refund
}

/// `gid://shopify/{kind}/{id}`.
pub(crate) fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The number of a `gid://shopify/{kind}/N` (or of a bare number), minus `base`.
pub(crate) fn parse_gid(value: &str, kind: &str, base: u64) -> Option<u64> {
    let text = value.trim();
    let number = match text.strip_prefix("gid://shopify/") {
        Some(rest) => {
            let (k, n) = rest.split_once('/')?;
            if k != kind {
                return None;
            }
            n.split('?').next()?
        }
        None => text,
    };
    number
        .parse::<u64>()
        .ok()?
        .checked_sub(base)
        .filter(|n| *n > 0)
}

/// Shopify's timestamps: seconds, with an offset.
pub(crate) fn time(t: Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The Shopify simulator.
pub(crate) struct Shopify {
    shop_domain: String,
    shop_name: String,
    currency: String,
    bucket: Mutex<LeakyBucket>,
    /// Results of idempotent mutations by key.
    idempotent: Mutex<HashMap<String, Value>>,
    next_group: Mutex<u64>,
    /// Subscriptions made with `webhookSubscriptionCreate`.
    webhooks: Mutex<Vec<graphql::WebhookSubscription>>,
}

impl Shopify {
    /// A simulator for `config`.
    pub fn new(config: &SimConfig) -> Self {
        let limit = config.rate_limit.unwrap_or(crate::RateLimit {
            capacity: 1000.0,
            per_second: 100.0,
        });
        Self {
            shop_domain: "concord-sim.myshopify.com".into(),
            shop_name: "Concord Simulator".into(),
            currency: config.currency.clone(),
            bucket: Mutex::new(LeakyBucket::new(limit)),
            idempotent: Mutex::new(HashMap::new()),
            next_group: Mutex::new(1),
            webhooks: Mutex::new(Vec::new()),
        }
    }

    fn webhook(&self, topic: &str, body: &Value) -> Outgoing {
        let event_id = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now();
        Outgoing {
            topic: topic.to_owned(),
            event_id: event_id.clone(),
            body: Body::Ready(body.to_string().into_bytes()),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("User-Agent".into(), "Shopify-Captain-Hook".into()),
                ("X-Shopify-Topic".into(), topic.to_owned()),
                ("X-Shopify-Shop-Domain".into(), self.shop_domain.clone()),
                ("X-Shopify-API-Version".into(), API_VERSION.into()),
                ("X-Shopify-Event-Id".into(), event_id),
                (
                    "X-Shopify-Webhook-Id".into(),
                    uuid::Uuid::new_v4().to_string(),
                ),
                (
                    "X-Shopify-Triggered-At".into(),
                    now.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                ),
            ],
            dedup_key: None,
            target: None,
            hook: None,
        }
    }

    fn next_group_id(&self) -> u64 {
        let mut next = lock(&self.next_group);
        let id = *next;
        *next += 1;
        id
    }
}

/// Shopify's answer to a missing or bad token.
fn unauthorized() -> HttpResponse {
    http::json(
        401,
        &json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
    )
}

impl PlatformApi for Shopify {
    fn register(self: Arc<Self>, app: &mut web::ServiceConfig) {
        app.app_data(web::Data::from(self))
            .route("/admin/oauth/authorize", web::get().to(authorize))
            .route("/admin/oauth/access_token", web::post().to(access_token));
    }

    fn api_prefix(&self) -> &'static str {
        "/admin/api"
    }

    fn api_routes(&self, api: &mut web::ServiceConfig) {
        api.route("/{version}/graphql.json", web::post().to(graphql::handle));
    }

    fn api_base(&self, base_url: &str) -> String {
        format!("{base_url}/admin/api/{API_VERSION}")
    }

    fn info(&self) -> Value {
        json!({
            "shop_domain": self.shop_domain,
            "api_version": API_VERSION,
            "graphql_url_path": format!("/admin/api/{API_VERSION}/graphql.json"),
        })
    }

    fn authenticate(&self, inner: &Inner, req: &HttpRequest) -> Result<(), http::Refusal> {
        let token = http::header_str(req, "x-shopify-access-token");
        inner
            .oauth()
            .check(token)
            .map_err(|_| Box::new(unauthorized()))
    }

    fn failure(&self, failure: Failure, _req: &HttpRequest) -> HttpResponse {
        match failure {
            Failure::Storm { retry_after } => HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", format!("{retry_after}.0")))
                .json(json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})),
            Failure::Injected(status) => {
                let request_id = uuid::Uuid::new_v4().to_string();
                http::json(
                    status,
                    &json!({"errors": [{
                        "message": format!("Internal error. Looks like something went wrong on our end.\nRequest ID: {request_id} (include this in support requests)."),
                        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
                    }]}),
                )
            }
            Failure::NotFound => http::json(404, &json!({"errors": "Not Found"})),
        }
    }

    fn on_change(&self, core: &Core, change: &Change) -> Vec<Outgoing> {
        match *change {
            Change::OrderCreated { order } => {
                let Some(o) = core.order(order) else {
                    return Vec::new();
                };
                let body = rest::order(core, o);
                vec![
                    self.webhook("orders/create", &body),
                    self.webhook("orders/paid", &body),
                ]
            }
            Change::RefundCreated { order, refund } => {
                let Some(o) = core.order(order) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                if let Some(r) = o.refunds.iter().find(|r| r.id == refund) {
                    out.push(self.webhook("refunds/create", &rest::refund(core, o, r)));
                }
                out.push(self.webhook("orders/updated", &rest::order(core, o)));
                out
            }
            Change::StockChanged {
                product,
                location,
                after,
                at,
                ..
            } => {
                let location_id = location_id(core, location);
                let body = json!({
                    "inventory_item_id": item_id(product),
                    "location_id": location_id,
                    "available": after,
                    "updated_at": time(at),
                    "admin_graphql_api_id": format!(
                        "gid://shopify/InventoryLevel/{location_id}?inventory_item_id={}",
                        item_id(product)
                    ),
                });
                vec![self.webhook("inventory_levels/update", &body)]
            }
            Change::ProductCreated { product } => core
                .product(product)
                .map(|p| self.webhook("products/create", &rest::product(p)))
                .into_iter()
                .collect(),
            Change::ProductUpdated { product } => core
                .product(product)
                .map(|p| self.webhook("products/update", &rest::product(p)))
                .into_iter()
                .collect(),
            Change::OrderPaid { .. } | Change::PaymentFailed { .. } => Vec::new(),
        }
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        // 8 attempts over about 4 hours (shopify.dev changelog 2024-09); the exact
        // intervals are not published: 2 min doubling.
        DeliveryPolicy {
            first_delay: Duration::ZERO,
            retries: doubling(Duration::from_secs(120), 7),
            timeout: Duration::from_secs(5),
            success_up_to: 299,
        }
    }

    fn order_ref(&self, _core: &Core, order: u64) -> String {
        order_id(order).to_string()
    }

    fn refund_ref(&self, _core: &Core, _order: u64, refund: u64) -> String {
        refund_id(refund).to_string()
    }

    fn parse_order_ref(&self, _core: &Core, reference: &str) -> Option<u64> {
        parse_gid(reference, "Order", ORDER_BASE)
    }
}

/// `GET /admin/oauth/authorize`: the merchant approves at once; the browser is sent back
/// to `redirect_uri` with `code`, `hmac`, `host`, `shop`, `state` and `timestamp`.
async fn authorize(
    inner: web::Data<Inner>,
    shop: web::Data<Shopify>,
    req: HttpRequest,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let client_id = http::query_value(&query, "client_id").unwrap_or_default();
    let Some(redirect_uri) = http::query_value(&query, "redirect_uri") else {
        return HttpResponse::BadRequest()
            .content_type("text/html")
            .body("<h1>Oauth error invalid_request: The redirect_uri is missing</h1>");
    };
    let scope = http::query_value(&query, "scope").unwrap_or_default();
    let state = http::query_value(&query, "state").unwrap_or_default();
    let code = {
        let mut oauth = inner.oauth();
        if !oauth.is_client(&client_id) {
            return HttpResponse::BadRequest()
                .content_type("text/html")
                .body("<h1>Oauth error invalid_request: The client_id is invalid</h1>");
        }
        oauth.authorize(Some(&redirect_uri), &scope, None)
    };
    let host = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!(
            "admin.shopify.com/store/{}",
            shop.shop_domain.trim_end_matches(".myshopify.com")
        ),
    );
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let mut params = vec![
        ("code", code.as_str()),
        ("host", host.as_str()),
        ("shop", shop.shop_domain.as_str()),
        ("state", state.as_str()),
        ("timestamp", timestamp.as_str()),
    ];
    params.sort();
    let hmac = oauth_hmac(&params, &inner.config.client_secret);
    params.insert(0, ("hmac", hmac.as_str()));
    http::redirect(&http::with_query(&redirect_uri, &params))
}

/// Shopify's `hmac` over the sorted, form-encoded query parameters (without `hmac`): hex
/// HMAC-SHA256 with the app's client secret.
pub(crate) fn oauth_hmac(sorted: &[(&str, &str)], secret: &str) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in sorted {
        serializer.append_pair(k, v);
    }
    let message = serializer.finish();
    hex::encode(concord_connectors::schemes::hmac_sha256(
        secret.as_bytes(),
        &[message.as_bytes()],
    ))
}

/// `POST /admin/oauth/access_token`: a code or a refresh token for an expiring offline
/// token.
async fn access_token(inner: web::Data<Inner>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = http::json_or_form(&req, &body);
    let client_id = http::field(&form, "client_id").unwrap_or_default();
    let client_secret = http::field(&form, "client_secret");
    let grant = http::field(&form, "grant_type");
    let result = {
        let mut oauth = inner.oauth();
        if grant.as_deref() == Some("refresh_token") {
            match http::field(&form, "refresh_token") {
                Some(token) => {
                    oauth.refresh(Some(&client_id), client_secret.as_deref(), true, &token)
                }
                None => Err(GrantError::InvalidGrant),
            }
        } else {
            match http::field(&form, "code") {
                Some(code) => {
                    oauth.exchange(&client_id, client_secret.as_deref(), &code, None, None)
                }
                None => Err(GrantError::InvalidGrant),
            }
        }
    };
    match result {
        Ok(issued) => HttpResponse::Ok().json(json!({
            "access_token": issued.access_token,
            "scope": issued.scope,
            "expires_in": issued.expires_in.as_secs(),
            "refresh_token": issued.refresh_token,
            "refresh_token_expires_in": issued.refresh_expires_in.map(|d| d.as_secs()),
        })),
        Err(GrantError::InvalidClient) => http::json(
            401,
            &json!({"error": "invalid_client", "error_description": "Client credentials are invalid"}),
        ),
        Err(_) => http::json(
            400,
            &json!({"error": "invalid_request", "error_description": "The authorization code or refresh token was not found or was already used"}),
        ),
    }
}
