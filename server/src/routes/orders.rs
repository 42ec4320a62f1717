//! Merged orders across channels, oversells, and the normalized event intake for custom
//! channels and scripts.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, OrderId, Permission, ValidationError, events::InboundEvent, orders::OrderStatus,
};
use concord_storage::{
    Applied, CustomerRecord, OrderDetail, OrderQuery, OrderSummary, OversellRecord, StorageError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiError, ApiResult, ErrorBody},
    routes::{catalog::page_size, path_id},
    state::AppState,
};

/// Most events one intake call may carry.
const MAX_EVENTS: usize = 500;

/// An order in the merged feed.
#[derive(Serialize, ToSchema)]
pub struct OrderOut {
    /// `ord_…`
    #[schema(value_type = String)]
    pub id: OrderId,
    /// The channel.
    #[schema(value_type = String)]
    pub connection_id: ConnectionId,
    /// The platform's order id.
    pub external_id: String,
    /// Status.
    pub status: OrderStatus,
    /// ISO currency.
    pub currency: String,
    /// Total in minor units.
    pub total_minor: i64,
    /// The customer merged across channels.
    #[schema(value_type = Option<Object>)]
    pub customer: Option<Value>,
    /// A line could not be covered by stock.
    pub oversold: bool,
    /// When placed.
    pub placed_at: DateTime<Utc>,
}

impl From<OrderSummary> for OrderOut {
    fn from(o: OrderSummary) -> Self {
        Self {
            id: o.id,
            connection_id: o.connection_id,
            external_id: o.external_id,
            status: o.status,
            currency: o.currency,
            total_minor: o.total_minor,
            customer: o.customer.map(customer_json),
            oversold: o.oversold,
            placed_at: o.placed_at,
        }
    }
}

fn customer_json(c: CustomerRecord) -> Value {
    json!({ "id": c.id, "email": c.email, "phone": c.phone, "name": c.name })
}

/// A page of orders.
#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    /// Newest first.
    pub items: Vec<OrderOut>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Order filters.
#[derive(Deserialize, IntoParams)]
pub struct OrderParams {
    /// Only from this connection.
    pub channel: Option<String>,
    /// Only in this status.
    pub status: Option<OrderStatus>,
    /// Placed at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Placed before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only oversold orders.
    #[serde(default)]
    pub oversold: bool,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
}

/// The merged order feed across channels, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/orders", tag = "orders",
    params(("tenant_id" = String, Path), OrderParams),
    responses((status = 200, body = OrderPage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<OrderParams>,
) -> ApiResult<web::Json<OrderPage>> {
    let p = params.into_inner();
    let query = OrderQuery {
        connection_id: p
            .channel
            .as_deref()
            .map(|c| parse(c, "channel"))
            .transpose()?,
        status: p.status,
        from: p.from,
        to: p.to,
        oversold_only: p.oversold,
        after: p
            .cursor
            .as_deref()
            .map(|c| parse(c, "cursor"))
            .transpose()?,
        limit: page_size(p.limit),
    };
    let page = access.repos(&state).orders(&query).await?;
    Ok(web::Json(OrderPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One order with lines, payments, refunds, returns, fulfilments and oversells.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/orders/{order_id}", tag = "orders",
    params(("tenant_id" = String, Path), ("order_id" = String, Path)),
    responses((status = 200, description = "The order", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Value>> {
    let id: OrderId = path_id(&path.1)?;
    Ok(web::Json(detail_json(
        access.repos(&state).order(&id).await?,
    )))
}

fn detail_json(d: OrderDetail) -> Value {
    let mut out = serde_json::to_value(OrderOut::from(d.summary)).unwrap_or_default();
    let lines: Vec<Value> = d
        .lines
        .into_iter()
        .map(|l| {
            json!({ "external_line_id": l.external_line_id, "sku_code": l.sku_code, "sku_id": l.sku_id,
                    "location_id": l.location_id, "quantity": l.quantity, "fulfilled_quantity": l.fulfilled_quantity,
                    "unit_price_minor": l.unit_price_minor })
        })
        .collect();
    let payments: Vec<Value> = d
        .payments
        .into_iter()
        .map(|p| json!({ "external_id": p.external_id, "status": p.status, "amount_minor": p.amount_minor,
                          "currency": p.currency, "occurred_at": p.occurred_at }))
        .collect();
    let refunds: Vec<Value> = d
        .refunds
        .into_iter()
        .map(|r| json!({ "external_id": r.external_id, "amount_minor": r.amount_minor, "currency": r.currency,
                          "restocked": r.restocked, "occurred_at": r.occurred_at }))
        .collect();
    let returns: Vec<Value> = d
        .returns
        .into_iter()
        .map(|r| {
            json!({ "external_id": r.external_id, "sku_code": r.sku_code, "quantity": r.quantity,
                          "disposition": r.disposition, "received_at": r.received_at })
        })
        .collect();
    let fulfilments: Vec<Value> = d
        .fulfilments
        .into_iter()
        .map(|f| json!({ "external_id": f.external_id, "carrier": f.carrier, "tracking": f.tracking, "created_at": f.created_at }))
        .collect();
    let oversells: Vec<Value> = d.oversells.into_iter().map(oversell_json).collect();
    if let Some(map) = out.as_object_mut() {
        map.insert("lines".into(), lines.into());
        map.insert("payments".into(), payments.into());
        map.insert("refunds".into(), refunds.into());
        map.insert("returns".into(), returns.into());
        map.insert("fulfilments".into(), fulfilments.into());
        map.insert("oversells".into(), oversells.into());
    }
    out
}

fn oversell_json(o: OversellRecord) -> Value {
    json!({ "order_id": o.order_id, "sku_id": o.sku_id, "location_id": o.location_id, "shortfall": o.shortfall,
            "policy": o.policy, "created_at": o.created_at })
}

/// Recent oversells: orders that sold units stock could not cover.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/oversells", tag = "orders",
    params(("tenant_id" = String, Path)),
    responses((status = 200, description = "Newest first", body = Vec<Object>), (status = 404, body = ErrorBody)))]
pub async fn oversells(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<Value>>> {
    let found = access.repos(&state).oversells(200).await?;
    Ok(web::Json(found.into_iter().map(oversell_json).collect()))
}

/// Normalized events from one connection.
#[derive(Deserialize, ToSchema)]
pub struct EventsIn {
    /// Up to 500 events (`type`: order_placed, order_updated, order_cancelled,
    /// payment_captured, payment_failed, refund_issued, return_received, fulfilment_created,
    /// stock_level_reported, stock_adjusted, product_upserted).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
}

/// Applies normalized commerce events from a connection (owner, admin, staff) — for custom
/// channels and scripts. Each event is applied on its own, idempotently by its `event_id`;
/// the answer reports each one's outcome in order.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/events", tag = "orders",
    request_body = EventsIn, params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, description = "One outcome per event", body = Object), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ingest(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<EventsIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let connection_id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    repos.connection(&connection_id).await?;
    if body.events.len() > MAX_EVENTS {
        return Err(ValidationError {
            field: "events",
            message: format!("at most {MAX_EVENTS} events per call"),
        }
        .into());
    }
    let parsed: Vec<Result<InboundEvent, String>> = body
        .events
        .iter()
        .map(|raw| serde_json::from_value(raw.clone()).map_err(|e| e.to_string()))
        .collect();
    let tenant = access.scope.tenant_id().as_str();
    let valid: Vec<InboundEvent> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    // All valid events in one transaction; if one is refused, apply them one by one so the
    // others still land and the refused one is named.
    let applied: Vec<Value> = match repos.apply_events(&connection_id, &valid).await {
        Ok(all) => {
            state.live.applied(tenant, &all).await;
            valid
                .iter()
                .zip(all)
                .map(|(e, a)| outcome_json(&e.event_id, a))
                .collect()
        }
        Err(StorageError::Conflict(_)) => {
            let mut one_by_one = Vec::with_capacity(valid.len());
            for event in &valid {
                one_by_one.push(match repos.apply_event(&connection_id, event).await {
                    Ok(a) => {
                        state.live.applied(tenant, std::slice::from_ref(&a)).await;
                        outcome_json(&event.event_id, a)
                    }
                    Err(StorageError::Conflict(message)) => {
                        json!({ "event_id": event.event_id, "status": "rejected", "error": message })
                    }
                    Err(other) => return Err(ApiError::from(other)),
                });
            }
            one_by_one
        }
        Err(other) => return Err(ApiError::from(other)),
    };
    let mut applied = applied.into_iter();
    let outcomes: Vec<Value> = parsed
        .into_iter()
        .map(|p| match p {
            Ok(_) => applied.next().unwrap_or(Value::Null),
            Err(error) => json!({ "status": "invalid", "error": error }),
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "results": outcomes })))
}

fn outcome_json(event_id: &str, a: Applied) -> Value {
    let status = if a.ignored.is_some() {
        "ignored"
    } else {
        "applied"
    };
    json!({
        "event_id": event_id,
        "status": status,
        "reason": a.ignored,
        "order_id": a.order_id,
        "movements": a.movements,
        "availability_changed": a.availability.len(),
        "oversells": a.oversells.iter().map(|o| json!({ "sku_id": o.sku_id, "location_id": o.location_id,
            "shortfall": o.shortfall, "policy": o.policy.as_str() })).collect::<Vec<_>>(),
    })
}

fn parse<T: TryFrom<String>>(raw: &str, field: &'static str) -> Result<T, ApiError> {
    T::try_from(raw.to_owned()).map_err(|_| {
        ValidationError {
            field,
            message: format!("`{raw}` is not a valid id"),
        }
        .into()
    })
}
