//! Platform secrets at rest: AES-256-GCM under the configured `token_encryption_key`, with a
//! random 96-bit nonce per value. Stored as `v1.<base64(nonce ‖ ciphertext)>`; the version
//! prefix leaves room to rotate keys.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, OsRng, rand_core::RngCore},
};
use base64::{Engine, engine::general_purpose::STANDARD};

/// Why a stored secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key is not 32 bytes.
    #[error("the token encryption key must be 32 bytes")]
    Key,
    /// The stored value is not one this box sealed, or the key changed.
    #[error("the stored secret cannot be decrypted with the configured key")]
    Open,
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

const VERSION: &str = "v1.";

impl SecretBox {
    /// A box for a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        Ok(Self {
            cipher: Aes256Gcm::new_from_slice(key).map_err(|_| SealError::Key)?,
        })
    }

    /// Encrypts `plaintext` for storage.
    pub fn seal(&self, plaintext: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| SealError::Open)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{VERSION}{}", STANDARD.encode(out)))
    }

    /// Decrypts a value [`SecretBox::seal`] produced.
    pub fn open(&self, stored: &str) -> Result<String, SealError> {
        let raw = stored
            .strip_prefix(VERSION)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|r| r.len() > 12)
            .ok_or(SealError::Open)?;
        let (nonce, sealed) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plain).map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let boxed = SecretBox::new(&[7u8; 32]).expect("key");
        let sealed = boxed.seal("whsec_top-secret").expect("seal");
        assert!(sealed.starts_with("v1.") && !sealed.contains("top-secret"));
        assert_ne!(
            sealed,
            boxed.seal("whsec_top-secret").expect("seal"),
            "a fresh nonce each time"
        );
        assert_eq!(boxed.open(&sealed).expect("open"), "whsec_top-secret");
        let other = SecretBox::new(&[8u8; 32]).expect("key");
        assert!(other.open(&sealed).is_err());
        assert!(boxed.open("v1.AAAA").is_err());
        assert!(SecretBox::new(&[1u8; 16]).is_err());
    }
}
