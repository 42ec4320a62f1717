//! The Standard Webhooks scheme (standardwebhooks.com), used by BigCommerce and by Concord's
//! own outgoing webhooks: `webhook-signature` holds space-separated `v1,<base64>` entries,
//! each an HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the key. Secrets
//! are written `whsec_<base64 key>`. Deliveries older or newer than the tolerance are refused.

use base64::{Engine, engine::general_purpose::STANDARD};

use super::{Rejection, hmac_sha256};
use crate::Delivery;

/// How far a delivery's timestamp may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 300;
/// The prefix of a secret as platforms show it.
pub const SECRET_PREFIX: &str = "whsec_";

/// The key inside a `whsec_<base64>` secret (the prefix is optional).
pub fn key_of(secret: &str) -> Result<Vec<u8>, Rejection> {
    let secret = secret.trim();
    STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| Rejection::BadSecret("whsec_ followed by base64"))
}

/// Checks a delivery against a `whsec_…` secret at time `now` (seconds since 1970).
pub fn verify(secret: &str, delivery: &Delivery<'_>, now: i64) -> Result<(), Rejection> {
    verify_with_key(&key_of(secret)?, delivery, now)
}

/// Checks a delivery against the raw HMAC key at time `now`.
pub fn verify_with_key(key: &[u8], delivery: &Delivery<'_>, now: i64) -> Result<(), Rejection> {
    let id = delivery
        .header("webhook-id")
        .ok_or(Rejection::MissingHeader("webhook-id"))?;
    let timestamp = delivery
        .header("webhook-timestamp")
        .ok_or(Rejection::MissingHeader("webhook-timestamp"))?;
    let signatures = delivery
        .header("webhook-signature")
        .ok_or(Rejection::MissingHeader("webhook-signature"))?;
    let sent: i64 = timestamp.parse().map_err(|_| Rejection::BadTimestamp)?;
    if now.abs_diff(sent) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Rejection::Stale(now.saturating_sub(sent)));
    }
    let expected = signature_with_key(key, id, timestamp, delivery.body);
    let matches = signatures
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .any(|candidate| super::matches_bytes(candidate.as_bytes(), expected.as_bytes()).is_ok());
    if matches {
        Ok(())
    } else {
        Err(Rejection::Mismatch)
    }
}

/// The `v1` signature (base64, without the `v1,` prefix) of a delivery under a `whsec_…`
/// secret.
pub fn signature(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
) -> Result<String, Rejection> {
    Ok(signature_with_key(&key_of(secret)?, id, timestamp, body))
}

/// The `v1` signature under the raw HMAC key.
pub fn signature_with_key(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    STANDARD.encode(hmac_sha256(
        key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    ))
}

/// The headers of a delivery signed under the raw HMAC key.
pub fn headers_with_key(key: &[u8], id: &str, now: i64, body: &[u8]) -> Vec<(String, String)> {
    let timestamp = now.to_string();
    let signature = signature_with_key(key, id, &timestamp, body);
    vec![
        ("webhook-id".into(), id.to_owned()),
        ("webhook-timestamp".into(), timestamp),
        ("webhook-signature".into(), format!("v1,{signature}")),
    ]
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

    fn headers(id: &str, timestamp: &str, signature: &str) -> Vec<(String, String)> {
        vec![
            ("Webhook-Id".into(), id.into()),
            ("webhook-timestamp".into(), timestamp.into()),
            ("webhook-signature".into(), signature.into()),
        ]
    }

    fn check(
        headers: &[(String, String)],
        body: &[u8],
        secret: &str,
        now: i64,
    ) -> Result<(), Rejection> {
        let delivery = Delivery {
            body,
            headers,
            url: None,
        };
        verify(secret, &delivery, now)
    }

    #[test]
    fn the_specification_example_verifies() {
        assert_eq!(
            check(
                &headers(ID, TIMESTAMP, SIGNATURE),
                BODY,
                SECRET,
                1_614_265_330
            ),
            Ok(())
        );
        let several = format!("v1,bm90IGl0 {SIGNATURE} v2,ignored");
        assert_eq!(
            check(
                &headers(ID, TIMESTAMP, &several),
                BODY,
                SECRET,
                1_614_265_400
            ),
            Ok(())
        );
        let key = key_of(SECRET).expect("key");
        let signed = headers_with_key(&key, ID, 1_614_265_330, BODY);
        assert_eq!(signed[2].1, SIGNATURE);
    }

    #[test]
    fn a_changed_body_id_secret_or_version_is_refused() {
        let good = headers(ID, TIMESTAMP, SIGNATURE);
        assert_eq!(
            check(&good, br#"{"test": 2432232315}"#, SECRET, 1_614_265_330),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(
                &headers("msg_other", TIMESTAMP, SIGNATURE),
                BODY,
                SECRET,
                1_614_265_330
            ),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(&good, BODY, "whsec_c2VjcmV0c2VjcmV0c2VjcmV0", 1_614_265_330),
            Err(Rejection::Mismatch)
        );
        let v2_only = SIGNATURE.replace("v1,", "v2,");
        assert_eq!(
            check(
                &headers(ID, TIMESTAMP, &v2_only),
                BODY,
                SECRET,
                1_614_265_330
            ),
            Err(Rejection::Mismatch)
        );
    }

    #[test]
    fn stale_or_future_deliveries_and_missing_headers_are_refused() {
        let good = headers(ID, TIMESTAMP, SIGNATURE);
        assert_eq!(
            check(&good, BODY, SECRET, 1_614_265_330 + 301),
            Err(Rejection::Stale(301))
        );
        assert_eq!(
            check(&good, BODY, SECRET, 1_614_265_330 - 400),
            Err(Rejection::Stale(-400))
        );
        assert_eq!(
            check(&good[1..], BODY, SECRET, 1_614_265_330),
            Err(Rejection::MissingHeader("webhook-id"))
        );
        assert_eq!(
            check(
                &headers(ID, "yesterday", SIGNATURE),
                BODY,
                SECRET,
                1_614_265_330
            ),
            Err(Rejection::BadTimestamp)
        );
        assert!(matches!(
            check(&good, BODY, "whsec_%%%", 1_614_265_330),
            Err(Rejection::BadSecret(_))
        ));
    }
}
