//! `concord rotate-key`: re-seals every stored platform secret under the current
//! `token_encryption_key`, so the keys in `previous_token_encryption_keys` can be dropped.

use anyhow::Context;

use crate::state::AppState;

/// Re-seals every connection's credentials and webhook secret; returns how many values.
pub async fn reseal_all(state: &AppState) -> anyhow::Result<usize> {
    let mut resealed = 0;
    for mut secrets in state.store.sealed_secrets().await? {
        for value in [&mut secrets.credentials, &mut secrets.webhook_secret]
            .into_iter()
            .flatten()
        {
            let plain = state.secrets.open(value).with_context(|| {
                format!(
                    "a secret of connection {} opens with none of the configured keys",
                    secrets.connection_id
                )
            })?;
            *value = state.secrets.seal(&plain)?;
            resealed += 1;
        }
        state.store.replace_sealed_secrets(&secrets).await?;
    }
    Ok(resealed)
}
