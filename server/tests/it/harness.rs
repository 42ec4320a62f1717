//! `TestApp`: the real application on a disposable database, with typed helpers.

use actix_service::{
    ServiceExt,
    boxed::{self, BoxService},
};
use actix_web::{
    cookie::Cookie,
    dev::ServiceResponse,
    http::{Method, StatusCode, header},
    test::{self, TestRequest},
};
use concord_server::{app::app, config::Settings, state::AppState};
use concord_storage::test_support::TestDatabase;
use serde_json::{Value, json};

type Service = BoxService<actix_http::Request, ServiceResponse, actix_web::Error>;

/// A running application and the database it owns.
pub struct TestApp {
    pub db: TestDatabase,
    pub state: AppState,
    service: Service,
}

/// Someone signed in: a browser session or an API token.
#[derive(Clone, Debug)]
pub struct Account {
    pub email: String,
    pub user_id: String,
    pub tenant_id: String,
    pub credential: Credential,
}

/// How an [`Account`] authenticates.
#[derive(Clone, Debug)]
pub enum Credential {
    Session { cookie: String, csrf: String },
    Token(String),
}

/// A response, with its body parsed as JSON (or `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
    pub cookies: Vec<Cookie<'static>>,
    pub text: String,
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// The test database's URL as another process (the `concord` binary) reaches it.
    pub fn url_for_another_process(&self) -> String {
        match self.db.schema() {
            Some(schema) => {
                let joiner = if self.db.url.contains('?') { '&' } else { '?' };
                format!("{}{joiner}options=-c%20search_path%3D{schema}", self.db.url)
            }
            None => self.db.url.clone(),
        }
    }

    /// The application with default test settings.
    pub async fn spawn() -> Self {
        Self::spawn_with("").await
    }

    /// The application with extra configuration (TOML) on top of the test settings.
    pub async fn spawn_with(extra: &str) -> Self {
        let db = TestDatabase::create().await.expect("test database");
        let redis = std::env::var("REDIS_URL").unwrap_or_default();
        let prefix = format!("concord-test-{}", rand_suffix());
        Self::spawn_on(
            db,
            &format!("redis_url = {redis:?}\nredis_prefix = {prefix:?}\n{extra}"),
        )
        .await
    }

    /// The application on a given database with the given configuration.
    pub async fn spawn_on(db: TestDatabase, toml: &str) -> Self {
        let data_dir = std::env::temp_dir().join(format!("concord-it-{}", rand_suffix()));
        let settings = Settings::from_toml(&format!(
            "data_dir = {:?}\nsession_key = \"dGVzdC1zZXNzaW9uLWtleS10ZXN0LXNlc3Npb24ta2V5LTEyMw==\"\n\
             token_encryption_key = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n{toml}",
            data_dir.display().to_string()
        ))
        .expect("test settings");
        let state = AppState::build(settings, db.store.clone())
            .await
            .expect("state");
        let service = boxed::service(
            test::init_service(app(state.clone()))
                .await
                .map(ServiceResponse::map_into_boxed_body),
        );
        Self { db, state, service }
    }

    /// Sends a request; `who` adds the credential (and the CSRF header for writes).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        who: Option<&Account>,
    ) -> Reply {
        let mut req = TestRequest::default().method(method).uri(path);
        if let Some(body) = body {
            req = req.set_json(body);
        }
        if let Some(who) = who {
            req = authorize(req, who);
        }
        self.call(req).await
    }

    /// Opens a streaming response (server-sent events) without reading it to the end.
    pub async fn open_stream(
        &self,
        path: &str,
        who: &Account,
    ) -> (StatusCode, actix_web::body::BoxBody) {
        let req = authorize(TestRequest::get().uri(path), who);
        let res = test::call_service(&self.service, req.to_request()).await;
        (res.status(), res.into_body())
    }

    /// Sends a prepared request.
    pub async fn call(&self, req: TestRequest) -> Reply {
        let res = test::call_service(&self.service, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let cookies = res.response().cookies().map(|c| c.into_owned()).collect();
        let bytes = test::read_body(res).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            cookies,
            text,
        }
    }

    pub async fn get(&self, path: &str, who: Option<&Account>) -> Reply {
        self.send(Method::GET, path, None, who).await
    }

    pub async fn post(&self, path: &str, body: Value, who: Option<&Account>) -> Reply {
        self.send(Method::POST, path, Some(body), who).await
    }

    pub async fn patch(&self, path: &str, body: Value, who: Option<&Account>) -> Reply {
        self.send(Method::PATCH, path, Some(body), who).await
    }

    pub async fn delete(&self, path: &str, who: Option<&Account>) -> Reply {
        self.send(Method::DELETE, path, None, who).await
    }

    /// Signs up a new owner with a new organization.
    pub async fn signup(&self, email: &str, organization: &str) -> Account {
        let reply = self
            .post(
                "/api/v1/auth/signup",
                json!({ "email": email, "password": PASSWORD, "organization": organization }),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        Account {
            email: email.to_lowercase(),
            user_id: str_at(&reply.body, "/user/id"),
            tenant_id: str_at(&reply.body, "/tenant/id"),
            credential: reply.session(),
        }
    }

    /// Invites `email` to `owner`'s tenant with `role` and accepts as a new account.
    pub async fn add_member(&self, owner: &Account, email: &str, role: &str) -> Account {
        let invited = self
            .post(
                &format!("/api/v1/tenants/{}/invitations", owner.tenant_id),
                json!({ "email": email, "role": role }),
                Some(owner),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
        let accepted = self
            .post(
                "/api/v1/invitations/accept",
                json!({ "token": str_at(&invited.body, "/accept_token"), "password": PASSWORD }),
                None,
            )
            .await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
        let credential = accepted.session();
        let probe = Account {
            email: email.to_owned(),
            user_id: String::new(),
            tenant_id: owner.tenant_id.clone(),
            credential,
        };
        let me = self.get("/api/v1/me", Some(&probe)).await;
        Account {
            user_id: str_at(&me.body, "/user/id"),
            ..probe
        }
    }

    /// Creates an API token for `who` in their tenant and returns an account using it.
    pub async fn token_for(&self, who: &Account, role: Option<&str>) -> Account {
        let reply = self
            .post(
                &format!("/api/v1/tenants/{}/api-tokens", who.tenant_id),
                json!({ "name": "script", "role": role }),
                Some(who),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        Account {
            credential: Credential::Token(str_at(&reply.body, "/secret")),
            ..who.clone()
        }
    }

    /// Drops the test database.
    pub async fn cleanup(self) {
        self.db.cleanup().await.expect("cleanup");
    }
}

impl Reply {
    /// The session credential this reply set.
    pub fn session(&self) -> Credential {
        let cookie = self
            .cookies
            .iter()
            .find(|c| c.name() == "concord_session")
            .unwrap_or_else(|| panic!("no session cookie in {:?}", self.headers))
            .value()
            .to_owned();
        Credential::Session {
            cookie,
            csrf: str_at(&self.body, "/csrf_token"),
        }
    }

    /// Asserts the status and the error envelope's code.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["error"]["code"], code, "{}", self.text);
        assert!(self.body["error"]["message"].is_string(), "{}", self.text);
        assert!(self.body["error"]["details"].is_object(), "{}", self.text);
    }
}

/// Adds `who`'s credential (and the CSRF header for a session) to a request.
pub fn authorize(req: TestRequest, who: &Account) -> TestRequest {
    match &who.credential {
        Credential::Session { cookie, csrf } => req
            .cookie(Cookie::new("concord_session", cookie.clone()))
            .insert_header(("x-csrf-token", csrf.clone())),
        Credential::Token(secret) => {
            req.insert_header((header::AUTHORIZATION, format!("Bearer {secret}")))
        }
    }
}

/// The string at a JSON pointer, or a panic naming it.
pub fn str_at(body: &Value, pointer: &str) -> String {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {body}"))
        .to_owned()
}

/// A short random suffix for names that must not collide between tests.
pub fn rand_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The next chunk of a streaming body, or `None` if none arrives within `wait`.
pub async fn next_chunk(
    body: &mut actix_web::body::BoxBody,
    wait: std::time::Duration,
) -> Option<String> {
    use actix_web::body::MessageBody;
    let chunk = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_next(cx));
    match tokio::time::timeout(wait, chunk).await {
        Ok(Some(Ok(bytes))) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        _ => None,
    }
}
