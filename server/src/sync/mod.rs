//! Keeping platforms in step: pushes of each channel's offer (coalesced, rate-limited),
//! polling of order changes behind the webhooks, and the shared pieces they use.

mod bucket;
pub mod poll;
pub mod push;
pub mod reconcile;

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use concord_connectors::{Normalized, api::Credentials};
use concord_domain::{ConnectionId, events::InboundEvent};
use concord_storage::{ConnectionAccess, Scoped};
use rand::Rng;

pub use bucket::RateGate;

use crate::{
    state::AppState,
    translate::{Translated, translate},
};

/// Exponential backoff (1 s, 2 s, 4 s … capped at an hour) with up to 25 % random jitter, so
/// retries from many sources do not arrive in step.
pub fn backoff(attempts: i32) -> Duration {
    const MAX_SECS: u64 = 3600;
    let base = 1u64
        .checked_shl(attempts.clamp(0, 20) as u32)
        .unwrap_or(MAX_SECS)
        .min(MAX_SECS);
    let jitter_ms = rand::rng().random_range(0..=base * 250);
    Duration::from_secs(base) + Duration::from_millis(jitter_ms)
}

/// A connection's credentials, unsealed.
pub fn credentials_of(state: &AppState, access: &ConnectionAccess) -> Result<Credentials, String> {
    let Some(sealed) = &access.sealed_credentials else {
        return Ok(Credentials::default());
    };
    let text = state
        .secrets
        .open(sealed)
        .map_err(|_| "the stored credentials cannot be opened with the current key".to_owned())?;
    serde_json::from_str(&text).map_err(|e| format!("the stored credentials are unreadable: {e}"))
}

/// Domain events from a connection's normalized events: item ids become SKU codes through
/// its listings. `Err` names why they cannot be applied yet (an item not matched).
pub async fn to_events(
    repos: &Scoped<'_>,
    connection_id: &ConnectionId,
    normalized: Vec<Normalized>,
    source_id: &str,
) -> Result<Vec<InboundEvent>, String> {
    let items: Vec<String> = normalized
        .iter()
        .flat_map(|n| {
            n.lines
                .iter()
                .filter_map(|l| l.external_item_id.clone())
                .chain(
                    n.inventory
                        .iter()
                        .filter_map(|i| i.external_item_id.clone()),
                )
        })
        .collect();
    let skus: HashMap<String, String> = repos
        .sku_codes_of_items(connection_id, &items)
        .await
        .map_err(|e| e.to_string())?;
    let mut events = Vec::new();
    for (index, event) in normalized.into_iter().enumerate() {
        match translate(event, source_id, index, &skus, Utc::now()) {
            Translated::Apply(event) => events.push(*event),
            Translated::Wait(why) => return Err(why),
            Translated::Fetch(hint) => tracing::debug!(
                %connection_id, resource = %hint.resource, id = ?hint.id,
                "a resource to fetch; polling and reconcile bring it"
            ),
            Translated::Skip(why) => tracing::debug!(%connection_id, %why, "nothing to apply"),
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_bounded_jitter_and_a_cap() {
        for (attempts, base) in [
            (0u64, 1u64),
            (1, 2),
            (3, 8),
            (11, 2048),
            (12, 3600),
            (40, 3600),
        ] {
            let wait = backoff(attempts as i32).as_millis() as u64;
            assert!(
                (base * 1000..=base * 1250).contains(&wait),
                "attempt {attempts}: {wait} ms"
            );
        }
    }
}
