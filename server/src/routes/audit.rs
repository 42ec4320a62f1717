//! The tenant's tamper-evident audit log, read page by page.

use actix_web::web;
use chrono::{DateTime, Utc};
use concord_domain::{
    Permission, ValidationError,
    audit::{AuditAction, AuditEntry},
};
use concord_storage::AuditQuery;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    routes::catalog::page_size,
    state::AppState,
};

/// One audit entry, with the hashes that chain it to the one before.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryOut {
    /// Position in the tenant's chain, from 1.
    pub seq: i64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Who acted: a user id, a connection id, or `system`.
    pub actor: String,
    /// What they did (`rule.version_created`, `order.released`, …).
    pub action: AuditAction,
    /// What it was done to.
    pub subject: String,
    /// Before/after, reasons, hashes.
    #[schema(value_type = Object)]
    pub details: Value,
    /// The canonical JSON the hash covers.
    pub content: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// `SHA-256(prev_hash || content)`.
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryOut {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            details: e.details,
            content: e.content,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries in chain order.
    pub items: Vec<AuditEntryOut>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Audit log filters.
#[derive(Deserialize, IntoParams)]
pub struct AuditParams {
    /// Only this action (`member.role_changed`, …).
    pub action: Option<String>,
    /// Recorded at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Recorded before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
}

/// The audit log in chain order (every member may read it).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/audit", tag = "compliance",
    params(("tenant_id" = String, Path), AuditParams),
    responses((status = 200, body = AuditPage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<AuditParams>,
) -> ApiResult<web::Json<AuditPage>> {
    access.require(Permission::Read)?;
    let p = params.into_inner();
    let action = p.action.as_deref().map(str::parse).transpose()?;
    let after = p
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>().map_err(|_| ValidationError {
                field: "cursor",
                message: "is not a cursor from this listing".into(),
            })
        })
        .transpose()?;
    let page = access
        .repos(&state)
        .audit()
        .entries(&AuditQuery {
            action,
            rules_and_overrides: false,
            from: p.from,
            to: p.to,
            after,
            limit: page_size(p.limit),
        })
        .await?;
    Ok(web::Json(AuditPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}
