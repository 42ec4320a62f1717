//! The control API every simulator serves beside its platform API, for the demo, tests
//! and benchmarks. JSON in and out; errors are `{"error": "…"}` with the right status.
//!
//! | Route | Does |
//! |---|---|
//! | `POST /_sim/sale` | a customer buys ([`SaleRequest`] → [`SaleOutcome`]); 409 when out of stock |
//! | `POST /_sim/refund` | a refund, optionally restocking ([`RefundRequest`] → [`RefundOutcome`]) |
//! | `POST /_sim/adjust` | a merchant's stock edit in the platform's admin ([`AdjustRequest`]) |
//! | `GET /_sim/stock?sku=S[&location=L]` | stock as the platform shows it ([`StockReport`]) |
//! | `POST /_sim/products` | adds products (a list of [`crate::SeedProduct`]) |
//! | `GET`/`POST /_sim/faults` | reads or changes [`Faults`] (partial; `{"reset": true}` clears) |
//! | `GET /_sim/stats` | [`crate::Stats`] |
//! | `POST /_sim/webhook` | `{"url": "…"}` (or `null`) points webhooks elsewhere |
//! | `POST /_sim/expire_tokens` | ages every issued OAuth access token past its expiry |
//! | `GET /_sim/info` | base URLs, credentials, account facts |
//! | `GET /_sim/events?after=N` | the shop's change log |
//! | `GET /_sim/deliveries` | webhook delivery attempts |
//! | `GET /_sim/requests` | recent API requests with their status |

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    SeedProduct,
    core::{Cause, CoreError, RefundSpec},
    faults::{Faults, FaultsPatch},
    server::{Inner, core_status},
};

/// A customer's purchase: one SKU (`sku`, `quantity`), several `lines`, or — on Stripe —
/// just an `amount` in minor units.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SaleRequest {
    /// The SKU bought.
    #[serde(default)]
    pub sku: Option<String>,
    /// Units of `sku` (default 1).
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Several SKUs in one order.
    #[serde(default)]
    pub lines: Vec<SaleLine>,
    /// Location name or id; the first location when absent.
    #[serde(default)]
    pub location: Option<String>,
    /// A payment for an amount with no products (minor units).
    #[serde(default, alias = "amount_minor")]
    pub amount: Option<i64>,
    /// The currency of `amount` (the shop's currency when absent).
    #[serde(default)]
    pub currency: Option<String>,
    /// The payment method (`card`, `cash`, Stripe's `pm_card_visa`, …).
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// One SKU in a [`SaleRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    /// The SKU.
    pub sku: String,
    /// Units.
    pub quantity: i64,
}

/// What a sale produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleOutcome {
    /// The order id as the platform shows it (Stripe: the PaymentIntent id).
    pub order_id: String,
    /// Stock of the (first) SKU at the location after the sale; `None` where the platform
    /// keeps no stock.
    pub quantity_after: Option<i64>,
    /// Stock of every SKU sold, after the sale.
    pub stock_after: BTreeMap<String, i64>,
    /// The order total in minor units.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: String,
}

/// A refund on an order from [`SaleOutcome::order_id`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RefundRequest {
    /// The platform's order id.
    pub order_id: String,
    /// Only this SKU's line (every line with units left when absent).
    #[serde(default)]
    pub sku: Option<String>,
    /// Units (all that are left when absent).
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Money in minor units instead of units (payments without lines).
    #[serde(default, alias = "amount_minor")]
    pub amount: Option<i64>,
    /// Whether the units go back into stock.
    #[serde(default)]
    pub restock: bool,
    /// Free text.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a refund produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOutcome {
    /// The refund id as the platform shows it.
    pub refund_id: String,
    /// Money given back, minor units.
    pub amount_minor: i64,
    /// Stock of every SKU refunded, after the refund.
    pub stock_after: BTreeMap<String, i64>,
}

/// A merchant's stock edit: `quantity` sets the figure, `delta` moves it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AdjustRequest {
    /// The SKU.
    pub sku: String,
    /// The new figure.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// A relative change.
    #[serde(default)]
    pub delta: Option<i64>,
    /// Location name or id; the first when absent.
    #[serde(default)]
    pub location: Option<String>,
}

/// Stock of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReport {
    /// The SKU.
    pub sku: String,
    /// Units at `location`.
    pub quantity: i64,
    /// The location reported.
    pub location: String,
    /// Units at every location.
    pub locations: BTreeMap<String, i64>,
}

/// A refused control call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlError {
    /// HTTP status.
    pub status: u16,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for ControlError {}

impl From<CoreError> for ControlError {
    fn from(e: CoreError) -> Self {
        Self {
            status: core_status(&e),
            message: e.to_string(),
        }
    }
}

impl ControlError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn response(&self) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
        HttpResponse::build(status).json(json!({ "error": self.message }))
    }
}

/// Registers the `/_sim` routes.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sim")
            .route("/sale", web::post().to(sale_route))
            .route("/refund", web::post().to(refund_route))
            .route("/adjust", web::post().to(adjust_route))
            .route("/stock", web::get().to(stock_route))
            .route("/products", web::post().to(products_route))
            .route("/faults", web::get().to(faults_get))
            .route("/faults", web::post().to(faults_post))
            .route("/stats", web::get().to(stats_route))
            .route("/webhook", web::post().to(webhook_route))
            .route("/expire_tokens", web::post().to(expire_route))
            .route("/info", web::get().to(info_route))
            .route("/events", web::get().to(events_route))
            .route("/deliveries", web::get().to(deliveries_route))
            .route("/requests", web::get().to(requests_route)),
    );
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|e| {
        ControlError::new(
            400,
            format!("the body is not valid JSON for this call: {e}"),
        )
    })
}

fn answer<T: Serialize>(result: Result<T, ControlError>) -> HttpResponse {
    match result {
        Ok(value) => HttpResponse::Ok().json(value),
        Err(e) => e.response(),
    }
}

fn location_of(core: &crate::core::Core, name: Option<&str>) -> Result<usize, ControlError> {
    match name {
        None => Ok(0),
        Some(name) => core
            .location_index(name)
            .ok_or_else(|| ControlError::new(404, format!("no location `{name}`"))),
    }
}

fn stock_of(core: &crate::core::Core, skus: &[String], location: usize) -> BTreeMap<String, i64> {
    skus.iter()
        .filter_map(|sku| {
            let p = core.product_by_sku(sku)?;
            Some((sku.clone(), p.levels.get(location)?.quantity))
        })
        .collect()
}

/// See [`SaleRequest`].
pub(crate) fn sale(inner: &Inner, req: &SaleRequest) -> Result<SaleOutcome, ControlError> {
    let now = Utc::now();
    let method = req.payment_method.clone().unwrap_or_else(|| "card".into());
    let mut lines: Vec<SaleLine> = req.lines.clone();
    if let Some(sku) = &req.sku {
        lines.insert(
            0,
            SaleLine {
                sku: sku.clone(),
                quantity: req.quantity.unwrap_or(1),
            },
        );
    }
    let skus: Vec<String> = lines.iter().map(|l| l.sku.clone()).collect();
    let (order, location) = inner.mutate(|core| {
        let location = location_of(core, req.location.as_deref())?;
        if lines.is_empty() {
            let Some(amount) = req.amount else {
                return Err(ControlError::new(
                    400,
                    "a sale needs a `sku`, `lines`, or an `amount`",
                ));
            };
            let currency = req
                .currency
                .clone()
                .unwrap_or_else(|| inner.config.currency.clone());
            let (order, changes) = core.sell_amount(amount, &currency, &method, now)?;
            return Ok(((order, location), changes));
        }
        let mut resolved = Vec::with_capacity(lines.len());
        for line in &lines {
            let product = core
                .product_by_sku(&line.sku)
                .ok_or_else(|| ControlError::new(404, format!("unknown SKU `{}`", line.sku)))?;
            resolved.push((product.id, line.quantity));
        }
        let (order, changes) = core.sell(&resolved, location, &method, now)?;
        Ok(((order, location), changes))
    })?;
    let core = inner.core();
    let o = core
        .order(order)
        .ok_or_else(|| ControlError::new(500, "the order vanished"))?;
    let stock_after = if core.tracks_stock() {
        stock_of(&core, &skus, location)
    } else {
        BTreeMap::new()
    };
    Ok(SaleOutcome {
        order_id: inner.platform.order_ref(&core, order),
        quantity_after: skus.first().and_then(|s| stock_after.get(s).copied()),
        stock_after,
        amount_minor: o.total_minor,
        currency: o.currency.clone(),
    })
}

/// See [`RefundRequest`].
pub(crate) fn refund(inner: &Inner, req: &RefundRequest) -> Result<RefundOutcome, ControlError> {
    let now = Utc::now();
    let spec = RefundSpec {
        sku: req.sku.clone(),
        quantity: req.quantity,
        amount_minor: req.amount,
        restock: req.restock,
        reason: req.reason.clone(),
    };
    let (order, refund) = inner.mutate(|core| {
        let order = inner
            .platform
            .parse_order_ref(core, &req.order_id)
            .ok_or_else(|| ControlError::new(404, format!("no order `{}`", req.order_id)))?;
        let (refund, changes) = core.refund(order, &spec, now)?;
        Ok::<_, ControlError>(((order, refund), changes))
    })?;
    let core = inner.core();
    let o = core
        .order(order)
        .ok_or_else(|| ControlError::new(500, "the order vanished"))?;
    let r = o
        .refunds
        .iter()
        .find(|r| r.id == refund)
        .ok_or_else(|| ControlError::new(500, "the refund vanished"))?;
    let skus: Vec<String> = r
        .lines
        .iter()
        .filter_map(|rl| o.line(rl.line).map(|l| l.sku.clone()))
        .collect();
    let stock_after = if core.tracks_stock() {
        stock_of(&core, &skus, o.location)
    } else {
        BTreeMap::new()
    };
    Ok(RefundOutcome {
        refund_id: inner.platform.refund_ref(&core, order, refund),
        amount_minor: r.amount_minor,
        stock_after,
    })
}

/// See [`AdjustRequest`].
pub(crate) fn adjust(inner: &Inner, req: &AdjustRequest) -> Result<StockReport, ControlError> {
    let now = Utc::now();
    let location = inner.mutate(|core| {
        if !core.tracks_stock() {
            return Err(ControlError::new(404, "this platform keeps no stock"));
        }
        let location = location_of(core, req.location.as_deref())?;
        let product = core
            .product_by_sku(&req.sku)
            .ok_or_else(|| ControlError::new(404, format!("unknown SKU `{}`", req.sku)))?;
        let current = product.levels[location].quantity;
        let id = product.id;
        let target = match (req.quantity, req.delta) {
            (Some(q), None) => q,
            (None, Some(d)) => current + d,
            _ => {
                return Err(ControlError::new(
                    400,
                    "give either `quantity` (the new figure) or `delta` (a change)",
                ));
            }
        };
        let change = core.set_stock(id, location, target, Cause::Merchant, now)?;
        Ok((location, change.into_iter().collect()))
    })?;
    let core = inner.core();
    report(&core, &req.sku, location)
}

fn report(
    core: &crate::core::Core,
    sku: &str,
    location: usize,
) -> Result<StockReport, ControlError> {
    let product = core
        .product_by_sku(sku)
        .ok_or_else(|| ControlError::new(404, format!("unknown SKU `{sku}`")))?;
    let locations = core
        .locations
        .iter()
        .zip(&product.levels)
        .map(|(l, level)| (l.name.clone(), level.quantity))
        .collect();
    Ok(StockReport {
        sku: sku.to_owned(),
        quantity: product.levels.get(location).map_or(0, |l| l.quantity),
        location: core
            .locations
            .get(location)
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        locations,
    })
}

/// Stock as the platform shows it.
pub(crate) fn stock(
    inner: &Inner,
    sku: &str,
    location: Option<&str>,
) -> Result<StockReport, ControlError> {
    let core = inner.core();
    if !core.tracks_stock() {
        return Err(ControlError::new(404, "this platform keeps no stock"));
    }
    let location = location_of(&core, location)?;
    report(&core, sku, location)
}

/// Adds products; answers how many.
pub(crate) fn add_products(inner: &Inner, products: &[SeedProduct]) -> Result<usize, ControlError> {
    let now = Utc::now();
    inner.mutate(|core| {
        // All or nothing: check every SKU before adding any.
        let mut seen = std::collections::HashSet::new();
        for p in products {
            if core.product_by_sku(p.sku.trim()).is_some() || !seen.insert(p.sku.trim()) {
                return Err(ControlError::new(
                    409,
                    format!("SKU `{}` already exists", p.sku),
                ));
            }
        }
        let mut changes = Vec::new();
        for p in products {
            let (_, more) = core.add_product(p, now)?;
            changes.extend(more);
        }
        Ok((products.len(), changes))
    })
}

/// `GET /_sim/info`.
pub(crate) fn info(inner: &Inner) -> Value {
    let core = inner.core();
    let locations: Vec<Value> = core
        .locations
        .iter()
        .map(|l| json!({"id": l.id, "name": l.name}))
        .collect();
    json!({
        "platform": inner.config.platform.slug(),
        "base_url": inner.base_url,
        "api_base": inner.api_base(),
        "client_id": inner.config.client_id,
        "client_secret": inner.config.client_secret,
        "access_token": inner.config.access_token,
        "webhook_url": inner.webhook_url(),
        "webhook_secret": inner.config.webhook_secret,
        "locations": locations,
        "products": core.products.len(),
        "platform_facts": inner.platform.info(),
    })
}

async fn sale_route(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    answer(parse::<SaleRequest>(&body).and_then(|req| sale(&inner, &req)))
}

async fn refund_route(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    answer(parse::<RefundRequest>(&body).and_then(|req| refund(&inner, &req)))
}

async fn adjust_route(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    answer(parse::<AdjustRequest>(&body).and_then(|req| adjust(&inner, &req)))
}

#[derive(Debug, Deserialize)]
struct StockQuery {
    sku: Option<String>,
    location: Option<String>,
}

async fn stock_route(inner: web::Data<Inner>, query: web::Query<StockQuery>) -> HttpResponse {
    answer(match &query.sku {
        Some(sku) => stock(&inner, sku, query.location.as_deref()),
        None => Err(ControlError::new(400, "`sku` is required")),
    })
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProductsBody {
    List(Vec<SeedProduct>),
    Wrapped { products: Vec<SeedProduct> },
    One(SeedProduct),
}

async fn products_route(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let products = match parse::<ProductsBody>(&body) {
        Ok(ProductsBody::List(list) | ProductsBody::Wrapped { products: list }) => list,
        Ok(ProductsBody::One(one)) => vec![one],
        Err(e) => return e.response(),
    };
    answer(add_products(&inner, &products).map(|added| json!({ "added": added })))
}

async fn faults_get(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(inner.faults())
}

async fn faults_post(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let result = parse::<FaultsPatch>(&body).and_then(|patch| {
        patch
            .apply(inner.faults())
            .map_err(|message| ControlError::new(400, message))
    });
    answer(result.inspect(|faults: &Faults| inner.set_faults(*faults)))
}

async fn stats_route(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(inner.stats.snapshot())
}

#[derive(Debug, Deserialize)]
struct WebhookBody {
    url: Option<String>,
}

async fn webhook_route(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    answer(parse::<WebhookBody>(&body).map(|b| {
        inner.set_webhook_url(b.url.clone());
        json!({ "url": b.url })
    }))
}

async fn expire_route(inner: web::Data<Inner>) -> HttpResponse {
    inner.oauth().expire_all();
    HttpResponse::Ok().json(json!({ "expired": true }))
}

async fn info_route(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(info(&inner))
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

async fn events_route(inner: web::Data<Inner>, query: web::Query<EventsQuery>) -> HttpResponse {
    let events = inner.core().log_since(
        query.after.unwrap_or(0),
        query.limit.unwrap_or(1000).min(10_000),
    );
    HttpResponse::Ok().json(json!({ "events": events }))
}

async fn deliveries_route(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "deliveries": inner.deliveries() }))
}

async fn requests_route(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "requests": inner.requests() }))
}
