//! A client that drives Concord the way a merchant's browser does: over the public HTTP
//! API, signed in with a session cookie and echoing the CSRF token on writes. The demo and
//! the cross-process checks in `e2e/` use it.

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode, header};
use serde_json::Value;

/// A signed-in API client.
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
    /// The tenant being worked on.
    pub tenant: String,
}

impl ApiClient {
    /// Signs in `email`, or signs up with `organization` when the account does not exist.
    pub async fn sign_in_or_up(
        base: &str,
        email: &str,
        password: &str,
        organization: &str,
    ) -> anyhow::Result<(Self, bool)> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let login = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await?;
        let (response, created) = if login.status() == StatusCode::UNAUTHORIZED {
            let signup = http
                .post(format!("{base}/api/v1/auth/signup"))
                .json(&serde_json::json!({ "email": email, "password": password, "organization": organization }))
                .send()
                .await?;
            (signup, true)
        } else {
            (login, false)
        };
        if !response.status().is_success() {
            bail!(
                "signing in {email} failed: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        let cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; ");
        let mut client = Self {
            http,
            base: base.to_owned(),
            cookie,
            csrf: String::new(),
            tenant: String::new(),
        };
        let me = client.call(Method::GET, "/api/v1/me", None).await?;
        client.csrf = me["csrf_token"].as_str().unwrap_or_default().to_owned();
        client.tenant = me["memberships"][0]["tenant_id"]
            .as_str()
            .with_context(|| format!("{email} belongs to no organization"))?
            .to_owned();
        Ok((client, created))
    }

    /// `/api/v1/tenants/{tenant}{rest}`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/tenants/{}{rest}", self.tenant)
    }

    /// Calls the API; a status outside 2xx is an error naming it.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header("X-CSRF-Token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{method} {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET` a tenant path.
    pub async fn get(&self, rest: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, &self.path(rest), None).await
    }

    /// `POST` to a tenant path.
    pub async fn post(&self, rest: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, &self.path(rest), Some(body)).await
    }

    /// `PUT` to a tenant path.
    pub async fn put(&self, rest: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::PUT, &self.path(rest), Some(body)).await
    }

    /// Connects a connection by OAuth as a merchant would: start, approve on the platform's
    /// page, land on Concord's callback.
    pub async fn approve_oauth(&self, connection_id: &str, base_url: &str) -> anyhow::Result<()> {
        let started = self
            .post(
                &format!("/connections/{connection_id}/oauth"),
                serde_json::json!({ "base_url": base_url }),
            )
            .await?;
        let authorize = started["authorize_url"]
            .as_str()
            .context("no approval page")?;
        let approved = self.http.get(authorize).send().await?;
        let callback = approved
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("the platform's approval page did not send the merchant back")?
            .to_owned();
        let landed = self.http.get(&callback).send().await?;
        if landed.status() != StatusCode::SEE_OTHER {
            bail!(
                "the OAuth callback answered {}: {}",
                landed.status(),
                landed.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }
}
