//! Lightspeed Retail (R-Series): the V3 API under `/API/V3/Account/{accountID}/…json`
//! with Bearer tokens from an OAuth server that rotates **both** tokens on every refresh
//! (the old refresh token dies on use), a leaky bucket of 90 units draining 1/s (GET costs
//! 1, writes 10) reported in `X-LS-API-Bucket-Level`, cursor pagination through
//! `@attributes.next`/`previous` URLs, and no webhooks: every change is pollable through
//! `timeStamp` filters (`Sale.json?timeStamp=>,2024-…`, `ItemShop.json?timeStamp=>,…`).
//!
//! The wire quirks are kept: numbers and booleans are JSON strings, and a relation with
//! one child is an object instead of a one-element array. A refund is a return sale with
//! negative quantities.

mod resources;

use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, http::Method, web};
use serde_json::{Value, json};

use crate::{
    config::SimConfig,
    core::{Change, Core, Time},
    http,
    oauth::{AccessError, GrantError},
    platform::{DeliveryPolicy, Failure, Outgoing, PlatformApi},
    ratelimit::LeakyBucket,
    server::{Inner, lock},
};

/// Lightspeed's timestamps: seconds with an offset.
pub(crate) fn time(t: Time) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// An error in Lightspeed's shape.
pub(crate) fn error(status: u16, message: &str, class: &str) -> HttpResponse {
    let reason = actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    http::json(
        status,
        &json!({
            "httpCode": status.to_string(),
            "httpMessage": reason,
            "message": message,
            "errorClass": class,
        }),
    )
}

/// A sale as Lightspeed numbers them: sales and return sales share one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SaleRef {
    Sale { order: u64 },
    Return { order: u64, refund: u64 },
}

/// The Lightspeed R-Series simulator.
pub(crate) struct LightspeedR {
    account_id: u64,
    base_url: String,
    bucket: Mutex<LeakyBucket>,
    /// Every sale and return sale, `saleID` = index + 1.
    sales: Mutex<Vec<SaleRef>>,
}

impl LightspeedR {
    /// A simulator for `config` served at `base_url`.
    pub fn new(config: &SimConfig, base_url: &str) -> Self {
        let limit = config.rate_limit.unwrap_or(crate::RateLimit {
            capacity: 90.0,
            per_second: 1.0,
        });
        Self {
            account_id: 184_467,
            base_url: base_url.to_owned(),
            bucket: Mutex::new(LeakyBucket::new(limit)),
            sales: Mutex::new(Vec::new()),
        }
    }

    /// The `saleID` of `sale`.
    pub(crate) fn sale_id(&self, sale: SaleRef) -> Option<u64> {
        lock(&self.sales)
            .iter()
            .position(|s| *s == sale)
            .map(|i| i as u64 + 1)
    }

    /// The sale with `saleID` `id`.
    pub(crate) fn sale(&self, id: u64) -> Option<SaleRef> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        lock(&self.sales).get(index).copied()
    }

    /// Every sale, with its `saleID`.
    pub(crate) fn sales(&self) -> Vec<(u64, SaleRef)> {
        lock(&self.sales)
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u64 + 1, *s))
            .collect()
    }

    fn bucket_headers(&self, bucket: &mut LeakyBucket, cost: f64) -> Vec<(String, String)> {
        let level = bucket.level();
        let shown = if level.fract() == 0.0 {
            format!("{level:.0}")
        } else {
            format!("{level:.1}")
        };
        vec![
            (
                "X-LS-API-Bucket-Level".into(),
                format!("{shown}/{:.0}", bucket.capacity()),
            ),
            (
                "X-LS-API-Drip-Rate".into(),
                format!("{}", bucket.per_second()),
            ),
            ("X-LS-API-Request-Cost".into(), format!("{cost}")),
        ]
    }
}

fn cost(req: &HttpRequest) -> f64 {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        1.0
    } else {
        10.0
    }
}

impl PlatformApi for LightspeedR {
    fn register(self: Arc<Self>, app: &mut web::ServiceConfig) {
        app.app_data(web::Data::from(self))
            .route("/auth/oauth/authorize", web::get().to(authorize))
            .route("/auth/oauth/token", web::post().to(token));
    }

    fn api_prefix(&self) -> &'static str {
        "/API"
    }

    fn api_routes(&self, api: &mut web::ServiceConfig) {
        resources::routes(api);
    }

    fn api_base(&self, base_url: &str) -> String {
        format!("{base_url}/API/V3/Account/{}", self.account_id)
    }

    fn info(&self) -> Value {
        json!({"account_id": self.account_id.to_string()})
    }

    fn authenticate(&self, inner: &Inner, req: &HttpRequest) -> Result<(), http::Refusal> {
        match inner.oauth().check(http::bearer(req).as_deref()) {
            Ok(()) => Ok(()),
            Err(AccessError::Expired) => {
                Err(Box::new(error(401, "Expired access token.", "Exception")))
            }
            Err(_) => Err(Box::new(error(401, "Invalid access token.", "Exception"))),
        }
    }

    fn admit(&self, req: &HttpRequest) -> Result<Vec<(String, String)>, http::Refusal> {
        let cost = cost(req);
        let mut bucket = lock(&self.bucket);
        match bucket.try_take(cost) {
            Ok(()) => Ok(self.bucket_headers(&mut bucket, cost)),
            Err(wait) => {
                let mut response = error(
                    429,
                    "Rate limit exceeded: the bucket is full. Wait for it to drain (see Retry-After).",
                    "RateLimitException",
                );
                let mut headers = self.bucket_headers(&mut bucket, cost);
                headers.push(("Retry-After".into(), format!("{}", wait.ceil().max(1.0))));
                for (name, value) in headers {
                    if let (Ok(name), Ok(value)) = (
                        actix_web::http::header::HeaderName::try_from(name.as_str()),
                        actix_web::http::header::HeaderValue::try_from(value.as_str()),
                    ) {
                        response.headers_mut().insert(name, value);
                    }
                }
                Err(Box::new(response))
            }
        }
    }

    fn failure(&self, failure: Failure, _req: &HttpRequest) -> HttpResponse {
        match failure {
            Failure::Storm { retry_after } => {
                let mut response = error(429, "Rate limit exceeded.", "RateLimitException");
                if let Ok(value) =
                    actix_web::http::header::HeaderValue::from_str(&retry_after.to_string())
                {
                    response
                        .headers_mut()
                        .insert(actix_web::http::header::RETRY_AFTER, value);
                }
                response
            }
            Failure::Injected(status) => error(status, "An internal error occurred.", "Exception"),
            Failure::NotFound => error(
                404,
                "The requested resource does not exist.",
                "NotFoundException",
            ),
        }
    }

    fn on_change(&self, _core: &Core, change: &Change) -> Vec<Outgoing> {
        // No webhooks: sales and returns are numbered here and polled.
        match *change {
            Change::OrderCreated { order } => lock(&self.sales).push(SaleRef::Sale { order }),
            Change::RefundCreated { order, refund } => {
                lock(&self.sales).push(SaleRef::Return { order, refund });
            }
            _ => {}
        }
        Vec::new()
    }

    fn delivery_policy(&self) -> DeliveryPolicy {
        DeliveryPolicy {
            first_delay: std::time::Duration::ZERO,
            retries: Vec::new(),
            timeout: std::time::Duration::from_secs(10),
            success_up_to: 299,
        }
    }

    fn order_ref(&self, _core: &Core, order: u64) -> String {
        self.sale_id(SaleRef::Sale { order })
            .map(|id| id.to_string())
            .unwrap_or_default()
    }

    fn refund_ref(&self, _core: &Core, order: u64, refund: u64) -> String {
        self.sale_id(SaleRef::Return { order, refund })
            .map(|id| id.to_string())
            .unwrap_or_default()
    }

    fn parse_order_ref(&self, _core: &Core, reference: &str) -> Option<u64> {
        match self.sale(reference.trim().parse().ok()?)? {
            SaleRef::Sale { order } => Some(order),
            SaleRef::Return { .. } => None,
        }
    }
}

/// `GET /auth/oauth/authorize`: the merchant approves at once; back to `redirect_uri`
/// with `code` and `state`.
async fn authorize(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let query = http::query_pairs(&req);
    let client_id = http::query_value(&query, "client_id").unwrap_or_default();
    let Some(redirect_uri) = http::query_value(&query, "redirect_uri") else {
        return HttpResponse::BadRequest()
            .content_type("text/html")
            .body("<h1>The application has no redirect URI: pass redirect_uri</h1>");
    };
    let scope = http::query_value(&query, "scope").unwrap_or_else(|| "employee:all".into());
    let state = http::query_value(&query, "state").unwrap_or_default();
    let code = {
        let mut oauth = inner.oauth();
        if !oauth.is_client(&client_id) {
            return HttpResponse::BadRequest()
                .content_type("text/html")
                .body("<h1>Unknown client_id</h1>");
        }
        oauth.authorize(Some(&redirect_uri), &scope, None)
    };
    http::redirect(&http::with_query(
        &redirect_uri,
        &[("code", code.as_str()), ("state", state.as_str())],
    ))
}

/// `POST /auth/oauth/token`: a code or a refresh token; both tokens rotate on refresh.
async fn token(inner: web::Data<Inner>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = http::json_or_form(&req, &body);
    let client_id = http::field(&form, "client_id").unwrap_or_default();
    let secret = http::field(&form, "client_secret");
    let grant = http::field(&form, "grant_type").unwrap_or_default();
    let result = {
        let mut oauth = inner.oauth();
        match (
            grant.as_str(),
            http::field(&form, "code"),
            http::field(&form, "refresh_token"),
        ) {
            ("authorization_code", Some(code), _) => oauth.exchange(
                &client_id,
                secret.as_deref(),
                &code,
                http::field(&form, "redirect_uri").as_deref(),
                None,
            ),
            ("refresh_token", _, Some(refresh)) => {
                oauth.refresh(Some(&client_id), secret.as_deref(), true, &refresh)
            }
            _ => Err(GrantError::InvalidGrant),
        }
    };
    match result {
        Ok(issued) => HttpResponse::Ok().json(json!({
            "access_token": issued.access_token,
            "expires_in": issued.expires_in.as_secs(),
            "token_type": "Bearer",
            "scope": format!("{} systemuserid:1", issued.scope),
            "refresh_token": issued.refresh_token,
        })),
        Err(GrantError::InvalidClient) => http::json(
            401,
            &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ),
        Err(_) => http::json(
            400,
            &json!({"error": "invalid_grant", "error_description": "The authorization grant or refresh token is invalid, expired or revoked"}),
        ),
    }
}
