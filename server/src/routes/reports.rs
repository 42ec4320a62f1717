//! Compliance report downloads (owner, admin, compliance officer), fingerprinted in the
//! audit log.

use actix_web::{HttpResponse, http::header, web};
use concord_domain::Permission;
use concord_storage::ReportKind;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    auth::TenantAccess,
    error::{ApiError, ApiResult, ErrorBody},
    reports::{self, ReportFormat},
    state::AppState,
};

/// The header carrying the file's SHA-256 (also recorded in the audit log).
pub const SHA256_HEADER: &str = "x-content-sha256";

/// Report options.
#[derive(Deserialize, IntoParams)]
pub struct ReportParams {
    /// csv or pdf.
    #[param(value_type = String)]
    pub format: ReportFormat,
    /// From this date (2026-11-01) or time (RFC 3339), inclusive.
    pub from: Option<String>,
    /// Until this date (inclusive) or time (exclusive).
    pub to: Option<String>,
}

/// Downloads a compliance report: `restricted-sales`, `refusals`, `catalog-gaps`,
/// `stock-reconciliation` or `rule-changes`, as CSV or PDF. The response's
/// `X-Content-SHA256` is the file's fingerprint, recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/reports/{kind}", tag = "compliance",
    params(("tenant_id" = String, Path), ("kind" = String, Path), ReportParams),
    responses((status = 200, description = "The file (text/csv or application/pdf)"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn download(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    params: web::Query<ReportParams>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ReadReports)?;
    let kind: ReportKind = path.1.parse().map_err(|_| ApiError::not_found())?;
    let period = reports::period(params.from.as_deref(), params.to.as_deref())?;
    let repos = access.repos(&state);
    let export = reports::export(
        &repos,
        kind,
        period,
        params.format,
        access.caller.user_id().as_str(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, params.format.content_type()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                export.file_name(params.format)
            ),
        ))
        .insert_header((SHA256_HEADER, export.sha256.clone()))
        .body(export.bytes))
}
