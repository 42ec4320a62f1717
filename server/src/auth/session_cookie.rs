//! The session cookie and starting a session.
//!
//! The cookie holds a random secret; the database holds only its HMAC under the session
//! key. It is `HttpOnly`, `SameSite=Lax` and `Secure` unless the site is served from
//! localhost (plain-HTTP development).

use actix_web::{
    HttpRequest,
    cookie::{Cookie, SameSite, time},
};
use chrono::{Duration, Utc};
use concord_domain::UserId;

use crate::{
    auth::secrets::{hmac_hex, random_secret},
    error::ApiResult,
    state::AppState,
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "concord_session";

/// A new session: the cookie to set and the CSRF token the client must echo on writes.
pub struct NewSession {
    /// `Set-Cookie` value.
    pub cookie: Cookie<'static>,
    /// Token for the `X-CSRF-Token` header.
    pub csrf_token: String,
}

/// Starts a session for `user_id`.
pub async fn start(state: &AppState, req: &HttpRequest, user_id: &UserId) -> ApiResult<NewSession> {
    let secret = random_secret();
    let csrf_token = random_secret();
    let ttl = Duration::hours(state.settings.session_ttl_hours);
    state
        .store
        .create_session(
            user_id,
            fingerprint(state, &secret),
            csrf_token.clone(),
            Utc::now() + ttl,
        )
        .await?;
    let cookie = Cookie::build(SESSION_COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(!is_localhost(req))
        .max_age(time::Duration::hours(state.settings.session_ttl_hours))
        .finish();
    Ok(NewSession { cookie, csrf_token })
}

/// A cookie that removes the session cookie from the browser.
pub fn removal(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(!is_localhost(req))
        .finish();
    cookie.make_removal();
    cookie
}

/// The stored fingerprint of a session secret.
pub fn fingerprint(state: &AppState, secret: &str) -> String {
    hmac_hex(state.settings.session_key.expose(), secret)
}

fn is_localhost(req: &HttpRequest) -> bool {
    let info = req.connection_info();
    let host = info.host();
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']').map(|(name, _)| name))
        .unwrap_or_else(|| host.split(':').next().unwrap_or(host));
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}
