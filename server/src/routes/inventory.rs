//! The inventory view, a SKU's ledger, and manual stock changes (adjustments, counts,
//! receipts, transfers).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, LocationId, Permission, ProductId, SkuId, ValidationError,
    catalog::Format,
    ledger::{MovementReason, StockLevel},
};
use concord_storage::{
    Change, ChannelAvailability, InventoryQuery, InventoryRow, LocationLevel, Movement,
    NewMovement, Scoped,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiError, ApiResult, ErrorBody},
    routes::{
        catalog::{SkuOut, page_size},
        path_id,
    },
    state::AppState,
};

/// Stock at one location.
#[derive(Serialize, ToSchema)]
pub struct LevelOut {
    /// The location.
    #[schema(value_type = String)]
    pub location_id: LocationId,
    /// Units present.
    pub on_hand: i64,
    /// Units promised to open orders.
    pub committed: i64,
    /// Units free to sell (never negative).
    pub sellable: i64,
}

impl From<LocationLevel> for LevelOut {
    fn from(l: LocationLevel) -> Self {
        Self {
            location_id: l.location_id,
            on_hand: l.level.on_hand,
            committed: l.level.committed,
            sellable: l.level.sellable(),
        }
    }
}

/// A channel's offer.
#[derive(Serialize, ToSchema)]
pub struct AvailabilityOut {
    /// The channel.
    #[schema(value_type = String)]
    pub connection_id: ConnectionId,
    /// What Concord computes it may offer.
    pub available: i64,
    /// What the platform last reported showing.
    pub reported: Option<i64>,
    /// The platform shows something else.
    pub discrepancy: bool,
    /// Why writing the offer to the platform failed (a permanent failure, or retries run
    /// out); a reconcile writes it again.
    pub push_error: Option<String>,
}

impl From<ChannelAvailability> for AvailabilityOut {
    fn from(a: ChannelAvailability) -> Self {
        Self {
            discrepancy: a.discrepancy(),
            connection_id: a.connection_id,
            available: a.available,
            reported: a.reported,
            push_error: a.push_error,
        }
    }
}

/// A SKU with its stock and offers.
#[derive(Serialize, ToSchema)]
pub struct SkuStockOut {
    /// The SKU.
    pub sku: SkuOut,
    /// Stock per location.
    pub levels: Vec<LevelOut>,
    /// Offer per channel.
    pub availability: Vec<AvailabilityOut>,
}

impl SkuStockOut {
    /// Loads a SKU's view.
    pub async fn load(repos: &Scoped<'_>, id: &SkuId) -> ApiResult<Self> {
        let sku = repos.sku(id).await?;
        Ok(Self {
            sku: sku.into(),
            levels: repos
                .levels(id)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
            availability: repos
                .availability_of(id)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        })
    }
}

/// One row of the inventory view.
#[derive(Serialize, ToSchema)]
pub struct InventoryRowOut {
    /// The SKU.
    #[schema(value_type = String)]
    pub sku_id: SkuId,
    /// Its code.
    pub code: String,
    /// Its barcode.
    pub barcode: Option<String>,
    /// Its product.
    #[schema(value_type = String)]
    pub product_id: ProductId,
    /// The title.
    pub title: String,
    /// The format.
    pub format: Format,
    /// A kit (stock is its components').
    pub is_kit: bool,
    /// Units present, all locations.
    pub on_hand: i64,
    /// Units committed, all locations.
    pub committed: i64,
    /// Stock per location.
    pub levels: Vec<LevelOut>,
    /// Offer per channel.
    pub availability: Vec<AvailabilityOut>,
    /// Some channel shows something other than Concord computes.
    pub discrepancy: bool,
}

impl From<InventoryRow> for InventoryRowOut {
    fn from(r: InventoryRow) -> Self {
        let total = r
            .levels
            .iter()
            .fold(StockLevel::default(), |t, l| StockLevel {
                on_hand: t.on_hand + l.level.on_hand,
                committed: t.committed + l.level.committed,
            });
        let availability: Vec<AvailabilityOut> =
            r.availability.into_iter().map(Into::into).collect();
        Self {
            discrepancy: availability.iter().any(|a| a.discrepancy),
            sku_id: r.sku_id,
            code: r.code,
            barcode: r.barcode,
            product_id: r.product_id,
            title: r.title,
            format: r.format,
            is_kit: r.is_kit,
            on_hand: total.on_hand,
            committed: total.committed,
            levels: r.levels.into_iter().map(Into::into).collect(),
            availability,
        }
    }
}

/// A page of the inventory view.
#[derive(Serialize, ToSchema)]
pub struct InventoryPage {
    /// Rows, by SKU code.
    pub items: Vec<InventoryRowOut>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Inventory filters.
#[derive(Deserialize, IntoParams)]
pub struct InventoryParams {
    /// SKU code or title containing this, or this barcode.
    pub search: Option<String>,
    /// Only SKUs stocked at this location.
    pub location: Option<String>,
    /// Only this format.
    pub format: Option<Format>,
    /// Only SKUs a platform shows differently.
    #[serde(default)]
    pub discrepancies: bool,
    /// Only SKUs with fewer sellable units in total.
    pub sellable_below: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
}

/// The unified inventory: one row per SKU with stock per location and offer per channel.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/inventory", tag = "inventory",
    params(("tenant_id" = String, Path), InventoryParams),
    responses((status = 200, body = InventoryPage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<InventoryParams>,
) -> ApiResult<web::Json<InventoryPage>> {
    let p = params.into_inner();
    let location = p
        .location
        .as_deref()
        .map(|l| LocationId::parse(l).map_err(|_| invalid("location", "is not a location id")))
        .transpose()?;
    let query = InventoryQuery {
        search: p.search,
        location,
        discrepancies_only: p.discrepancies,
        sellable_below: p.sellable_below,
        format: p.format,
        after: p.cursor,
        limit: page_size(p.limit),
    };
    let page = access.repos(&state).inventory(&query).await?;
    Ok(web::Json(InventoryPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A ledger entry.
#[derive(Serialize, ToSchema)]
pub struct MovementOut {
    /// Ledger sequence number.
    pub id: i64,
    /// Where.
    #[schema(value_type = String)]
    pub location_id: LocationId,
    /// Why.
    pub reason: MovementReason,
    /// Units added (negative: removed).
    pub delta: i64,
    /// The channel that caused it.
    pub source_connection_id: Option<String>,
    /// The platform event that caused it.
    pub source_event_id: Option<String>,
    /// Who: a user, a connection, or `system`.
    pub actor: String,
    /// Explanation.
    pub note: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When Concord recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl From<Movement> for MovementOut {
    fn from(m: Movement) -> Self {
        Self {
            id: m.id,
            location_id: m.location_id,
            reason: m.reason,
            delta: m.delta,
            source_connection_id: m.source_connection_id,
            source_event_id: m.source_event_id,
            actor: m.actor,
            note: m.note,
            occurred_at: m.occurred_at,
            recorded_at: m.recorded_at,
        }
    }
}

/// A page of a SKU's ledger.
#[derive(Serialize, ToSchema)]
pub struct MovementPage {
    /// Entries, oldest first.
    pub items: Vec<MovementOut>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Ledger paging.
#[derive(Deserialize, IntoParams)]
pub struct MovementParams {
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
}

/// A SKU's ledger, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/skus/{sku_id}/movements", tag = "inventory",
    params(("tenant_id" = String, Path), ("sku_id" = String, Path), MovementParams),
    responses((status = 200, body = MovementPage), (status = 404, body = ErrorBody)))]
pub async fn movements(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    params: web::Query<MovementParams>,
) -> ApiResult<web::Json<MovementPage>> {
    let id: SkuId = path_id(&path.1)?;
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| invalid("cursor", "is not a cursor from this listing"))
        })
        .transpose()?;
    let repos = access.repos(&state);
    repos.sku(&id).await?;
    let page = repos.movements(&id, after, page_size(params.limit)).await?;
    Ok(web::Json(MovementPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A manual stock change.
#[derive(Deserialize, ToSchema)]
pub struct AdjustmentIn {
    /// Where.
    #[schema(value_type = String)]
    pub location_id: String,
    /// `adjustment` (± units), `count` (the counted figure) or `receive` (units in).
    pub reason: MovementReason,
    /// Units to add (negative to remove) for `adjustment`/`receive`; the counted figure for `count`.
    pub quantity: i64,
    /// Why; required for `adjustment`.
    pub note: Option<String>,
}

/// Records a manual stock change (owner, admin, staff). An `Idempotency-Key` header makes
/// retries safe.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/skus/{sku_id}/adjustments", tag = "inventory",
    request_body = AdjustmentIn, params(("tenant_id" = String, Path), ("sku_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, body = SkuStockOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The SKU is a kit"), (status = 422, body = ErrorBody)))]
pub async fn adjust(
    state: web::Data<AppState>,
    req: HttpRequest,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<AdjustmentIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let id: SkuId = path_id(&path.1)?;
    let body = body.into_inner();
    let location_id = known_location(&access, &state, &body.location_id).await?;
    let note = body
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let change = match body.reason {
        MovementReason::Adjustment if note.is_none() => {
            return Err(invalid(
                "note",
                "is required for an adjustment: say why stock changed",
            ));
        }
        MovementReason::Adjustment if body.quantity == 0 => {
            return Err(invalid("quantity", "must not be 0"));
        }
        MovementReason::Adjustment => Change::Delta(body.quantity),
        MovementReason::Receive if body.quantity <= 0 => {
            return Err(invalid("quantity", "must be positive when receiving"));
        }
        MovementReason::Receive => Change::Delta(body.quantity),
        MovementReason::Count if body.quantity < 0 => {
            return Err(invalid("quantity", "a count cannot be negative"));
        }
        MovementReason::Count => Change::CountTo(body.quantity),
        _ => {
            return Err(invalid(
                "reason",
                "must be adjustment, count or receive (use transfers to move stock)",
            ));
        }
    };
    let repos = access.repos(&state);
    let recorded = repos
        .record_manual_movements(vec![NewMovement {
            sku_id: id.clone(),
            location_id,
            reason: body.reason,
            change,
            idempotency_key: idempotency_key(&req),
            source: None,
            order_line: None,
            actor: access.caller.user_id().to_string(),
            note,
            occurred_at: Utc::now(),
        }])
        .await?;
    state
        .live
        .stock_changed(access.scope.tenant_id().as_str(), &recorded.availability)
        .await;
    Ok(HttpResponse::Created().json(SkuStockOut::load(&repos, &id).await?))
}

/// Moving stock between locations.
#[derive(Deserialize, ToSchema)]
pub struct TransferIn {
    /// From.
    #[schema(value_type = String)]
    pub from_location_id: String,
    /// To.
    #[schema(value_type = String)]
    pub to_location_id: String,
    /// Units (≥ 1).
    pub quantity: i64,
    /// Why.
    pub note: Option<String>,
}

/// Moves units of a SKU between two locations as one pair of movements (owner, admin, staff).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/skus/{sku_id}/transfers", tag = "inventory",
    request_body = TransferIn, params(("tenant_id" = String, Path), ("sku_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, body = SkuStockOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn transfer(
    state: web::Data<AppState>,
    req: HttpRequest,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<TransferIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let id: SkuId = path_id(&path.1)?;
    let body = body.into_inner();
    if body.quantity <= 0 {
        return Err(invalid("quantity", "must be at least 1"));
    }
    let from = known_location(&access, &state, &body.from_location_id).await?;
    let to = known_location(&access, &state, &body.to_location_id).await?;
    if from == to {
        return Err(invalid(
            "to_location_id",
            "must differ from from_location_id",
        ));
    }
    let key = idempotency_key(&req);
    let leg = |location_id: LocationId, delta: i64, side: &str| NewMovement {
        sku_id: id.clone(),
        location_id,
        reason: MovementReason::Transfer,
        change: Change::Delta(delta),
        idempotency_key: key.as_ref().map(|k| format!("{k}:{side}")),
        source: None,
        order_line: None,
        actor: access.caller.user_id().to_string(),
        note: body.note.clone(),
        occurred_at: Utc::now(),
    };
    let repos = access.repos(&state);
    let recorded = repos
        .record_manual_movements(vec![
            leg(from, -body.quantity, "out"),
            leg(to, body.quantity, "in"),
        ])
        .await?;
    state
        .live
        .stock_changed(access.scope.tenant_id().as_str(), &recorded.availability)
        .await;
    Ok(HttpResponse::Created().json(SkuStockOut::load(&repos, &id).await?))
}

/// The location named in a body, checked to exist in the tenant.
async fn known_location(
    access: &TenantAccess,
    state: &AppState,
    raw: &str,
) -> ApiResult<LocationId> {
    let id = LocationId::parse(raw).map_err(|_| invalid("location_id", "is not a location id"))?;
    let exists = access
        .repos(state)
        .locations()
        .await?
        .iter()
        .any(|l| l.id == id);
    if !exists {
        return Err(invalid(
            "location_id",
            "names no location of this organization",
        ));
    }
    Ok(id)
}

/// The `Idempotency-Key` header, namespaced for manual changes.
fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(|k| format!("manual:{k}"))
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ValidationError {
        field,
        message: message.to_owned(),
    }
    .into()
}
