//! Random secrets and their one-way fingerprints.
//!
//! Secrets handed to clients (session cookies, API tokens, invitation links) are 256 random
//! bits. Only fingerprints are stored: API tokens and invitations by SHA-256 (their entropy
//! makes a slow hash pointless), sessions by HMAC-SHA-256 under the server's session key, so
//! a copy of the database alone cannot forge a session.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new 256-bit secret, URL-safe base64 without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new 256-bit secret in standard base64 (for schemes whose secrets are base64 keys).
pub fn random_secret_base64() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// SHA-256 of `secret`, hex-encoded.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// HMAC-SHA-256 of `secret` under `key`, hex-encoded.
pub fn hmac_hex(key: &[u8], secret: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_url_safe() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn fingerprints_are_stable_and_keyed() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hmac_hex(b"k1", "s"), hmac_hex(b"k1", "s"));
        assert_ne!(hmac_hex(b"k1", "s"), hmac_hex(b"k2", "s"));
    }

    #[test]
    fn constant_time_eq_compares_content() {
        assert!(constant_time_eq("same", "same"));
        assert!(!constant_time_eq("same", "diff"));
        assert!(!constant_time_eq("short", "longer"));
    }
}
