//! Platform secrets at rest: AES-256-GCM under the configured `token_encryption_key`, with a
//! random 96-bit nonce per value. Stored as `v1.<base64(nonce ‖ ciphertext)>`. To rotate the
//! key, configure the new one and list the old in `previous_token_encryption_keys`: values
//! sealed under either open, new ones are sealed under the new key, and `concord rotate-key`
//! re-seals the stored ones so the old key can be dropped.

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

/// Seals with the current key; opens with it or a previous one.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    previous: Vec<Aes256Gcm>,
}

const VERSION: &str = "v1.";

impl SecretBox {
    /// A box for a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        Self::rotating(key, &[])
    }

    /// A box sealing under `key` and also opening what `previous` keys sealed.
    pub fn rotating(key: &[u8], previous: &[&[u8]]) -> Result<Self, SealError> {
        let cipher = |k: &[u8]| Aes256Gcm::new_from_slice(k).map_err(|_| SealError::Key);
        Ok(Self {
            cipher: cipher(key)?,
            previous: previous
                .iter()
                .map(|k| cipher(k))
                .collect::<Result<_, _>>()?,
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
        let plain = std::iter::once(&self.cipher)
            .chain(&self.previous)
            .find_map(|cipher| cipher.decrypt(Nonce::from_slice(nonce), sealed).ok())
            .ok_or(SealError::Open)?;
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

    #[test]
    fn a_rotated_box_opens_old_values_and_seals_new_ones_under_the_new_key() {
        let old = SecretBox::new(&[7u8; 32]).expect("key");
        let sealed_before = old.seal("token").expect("seal");
        let rotated = SecretBox::rotating(&[9u8; 32], &[&[7u8; 32]]).expect("keys");
        assert_eq!(rotated.open(&sealed_before).expect("old value"), "token");
        let sealed_after = rotated.seal("token").expect("seal");
        assert!(old.open(&sealed_after).is_err(), "sealed under the new key");
        let new_only = SecretBox::new(&[9u8; 32]).expect("key");
        assert_eq!(new_only.open(&sealed_after).expect("open"), "token");
    }
}
