//! Webhook intake and its operator views: deliveries are verified on the raw bytes with
//! the platform's own scheme, stored as received with the headers needed to read them (a
//! redelivery is acknowledged, not processed again) and answered at once; a worker
//! normalizes and applies them. Platforms that do not sign their deliveries are accepted
//! as hints: the worker fetches what they name instead of trusting the body.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use concord_connectors::{Delivery, Keys, Platform, Rejection, standard_webhooks};
use concord_domain::{ConnectionId, Permission};
use concord_storage::{InboundRecord, StorageError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiError, ApiResult, ErrorBody},
    intake::Received,
    intake_targets::Target,
    routes::path_id,
    state::AppState,
};

/// Headers never kept with a stored delivery.
const UNKEPT_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Receives a platform's webhook delivery.
#[utoipa::path(post, path = "/webhooks/{platform}/{connection_id}", tag = "webhooks",
    params(("platform" = String, Path, description = "The platform slug, e.g. shopify"), ("connection_id" = String, Path)),
    request_body(content = String, description = "The delivery as the platform sends it, signed with its scheme"),
    responses((status = 202, description = "Accepted for processing"), (status = 200, description = "A redelivery, already accepted"),
        (status = 401, body = ErrorBody, description = "Bad or missing signature"), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn intake(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let (slug, raw_id) = path.into_inner();
    let platform: Platform = slug.parse().map_err(|_| ApiError::not_found())?;
    let connection_id: ConnectionId = path_id(&raw_id)?;
    let found = state
        .intake_targets
        .get(&state.store, &state.secrets, &connection_id)
        .await?;
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter(|(name, _)| !UNKEPT_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let url = format!(
        "{}/webhooks/{platform}/{connection_id}",
        state.settings.public_url
    );
    let delivery = Delivery {
        body: &body,
        headers: &headers,
        url: Some(&url),
    };
    let mut target = found.target;
    let mut verified = authentic(platform, &target, &delivery);
    if found.remembered && verified.is_err() {
        // The secret may have changed since it was read: read it again before refusing.
        target = state
            .intake_targets
            .read(&state.store, &state.secrets, &connection_id)
            .await?;
        verified = authentic(platform, &target, &delivery);
    }
    let verified = verified?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;
    // No JSON or form body holds a raw NUL, and a database text column cannot store one.
    if text.contains('\0') {
        return Err(ApiError::bad_request("the body contains a NUL character"));
    }
    let external_id = concord_connectors::event_id(platform, &delivery);
    let fresh = state
        .intake
        .store(Received {
            scope: target.scope.clone(),
            connection_id: connection_id.clone(),
            external_id,
            body: text,
            headers: serde_json::to_string(&headers).map_err(ApiError::internal)?,
            verified,
        })
        .await
        .map_err(ApiError::internal)?;
    state.metrics.count_delivery(platform.slug(), fresh);
    Ok(if fresh {
        HttpResponse::Accepted().json(json!({ "accepted": true }))
    } else {
        HttpResponse::Ok().json(json!({ "accepted": true, "duplicate": true }))
    })
}

/// Whether the delivery is signed by the connection's platform with its secret: `true`
/// when verified, `false` for a platform that does not sign (a hint), an error otherwise.
fn authentic(platform: Platform, target: &Target, delivery: &Delivery<'_>) -> ApiResult<bool> {
    if target.platform != platform.slug() {
        return Err(ApiError::not_found());
    }
    let keys = Keys {
        secret: target.secret.as_deref(),
        ..Keys::default()
    };
    match concord_connectors::verify(platform, delivery, &keys, Utc::now().timestamp()) {
        Ok(()) => Ok(true),
        Err(Rejection::Unsigned(_)) => Ok(false),
        Err(Rejection::MissingKey(_)) => Err(invalid_signature(
            "no signing secret is set for this connection",
        )),
        Err(reason) => Err(invalid_signature(&reason.to_string())),
    }
}

fn invalid_signature(reason: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        format!("the delivery is not authentic: {reason}"),
    )
}

/// A new signing secret.
#[derive(Serialize, ToSchema)]
pub struct WebhookSecretOut {
    /// The secret (`whsec_…`), shown once; sign deliveries with the Standard Webhooks scheme.
    pub secret: String,
    /// Where to send deliveries.
    pub url: String,
}

/// Issues a new signing secret for a `standard-webhooks` connection (a merchant's own
/// system), replacing any earlier one (owner, admin). The secret is stored encrypted and
/// shown only now.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/webhook-secret", tag = "webhooks",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 201, body = WebhookSecretOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not a standard-webhooks connection")))]
pub async fn issue_secret(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let connection = repos.connection(&id).await?;
    let own = Platform::StandardWebhooks.slug();
    if connection.platform != own {
        return Err(ApiError::conflict(format!(
            "{} connections are verified with the platform's own secret, set when connecting",
            connection.platform
        )));
    }
    let secret = format!(
        "{}{}",
        standard_webhooks::SECRET_PREFIX,
        crate::auth::secrets::random_secret_base64()
    );
    repos
        .set_webhook_secret(
            &id,
            state.secrets.seal(&secret).map_err(ApiError::internal)?,
            access.caller.user_id().as_str(),
        )
        .await?;
    state.intake_targets.forget(&id);
    let url = format!("{}/webhooks/{own}/{id}", state.settings.public_url);
    Ok(HttpResponse::Created().json(WebhookSecretOut { secret, url }))
}

/// A stored delivery.
#[derive(Serialize, ToSchema)]
pub struct InboundOut {
    /// Its id.
    pub id: i64,
    /// The connection it came from.
    pub connection_id: String,
    /// The platform's delivery id.
    pub external_id: String,
    /// `pending`, `processing`, `processed`, `failed` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

impl From<InboundRecord> for InboundOut {
    fn from(r: InboundRecord) -> Self {
        Self {
            id: r.id,
            connection_id: r.connection_id,
            external_id: r.external_id,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            received_at: r.received_at,
        }
    }
}

/// Delivery filters.
#[derive(Deserialize, IntoParams)]
pub struct InboundParams {
    /// Only in this status (`dead` lists the dead letters).
    pub status: Option<String>,
}

/// Received deliveries, newest first (the webhook delivery log and its dead letters).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/inbound-events", tag = "webhooks",
    params(("tenant_id" = String, Path), InboundParams),
    responses((status = 200, body = Vec<InboundOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_inbound(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<InboundParams>,
) -> ApiResult<web::Json<Vec<InboundOut>>> {
    let found = access
        .repos(&state)
        .inbound_events(params.status.as_deref(), 200)
        .await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}

/// Puts a dead or failed delivery back in line (owner, admin, staff).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/inbound-events/{event_id}/replay", tag = "webhooks",
    params(("tenant_id" = String, Path), ("event_id" = i64, Path)),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let id: i64 = path.1.parse().map_err(|_| ApiError::not_found())?;
    access
        .repos(&state)
        .replay_inbound(id)
        .await
        .map_err(|e| match e {
            StorageError::NotFound => ApiError::not_found(),
            other => other.into(),
        })?;
    Ok(HttpResponse::Accepted().finish())
}
