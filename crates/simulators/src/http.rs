//! Request helpers the platform modules share: credentials from headers, query strings
//! and form or JSON bodies read the lenient way real servers read them, redirects with
//! parameters, and JSON answers with a status.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};

/// A platform's refusal, boxed: responses are large and refusals are the rare path.
pub(crate) type Refusal = Box<HttpResponse>;

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The user and password of an `Authorization: Basic …` header.
pub(crate) fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A header as text.
pub(crate) fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name)?.to_str().ok().map(str::trim)
}

/// The query string as decoded pairs, in order (repeated keys kept).
pub(crate) fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// The first value of query parameter `name`.
pub(crate) fn query_value(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// A form-encoded body as decoded pairs.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A body that may be JSON or form-encoded (OAuth token endpoints take both), as a flat
/// map of strings (JSON numbers and booleans become text).
pub(crate) fn json_or_form(req: &HttpRequest, body: &[u8]) -> Map<String, Value> {
    let is_json = header_str(req, "content-type").is_some_and(|ct| ct.contains("json"))
        || body.first().is_some_and(|b| *b == b'{');
    if is_json && let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return map;
    }
    form_pairs(body)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// Field `name` of a map from [`json_or_form`] as text.
pub(crate) fn field(map: &Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `base` with `params` appended to its query string.
pub(crate) fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        serializer.append_pair(k, v);
    }
    let query = serializer.finish();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}")
}

/// A 302 to `location`.
pub(crate) fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `body` as JSON with `status`.
pub(crate) fn json(status: u16, body: &Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .json(body)
}
