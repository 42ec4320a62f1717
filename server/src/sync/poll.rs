//! The polling pass: for every callable connection, the orders changed since its cursor,
//! through the same translation and ledger path as webhooks. The cursor moves only after
//! what it covers is applied, so a crash polls the same changes again (applied once).

use concord_connectors::{
    Platform,
    api::{self, Session},
};
use concord_storage::ConnectionAccess;

use super::{RateGate, credentials_of, to_events};
use crate::state::AppState;

/// The cursor's name for order changes.
const ORDERS: &str = "orders";

/// One pass over every callable connection; returns the number of events applied.
pub async fn poll_pass(state: &AppState, gate: &RateGate) -> usize {
    let callable = match state.store.callable_connections().await {
        Ok(callable) => callable,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list connections to poll");
            return 0;
        }
    };
    let mut applied = 0;
    for access in &callable {
        match poll_connection(state, gate, access).await {
            Ok(n) => applied += n,
            Err(error) => {
                tracing::warn!(connection_id = %access.connection_id, %error, "polling failed; next pass retries")
            }
        }
    }
    applied
}

/// Polls one connection until it is caught up (or its rate budget is spent).
pub async fn poll_connection(
    state: &AppState,
    gate: &RateGate,
    access: &ConnectionAccess,
) -> Result<usize, String> {
    let Some(connector) = access
        .platform
        .parse::<Platform>()
        .ok()
        .and_then(api::connector)
    else {
        return Ok(0);
    };
    let repos = state.store.scoped(&access.scope);
    let key = access.connection_id.to_string();
    let mut applied = 0;
    loop {
        if gate.take(&key, connector.limits()).await.is_err() {
            return Ok(applied);
        }
        let cursor = repos
            .cursor(&access.connection_id, ORDERS)
            .await
            .map_err(|e| e.to_string())?;
        let credentials = credentials_of(state, access).await?;
        let session = Session {
            base_url: &access.base_url,
            credentials: &credentials,
            http: &state.http,
        };
        let changes = match connector.order_changes(session, cursor.clone()).await {
            Ok(changes) => changes,
            Err(api::ConnectorError::Auth(_)) => {
                super::credentials_after_refusal(
                    state,
                    access,
                    credentials.access_token.as_deref(),
                )
                .await?;
                return Ok(applied);
            }
            Err(api::ConnectorError::RateLimited { retry_after }) => {
                gate.pause(
                    &key,
                    retry_after.unwrap_or(std::time::Duration::from_secs(1)),
                )
                .await;
                return Ok(applied);
            }
            Err(e) => return Err(e.to_string()),
        };
        let source = format!("poll:{ORDERS}:{}", cursor.as_deref().unwrap_or("start"));
        let events = to_events(
            state,
            &access.connection_id,
            &access.scope,
            changes.events,
            &source,
        )
        .await?;
        let done = repos
            .apply_events(&access.connection_id, &events)
            .await
            .map_err(|e| e.to_string())?;
        state
            .live
            .applied(access.scope.tenant_id().as_str(), &done)
            .await;
        applied += events.len();
        match changes.cursor {
            Some(next) if Some(&next) != cursor.as_ref() => repos
                .set_cursor(&access.connection_id, ORDERS, next)
                .await
                .map_err(|e| e.to_string())?,
            _ => return Ok(applied),
        }
        if !changes.more {
            return Ok(applied);
        }
    }
}
