//! JSON Web Tokens signed with RS256 (JWS compact serialization), the form of Wix's webhook
//! bodies. Verification accepts `alg: RS256` only, checks the signature over the token's
//! `header.payload` text as received, then `exp` where the claims carry one.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Rejection, rsa_sha256};

/// How long a token made by [`sign`] is valid when its claims set no `exp`, in seconds.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Expiry {
    exp: Option<i64>,
}

fn malformed(reason: impl Into<String>) -> Rejection {
    Rejection::Malformed(reason.into())
}

fn decode(segment: &str) -> Result<Vec<u8>, Rejection> {
    URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| malformed("a JWT segment is not base64url"))
}

/// The token's signing input (`header.payload`), header, payload and signature segments.
fn segments(token: &str) -> Result<(&str, &str, &str, &str), Rejection> {
    let shape = || malformed("the body is not a JWT (header.payload.signature)");
    let (input, signature) = token.trim().rsplit_once('.').ok_or_else(shape)?;
    let (header, payload) = input.split_once('.').ok_or_else(shape)?;
    if payload.contains('.') {
        return Err(shape());
    }
    Ok((input, header, payload, signature))
}

/// The claims of `token` as JSON bytes, decoded but not verified: call [`verify`] before
/// trusting them.
pub fn claims(token: &str) -> Result<Vec<u8>, Rejection> {
    let (_, _, payload, _) = segments(token)?;
    decode(payload)
}

/// Checks `token` against a PEM public key at time `now` (seconds since 1970) and returns its
/// claims as JSON bytes. An expired token (`exp` at or before `now`) is [`Rejection::Stale`].
pub fn verify(public_pem: &str, token: &str, now: i64) -> Result<Vec<u8>, Rejection> {
    let (input, header, payload, signature) = segments(token)?;
    let header: Header = serde_json::from_slice(&decode(header)?)
        .map_err(|e| malformed(format!("the JWT header: {e}")))?;
    if header.alg != "RS256" {
        return Err(malformed(format!(
            "the JWT is signed with {}, not RS256",
            header.alg
        )));
    }
    rsa_sha256::verify(public_pem, input.as_bytes(), &decode(signature)?)?;
    let claims = decode(payload)?;
    let expiry: Expiry =
        serde_json::from_slice(&claims).map_err(|e| malformed(format!("the JWT claims: {e}")))?;
    match expiry.exp {
        Some(exp) if exp <= now => Err(Rejection::Stale(now.saturating_sub(exp))),
        _ => Ok(claims),
    }
}

/// A token for `claims_json` (a JSON object) signed with a PEM private key, as the platform
/// makes it; simulators use this. Where the claims set none, `iat` is `now` and `exp` is `now`
/// plus [`DEFAULT_LIFETIME_SECS`]. String claims (such as Wix's nested `data`) are kept
/// byte for byte.
pub fn sign(private_pem: &str, claims_json: &str, now: i64) -> Result<String, Rejection> {
    let mut claims: Map<String, Value> = serde_json::from_str(claims_json)
        .map_err(|e| malformed(format!("the claims are not a JSON object: {e}")))?;
    claims.entry("iat").or_insert_with(|| now.into());
    claims
        .entry("exp")
        .or_insert_with(|| now.saturating_add(DEFAULT_LIFETIME_SECS).into());
    let claims = serde_json::to_vec(&claims).map_err(|e| malformed(e.to_string()))?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = rsa_sha256::sign(private_pem, input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
