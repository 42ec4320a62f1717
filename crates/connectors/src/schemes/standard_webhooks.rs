//! The Standard Webhooks scheme (standardwebhooks.com), used by BigCommerce and by Concord's
//! own outgoing webhooks: `webhook-signature` holds space-separated `v1,<base64>` entries,
//! each an HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the secret, which
//! is written `whsec_<base64 key>`. Deliveries older or newer than the tolerance are refused.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Rejection;

/// How far a delivery's timestamp may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 300;
/// The prefix of a secret as platforms show it.
pub const SECRET_PREFIX: &str = "whsec_";

/// A delivery's headers and body, as received.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp` (seconds since 1970).
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// Checks a delivery against `secret` at time `now` (seconds since 1970).
pub fn verify(secret: &str, delivery: Delivery<'_>, now: i64) -> Result<(), Rejection> {
    let id = delivery.id.ok_or(Rejection::MissingHeader("webhook-id"))?;
    let timestamp = delivery
        .timestamp
        .ok_or(Rejection::MissingHeader("webhook-timestamp"))?;
    let signatures = delivery
        .signature
        .ok_or(Rejection::MissingHeader("webhook-signature"))?;
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Rejection::BadTimestamp)?;
    if now.abs_diff(sent) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Rejection::Stale(now.saturating_sub(sent)));
    }
    let expected = signature(secret, id, timestamp.trim(), delivery.body)?;
    let matches = signatures
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .any(|candidate| candidate.as_bytes().ct_eq(expected.as_bytes()).into());
    if matches {
        Ok(())
    } else {
        Err(Rejection::Mismatch)
    }
}

/// The `v1` signature (base64, without the `v1,` prefix) of a delivery.
pub fn signature(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
) -> Result<String, Rejection> {
    let key = STANDARD
        .decode(
            secret
                .trim()
                .strip_prefix(SECRET_PREFIX)
                .unwrap_or(secret.trim()),
        )
        .map_err(|_| Rejection::BadSecret("whsec_ followed by base64"))?;
    // HMAC accepts keys of any length.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|_| Rejection::BadSecret("key"))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from the Standard Webhooks specification and its reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: &str = "1614265330";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn delivery(signature: &str) -> Delivery<'_> {
        Delivery {
            id: Some(ID),
            timestamp: Some(TIMESTAMP),
            signature: Some(signature),
            body: BODY,
        }
    }

    #[test]
    fn the_specification_example_verifies() {
        assert_eq!(verify(SECRET, delivery(SIGNATURE), 1_614_265_330), Ok(()));
        let several = format!("v1,bm90IGl0 {SIGNATURE} v2,ignored");
        assert_eq!(verify(SECRET, delivery(&several), 1_614_265_400), Ok(()));
    }

    #[test]
    fn a_changed_body_id_secret_or_version_is_refused() {
        let tampered = Delivery {
            body: br#"{"test": 2432232315}"#,
            ..delivery(SIGNATURE)
        };
        assert_eq!(
            verify(SECRET, tampered, 1_614_265_330),
            Err(Rejection::Mismatch)
        );
        let other_id = Delivery {
            id: Some("msg_other"),
            ..delivery(SIGNATURE)
        };
        assert_eq!(
            verify(SECRET, other_id, 1_614_265_330),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            verify(
                "whsec_c2VjcmV0c2VjcmV0c2VjcmV0",
                delivery(SIGNATURE),
                1_614_265_330
            ),
            Err(Rejection::Mismatch)
        );
        let v2_only = SIGNATURE.replace("v1,", "v2,");
        assert_eq!(
            verify(SECRET, delivery(&v2_only), 1_614_265_330),
            Err(Rejection::Mismatch)
        );
    }

    #[test]
    fn stale_or_future_deliveries_and_missing_headers_are_refused() {
        assert_eq!(
            verify(SECRET, delivery(SIGNATURE), 1_614_265_330 + 301),
            Err(Rejection::Stale(301))
        );
        assert_eq!(
            verify(SECRET, delivery(SIGNATURE), 1_614_265_330 - 400),
            Err(Rejection::Stale(-400))
        );
        let no_id = Delivery {
            id: None,
            ..delivery(SIGNATURE)
        };
        assert_eq!(
            verify(SECRET, no_id, 1_614_265_330),
            Err(Rejection::MissingHeader("webhook-id"))
        );
        let bad_time = Delivery {
            timestamp: Some("yesterday"),
            ..delivery(SIGNATURE)
        };
        assert_eq!(
            verify(SECRET, bad_time, 1_614_265_330),
            Err(Rejection::BadTimestamp)
        );
        assert!(matches!(
            verify("whsec_%%%", delivery(SIGNATURE), 1_614_265_330),
            Err(Rejection::BadSecret(_))
        ));
    }
}
