//! Sign-up, sign-in, sign-out and `/me`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_domain::{Email, OrganizationName, Password, Role};
use concord_storage::{MembershipSummary, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::{Caller, password, session_cookie},
    error::{ApiError, ApiResult, ErrorBody},
    routes::tenants::TenantOut,
    state::AppState,
};

/// Sign-up form.
#[derive(Deserialize, ToSchema)]
pub struct SignupIn {
    /// The owner's email; it becomes their sign-in.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    /// The merchant organization's name.
    pub organization: String,
}

/// Sign-in form.
#[derive(Deserialize, ToSchema)]
pub struct LoginIn {
    /// The account's email.
    pub email: String,
    /// Its password.
    pub password: String,
}

/// A user account.
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    /// `usr_…`
    #[schema(value_type = String)]
    pub id: concord_domain::UserId,
    /// Normalized email.
    pub email: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            created_at: u.created_at,
        }
    }
}

/// A membership of the signed-in user.
#[derive(Serialize, ToSchema)]
pub struct MembershipOut {
    /// `tnt_…`
    #[schema(value_type = String)]
    pub tenant_id: concord_domain::TenantId,
    /// The organization's name.
    pub tenant_name: String,
    /// The user's role there.
    pub role: Role,
}

impl From<MembershipSummary> for MembershipOut {
    fn from(m: MembershipSummary) -> Self {
        Self {
            tenant_id: m.tenant_id,
            tenant_name: m.tenant_name,
            role: m.role,
        }
    }
}

/// Who is signed in, where they belong, and (for sessions) the CSRF token writes must echo.
#[derive(Serialize, ToSchema)]
pub struct MeOut {
    /// The account.
    pub user: UserOut,
    /// Its memberships (for an API token: only the token's tenant, with the token's role).
    pub memberships: Vec<MembershipOut>,
    /// Send as `X-CSRF-Token` on cookie-authenticated writes; absent for API tokens.
    pub csrf_token: Option<String>,
}

/// The result of signing up.
#[derive(Serialize, ToSchema)]
pub struct SignupOut {
    /// The new account.
    pub user: UserOut,
    /// The new organization, owned by the account.
    pub tenant: TenantOut,
    /// Send as `X-CSRF-Token` on writes.
    pub csrf_token: String,
}

/// Creates an account and its organization, and signs in.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupIn, responses(
    (status = 201, body = SignupOut, description = "Signed up and signed in (session cookie set)"),
    (status = 409, body = ErrorBody, description = "An account with this email exists"),
    (status = 422, body = ErrorBody, description = "A field is invalid")))]
pub async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SignupIn>,
) -> ApiResult<HttpResponse> {
    let email = Email::parse(&body.email)?;
    let password = Password::parse(&body.password)?;
    let organization = OrganizationName::parse(&body.organization)?;
    let hash = password::hash(password.expose().to_owned()).await?;
    let (user, tenant) = state.store.signup(&email, hash, &organization).await?;
    let session = session_cookie::start(&state, &req, &user.id).await?;
    tracing::info!(user_id = %user.id, tenant_id = %tenant.id, "signed up");
    Ok(HttpResponse::Created()
        .cookie(session.cookie)
        .json(SignupOut {
            user: user.into(),
            tenant: TenantOut::new(tenant, Role::Owner),
            csrf_token: session.csrf_token,
        }))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn, responses(
    (status = 200, body = MeOut, description = "Signed in (session cookie set)"),
    (status = 401, body = ErrorBody, description = "Wrong email or password"),
    (status = 429, body = ErrorBody, description = "Too many failed attempts")))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginIn>,
) -> ApiResult<HttpResponse> {
    let email = Email::parse(&body.email)?;
    let address = client_address(&req);
    state.limiter.attempt(email.as_str(), &address).await?;
    let credentials = state.store.credentials(&email).await?;
    let plausible = body.password.chars().count() <= Password::MAX_CHARS;
    let stored = credentials.as_ref().map(|c| c.password_hash.clone());
    let verified = plausible && password::verify(body.password.clone(), stored).await?;
    let Some(credentials) = credentials.filter(|_| verified) else {
        tracing::info!(%address, "failed sign-in");
        return Err(invalid_credentials());
    };
    state.limiter.reset(email.as_str()).await?;
    let user = credentials.user;
    let session = session_cookie::start(&state, &req, &user.id).await?;
    let memberships = state.store.memberships_of(&user.id).await?;
    Ok(HttpResponse::Ok().cookie(session.cookie).json(MeOut {
        user: user.into(),
        memberships: memberships.into_iter().map(Into::into).collect(),
        csrf_token: Some(session.csrf_token),
    }))
}

/// Signs out: ends this browser session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses(
    (status = 204, description = "Signed out; the session cookie is cleared"),
    (status = 400, body = ErrorBody, description = "Called with an API token, which has no session"),
    (status = 401, body = ErrorBody)))]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let Caller::Session { fingerprint, .. } = caller else {
        return Err(ApiError::bad_request(
            "API tokens have no session; revoke the token instead",
        ));
    };
    state.store.delete_session(&fingerprint).await?;
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie::removal(&req))
        .finish())
}

/// The caller, their memberships and their CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses(
    (status = 200, body = MeOut), (status = 401, body = ErrorBody)))]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<web::Json<MeOut>> {
    let (memberships, csrf_token) = match &caller {
        Caller::Session {
            user, csrf_token, ..
        } => (
            state.store.memberships_of(&user.id).await?,
            Some(csrf_token.clone()),
        ),
        Caller::Token { user, scope, .. } => {
            let all = state.store.memberships_of(&user.id).await?;
            let only = all
                .into_iter()
                .filter(|m| &m.tenant_id == scope.tenant_id())
                .map(|m| MembershipSummary {
                    role: scope.role(),
                    ..m
                })
                .collect();
            (only, None)
        }
    };
    Ok(web::Json(MeOut {
        user: caller.user().clone().into(),
        memberships: memberships.into_iter().map(Into::into).collect(),
        csrf_token,
    }))
}

/// The 401 for a wrong email or password; it never says which.
pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong email or password",
    )
}

/// The client's address for rate limiting: the TCP peer (proxies are not trusted).
pub(crate) fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}
