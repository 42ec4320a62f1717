//! Calls to Concord's public `/api/v1` API: JSON in and out, the session's CSRF token on
//! writes, and the server's error body turned into [`ApiError`].

use std::cell::RefCell;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

thread_local! {
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remembers the CSRF token the server issued with the session; writes echo it.
pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

/// A failed call, as the server explained it.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The HTTP status (0 when the server could not be reached).
    pub status: u16,
    /// The stable machine-readable code, e.g. `not_found`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ApiError {
    fn network(err: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: format!("Concord could not be reached: {err}"),
        }
    }
}

/// The server's error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// The result of a call.
pub type ApiResult<T> = Result<T, ApiError>;

/// `GET path` and decode the JSON answer.
pub async fn get<T: DeserializeOwned>(path: impl Into<String>) -> ApiResult<T> {
    decode(
        Request::get(&path.into())
            .send()
            .await
            .map_err(ApiError::network)?,
    )
    .await
}

/// `POST path` with a JSON body and decode the JSON answer.
pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(Request::post(path), body).await
}

/// `PUT path` with a JSON body and decode the JSON answer.
pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(Request::put(path), body).await
}

/// `PATCH path` with a JSON body and decode the JSON answer.
pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(Request::patch(path), body).await
}

/// `DELETE path`; the answer's body is ignored.
pub async fn delete(path: &str) -> ApiResult<()> {
    let response = with_csrf(Request::delete(path))
        .send()
        .await
        .map_err(ApiError::network)?;
    checked(response).await.map(|_| ())
}

/// An answer with no body worth reading (`204 No Content`).
#[derive(Deserialize, Default)]
pub struct Nothing {}

async fn send<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> ApiResult<T> {
    let request = with_csrf(builder).json(body).map_err(ApiError::network)?;
    decode(request.send().await.map_err(ApiError::network)?).await
}

fn with_csrf(builder: RequestBuilder) -> RequestBuilder {
    match CSRF.with(|c| c.borrow().clone()) {
        Some(token) => builder.header("X-CSRF-Token", &token),
        None => builder,
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> ApiResult<T> {
    let response = checked(response).await?;
    if response.status() == 204 {
        return serde_json::from_str("{}").map_err(|e| ApiError::network(e.to_string()));
    }
    response.json().await.map_err(|e| ApiError {
        status: 200,
        code: "bad_answer".into(),
        message: format!("the server's answer could not be read: {e}"),
    })
}

async fn checked(response: Response) -> ApiResult<Response> {
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError {
            status,
            code: "http_error".into(),
            message: format!("the server answered {status}"),
        },
    })
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}
