//! Connecting an account by OAuth 2.0 (authorization code, with PKCE where the platform
//! supports it) through the `oauth2` crate, and refreshing tokens before they expire. Each
//! platform's endpoints, scopes and token answer are described here once; platforms that
//! answer without `token_type` (Shopify) or with `expires_at` instead of `expires_in`
//! (Square) are read by one tolerant token type.

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    Scope, StandardRevocableToken, TokenResponse, TokenUrl,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
};
use serde::{Deserialize, Serialize};

use super::{ConnectorError, Credentials};
use crate::Platform;

/// An app registered with a platform (from Concord's configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthApp {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
}

/// Where a platform's OAuth endpoints are and what Concord asks for.
struct Endpoints {
    authorize: &'static str,
    token: &'static str,
    scopes: &'static [&'static str],
    pkce: bool,
}

/// The platforms Concord connects by OAuth, and their endpoints relative to the
/// platform's authorization host.
fn endpoints(platform: Platform) -> Option<Endpoints> {
    match platform {
        Platform::Shopify => Some(Endpoints {
            authorize: "/admin/oauth/authorize",
            token: "/admin/oauth/access_token",
            // Shopify separates scopes with commas.
            scopes: &["read_products,read_inventory,write_inventory,read_orders,read_locations"],
            pkce: false,
        }),
        Platform::Square => Some(Endpoints {
            authorize: "/oauth2/authorize",
            token: "/oauth2/token",
            scopes: &[
                "ITEMS_READ",
                "INVENTORY_READ",
                "INVENTORY_WRITE",
                "ORDERS_READ",
                "PAYMENTS_READ",
                "MERCHANT_PROFILE_READ",
            ],
            pkce: true,
        }),
        Platform::LightspeedR => Some(Endpoints {
            authorize: "/auth/oauth/authorize",
            token: "/auth/oauth/token",
            scopes: &["employee:all"],
            pkce: false,
        }),
        _ => None,
    }
}

/// Whether `platform` is connected by OAuth.
pub fn uses_oauth(platform: Platform) -> bool {
    endpoints(platform).is_some()
}

/// A platform's token answer, read tolerantly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformToken {
    access_token: AccessToken,
    #[serde(default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default)]
    merchant_id: Option<String>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenResponse for PlatformToken {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

type PlatformClient = oauth2::Client<
    BasicErrorResponse,
    PlatformToken,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn client(
    platform: Platform,
    app: &OAuthApp,
    auth_base: &str,
    redirect: &str,
) -> Result<(PlatformClient, Endpoints), ConnectorError> {
    let ends = endpoints(platform).ok_or(ConnectorError::Unsupported(
        "this platform is connected with an API key",
    ))?;
    let base = auth_base.trim_end_matches('/');
    let bad = |e: oauth2::url::ParseError| ConnectorError::Permanent(format!("bad OAuth URL: {e}"));
    let client = oauth2::Client::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base}{}", ends.authorize)).map_err(bad)?)
        .set_token_uri(TokenUrl::new(format!("{base}{}", ends.token)).map_err(bad)?)
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(bad)?)
        .set_auth_type(AuthType::RequestBody);
    Ok((client, ends))
}

/// Where to send the merchant to approve Concord, with the state to check on return and
/// the PKCE verifier to keep (secret) until then.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The platform's approval page.
    pub url: String,
    /// The `state` the callback must bring back.
    pub state: String,
    /// The PKCE verifier, where the platform uses PKCE.
    pub pkce_verifier: Option<String>,
}

/// Starts an authorization: the URL of the platform's approval page.
pub fn authorize(
    platform: Platform,
    app: &OAuthApp,
    auth_base: &str,
    redirect: &str,
) -> Result<Authorization, ConnectorError> {
    let (client, ends) = client(platform, app, auth_base, redirect)?;
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(ends.scopes.iter().map(|s| Scope::new((*s).to_owned())));
    let mut verifier = None;
    if ends.pkce {
        let (challenge, pkce) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        verifier = Some(pkce.secret().clone());
    }
    let (url, state) = request.url();
    Ok(Authorization {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier: verifier,
    })
}

fn credentials_from(
    token: PlatformToken,
    previous: Option<&Credentials>,
    now: DateTime<Utc>,
) -> Credentials {
    let expires_at = token
        .expires_in
        .and_then(|s| i64::try_from(s).ok())
        .map(|s| now.timestamp() + s)
        .or_else(|| {
            token
                .expires_at
                .as_deref()
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.timestamp())
        });
    let mut credentials = previous.cloned().unwrap_or_default();
    credentials.access_token = Some(token.access_token.secret().clone());
    credentials.expires_at = expires_at;
    // Platforms that rotate refresh tokens send a new one; the others keep the old one.
    if let Some(refresh) = token.refresh_token {
        credentials.refresh_token = Some(refresh.secret().clone());
    }
    if token.merchant_id.is_some() {
        credentials.account_id = token.merchant_id;
    }
    credentials
}

fn failed(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::Auth(format!("the platform refused the authorization: {e}"))
}

/// Trades the callback's code for tokens (and, where every API path names the account,
/// looks the account up at `api_base`).
#[allow(clippy::too_many_arguments)]
pub async fn exchange(
    platform: Platform,
    app: &OAuthApp,
    auth_base: &str,
    api_base: &str,
    redirect: &str,
    code: &str,
    pkce_verifier: Option<String>,
    http: &reqwest::Client,
) -> Result<Credentials, ConnectorError> {
    let (client, _) = client(platform, app, auth_base, redirect)?;
    let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
    if let Some(verifier) = pkce_verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
    }
    let token = request.request_async(http).await.map_err(failed)?;
    let mut credentials = credentials_from(token, None, Utc::now());
    credentials.auth_url = Some(auth_base.trim_end_matches('/').to_owned());
    if platform == Platform::LightspeedR {
        let session = super::Session {
            base_url: api_base,
            credentials: &credentials,
            http,
        };
        credentials.account_id = super::lightspeed_r::account_of(session).await?;
    }
    Ok(credentials)
}

/// Whether the access token expires within `margin`.
pub fn expires_soon(credentials: &Credentials, margin: Duration, now: DateTime<Utc>) -> bool {
    credentials
        .expires_at
        .is_some_and(|at| at - now.timestamp() <= margin.as_secs() as i64)
}

/// New tokens for `credentials` (the refresh token itself rotates where the platform
/// rotates it: store the result before using it).
pub async fn refresh(
    platform: Platform,
    app: &OAuthApp,
    redirect: &str,
    credentials: &Credentials,
    http: &reqwest::Client,
) -> Result<Credentials, ConnectorError> {
    let (Some(refresh), Some(auth_base)) = (&credentials.refresh_token, &credentials.auth_url)
    else {
        return Err(ConnectorError::Auth(
            "no refresh token: reconnect the account".into(),
        ));
    };
    let (client, _) = client(platform, app, auth_base, redirect)?;
    let token = client
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .request_async(http)
        .await
        .map_err(failed)?;
    Ok(credentials_from(token, Some(credentials), Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "client".into(),
            client_secret: "secret".into(),
        }
    }

    #[test]
    fn authorization_urls_carry_state_scopes_and_pkce_where_supported() {
        let square = authorize(
            Platform::Square,
            &app(),
            "https://connect.example/",
            "https://concord.example/oauth/callback",
        )
        .expect("square");
        assert!(
            square
                .url
                .starts_with("https://connect.example/oauth2/authorize?"),
            "{}",
            square.url
        );
        assert!(square.url.contains("code_challenge_method=S256"));
        assert!(square.url.contains(&format!("state={}", square.state)));
        assert!(square.url.contains("INVENTORY_WRITE"));
        assert!(square.pkce_verifier.is_some());
        let shopify = authorize(
            Platform::Shopify,
            &app(),
            "https://shop.example",
            "https://concord.example/oauth/callback",
        )
        .expect("shopify");
        assert!(
            shopify
                .url
                .starts_with("https://shop.example/admin/oauth/authorize?")
        );
        assert!(shopify.pkce_verifier.is_none());
        assert!(authorize(Platform::WooCommerce, &app(), "https://x", "https://y").is_err());
    }

    #[test]
    fn token_answers_with_expires_in_or_expires_at_and_rotation_are_read() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let shopify: PlatformToken = serde_json::from_str(
            r#"{"access_token":"a1","scope":"x","expires_in":3600,"refresh_token":"r1"}"#,
        )
        .expect("token");
        let first = credentials_from(shopify, None, now);
        assert_eq!(first.expires_at, Some(now.timestamp() + 3600));
        assert_eq!(first.refresh_token.as_deref(), Some("r1"));
        let square: PlatformToken = serde_json::from_str(
            r#"{"access_token":"a2","token_type":"bearer","expires_at":"2026-12-28T10:00:00Z","merchant_id":"M1"}"#,
        )
        .expect("token");
        let second = credentials_from(square, Some(&first), now);
        assert_eq!(second.access_token.as_deref(), Some("a2"));
        assert_eq!(
            second.refresh_token.as_deref(),
            Some("r1"),
            "kept when not rotated"
        );
        assert_eq!(second.account_id.as_deref(), Some("M1"));
        assert!(expires_soon(&first, Duration::from_secs(3600), now));
        assert!(!expires_soon(&second, Duration::from_secs(300), now));
    }
}
