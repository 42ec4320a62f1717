//! Keeping platforms in step: pushes of each channel's offer (coalesced, rate-limited),
//! polling of order changes behind the webhooks, and the shared pieces they use.

mod bucket;
pub mod poll;
pub mod push;
pub mod reconcile;

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use concord_connectors::{
    Normalized, Platform,
    api::{self, Credentials, oauth},
};
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

/// How long before expiry an access token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A connection's credentials, unsealed, its access token refreshed first when it expires
/// within five minutes. The refresh runs while holding the connection, so a rotating
/// refresh token is spent once and the new one stored before anyone uses it.
pub async fn credentials_of(
    state: &AppState,
    access: &ConnectionAccess,
) -> Result<Credentials, String> {
    let current = open(state, access.sealed_credentials.as_deref())?;
    if !oauth::expires_soon(&current, REFRESH_MARGIN, Utc::now()) || current.refresh_token.is_none()
    {
        return Ok(current);
    }
    refresh(state, access, |latest| {
        oauth::expires_soon(latest, REFRESH_MARGIN, Utc::now())
    })
    .await
}

/// The platform refused `rejected` (an access token it revoked or aged early): refresh,
/// unless another worker already replaced it.
pub async fn credentials_after_refusal(
    state: &AppState,
    access: &ConnectionAccess,
    rejected: Option<&str>,
) -> Result<Credentials, String> {
    refresh(state, access, |latest| {
        latest.access_token.as_deref() == rejected
    })
    .await
}

/// Refreshes the connection's tokens under its lock when `needed` still holds for the
/// credentials found there.
async fn refresh(
    state: &AppState,
    access: &ConnectionAccess,
    needed: impl Fn(&Credentials) -> bool,
) -> Result<Credentials, String> {
    let platform: Platform = access.platform.parse().map_err(|e| format!("{e}"))?;
    let app = state
        .settings
        .oauth_apps
        .get(platform.slug())
        .ok_or_else(|| format!("no {platform} app is configured to refresh the token with"))?;
    let redirect = format!("{}/oauth/callback", state.settings.public_url);
    let repos = state.store.scoped(&access.scope);
    let refreshed = repos
        .update_credentials(&access.connection_id, |sealed| async move {
            // Another worker may have refreshed while this one waited for the lock.
            let latest = open(state, sealed.as_deref())?;
            if !needed(&latest) || latest.refresh_token.is_none() {
                return Ok(None);
            }
            let fresh = oauth::refresh(platform, app, &redirect, &latest, &state.http)
                .await
                .map_err(|e| e.to_string())?;
            let text = serde_json::to_string(&fresh).map_err(|e| e.to_string())?;
            state
                .secrets
                .seal(&text)
                .map(Some)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
    open(state, refreshed.as_deref())
}

fn open(state: &AppState, sealed: Option<&str>) -> Result<Credentials, String> {
    let Some(sealed) = sealed else {
        return Ok(Credentials::default());
    };
    let text = state
        .secrets
        .open(sealed)
        .map_err(|_| "the stored credentials cannot be opened with the current key".to_owned())?;
    serde_json::from_str(&text).map_err(|e| format!("the stored credentials are unreadable: {e}"))
}

/// Domain events from a connection's normalized events: item ids become SKU codes through
/// its listings, and orders a thin delivery only names are fetched from the platform.
/// `Err` names why they cannot be applied yet (an item not matched, the platform
/// unreachable).
pub async fn to_events(
    state: &AppState,
    connection_id: &ConnectionId,
    scope: &concord_storage::TenantScope,
    normalized: Vec<Normalized>,
    source_id: &str,
) -> Result<Vec<InboundEvent>, String> {
    let repos = state.store.scoped(scope);
    let (mut events, fetches) = translate_all(&repos, connection_id, normalized, source_id).await?;
    if !fetches.is_empty() {
        let fetched = fetch(state, connection_id, &fetches).await?;
        let (more, _) = translate_all(
            &repos,
            connection_id,
            fetched,
            &format!("{source_id}:fetched"),
        )
        .await?;
        events.extend(more);
    }
    Ok(events)
}

/// Translates, and lists the orders named but not carried.
async fn translate_all(
    repos: &Scoped<'_>,
    connection_id: &ConnectionId,
    normalized: Vec<Normalized>,
    source_id: &str,
) -> Result<(Vec<InboundEvent>, Vec<String>), String> {
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
    let mut fetches = Vec::new();
    for (index, event) in normalized.into_iter().enumerate() {
        match translate(event, source_id, index, &skus, Utc::now()) {
            Translated::Apply(event) => events.push(*event),
            Translated::Wait(why) => return Err(why),
            Translated::Fetch(hint) => match (hint.resource.as_str(), hint.id) {
                ("order", Some(id)) if !fetches.contains(&id) => fetches.push(id),
                (resource, id) => tracing::debug!(
                    %connection_id, %resource, ?id,
                    "a resource named but not carried; polling and reconcile bring it"
                ),
            },
            Translated::Skip(why) => tracing::debug!(%connection_id, %why, "nothing to apply"),
        }
    }
    Ok((events, fetches))
}

/// The orders `ids` as the platform shows them now.
async fn fetch(
    state: &AppState,
    connection_id: &ConnectionId,
    ids: &[String],
) -> Result<Vec<Normalized>, String> {
    let Some(access) = state
        .store
        .callable_connection(connection_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(Vec::new());
    };
    let Some(connector) = access
        .platform
        .parse::<Platform>()
        .ok()
        .and_then(api::connector)
    else {
        return Ok(Vec::new());
    };
    let credentials = credentials_of(state, &access).await?;
    let session = api::Session {
        base_url: &access.base_url,
        credentials: &credentials,
        http: &state.http,
    };
    let mut found = Vec::new();
    let key = connection_id.to_string();
    for id in ids {
        while let Err(wait) = state.gate.take(&key, connector.limits()).await {
            tokio::time::sleep(wait.min(Duration::from_secs(2))).await;
        }
        match connector.order(session, id).await {
            Ok(events) => found.extend(events),
            Err(api::ConnectorError::Unsupported(_)) => {}
            Err(e) => return Err(format!("fetching order {id}: {e}")),
        }
    }
    Ok(found)
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
