//! The live-update stream.

use actix_web::{HttpResponse, web};

use crate::{auth::TenantAccess, error::ErrorBody, state::AppState};

/// Server-sent events for the tenant: `stock` (offers that changed: `[{sku_id,
/// connection_id, available}]`), `order` (`{order_id, oversold}`), and keep-alive comments.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/live", tag = "live",
    params(("tenant_id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "The event stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stream(state: web::Data<AppState>, access: TenantAccess) -> HttpResponse {
    state.live.stream(access.scope.tenant_id().to_string())
}
