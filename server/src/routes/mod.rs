//! HTTP routes: JSON under `/api/v1`, health and metrics at the root, the OpenAPI document
//! and its docs UI under `/api`.

pub mod analytics;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod channels;
pub mod compliance;
pub mod dashboard;
pub mod enforcement;
pub mod files;
pub mod health;
pub mod inventory;
pub mod invitations;
pub mod live;
pub mod members;
pub mod openapi;
pub mod orders;
pub mod reports;
pub mod retention;
pub mod sync;
pub mod tenants;
pub mod webhooks;

use actix_web::web;

/// Registers every route; webhook deliveries may be up to `webhook_limit` bytes.
pub fn configure(cfg: &mut web::ServiceConfig, webhook_limit: usize) {
    cfg.service(
        web::scope("/api/v1")
            .service(web::resource("/auth/signup").route(web::post().to(auth::signup)))
            .service(web::resource("/auth/login").route(web::post().to(auth::login)))
            .service(web::resource("/auth/logout").route(web::post().to(auth::logout)))
            .service(web::resource("/me").route(web::get().to(auth::me)))
            .service(
                web::resource("/invitations/accept").route(web::post().to(invitations::accept)),
            )
            .service(web::resource("/tenants").route(web::post().to(tenants::create)))
            .service(web::resource("/portfolio").route(web::get().to(tenants::portfolio)))
            .service(
                web::resource("/tenants/{tenant_id}/analytics/sales")
                    .route(web::get().to(analytics::sales)),
            )
            .service(
                web::resource("/tenants/{tenant_id}")
                    .route(web::get().to(tenants::get))
                    .route(web::patch().to(tenants::update)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/members").route(web::get().to(members::list)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/members/{user_id}")
                    .route(web::get().to(members::get))
                    .route(web::patch().to(members::update))
                    .route(web::delete().to(members::remove)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/invitations")
                    .route(web::get().to(invitations::list))
                    .route(web::post().to(invitations::create)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/invitations/{invitation_id}")
                    .route(web::delete().to(invitations::revoke)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/api-tokens")
                    .route(web::get().to(api_tokens::list))
                    .route(web::post().to(api_tokens::create)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/api-tokens/{token_id}")
                    .route(web::delete().to(api_tokens::revoke)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/products")
                    .route(web::get().to(catalog::list_products))
                    .route(web::post().to(catalog::create_product)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/products/{product_id}")
                    .route(web::get().to(catalog::get_product))
                    .route(web::put().to(catalog::update_product)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/products/{product_id}/skus")
                    .route(web::get().to(catalog::product_skus)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/skus")
                    .route(web::post().to(catalog::create_sku)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/skus/{sku_id}")
                    .route(web::get().to(catalog::get_sku)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/skus/{sku_id}/movements")
                    .route(web::get().to(inventory::movements)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/skus/{sku_id}/adjustments")
                    .route(web::post().to(inventory::adjust)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/skus/{sku_id}/transfers")
                    .route(web::post().to(inventory::transfer)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/inventory")
                    .route(web::get().to(inventory::list)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/locations")
                    .route(web::get().to(channels::list_locations))
                    .route(web::post().to(channels::create_location)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections")
                    .route(web::get().to(channels::list_connections))
                    .route(web::post().to(channels::create_connection)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}")
                    .route(web::get().to(channels::get_connection))
                    .route(web::delete().to(channels::disconnect)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/settings")
                    .route(web::put().to(channels::configure_connection)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/access")
                    .route(web::put().to(sync::set_access)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/listings")
                    .route(web::get().to(sync::list_listings)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/listings/sync")
                    .route(web::post().to(sync::sync_listings)),
            )
            .service(
                web::resource(
                    "/tenants/{tenant_id}/connections/{connection_id}/listings/{listing_id}",
                )
                .route(web::put().to(sync::map_listing)),
            )
            .service(
                web::resource(
                    "/tenants/{tenant_id}/connections/{connection_id}/platform-locations",
                )
                .route(web::get().to(sync::platform_locations)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/location-map")
                    .route(web::put().to(sync::map_location)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/webhooks")
                    .route(web::post().to(sync::register_webhooks)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/oauth")
                    .route(web::post().to(sync::start_oauth)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/reconcile")
                    .route(web::post().to(sync::start_reconcile)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/jobs").route(web::get().to(sync::list_jobs)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/events")
                    .route(web::post().to(orders::ingest)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/orders").route(web::get().to(orders::list)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/orders/{order_id}")
                    .route(web::get().to(orders::get)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/oversells")
                    .route(web::get().to(orders::oversells)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/imports/catalog")
                    .app_data(web::PayloadConfig::new(files::IMPORT_LIMIT))
                    .route(web::post().to(files::import_catalog)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/imports/stock")
                    .app_data(web::PayloadConfig::new(files::IMPORT_LIMIT))
                    .route(web::post().to(files::import_stock)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/exports/{kind}")
                    .route(web::get().to(files::export)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/webhook-secret")
                    .route(web::post().to(webhooks::issue_secret)),
            )
            .service(web::resource("/tenants/{tenant_id}/live").route(web::get().to(live::stream)))
            .service(web::resource("/tenants/{tenant_id}/audit").route(web::get().to(audit::list)))
            .service(
                web::resource("/tenants/{tenant_id}/compliance/rules")
                    .route(web::get().to(compliance::list_rules))
                    .route(web::post().to(compliance::create_rule)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/products/{product_id}/compliance")
                    .route(web::get().to(compliance::get_title))
                    .route(web::put().to(compliance::set_title)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/products/{product_id}/compliance/decision")
                    .route(web::get().to(compliance::decision)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/connections/{connection_id}/compliance")
                    .route(web::put().to(compliance::set_channel)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/orders/{order_id}/compliance")
                    .route(web::get().to(enforcement::order_compliance)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/orders/{order_id}/release")
                    .route(web::post().to(enforcement::release)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/orders/{order_id}/evidence")
                    .route(web::post().to(enforcement::record_evidence)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/compliance/evidence")
                    .route(web::get().to(enforcement::list_evidence)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/compliance/refusals")
                    .route(web::get().to(enforcement::list_refusals))
                    .route(web::post().to(enforcement::record_refusal)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/compliance/retention")
                    .route(web::get().to(retention::get))
                    .route(web::put().to(retention::set)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/compliance/retention/run")
                    .route(web::post().to(retention::run)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/compliance/deletions")
                    .route(web::get().to(retention::deletions)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/reports/{kind}")
                    .route(web::get().to(reports::download)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/compliance/age-check-failures")
                    .route(web::get().to(enforcement::list_age_check_failures))
                    .route(web::post().to(enforcement::record_age_check_failure)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/inbound-events")
                    .route(web::get().to(webhooks::list_inbound)),
            )
            .service(
                web::resource("/tenants/{tenant_id}/inbound-events/{event_id}/replay")
                    .route(web::post().to(webhooks::replay)),
            ),
    )
    .service(
        web::resource("/webhooks/{platform}/{connection_id}")
            .app_data(web::PayloadConfig::new(webhook_limit))
            .route(web::post().to(webhooks::intake)),
    )
    .service(web::resource("/oauth/callback").route(web::get().to(sync::oauth_callback)))
    .service(web::resource("/healthz").route(web::get().to(health::healthz)))
    .service(web::resource("/readyz").route(web::get().to(health::readyz)))
    .service(web::resource("/metrics").route(web::get().to(health::metrics)));
    openapi::configure(cfg);
    dashboard::configure(cfg);
}

/// Parses an id from a path segment; a malformed id names nothing, so it is a 404.
pub(crate) fn path_id<T: TryFrom<String>>(raw: &str) -> Result<T, crate::error::ApiError> {
    T::try_from(raw.to_owned()).map_err(|_| crate::error::ApiError::not_found())
}
