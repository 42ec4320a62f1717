//! Retention periods of compliance records, the purge, and the deletion log
//! (COMPLIANCE.md §1.4 and §1.5 item 9).

use actix_web::web;
use chrono::{DateTime, Utc};
use concord_domain::{
    Permission,
    compliance::retention::{RecordKind, RetentionPolicy},
};
use concord_storage::{Deletion, Period, RetentionStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    state::AppState,
};

/// Most deletion-log entries one listing returns.
const MAX_ENTRIES: u64 = 1000;

/// The retention periods and the last purge.
#[derive(Serialize, ToSchema)]
pub struct RetentionOut {
    /// Days each kind of record is kept.
    pub policy: RetentionPolicy,
    /// When the purge last ran.
    pub last_run: Option<DateTime<Utc>>,
}

impl From<RetentionStatus> for RetentionOut {
    fn from(s: RetentionStatus) -> Self {
        Self {
            policy: s.policy,
            last_run: s.last_run,
        }
    }
}

/// The tenant's retention periods (three years each by default).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/compliance/retention", tag = "compliance",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = RetentionOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<RetentionOut>> {
    access.require(Permission::Read)?;
    Ok(web::Json(access.repos(&state).retention().await?.into()))
}

/// Changes the retention periods (owner, admin, compliance officer); audited.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/compliance/retention", tag = "compliance",
    params(("tenant_id" = String, Path)), request_body = RetentionPolicy,
    responses((status = 200, body = RetentionOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<RetentionPolicy>,
) -> ApiResult<web::Json<RetentionOut>> {
    access.require(Permission::ManageCompliance)?;
    body.validate()?;
    let updated = access
        .repos(&state)
        .set_retention(body.into_inner(), access.caller.user_id().as_str())
        .await?;
    Ok(web::Json(updated.into()))
}

/// One kind of record's outcome in one purge.
#[derive(Serialize, ToSchema)]
pub struct DeletionOut {
    /// `del_…`
    pub id: String,
    /// When the purge ran.
    pub ran_at: DateTime<Utc>,
    /// Which records.
    pub kind: RecordKind,
    /// The period applied, in days.
    pub period_days: i32,
    /// Records from before this were past their period.
    pub cutoff: DateTime<Utc>,
    /// How many were deleted.
    pub deleted: i64,
    /// The oldest deleted record's time.
    pub oldest_deleted: Option<DateTime<Utc>>,
    /// The newest deleted record's time.
    pub newest_deleted: Option<DateTime<Utc>>,
    /// Who ran it (`system` for the daily schedule).
    pub actor: String,
}

impl From<Deletion> for DeletionOut {
    fn from(d: Deletion) -> Self {
        Self {
            id: d.id,
            ran_at: d.ran_at,
            kind: d.kind,
            period_days: d.period_days,
            cutoff: d.cutoff,
            deleted: d.deleted,
            oldest_deleted: d.oldest_deleted,
            newest_deleted: d.newest_deleted,
            actor: d.actor,
        }
    }
}

/// Runs the purge now (owner, admin, compliance officer), besides the daily schedule.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/compliance/retention/run", tag = "compliance",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = Vec<DeletionOut>), (status = 403, body = ErrorBody)))]
pub async fn run(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<DeletionOut>>> {
    access.require(Permission::ManageCompliance)?;
    let done = access
        .repos(&state)
        .purge_expired(access.caller.user_id().as_str())
        .await?;
    Ok(web::Json(done.into_iter().map(Into::into).collect()))
}

/// Deletion-log filters.
#[derive(Deserialize, IntoParams)]
pub struct DeletionParams {
    /// Purges from (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Purges until (RFC 3339), exclusive.
    pub to: Option<DateTime<Utc>>,
    /// At most this many entries, 1–1000 (default 1000).
    pub limit: Option<u64>,
}

/// The deletion log: every purge, per kind of record, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/compliance/deletions", tag = "compliance",
    params(("tenant_id" = String, Path), DeletionParams),
    responses((status = 200, body = Vec<DeletionOut>), (status = 404, body = ErrorBody)))]
pub async fn deletions(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<DeletionParams>,
) -> ApiResult<web::Json<Vec<DeletionOut>>> {
    access.require(Permission::Read)?;
    let found = access
        .repos(&state)
        .deletions(
            Period {
                from: params.from,
                to: params.to,
            },
            params.limit.unwrap_or(MAX_ENTRIES).clamp(1, MAX_ENTRIES),
        )
        .await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}
