//! Personal API tokens: tenant-scoped credentials for scripts (agencies automate many
//! stores). The secret `cnc_…` is shown once; only its SHA-256 is stored. A token acts with
//! the weaker of its own role and its owner's current role, and dies with the membership.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use concord_domain::{ApiTokenId, Permission, Role, UserId, validate::parse_label};
use concord_storage::{ApiToken, NewApiToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{
        Caller, TenantAccess,
        secrets::{random_secret, sha256_hex},
    },
    error::{ApiError, ApiResult, ErrorBody},
    routes::path_id,
    state::AppState,
};

/// What every token secret starts with, so secret scanners can recognize leaked ones.
pub const TOKEN_PREFIX: &str = "cnc_";
/// Characters of the secret kept to recognize a token in lists.
const SHOWN_CHARS: usize = 12;
/// Longest lifetime a token may be given.
const MAX_DAYS: u32 = 3650;

/// A new token.
#[derive(Deserialize, ToSchema)]
pub struct ApiTokenIn {
    /// A label, e.g. "nightly export script".
    pub name: String,
    /// The most the token may do; defaults to, and may not exceed, the caller's role.
    pub role: Option<Role>,
    /// Days until it expires (1 to 3650); no expiry when absent.
    pub expires_in_days: Option<u32>,
}

/// A token, without its secret.
#[derive(Serialize, ToSchema)]
pub struct ApiTokenOut {
    /// `tok_…`
    #[schema(value_type = String)]
    pub id: ApiTokenId,
    /// Its label.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The secret's first characters.
    pub prefix: String,
    /// Its owner.
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it expires, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for ApiTokenOut {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            role: t.role,
            prefix: t.prefix,
            user_id: t.user_id,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// A new token with its secret, shown only once.
#[derive(Serialize, ToSchema)]
pub struct ApiTokenCreatedOut {
    /// The token.
    #[serde(flatten)]
    pub token: ApiTokenOut,
    /// Send as `Authorization: Bearer <secret>`. Not retrievable later.
    pub secret: String,
}

/// Live tokens: everyone's for owners and admins, otherwise the caller's own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/api-tokens", tag = "api tokens",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = Vec<ApiTokenOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<ApiTokenOut>>> {
    let tokens = access
        .repos(&state)
        .api_tokens(own_unless_admin(&access))
        .await?;
    Ok(web::Json(tokens.into_iter().map(Into::into).collect()))
}

/// Creates a token for the signed-in user in this tenant.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/api-tokens", tag = "api tokens",
    request_body = ApiTokenIn, params(("tenant_id" = String, Path)),
    responses((status = 201, body = ApiTokenCreatedOut),
        (status = 403, body = ErrorBody, description = "Role above the caller's, or called with a token"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<ApiTokenIn>,
) -> ApiResult<HttpResponse> {
    if matches!(access.caller, Caller::Token { .. }) {
        return Err(ApiError::forbidden(
            "sign in to create API tokens; a token cannot mint tokens",
        ));
    }
    let own_role = access.scope.role();
    let role = body.role.unwrap_or(own_role);
    if !role.at_most(own_role) {
        return Err(ApiError::forbidden(format!(
            "a token cannot have more rights than your role ({own_role})"
        )));
    }
    let name = parse_label("name", &body.name, 100)?;
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days) if (1..=MAX_DAYS).contains(&days) => {
            Some(Utc::now() + Duration::days(i64::from(days)))
        }
        Some(_) => {
            return Err(ApiError::from(concord_domain::ValidationError {
                field: "expires_in_days",
                message: format!("must be between 1 and {MAX_DAYS}"),
            }));
        }
    };
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    let token = access
        .repos(&state)
        .create_api_token(NewApiToken {
            user_id: access.caller.user_id().clone(),
            name,
            role,
            prefix: secret.chars().take(SHOWN_CHARS).collect(),
            token_hash: sha256_hex(&secret),
            expires_at,
        })
        .await?;
    tracing::info!(token = %token.id, role = %token.role, "API token created");
    Ok(HttpResponse::Created().json(ApiTokenCreatedOut {
        token: token.into(),
        secret,
    }))
}

/// Revokes a token: one's own, or anyone's for owners and admins.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/api-tokens/{token_id}", tag = "api tokens",
    params(("tenant_id" = String, Path), ("token_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id: ApiTokenId = path_id(&path.1)?;
    access
        .repos(&state)
        .revoke_api_token(&id, own_unless_admin(&access))
        .await?;
    tracing::info!(token = %id, "API token revoked");
    Ok(HttpResponse::NoContent().finish())
}

fn own_unless_admin(access: &TenantAccess) -> Option<&UserId> {
    (!access.scope.role().allows(Permission::ManageMembers)).then(|| access.caller.user_id())
}
