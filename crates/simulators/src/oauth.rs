//! OAuth 2.0 authorization-code grants and tokens, with each platform's habits for code
//! lifetime, token lifetime and refresh-token rotation. Platform modules put their own
//! routes and wire shapes around it.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng, distr::Alphanumeric};
use sha2::{Digest, Sha256};

/// What happens to a refresh token when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// The same refresh token comes back and stays valid (Square's code flow).
    Reuse,
    /// A new one comes back; the old one stays valid until the new one is used (Shopify's
    /// expiring offline tokens since 2026-08).
    RotateKeepUntilNextUsed,
    /// A new one comes back and the old one is dead at once (Lightspeed, Square PKCE).
    RotateSingleUse,
}

/// A platform's token habits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// How long an authorization code can be exchanged.
    pub code_ttl: Duration,
    /// How long an access token works.
    pub access_ttl: Duration,
    /// How long a refresh token works; `None` for ever.
    pub refresh_ttl: Option<Duration>,
    pub rotation: Rotation,
    /// Refresh tokens from PKCE grants are single use whatever `rotation` says (Square).
    pub pkce_single_use: bool,
    /// Length of generated tokens.
    pub token_len: usize,
    /// Prefix of generated access tokens (`shpat_`, `EAAA`, …).
    pub access_prefix: &'static str,
}

/// A token pair handed out.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub expires_in: Duration,
    pub refresh_token: String,
    pub refresh_expires_in: Option<Duration>,
    pub scope: String,
}

/// Why a grant was refused; platform modules word it their way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantError {
    /// Wrong client id or secret.
    InvalidClient,
    /// Unknown, used or expired code or refresh token.
    InvalidGrant,
    /// The redirect URI differs from the one the code was issued for.
    RedirectMismatch,
    /// The PKCE verifier does not match the challenge.
    BadVerifier,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccessError {
    Missing,
    Invalid,
    Expired,
}

#[derive(Debug, Clone)]
struct Code {
    redirect_uri: Option<String>,
    scope: String,
    challenge: Option<String>,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Access {
    /// `None`: never expires (the pre-installed token).
    expires: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Refresh {
    scope: String,
    expires: Option<Instant>,
    /// The token this one replaced, still valid until this one is used.
    predecessor: Option<String>,
    single_use: bool,
}

/// Every code and token a simulator has issued.
#[derive(Debug)]
pub(crate) struct OAuth {
    policy: Policy,
    client_id: String,
    client_secret: String,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
}

impl OAuth {
    /// A store for one app, with `static_token` valid for ever.
    pub fn new(policy: Policy, client_id: &str, client_secret: &str, static_token: &str) -> Self {
        let mut access = HashMap::new();
        access.insert(static_token.to_owned(), Access { expires: None });
        Self {
            policy,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            codes: HashMap::new(),
            access,
            refresh: HashMap::new(),
        }
    }

    /// Whether `id` is the app's client id.
    pub fn is_client(&self, id: &str) -> bool {
        id == self.client_id
    }

    /// A new authorization code (the merchant approved the app). `challenge` is a PKCE
    /// S256 code challenge.
    pub fn authorize(
        &mut self,
        redirect_uri: Option<&str>,
        scope: &str,
        challenge: Option<&str>,
    ) -> String {
        let code = random_token(32);
        self.codes.insert(
            code.clone(),
            Code {
                redirect_uri: redirect_uri.map(str::to_owned),
                scope: scope.to_owned(),
                challenge: challenge.map(str::to_owned),
                expires: Instant::now() + self.policy.code_ttl,
            },
        );
        code
    }

    /// Exchanges a code (single use) for tokens. With a PKCE challenge on the code the
    /// verifier replaces the client secret.
    pub fn exchange(
        &mut self,
        client_id: &str,
        client_secret: Option<&str>,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Issued, GrantError> {
        if client_id != self.client_id {
            return Err(GrantError::InvalidClient);
        }
        let grant = self.codes.remove(code).ok_or(GrantError::InvalidGrant)?;
        if grant.expires < Instant::now() {
            return Err(GrantError::InvalidGrant);
        }
        let pkce = match (&grant.challenge, verifier) {
            (Some(challenge), Some(verifier)) => {
                if pkce_challenge(verifier) != *challenge {
                    return Err(GrantError::BadVerifier);
                }
                true
            }
            (Some(_), None) => return Err(GrantError::BadVerifier),
            (None, _) => {
                if client_secret != Some(self.client_secret.as_str()) {
                    return Err(GrantError::InvalidClient);
                }
                false
            }
        };
        if let (Some(expected), Some(given)) = (&grant.redirect_uri, redirect_uri)
            && expected != given
        {
            return Err(GrantError::RedirectMismatch);
        }
        let single_use = self.policy.rotation == Rotation::RotateSingleUse
            || (pkce && self.policy.pkce_single_use);
        let refresh = self.new_refresh(&grant.scope, None, single_use);
        Ok(self.issue(refresh, grant.scope))
    }

    /// Exchanges a refresh token for a new access token (and, by the platform's rotation
    /// habit, a new refresh token). `client_secret` is checked when given or required.
    pub fn refresh(
        &mut self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        require_secret: bool,
        token: &str,
    ) -> Result<Issued, GrantError> {
        if client_id.is_some_and(|id| id != self.client_id) {
            return Err(GrantError::InvalidClient);
        }
        let entry = self
            .refresh
            .get(token)
            .cloned()
            .ok_or(GrantError::InvalidGrant)?;
        let secret_ok = client_secret == Some(self.client_secret.as_str());
        if (require_secret && !entry.single_use && !secret_ok)
            || (client_secret.is_some() && !secret_ok)
        {
            return Err(GrantError::InvalidClient);
        }
        if entry.expires.is_some_and(|at| at < Instant::now()) {
            self.refresh.remove(token);
            return Err(GrantError::InvalidGrant);
        }
        // Using a token retires the one it replaced.
        if let Some(previous) = &entry.predecessor {
            self.refresh.remove(previous);
        }
        let next = if entry.single_use {
            self.refresh.remove(token);
            self.new_refresh(&entry.scope, None, true)
        } else {
            match self.policy.rotation {
                Rotation::Reuse => {
                    if let Some(e) = self.refresh.get_mut(token) {
                        e.predecessor = None;
                    }
                    token.to_owned()
                }
                Rotation::RotateKeepUntilNextUsed => {
                    if let Some(e) = self.refresh.get_mut(token) {
                        e.predecessor = None;
                    }
                    self.new_refresh(&entry.scope, Some(token.to_owned()), false)
                }
                Rotation::RotateSingleUse => {
                    self.refresh.remove(token);
                    self.new_refresh(&entry.scope, None, true)
                }
            }
        };
        Ok(self.issue(next, entry.scope))
    }

    fn new_refresh(
        &mut self,
        scope: &str,
        predecessor: Option<String>,
        single_use: bool,
    ) -> String {
        let token = random_token(self.policy.token_len);
        self.refresh.insert(
            token.clone(),
            Refresh {
                scope: scope.to_owned(),
                expires: self.policy.refresh_ttl.map(|ttl| Instant::now() + ttl),
                predecessor,
                single_use,
            },
        );
        token
    }

    fn issue(&mut self, refresh_token: String, scope: String) -> Issued {
        let access_token = format!(
            "{}{}",
            self.policy.access_prefix,
            random_token(self.policy.token_len)
        );
        self.access.insert(
            access_token.clone(),
            Access {
                expires: Some(Instant::now() + self.policy.access_ttl),
            },
        );
        Issued {
            access_token,
            expires_in: self.policy.access_ttl,
            refresh_token,
            refresh_expires_in: self.policy.refresh_ttl,
            scope,
        }
    }

    /// Checks an access token from a request.
    pub fn check(&self, token: Option<&str>) -> Result<(), AccessError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let token = token.ok_or(AccessError::Missing)?;
        let entry = self.access.get(token).ok_or(AccessError::Invalid)?;
        match entry.expires {
            Some(at) if at < Instant::now() => Err(AccessError::Expired),
            _ => Ok(()),
        }
    }

    /// Ages every issued access token past its expiry (the pre-installed one is spared), so
    /// a test can exercise a refresh.
    pub fn expire_all(&mut self) {
        let past = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .unwrap_or_else(Instant::now);
        for entry in self.access.values_mut() {
            if entry.expires.is_some() {
                entry.expires = Some(past);
            }
        }
    }
}

/// A random token of `len` letters and digits.
pub(crate) fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The S256 PKCE challenge of `verifier`.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(rotation: Rotation) -> OAuth {
        OAuth::new(
            Policy {
                code_ttl: Duration::from_secs(60),
                access_ttl: Duration::from_secs(3600),
                refresh_ttl: None,
                rotation,
                pkce_single_use: true,
                token_len: 24,
                access_prefix: "at_",
            },
            "id",
            "secret",
            "static",
        )
    }

    #[test]
    fn codes_are_single_use_and_need_the_secret() {
        let mut oauth = store(Rotation::Reuse);
        let code = oauth.authorize(Some("https://app/cb"), "read", None);
        assert_eq!(
            oauth.exchange("id", Some("wrong"), &code, None, None).err(),
            Some(GrantError::InvalidClient)
        );
        let code = oauth.authorize(Some("https://app/cb"), "read", None);
        let issued = oauth
            .exchange("id", Some("secret"), &code, Some("https://app/cb"), None)
            .expect("tokens");
        assert_eq!(oauth.check(Some(&issued.access_token)), Ok(()));
        assert_eq!(
            oauth
                .exchange("id", Some("secret"), &code, None, None)
                .err(),
            Some(GrantError::InvalidGrant)
        );
        assert_eq!(oauth.check(Some("static")), Ok(()));
        assert_eq!(oauth.check(None), Err(AccessError::Missing));
        oauth.expire_all();
        assert_eq!(
            oauth.check(Some(&issued.access_token)),
            Err(AccessError::Expired)
        );
        assert_eq!(oauth.check(Some("static")), Ok(()));
    }

    #[test]
    fn rotation_habits() {
        // Shopify: the old token works until the new one is used.
        let mut oauth = store(Rotation::RotateKeepUntilNextUsed);
        let code = oauth.authorize(None, "s", None);
        let first = oauth
            .exchange("id", Some("secret"), &code, None, None)
            .expect("ok");
        let second = oauth
            .refresh(Some("id"), Some("secret"), true, &first.refresh_token)
            .expect("ok");
        assert_ne!(first.refresh_token, second.refresh_token);
        let again = oauth
            .refresh(Some("id"), Some("secret"), true, &first.refresh_token)
            .expect("old still valid");
        oauth
            .refresh(Some("id"), Some("secret"), true, &again.refresh_token)
            .expect("ok");
        assert_eq!(
            oauth
                .refresh(Some("id"), Some("secret"), true, &first.refresh_token)
                .err(),
            Some(GrantError::InvalidGrant)
        );

        // Lightspeed: the old token dies at once.
        let mut oauth = store(Rotation::RotateSingleUse);
        let code = oauth.authorize(None, "s", None);
        let first = oauth
            .exchange("id", Some("secret"), &code, None, None)
            .expect("ok");
        oauth
            .refresh(Some("id"), Some("secret"), true, &first.refresh_token)
            .expect("ok");
        assert!(
            oauth
                .refresh(Some("id"), Some("secret"), true, &first.refresh_token)
                .is_err()
        );

        // Square code flow: the same token comes back.
        let mut oauth = store(Rotation::Reuse);
        let code = oauth.authorize(None, "s", None);
        let first = oauth
            .exchange("id", Some("secret"), &code, None, None)
            .expect("ok");
        let next = oauth
            .refresh(Some("id"), Some("secret"), true, &first.refresh_token)
            .expect("ok");
        assert_eq!(first.refresh_token, next.refresh_token);
    }

    #[test]
    fn pkce_needs_the_matching_verifier() {
        let mut oauth = store(Rotation::Reuse);
        let challenge = pkce_challenge("verifier-123");
        let code = oauth.authorize(None, "s", Some(&challenge));
        assert_eq!(
            oauth.exchange("id", None, &code, None, Some("other")).err(),
            Some(GrantError::BadVerifier)
        );
        let code = oauth.authorize(None, "s", Some(&challenge));
        let issued = oauth
            .exchange("id", None, &code, None, Some("verifier-123"))
            .expect("ok");
        let next = oauth
            .refresh(Some("id"), None, true, &issued.refresh_token)
            .expect("single-use refresh works once without the secret");
        assert_ne!(next.refresh_token, issued.refresh_token);
        assert!(
            oauth
                .refresh(Some("id"), None, true, &issued.refresh_token)
                .is_err()
        );
    }
}
