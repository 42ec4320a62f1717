//! The OpenAPI 3 document (`/api/openapi.json`) and its docs UI (`/api/docs/`).

use actix_web::{HttpResponse, http::header, web};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    analytics, api_tokens, audit, auth, catalog, channels, compliance, enforcement, files, health,
    inventory, invitations, live, members, orders, reports, retention, sync, tenants, webhooks,
};

/// Concord's HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concord API",
        description = "Multichannel commerce sync. Errors are `{\"error\":{\"code\",\"message\",\"details\"}}`. \
Authenticate with the session cookie from sign-in (writes must send `X-CSRF-Token`) or a personal API token as \
`Authorization: Bearer cnc_…`. Another tenant's ids answer 404."
    ),
    paths(
        health::healthz, health::readyz, health::metrics,
        auth::signup, auth::login, auth::logout, auth::me,
        tenants::create, tenants::get, tenants::update, tenants::portfolio, analytics::sales,
        members::list, members::get, members::update, members::remove,
        invitations::list, invitations::create, invitations::revoke, invitations::accept,
        api_tokens::list, api_tokens::create, api_tokens::revoke,
        catalog::list_products, catalog::create_product, catalog::get_product, catalog::update_product,
        catalog::product_skus, catalog::create_sku, catalog::get_sku,
        inventory::list, inventory::movements, inventory::adjust, inventory::transfer,
        channels::list_locations, channels::create_location, channels::list_connections,
        channels::create_connection, channels::get_connection, channels::configure_connection, channels::disconnect,
        sync::set_access, sync::sync_listings, sync::list_listings, sync::map_listing,
        sync::start_reconcile, sync::list_jobs, sync::start_oauth, sync::oauth_callback, sync::register_webhooks,
        sync::platform_locations, sync::map_location,
        orders::list, orders::get, orders::oversells, orders::ingest,
        files::import_catalog, files::import_stock, files::export,
        webhooks::intake, webhooks::issue_secret, webhooks::list_inbound, webhooks::replay,
        live::stream,
        audit::list,
        compliance::list_rules, compliance::create_rule, compliance::get_title, compliance::set_title,
        compliance::decision, compliance::set_channel,
        enforcement::order_compliance, enforcement::release, enforcement::record_evidence,
        enforcement::list_evidence, enforcement::record_refusal, enforcement::list_refusals,
        enforcement::record_age_check_failure, enforcement::list_age_check_failures,
        reports::download,
        retention::get, retention::set, retention::run, retention::deletions,
    ),
    modifiers(&Security),
    security(("session" = []), ("bearer" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::session_cookie::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Registers the document and the docs UI.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/docs").route(web::get().to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/api/docs/"))
            .finish()
    })))
    .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi()));
}
