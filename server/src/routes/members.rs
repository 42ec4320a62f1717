//! A tenant's members: list, change roles, remove (or leave).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{Permission, Role, UserId};
use concord_storage::Member;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{Caller, TenantAccess},
    error::{ApiError, ApiResult, ErrorBody},
    routes::path_id,
    state::AppState,
};

/// A member of the tenant.
#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    /// `usr_…`
    #[schema(value_type = String)]
    pub user_id: UserId,
    /// Their email.
    pub email: String,
    /// Their role here.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberOut {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            role: m.role,
            joined_at: m.joined_at,
        }
    }
}

/// A role change.
#[derive(Deserialize, ToSchema)]
pub struct MemberPatch {
    /// The new role.
    pub role: Role,
}

/// Every member of the tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/members", tag = "members",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = Vec<MemberOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<MemberOut>>> {
    let members = access.repos(&state).members().await?;
    Ok(web::Json(members.into_iter().map(Into::into).collect()))
}

/// One member.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/members/{user_id}", tag = "members",
    params(("tenant_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = MemberOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<MemberOut>> {
    let user_id: UserId = path_id(&path.1)?;
    Ok(web::Json(
        access.repos(&state).member(&user_id).await?.into(),
    ))
}

/// Changes a member's role (owner, admin; only owners grant or take away ownership).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant_id}/members/{user_id}", tag = "members",
    request_body = MemberPatch, params(("tenant_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = MemberOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Would leave the tenant without an owner")))]
pub async fn update(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<MemberPatch>,
) -> ApiResult<web::Json<MemberOut>> {
    access.require(Permission::ManageMembers)?;
    let user_id: UserId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let target = repos.member(&user_id).await?;
    let role = access.scope.role();
    if !role.may_grant(body.role) || !role.may_grant(target.role) {
        return Err(ApiError::forbidden(
            "only owners grant or take away ownership",
        ));
    }
    let updated = repos
        .set_member_role(&user_id, body.role, access.caller.user_id().as_str())
        .await?;
    tracing::info!(member = %user_id, role = %body.role, "member role changed");
    Ok(web::Json(updated.into()))
}

/// Removes a member (owner, admin), or leaves the tenant (anyone, for themselves).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/members/{user_id}", tag = "members",
    params(("tenant_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The last owner cannot leave")))]
pub async fn remove(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let user_id: UserId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let target = repos.member(&user_id).await?;
    // Leaving is a person's decision: an API token removes nobody without the right to.
    if &user_id != access.caller.user_id() || matches!(access.caller, Caller::Token { .. }) {
        access.require(Permission::ManageMembers)?;
        if !access.scope.role().may_grant(target.role) {
            return Err(ApiError::forbidden("only owners remove owners"));
        }
    }
    repos
        .remove_member(&user_id, access.caller.user_id().as_str())
        .await?;
    tracing::info!(member = %user_id, "member removed");
    Ok(HttpResponse::NoContent().finish())
}
