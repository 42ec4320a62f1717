//! [`Caller`]: who is making this request, from a session cookie or a personal API token.
//!
//! Cookie-authenticated writes must carry the session's CSRF token in `X-CSRF-Token`;
//! token-authenticated requests need none (a browser never attaches a bearer token on its own).

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::Method, web};
use chrono::Utc;
use concord_domain::{ApiTokenId, UserId};
use concord_storage::{StorageError, TenantScope, User};

use crate::{
    auth::{
        secrets::{constant_time_eq, sha256_hex},
        session_cookie::{SESSION_COOKIE, fingerprint},
    },
    error::ApiError,
    state::AppState,
};

/// The header cookie-authenticated writes must echo the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A browser session.
    Session {
        /// The signed-in user.
        user: User,
        /// The session's CSRF token.
        csrf_token: String,
        /// The session's stored fingerprint (to end it).
        fingerprint: String,
    },
    /// A personal API token, valid in one tenant only.
    Token {
        /// The token's owner.
        user: User,
        /// The token.
        token_id: ApiTokenId,
        /// The tenant and role it opens.
        scope: TenantScope,
    },
}

impl Caller {
    /// The user behind the request.
    pub fn user(&self) -> &User {
        match self {
            Caller::Session { user, .. } | Caller::Token { user, .. } => user,
        }
    }

    /// The user's id.
    pub fn user_id(&self) -> &UserId {
        &self.user().id
    }

    async fn authenticate(req: HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("application state missing"))?;
        let now = Utc::now();
        let caller = if let Some(token) = bearer_token(&req)? {
            let (token, scope) = state
                .store
                .authenticate_api_token(&sha256_hex(&token), now)
                .await
                .map_err(unauthenticated_if_missing)?;
            let user = state
                .store
                .user(&token.user_id)
                .await
                .map_err(unauthenticated_if_missing)?;
            Caller::Token {
                user,
                token_id: token.id,
                scope,
            }
        } else if let Some(cookie) = req.cookie(SESSION_COOKIE) {
            let fingerprint = fingerprint(state, cookie.value());
            let session = state
                .store
                .session(&fingerprint, now)
                .await
                .map_err(unauthenticated_if_missing)?;
            if !is_safe(req.method()) {
                let sent = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !constant_time_eq(sent, &session.csrf_token) {
                    return Err(ApiError::forbidden(
                        "missing or wrong X-CSRF-Token header; it is returned by sign-in and GET /api/v1/me",
                    )
                    .with_code("csrf_failed"));
                }
            }
            Caller::Session {
                user: session.user,
                csrf_token: session.csrf_token,
                fingerprint,
            }
        } else {
            return Err(ApiError::unauthenticated());
        };
        tracing::Span::current().record("user_id", caller.user_id().as_str());
        Ok(caller)
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Self::authenticate(req.clone()))
    }
}

/// The bearer token in `Authorization`, if any; a malformed header is a 401.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(Some(token.to_owned()))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthenticated_if_missing(err: StorageError) -> ApiError {
    match err {
        StorageError::NotFound => ApiError::unauthenticated(),
        other => other.into(),
    }
}
