//! Delivery-signature schemes, each a pure function of the raw bytes, headers and keys;
//! shared by the platforms that use them. The HMAC helpers here compare in constant time.

pub mod jwt;
pub mod rsa_sha256;
pub mod standard_webhooks;

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a delivery was refused. The message is safe to show: it never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A header the scheme requires is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A key the scheme needs was not given (`secret`, `public key`, `client id`).
    #[error("no {0} to check the delivery with")]
    MissingKey(&'static str),
    /// The scheme signs the notification URL and none was given.
    #[error("the scheme signs the notification URL and none was given")]
    MissingUrl,
    /// The timestamp is not a number of seconds.
    #[error("the timestamp is not a number of seconds since 1970")]
    BadTimestamp,
    /// The timestamp is outside the tolerance (a replay, or a clock far off).
    #[error("the timestamp is {0} s away from now, beyond the tolerance")]
    Stale(i64),
    /// The secret is not in the platform's format.
    #[error("the secret is not in the expected format: {0}")]
    BadSecret(&'static str),
    /// The public key cannot be read.
    #[error("the public key cannot be read: {0}")]
    BadPublicKey(String),
    /// The body is not in the shape the scheme signs (e.g. a JSON field it needs is absent).
    #[error("the body cannot be checked: {0}")]
    Malformed(String),
    /// The platform does not sign its deliveries; Concord treats them as hints and fetches
    /// the resource from the platform before acting.
    #[error("{0}")]
    Unsigned(&'static str),
    /// No signature matches the body.
    #[error("no signature matches the body")]
    Mismatch,
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of the concatenated `parts` under `key`.
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `sent` (base64) encodes exactly `expected`, compared in constant time.
pub fn matches_base64(sent: &str, expected: &[u8]) -> Result<(), Rejection> {
    let decoded = STANDARD
        .decode(sent.trim())
        .map_err(|_| Rejection::Mismatch)?;
    matches_bytes(&decoded, expected)
}

/// Whether `sent` (hex, any case) encodes exactly `expected`, compared in constant time.
pub fn matches_hex(sent: &str, expected: &[u8]) -> Result<(), Rejection> {
    let decoded = hex::decode(sent.trim()).map_err(|_| Rejection::Mismatch)?;
    matches_bytes(&decoded, expected)
}

/// Constant-time equality of two byte strings.
pub fn matches_bytes(sent: &[u8], expected: &[u8]) -> Result<(), Rejection> {
    if sent.ct_eq(expected).into() {
        Ok(())
    } else {
        Err(Rejection::Mismatch)
    }
}

/// Base64 (standard alphabet, padded) of `bytes`.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_and_rfc_2202_vectors() {
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        let sha256 = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(sha256),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sha1 = hmac_sha1(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(
            hex::encode(sha1),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn comparisons_refuse_other_values_and_bad_encodings() {
        assert_eq!(matches_hex("0A0b", &[10, 11]), Ok(()));
        assert_eq!(matches_hex("0a0c", &[10, 11]), Err(Rejection::Mismatch));
        assert_eq!(matches_hex("zz", &[10, 11]), Err(Rejection::Mismatch));
        assert_eq!(matches_base64("Cgs=", &[10, 11]), Ok(()));
        assert_eq!(matches_base64("Cgs", &[10, 11]), Err(Rejection::Mismatch));
        assert_eq!(matches_bytes(b"ab", b"abc"), Err(Rejection::Mismatch));
    }
}
