//! Catalog and stock-count CSV imports and catalog, stock and ledger CSV exports.

use actix_web::{HttpResponse, http::StatusCode, web};
use concord_domain::Permission;
use concord_storage::ImportReport;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiError, ApiResult, ErrorBody},
    files::{self, FileError},
    state::AppState,
};

/// Largest CSV file accepted by the import endpoints.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Import options.
#[derive(Deserialize, IntoParams)]
pub struct ImportParams {
    /// Apply the good rows even when some are refused (default: apply nothing then).
    #[serde(default)]
    pub partial: bool,
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportOut {
    /// Data rows read.
    pub rows: u64,
    /// Rows applied.
    pub applied: u64,
    /// Rows refused.
    pub error_count: u64,
    /// The first refused rows: `{line, message}`.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<serde_json::Value>,
    /// Whether anything was written.
    pub committed: bool,
}

impl From<ImportReport> for ImportOut {
    fn from(r: ImportReport) -> Self {
        Self {
            rows: r.rows,
            applied: r.applied,
            error_count: r.error_count,
            errors: r
                .errors
                .into_iter()
                .map(|e| json!({ "line": e.line, "message": e.message }))
                .collect(),
            committed: r.committed,
        }
    }
}

/// Imports a catalog CSV (owner, admin, staff). Send the file as the request body.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/imports/catalog", tag = "inventory",
    params(("tenant_id" = String, Path), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "sku,title,format,barcode,studio,release_date,explicit,us_2257_statement_present,bbfc,fsk,au,mpa,ca_bc,components"),
    responses((status = 200, body = ImportOut), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Refused rows (nothing applied) or an unreadable file")))]
pub async fn import_catalog(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<ImportParams>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let rows = files::catalog_rows(body.as_ref()).map_err(file_error)?;
    let report = access
        .repos(&state)
        .import_catalog(rows, params.partial, &mut |_| {})
        .await?;
    respond(report)
}

/// Imports stock counts as CSV `sku,location,quantity` (owner, admin, staff): each row sets
/// the counted on-hand figure, recorded as a `count` movement.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/imports/stock", tag = "inventory",
    params(("tenant_id" = String, Path), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "sku,location,quantity"),
    responses((status = 200, body = ImportOut), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Refused rows (nothing applied) or an unreadable file")))]
pub async fn import_stock(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<ImportParams>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let rows = files::stock_rows(body.as_ref()).map_err(file_error)?;
    let actor = access.caller.user_id().to_string();
    let report = access
        .repos(&state)
        .import_stock(rows, params.partial, &actor, &mut |_| {})
        .await?;
    respond(report)
}

/// Exports `catalog`, `stock` or `ledger` as CSV.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/exports/{kind}", tag = "inventory",
    params(("tenant_id" = String, Path), ("kind" = String, Path, description = "catalog, stock or ledger")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn export(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let repos = access.repos(&state);
    let mut out = Vec::new();
    let kind = path.1.as_str();
    match kind {
        "catalog" => files::write_catalog(&repos, &mut out).await,
        "stock" => files::write_stock(&repos, &mut out).await,
        "ledger" => files::write_ledger(&repos, &mut out).await,
        _ => return Err(ApiError::not_found()),
    }
    .map_err(file_error)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{kind}.csv\""),
        ))
        .body(out))
}

fn respond(report: ImportReport) -> ApiResult<HttpResponse> {
    let out = ImportOut::from(report);
    if out.committed {
        return Ok(HttpResponse::Ok().json(out));
    }
    let details = serde_json::to_value(&out).unwrap_or_default();
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "import_failed",
        format!("{} of {} rows were refused, so nothing was applied; fix them or import with ?partial=true", out.error_count, out.rows),
    )
    .with_details(details))
}

fn file_error(e: FileError) -> ApiError {
    match e {
        FileError::Storage(s) => s.into(),
        FileError::Io(e) => ApiError::internal(e),
        other => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_file",
            other.to_string(),
        ),
    }
}
