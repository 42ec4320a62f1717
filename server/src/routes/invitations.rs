//! Invitations: owners and admins invite by email; the invitee accepts with the secret token
//! (signing up on the way if they have no account).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use concord_domain::{Email, InvitationId, Password, Permission, Role, UserId};
use concord_storage::{Invitation, NewInvitation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{
        Caller, TenantAccess, password,
        secrets::{random_secret, sha256_hex},
        session_cookie,
    },
    error::{ApiError, ApiResult, ErrorBody},
    routes::{
        auth::{client_address, invalid_credentials},
        path_id,
    },
    state::AppState,
};

/// Whom to invite, with which role.
#[derive(Deserialize, ToSchema)]
pub struct InvitationIn {
    /// The invitee's email.
    pub email: String,
    /// The role they get on accepting.
    pub role: Role,
}

/// A pending invitation.
#[derive(Serialize, ToSchema)]
pub struct InvitationOut {
    /// `inv_…`
    #[schema(value_type = String)]
    pub id: InvitationId,
    /// The invitee's email.
    pub email: String,
    /// The role granted on accepting.
    pub role: Role,
    /// Who invited.
    #[schema(value_type = String)]
    pub invited_by: UserId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationOut {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// A new invitation and its secret token, shown once.
#[derive(Serialize, ToSchema)]
pub struct InvitationCreatedOut {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: InvitationOut,
    /// The secret the invitee accepts with (`POST /api/v1/invitations/accept`); shown only now.
    pub accept_token: String,
}

/// Accepting an invitation.
#[derive(Deserialize, ToSchema)]
pub struct AcceptIn {
    /// The secret from the invitation.
    pub token: String,
    /// Needed when not signed in: the password of the invited email's account, or a new
    /// password (at least 10 characters) to create that account.
    pub password: Option<String>,
}

/// The membership gained by accepting.
#[derive(Serialize, ToSchema)]
pub struct AcceptOut {
    /// The tenant joined.
    #[schema(value_type = String)]
    pub tenant_id: concord_domain::TenantId,
    /// The role there.
    pub role: Role,
    /// When the call signed the invitee in: the CSRF token for their writes.
    pub csrf_token: Option<String>,
}

/// Pending invitations (owner, admin).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/invitations", tag = "members",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = Vec<InvitationOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<InvitationOut>>> {
    access.require(Permission::ManageMembers)?;
    let invitations = access.repos(&state).invitations().await?;
    Ok(web::Json(invitations.into_iter().map(Into::into).collect()))
}

/// Invites an email address (owner, admin; only owners invite owners).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/invitations", tag = "members",
    request_body = InvitationIn, params(("tenant_id" = String, Path)),
    responses((status = 201, body = InvitationCreatedOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "Already a member"),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<InvitationIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageMembers)?;
    if !access.scope.role().may_grant(body.role) {
        return Err(ApiError::forbidden("only owners invite owners"));
    }
    let email = Email::parse(&body.email)?;
    let accept_token = random_secret();
    let invitation = access
        .repos(&state)
        .create_invitation(NewInvitation {
            email,
            role: body.role,
            token_hash: sha256_hex(&accept_token),
            invited_by: access.caller.user_id().clone(),
            expires_at: Utc::now() + Duration::hours(state.settings.invitation_ttl_hours),
        })
        .await?;
    tracing::info!(invitation = %invitation.id, role = %invitation.role, "member invited");
    Ok(HttpResponse::Created().json(InvitationCreatedOut {
        invitation: invitation.into(),
        accept_token,
    }))
}

/// Revokes a pending invitation (owner, admin).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/invitations/{invitation_id}", tag = "members",
    params(("tenant_id" = String, Path), ("invitation_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageMembers)?;
    let id: InvitationId = path_id(&path.1)?;
    access.repos(&state).revoke_invitation(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accepts an invitation: as the signed-in user (whose email must match), or with a
/// password, signing in to (or creating) the invited email's account.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "members", request_body = AcceptIn,
    responses((status = 200, body = AcceptOut),
        (status = 401, body = ErrorBody, description = "Wrong password for the invited account"),
        (status = 403, body = ErrorBody, description = "Signed in as someone else"),
        (status = 404, body = ErrorBody, description = "No such pending invitation"),
        (status = 409, body = ErrorBody, description = "Already a member")))]
pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Option<Caller>,
    body: web::Json<AcceptIn>,
) -> ApiResult<HttpResponse> {
    let invitation = state
        .store
        .pending_invitation(&sha256_hex(&body.token), Utc::now())
        .await?;
    if let Some(caller) = caller {
        if caller.user().email != invitation.email {
            return Err(ApiError::forbidden(
                "this invitation is for another email address",
            ));
        }
        let scope = state
            .store
            .accept_invitation(&invitation, caller.user_id())
            .await?;
        let out = AcceptOut {
            tenant_id: scope.tenant_id().clone(),
            role: scope.role(),
            csrf_token: None,
        };
        return Ok(HttpResponse::Ok().json(out));
    }
    let given = body.password.clone().ok_or_else(|| {
        ApiError::from(concord_domain::ValidationError {
            field: "password",
            message: "is required when not signed in".into(),
        })
    })?;
    let email = Email::parse(&invitation.email)?;
    let user = match state.store.credentials(&email).await? {
        Some(existing) => {
            let address = client_address(&req);
            state.limiter.attempt(email.as_str(), &address).await?;
            if !password::verify(given, Some(existing.password_hash)).await? {
                return Err(invalid_credentials());
            }
            existing.user
        }
        None => {
            let new_password = Password::parse(&given)?;
            let hash = password::hash(new_password.expose().to_owned()).await?;
            state.store.create_user(&email, hash).await?
        }
    };
    let scope = state.store.accept_invitation(&invitation, &user.id).await?;
    let session = session_cookie::start(&state, &req, &user.id).await?;
    let out = AcceptOut {
        tenant_id: scope.tenant_id().clone(),
        role: scope.role(),
        csrf_token: Some(session.csrf_token),
    };
    Ok(HttpResponse::Ok().cookie(session.cookie).json(out))
}
