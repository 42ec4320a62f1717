//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes), off the async
//! executor because each hash takes tens of milliseconds by design.

use std::sync::LazyLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::ApiError;

/// Hashes a new password into PHC string form.
pub async fn hash(password: String) -> Result<String, ApiError> {
    blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
}

/// Checks `password` against a stored hash. With no stored hash (unknown email) a dummy
/// hash is checked instead, so the answer takes as long either way and does not reveal
/// which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&phc).map_err(ApiError::internal)?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

/// An argon2id hash of a random secret nobody knows, made once per process with the same
/// parameters as real hashes, so verifying against it costs the same.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(crate::auth::secrets::random_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_others_do_not() {
        let stored = hash("correct horse battery".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong password!".into(), Some(stored))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(
            !verify("anything at all".into(), None)
                .await
                .expect("verify")
        );
    }
}
