//! RSASSA-PKCS1-v1_5 with SHA-256 (RS256), used by Adobe Commerce events and webhooks and by
//! Wix's JWT bodies. Public keys are read from PEM (SPKI `PUBLIC KEY` or PKCS#1
//! `RSA PUBLIC KEY`).

use rsa::{
    RsaPrivateKey, RsaPublicKey,
    pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey},
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{DecodePrivateKey, DecodePublicKey},
    sha2::Sha256,
    signature::{SignatureEncoding, Signer, Verifier},
};

use super::Rejection;

/// Reads a public key from PEM.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, Rejection> {
    let pem = pem.trim();
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|e| Rejection::BadPublicKey(e.to_string()))
}

/// Checks `signature` over `message` under the PEM public key.
pub fn verify(public_pem: &str, message: &[u8], signature: &[u8]) -> Result<(), Rejection> {
    let key = VerifyingKey::<Sha256>::new(public_key(public_pem)?);
    let signature = Signature::try_from(signature).map_err(|_| Rejection::Mismatch)?;
    key.verify(message, &signature)
        .map_err(|_| Rejection::Mismatch)
}

/// Signs `message` under a PEM private key (PKCS#8 or PKCS#1), as the platform does;
/// simulators use this.
pub fn sign(private_pem: &str, message: &[u8]) -> Result<Vec<u8>, Rejection> {
    let pem = private_pem.trim();
    let key = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| Rejection::BadSecret("an RSA private key in PEM"))?;
    Ok(SigningKey::<Sha256>::new(key).sign(message).to_vec())
}
