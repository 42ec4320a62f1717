//! Connecting a platform account by key: where its API is and the credentials to call it,
//! then its listings — fetched, matched to SKUs by SKU code then barcode, with a report of
//! what did not match or collided before anything is written to the platform.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_connectors::{
    Platform,
    api::{self, Credentials, Session, oauth},
};
use concord_domain::{ConnectionId, Permission, SkuId, ValidationError};
use concord_storage::{Listing, MatchReport, RemoteListing};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiError, ApiResult, ErrorBody},
    routes::path_id,
    state::AppState,
};

/// Pages of listings read at most in one sync (100 per page on most platforms).
const MAX_PAGES: usize = 10_000;

/// How to reach a platform account.
#[derive(Deserialize, ToSchema)]
pub struct AccessIn {
    /// The API's base URL, e.g. `https://shop.myshopify.com` or the store's address.
    pub base_url: String,
    /// What the platform issued: an access token, or an API key and secret.
    #[schema(value_type = Object)]
    pub credentials: Credentials,
    /// The secret the platform signs its webhooks with, exactly as it shows it.
    pub webhook_secret: Option<String>,
}

/// Stores how to call a connection's platform (owner, admin); credentials and the webhook
/// secret are encrypted at rest and never shown again. The connection becomes active.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/access", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)), request_body = AccessIn,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_access(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<AccessIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let body = body.into_inner();
    let base_url = body.base_url.trim().trim_end_matches('/').to_owned();
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(ValidationError {
            field: "base_url",
            message: "must be an http(s) URL".into(),
        }
        .into());
    }
    let sealed = state
        .secrets
        .seal(&serde_json::to_string(&body.credentials).map_err(ApiError::internal)?)
        .map_err(ApiError::internal)?;
    let secret = body
        .webhook_secret
        .as_deref()
        .map(|s| state.secrets.seal(s.trim()))
        .transpose()
        .map_err(ApiError::internal)?;
    access
        .repos(&state)
        .set_connection_access(
            &id,
            base_url,
            sealed,
            secret,
            access.caller.user_id().as_str(),
        )
        .await?;
    state.intake_targets.forget(&id);
    Ok(HttpResponse::NoContent().finish())
}

/// A listing on a platform.
#[derive(Serialize, ToSchema)]
pub struct ListingOut {
    /// Its id.
    pub id: i64,
    /// The platform's item id.
    pub external_item_id: String,
    /// The SKU code on the platform.
    pub sku_code: Option<String>,
    /// The barcode on the platform.
    pub barcode: Option<String>,
    /// The title on the platform.
    pub title: Option<String>,
    /// The SKU it is matched to.
    #[schema(value_type = Option<String>)]
    pub sku_id: Option<SkuId>,
    /// `sku`, `barcode` or `manual`.
    pub matched_by: Option<String>,
    /// When the platform last listed it.
    pub seen_at: DateTime<Utc>,
}

impl From<Listing> for ListingOut {
    fn from(l: Listing) -> Self {
        Self {
            id: l.id,
            external_item_id: l.remote.external_item_id,
            sku_code: l.remote.sku_code,
            barcode: l.remote.barcode,
            title: l.remote.title,
            sku_id: l.sku_id,
            matched_by: l.matched_by,
            seen_at: l.seen_at,
        }
    }
}

/// Codes several listings share.
#[derive(Serialize, ToSchema)]
pub struct CollisionOut {
    /// `sku CODE` or `barcode CODE`.
    pub code: String,
    /// The platform items carrying it.
    pub external_item_ids: Vec<String>,
}

/// What matching found.
#[derive(Serialize, ToSchema)]
pub struct MatchReportOut {
    /// Listings read from the platform.
    pub listed: usize,
    /// Matched now by SKU code.
    pub matched_by_sku: usize,
    /// Matched now by barcode.
    pub matched_by_barcode: usize,
    /// Matched before.
    pub already_matched: usize,
    /// Listings no SKU matches: map them by hand.
    pub unmatched: Vec<ListingOut>,
    /// Codes several listings carry: none of them was matched automatically.
    pub collisions: Vec<CollisionOut>,
}

fn report_out(listed: usize, r: MatchReport) -> MatchReportOut {
    MatchReportOut {
        listed,
        matched_by_sku: r.by_sku,
        matched_by_barcode: r.by_barcode,
        already_matched: r.already,
        unmatched: r.unmatched.into_iter().map(Into::into).collect(),
        collisions: r
            .collisions
            .into_iter()
            .map(|(code, external_item_ids)| CollisionOut {
                code,
                external_item_ids,
            })
            .collect(),
    }
}

/// Reads the platform's listings and matches them to SKUs (owner, admin).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/listings/sync", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = MatchReportOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not connected yet, or a platform without listings"),
        (status = 502, body = ErrorBody, description = "The platform refused or failed")))]
pub async fn sync_listings(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<MatchReportOut>> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let call = PlatformCall::open(&state, &repos, &id).await?;
    let (connector, session) = (call.connector, call.session(&state.http));
    let mut cursor = None;
    let mut listed = 0;
    for _ in 0..MAX_PAGES {
        let page = connector
            .items(session, cursor)
            .await
            .map_err(platform_error)?;
        listed += page.items.len();
        repos
            .record_listings(
                &id,
                page.items
                    .into_iter()
                    .map(|i| RemoteListing {
                        external_item_id: i.external_item_id,
                        external_parent_id: i.external_parent_id,
                        sku_code: i.sku,
                        barcode: i.barcode,
                        title: i.title,
                    })
                    .collect(),
            )
            .await?;
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    // The platform's first location is where the offer goes, unless one is mapped.
    let locations = connector.locations(session).await.map_err(platform_error)?;
    if let Some(first) = locations.first() {
        repos.map_platform_location(&id, &first.id).await?;
    }
    let report = repos.match_listings(&id).await?;
    Ok(web::Json(report_out(listed, report)))
}

/// Listing filters.
#[derive(Deserialize, IntoParams)]
pub struct ListingParams {
    /// Only listings not matched to a SKU.
    #[serde(default)]
    pub unmatched: bool,
}

/// A connection's listings.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/listings", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path), ListingParams),
    responses((status = 200, body = Vec<ListingOut>), (status = 404, body = ErrorBody)))]
pub async fn list_listings(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    params: web::Query<ListingParams>,
) -> ApiResult<web::Json<Vec<ListingOut>>> {
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    repos.connection(&id).await?;
    let found = repos.listings(&id, params.unmatched).await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}

/// A manual match.
#[derive(Deserialize, ToSchema)]
pub struct MappingIn {
    /// The SKU (`sku_…`) this listing sells.
    #[schema(value_type = String)]
    pub sku_id: String,
}

/// Matches a listing to a SKU by hand (owner, admin).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/listings/{listing_id}", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path), ("listing_id" = i64, Path)), request_body = MappingIn,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn map_listing(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String, String)>,
    body: web::Json<MappingIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let listing: i64 = path.2.parse().map_err(|_| ApiError::not_found())?;
    let sku = SkuId::try_from(body.sku_id.clone()).map_err(|_| ValidationError {
        field: "sku_id",
        message: "not a SKU id".into(),
    })?;
    access.repos(&state).map_listing(&id, listing, &sku).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What to reconcile.
#[derive(Deserialize, ToSchema)]
pub struct ReconcileIn {
    /// Compare every listed item's stock too (a full reconcile).
    #[serde(default)]
    pub full: bool,
}

/// A sync job.
#[derive(Serialize, ToSchema)]
pub struct JobOut {
    /// `job_…`
    #[schema(value_type = String)]
    pub id: concord_domain::JobId,
    /// The connection.
    #[schema(value_type = String)]
    pub connection_id: ConnectionId,
    /// `reconcile` or `full_reconcile`.
    pub kind: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Items checked.
    pub done: i64,
    /// Items to check, when known.
    pub total: Option<i64>,
    /// Discrepancies found.
    pub found: i64,
    /// Discrepancies repaired.
    pub repaired: i64,
    /// Items skipped.
    pub skipped: i64,
    /// The report, when finished.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// Started.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<concord_storage::Job> for JobOut {
    fn from(j: concord_storage::Job) -> Self {
        Self {
            id: j.id,
            connection_id: j.connection_id,
            kind: j.kind,
            status: j.status,
            done: j.done,
            total: j.total,
            found: j.found,
            repaired: j.repaired,
            skipped: j.skipped,
            report: j.report.and_then(|r| serde_json::from_str(&r).ok()),
            error: j.error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// Starts a reconcile of a connection now (owner, admin, staff); follow it in `jobs` or on
/// the live stream.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/reconcile", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)), request_body = ReconcileIn,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not connected yet")))]
pub async fn start_reconcile(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<ReconcileIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    repos.connection(&id).await?;
    let target = state
        .store
        .callable_connections()
        .await?
        .into_iter()
        .find(|c| c.connection_id == id)
        .ok_or_else(|| ApiError::conflict("set the connection's access first"))?;
    let depth = if body.full {
        crate::sync::reconcile::Depth::Full
    } else {
        crate::sync::reconcile::Depth::Incremental
    };
    let job = repos.start_job(&id, depth.kind()).await?;
    let out = JobOut::from(job.clone());
    let state = state.into_inner();
    tokio::spawn(async move {
        let gate = state.gate.clone();
        if let Err(error) =
            crate::sync::reconcile::run_started(&state, &gate, &target, depth, job, &|_| {}).await
        {
            tracing::warn!(%error, "reconcile failed");
        }
    });
    Ok(HttpResponse::Accepted().json(out))
}

/// Job filters.
#[derive(Deserialize, IntoParams)]
pub struct JobParams {
    /// Only this connection's jobs.
    pub connection_id: Option<String>,
}

/// Recent sync jobs, newest first, with progress and reports.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/jobs", tag = "connections",
    params(("tenant_id" = String, Path), JobParams),
    responses((status = 200, body = Vec<JobOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_jobs(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<JobParams>,
) -> ApiResult<web::Json<Vec<JobOut>>> {
    let connection: Option<ConnectionId> =
        params.connection_id.as_deref().map(path_id).transpose()?;
    let found = access.repos(&state).jobs(connection.as_ref(), 100).await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}

/// Connecting an account by OAuth.
#[derive(Deserialize, ToSchema)]
pub struct OAuthIn {
    /// The account's API address (e.g. `https://shop.myshopify.com`).
    pub base_url: String,
    /// The platform's OAuth host, when not the API address (Square:
    /// `https://connect.squareup.com`, Lightspeed: `https://cloud.lightspeedapp.com`).
    pub auth_url: Option<String>,
}

/// Where to send the merchant.
#[derive(Serialize, ToSchema)]
pub struct OAuthOut {
    /// The platform's approval page; it returns to `/oauth/callback`.
    pub authorize_url: String,
}

/// The platform's OAuth host when the caller names none.
fn default_auth_url(platform: Platform, base_url: &str) -> String {
    match platform {
        Platform::LightspeedR if base_url.contains("lightspeedapp.com") => {
            "https://cloud.lightspeedapp.com".to_owned()
        }
        _ => base_url.to_owned(),
    }
}

/// Starts connecting an account by OAuth (owner, admin): returns the platform's approval
/// page, with a one-use `state` and, where the platform supports it, PKCE.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/oauth", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)), request_body = OAuthIn,
    responses((status = 200, body = OAuthOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The platform is connected with a key, or no app is configured for it")))]
pub async fn start_oauth(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<OAuthIn>,
) -> ApiResult<web::Json<OAuthOut>> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let connection = repos.connection(&id).await?;
    let platform: Platform = connection
        .platform
        .parse()
        .map_err(|_| ApiError::conflict("unknown platform"))?;
    if !oauth::uses_oauth(platform) {
        return Err(ApiError::conflict(format!(
            "{platform} is connected with an API key: PUT the connection's access"
        )));
    }
    let app = state
        .settings
        .oauth_apps
        .get(platform.slug())
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "no {platform} app is configured: set oauth_apps.{} in the configuration",
                platform.slug()
            ))
        })?;
    let base_url = checked_url("base_url", &body.base_url)?;
    let auth_url = match &body.auth_url {
        Some(url) => checked_url("auth_url", url)?,
        None => default_auth_url(platform, &base_url),
    };
    let started = oauth::authorize(platform, app, &auth_url, &redirect_url(&state))
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    let verifier = started
        .pkce_verifier
        .as_deref()
        .map(|v| state.secrets.seal(v))
        .transpose()
        .map_err(ApiError::internal)?;
    repos
        .begin_authorization(&id, &started.state, base_url, auth_url, verifier)
        .await?;
    Ok(web::Json(OAuthOut {
        authorize_url: started.url,
    }))
}

fn checked_url(field: &'static str, raw: &str) -> ApiResult<String> {
    let url = raw.trim().trim_end_matches('/').to_owned();
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err(ValidationError {
            field,
            message: "must be an http(s) URL".into(),
        }
        .into())
    }
}

fn redirect_url(state: &AppState) -> String {
    format!("{}/oauth/callback", state.settings.public_url)
}

/// What a platform sends back to the callback.
#[derive(Deserialize, IntoParams)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` Concord sent.
    pub state: Option<String>,
    /// The platform's refusal, if the merchant declined.
    pub error: Option<String>,
}

/// The platform's OAuth callback: checks `state`, trades the code for tokens (with the
/// PKCE verifier), stores them encrypted and sends the browser back to the connection.
#[utoipa::path(get, path = "/oauth/callback", tag = "connections", params(CallbackParams),
    responses((status = 303, description = "Connected; back to the dashboard"),
        (status = 400, body = ErrorBody, description = "Unknown or expired state, or the merchant declined"),
        (status = 502, body = ErrorBody, description = "The platform refused the code")))]
pub async fn oauth_callback(
    state: web::Data<AppState>,
    params: web::Query<CallbackParams>,
) -> ApiResult<HttpResponse> {
    if let Some(error) = &params.error {
        return Err(ApiError::bad_request(format!("the platform says: {error}")));
    }
    let (Some(code), Some(sent_state)) = (&params.code, &params.state) else {
        return Err(ApiError::bad_request("code and state are required"));
    };
    let pending = state
        .store
        .take_authorization(sent_state)
        .await?
        .ok_or_else(|| ApiError::bad_request("unknown or expired state: start connecting again"))?;
    let repos = state.store.scoped(&pending.scope);
    let connection = repos.connection(&pending.connection_id).await?;
    let platform: Platform = connection
        .platform
        .parse()
        .map_err(|_| ApiError::conflict("unknown platform"))?;
    let app = state
        .settings
        .oauth_apps
        .get(platform.slug())
        .ok_or_else(|| ApiError::conflict("the platform's app is no longer configured"))?;
    let verifier = pending
        .sealed_verifier
        .as_deref()
        .map(|v| state.secrets.open(v))
        .transpose()
        .map_err(ApiError::internal)?;
    let credentials = oauth::exchange(
        platform,
        app,
        &pending.auth_url,
        &pending.base_url,
        &redirect_url(&state),
        code,
        verifier,
        &state.http,
    )
    .await
    .map_err(platform_error)?;
    let sealed = state
        .secrets
        .seal(&serde_json::to_string(&credentials).map_err(ApiError::internal)?)
        .map_err(ApiError::internal)?;
    // Shopify signs an app's webhooks with the app's client secret.
    let webhook_secret = (platform == Platform::Shopify)
        .then(|| state.secrets.seal(&app.client_secret))
        .transpose()
        .map_err(ApiError::internal)?;
    repos
        .set_connection_access(
            &pending.connection_id,
            pending.base_url,
            sealed,
            webhook_secret,
            "oauth",
        )
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/connections/{}?connected=1", pending.connection_id),
        ))
        .finish())
}

/// Where a platform now delivers.
#[derive(Serialize, ToSchema)]
pub struct WebhooksOut {
    /// The address subscribed.
    pub url: String,
}

/// Subscribes Concord to the platform's order, refund and stock webhooks (owner, admin);
/// the signing secret the platform uses is stored encrypted.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/webhooks", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 201, body = WebhooksOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not connected yet, a platform without webhooks (polled), or one signing with a secret Concord does not hold"),
        (status = 502, body = ErrorBody, description = "The platform refused")))]
pub async fn register_webhooks(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let call = PlatformCall::open(&state, &repos, &id).await?;
    let platform = call.platform;
    let url = format!("{}/webhooks/{platform}/{id}", state.settings.public_url);
    let offered = crate::auth::secrets::random_secret_base64();
    let secret = call
        .connector
        .register_webhooks(call.session(&state.http), &url, &offered)
        .await
        .map_err(platform_error)?;
    match secret {
        Some(secret) => {
            repos
                .set_webhook_secret(
                    &id,
                    state.secrets.seal(&secret).map_err(ApiError::internal)?,
                    access.caller.user_id().as_str(),
                )
                .await?;
            state.intake_targets.forget(&id);
        }
        // The platform signs with a secret Concord should already hold (an endpoint kept
        // from an earlier registration): without it no delivery would verify.
        None if state
            .store
            .intake_target(&id)
            .await?
            .sealed_secret
            .is_none() =>
        {
            return Err(ApiError::conflict(format!(
                "{platform} signs its deliveries to {url} with a secret Concord does not hold \
                 (Stripe shows an endpoint's secret only when it is created): give it as \
                 webhook_secret in PUT …/access, or delete the subscription on {platform} and \
                 register again"
            )));
        }
        None => {}
    }
    Ok(HttpResponse::Created().json(WebhooksOut { url }))
}

/// A platform location, and the Concord location mapped to it.
#[derive(Serialize, ToSchema)]
pub struct PlatformLocationOut {
    /// Its id on the platform.
    pub id: String,
    /// Its name on the platform.
    pub name: String,
    /// The Concord location (`loc_…`) whose stock it shows, if mapped.
    pub mapped_to: Option<String>,
}

/// The platform's locations as it lists them now, with the mapping to Concord's.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/platform-locations", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = Vec<PlatformLocationOut>), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not connected yet, or a platform without locations"), (status = 502, body = ErrorBody)))]
pub async fn platform_locations(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Vec<PlatformLocationOut>>> {
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let call = PlatformCall::open(&state, &repos, &id).await?;
    let listed = call
        .connector
        .locations(call.session(&state.http))
        .await
        .map_err(platform_error)?;
    let map = repos.location_map(&id).await?;
    Ok(web::Json(
        listed
            .into_iter()
            .map(|l| PlatformLocationOut {
                mapped_to: map
                    .iter()
                    .find(|(_, external)| external.as_deref() == Some(l.id.as_str()))
                    .map(|(location, _)| location.to_string()),
                id: l.id,
                name: l.name,
            })
            .collect(),
    ))
}

/// A location mapping.
#[derive(Deserialize, ToSchema)]
pub struct LocationMapIn {
    /// One of the connection's sourcing locations (`loc_…`).
    pub location_id: String,
    /// The platform location it corresponds to; `null` removes the mapping.
    pub external_location_id: Option<String>,
}

/// Maps a sourcing location to a platform location (owner, admin): where the offer is
/// written and which location the platform's sales and stock reports concern.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/location-map", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)), request_body = LocationMapIn,
    responses((status = 204), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such connection, or the location is not one it sells from")))]
pub async fn map_location(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<LocationMapIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let location: concord_domain::LocationId = path_id(&body.location_id)?;
    let external = body
        .external_location_id
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    access
        .repos(&state)
        .map_location(&id, &location, external)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What calling a connection's platform needs: its connector, address and credentials
/// (refreshed if due), checked once for every route that calls the platform.
struct PlatformCall {
    platform: Platform,
    connector: &'static dyn api::Connector,
    access: concord_storage::ConnectionAccess,
    credentials: Credentials,
}

impl PlatformCall {
    /// Opens the call for connection `id` of the caller's tenant: 404 for another
    /// tenant's, 409 when Concord does not call the platform or has no access yet.
    async fn open(
        state: &AppState,
        repos: &concord_storage::Scoped<'_>,
        id: &ConnectionId,
    ) -> ApiResult<Self> {
        let connection = repos.connection(id).await?;
        let platform: Platform = connection
            .platform
            .parse()
            .map_err(|_| ApiError::conflict("unknown platform"))?;
        let connector = api::connector(platform)
            .ok_or_else(|| ApiError::conflict(format!("Concord does not call {platform}'s API")))?;
        let access = state
            .store
            .callable_connection(id)
            .await?
            .ok_or_else(|| ApiError::conflict("set the connection's access first"))?;
        let credentials = crate::sync::credentials_of(state, &access)
            .await
            .map_err(ApiError::conflict)?;
        Ok(Self {
            platform,
            connector,
            access,
            credentials,
        })
    }

    fn session<'a>(&'a self, http: &'a reqwest::Client) -> Session<'a> {
        Session {
            base_url: &self.access.base_url,
            credentials: &self.credentials,
            http,
        }
    }
}

/// A platform's refusal or failure, as the API reports it: what the platform cannot do at
/// all (Stripe keeps no stock) is a conflict, anything else a bad gateway.
fn platform_error(e: api::ConnectorError) -> ApiError {
    match e {
        api::ConnectorError::Unsupported(why) => ApiError::conflict(why),
        e => ApiError::new(
            actix_web::http::StatusCode::BAD_GATEWAY,
            "platform_error",
            e.to_string(),
        ),
    }
}
