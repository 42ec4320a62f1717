//! Tenants: create another organization (agencies), read and rename one.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{OrganizationName, Permission, Role, TenantId, orders::OversellPolicy};
use concord_storage::Tenant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{Caller, TenantAccess},
    error::{ApiError, ApiResult, ErrorBody},
    state::AppState,
};

/// A tenant and the caller's role in it.
#[derive(Serialize, ToSchema)]
pub struct TenantOut {
    /// `tnt_…`
    #[schema(value_type = String)]
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// What happens to an order that loses the last unit to another channel.
    pub oversell_policy: OversellPolicy,
    /// Minutes between incremental reconciles of each connection.
    pub reconcile_every_minutes: i32,
    /// Hours between full reconciles of each connection.
    pub full_reconcile_every_hours: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The caller's role here.
    pub role: Role,
}

impl TenantOut {
    /// Pairs a tenant with the caller's role.
    pub fn new(t: Tenant, role: Role) -> Self {
        Self {
            id: t.id,
            name: t.name,
            oversell_policy: t.oversell_policy,
            reconcile_every_minutes: t.schedule.incremental_minutes,
            full_reconcile_every_hours: t.schedule.full_hours,
            created_at: t.created_at,
            role,
        }
    }
}

/// A tenant's name.
#[derive(Deserialize, ToSchema)]
pub struct TenantIn {
    /// 1 to 120 characters.
    pub name: String,
}

/// Creates another organization owned by the signed-in user.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = TenantIn, responses(
    (status = 201, body = TenantOut), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "API tokens cannot create organizations")))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TenantIn>,
) -> ApiResult<HttpResponse> {
    if matches!(caller, Caller::Token { .. }) {
        return Err(ApiError::forbidden(
            "an API token acts inside one organization; sign in to create organizations",
        ));
    }
    let name = OrganizationName::parse(&body.name)?;
    let tenant = state.store.create_tenant(caller.user_id(), &name).await?;
    Ok(HttpResponse::Created().json(TenantOut::new(tenant, Role::Owner)))
}

/// One tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = TenantOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<TenantOut>> {
    let tenant = access.repos(&state).tenant().await?;
    Ok(web::Json(TenantOut::new(tenant, access.scope.role())))
}

/// Changes to a tenant; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct TenantPatch {
    /// New name, 1 to 120 characters.
    pub name: Option<String>,
    /// `cancel`, `backorder` or `hold`.
    pub oversell_policy: Option<OversellPolicy>,
    /// Minutes between incremental reconciles, 5 to 1440.
    pub reconcile_every_minutes: Option<i32>,
    /// Hours between full reconciles, 1 to 168.
    pub full_reconcile_every_hours: Option<i32>,
}

/// Renames a tenant or changes its oversell policy or reconcile schedule (owner, admin).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}", tag = "tenants", request_body = TenantPatch,
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = TenantOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<TenantPatch>,
) -> ApiResult<web::Json<TenantOut>> {
    access.require(Permission::ManageTenant)?;
    let repos = access.repos(&state);
    let name = body
        .name
        .as_deref()
        .map(OrganizationName::parse)
        .transpose()?;
    if let Some(name) = &name {
        repos.rename(name).await?;
    }
    for (field, value, range) in [
        (
            "reconcile_every_minutes",
            body.reconcile_every_minutes,
            5..=1440,
        ),
        (
            "full_reconcile_every_hours",
            body.full_reconcile_every_hours,
            1..=168,
        ),
    ] {
        if value.is_some_and(|v| !range.contains(&v)) {
            return Err(concord_domain::ValidationError {
                field,
                message: format!("must be between {} and {}", range.start(), range.end()),
            }
            .into());
        }
    }
    if let Some(policy) = body.oversell_policy {
        repos.set_oversell_policy(policy).await?;
    }
    if body.reconcile_every_minutes.is_some() || body.full_reconcile_every_hours.is_some() {
        let current = repos.tenant().await?.schedule;
        repos
            .set_reconcile_schedule(concord_storage::ReconcileSchedule {
                incremental_minutes: body
                    .reconcile_every_minutes
                    .unwrap_or(current.incremental_minutes),
                full_hours: body
                    .full_reconcile_every_hours
                    .unwrap_or(current.full_hours),
            })
            .await?;
    }
    let tenant = repos.tenant().await?;
    Ok(web::Json(TenantOut::new(tenant, access.scope.role())))
}

/// One organization's health, for the portfolio overview.
#[derive(Serialize, ToSchema)]
pub struct HealthOut {
    /// `tnt_…`
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    /// Connections in all.
    pub connections: i64,
    /// Active connections with no failed writes.
    pub connections_ok: i64,
    /// SKUs some channel shows differently.
    pub discrepancies: i64,
    /// Orders on hold.
    pub holds: i64,
    /// Deliveries given up on.
    pub dead_letters: i64,
    /// The latest sync of any connection.
    pub last_sync_at: Option<DateTime<Utc>>,
}

/// Every organization the caller belongs to (an API token: its own), with its health:
/// connections OK, discrepancies, holds, dead letters, last sync.
#[utoipa::path(get, path = "/api/v1/portfolio", tag = "tenants",
    responses((status = 200, body = Vec<HealthOut>), (status = 401, body = ErrorBody)))]
pub async fn portfolio(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<web::Json<Vec<HealthOut>>> {
    let scopes = match &caller {
        Caller::Token { scope, .. } => vec![scope.clone()],
        Caller::Session { user, .. } => {
            let mut scopes = Vec::new();
            for m in state.store.memberships_of(&user.id).await? {
                scopes.push(state.store.authorize(&user.id, &m.tenant_id).await?);
            }
            scopes
        }
    };
    let mut out = Vec::with_capacity(scopes.len());
    for scope in &scopes {
        let h = state.store.scoped(scope).tenant_health().await?;
        out.push(HealthOut {
            tenant_id: scope.tenant_id().clone(),
            connections: h.connections,
            connections_ok: h.connections_ok,
            discrepancies: h.discrepancies,
            holds: h.holds,
            dead_letters: h.dead_letters,
            last_sync_at: h.last_sync_at,
        });
    }
    Ok(web::Json(out))
}
