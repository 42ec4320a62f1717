//! The push pass: for every connection with offers due, write the latest offer of each due
//! listed SKU through the platform's batch endpoint, under the connection's token bucket.
//! An offer the platform already shows is recorded without a write; a write that raced a
//! sale (compare-and-set refused) is retried with the figure then expected.

use std::time::Duration;

use chrono::{DateTime, Utc};
use concord_connectors::{
    Platform,
    api::{self, Connector, ConnectorError, Session, StockWrite, WriteResult},
};
use concord_domain::SkuId;
use concord_storage::{ConnectionAccess, DuePush, PushOutcome};

use super::{RateGate, credentials_of};
use crate::state::AppState;

/// Batches written per connection per pass, so one busy connection cannot starve others.
const BATCHES_PER_PASS: usize = 4;
/// Failed attempts after which a compare-and-set write is sent without the comparison.
const COMPARE_ATTEMPTS: i32 = 2;
/// Failed attempts after which an offer is left as a discrepancy.
const MAX_ATTEMPTS: i32 = 10;
/// The longest a platform's answer defers a write: as long as the rate gate pauses
/// (`u32::MAX` ms, about 49 days). A longer `Retry-After` is not taken literally.
const MAX_WAIT: Duration = Duration::from_millis(u32::MAX as u64);

/// One pass over every connection with offers due; returns the number of offers settled.
pub async fn push_pass(state: &AppState, gate: &RateGate) -> usize {
    let due = match state.store.due_push_connections().await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list connections with offers due");
            return 0;
        }
    };
    if due.is_empty() {
        return 0;
    }
    let callable = match state.store.callable_connections().await {
        Ok(callable) => callable,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list connections");
            return 0;
        }
    };
    let mut settled = 0;
    for connection in callable
        .iter()
        .filter(|c| due.iter().any(|d| d.connection_id == c.connection_id))
    {
        settled += push_connection(state, gate, connection).await;
    }
    settled
}

async fn push_connection(state: &AppState, gate: &RateGate, access: &ConnectionAccess) -> usize {
    let repos = state.store.scoped(&access.scope);
    let Some(connector) = access
        .platform
        .parse::<Platform>()
        .ok()
        .and_then(api::connector)
    else {
        return 0;
    };
    let mut settled = 0;
    for _ in 0..BATCHES_PER_PASS {
        let batch = connector.limits().batch as u64;
        let due = match repos.due_pushes(&access.connection_id, batch).await {
            Ok(due) if !due.is_empty() => due,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, connection_id = %access.connection_id, "cannot read offers due");
                break;
            }
        };
        let Some(outcomes) = write(state, gate, connector, access, &due).await else {
            break;
        };
        settled += outcomes.len();
        if let Err(e) = repos.settle_pushes(&access.connection_id, outcomes).await {
            tracing::warn!(error = %e, "cannot record pushes; they will be written again");
            break;
        }
    }
    settled
}

/// Writes one batch; `None` when the bucket is empty (the rows stay due for a later pass).
async fn write(
    state: &AppState,
    gate: &RateGate,
    connector: &dyn Connector,
    access: &ConnectionAccess,
    due: &[DuePush],
) -> Option<Vec<(SkuId, PushOutcome)>> {
    let mut outcomes = Vec::with_capacity(due.len());
    let mut writes = Vec::new();
    let mut written = Vec::new();
    for d in due {
        if d.reported == Some(d.available) {
            outcomes.push((d.sku_id.clone(), PushOutcome::Written(d.available)));
        } else {
            writes.push(StockWrite {
                external_item_id: d.external_item_id.clone(),
                location_id: access.external_location_id.clone(),
                quantity: d.available,
                expected: d.reported.filter(|_| d.attempts < COMPARE_ATTEMPTS),
            });
            written.push(d);
        }
    }
    if writes.is_empty() {
        return Some(outcomes);
    }
    let key = access.connection_id.to_string();
    if let Err(wait) = gate.take(&key, connector.limits()).await {
        tracing::debug!(connection_id = %key, ?wait, "rate budget spent; writes wait");
        return (!outcomes.is_empty()).then_some(outcomes);
    }
    let credentials = match credentials_of(state, access).await {
        Ok(credentials) => credentials,
        Err(error) => {
            outcomes.extend(written.iter().map(|d| {
                (
                    d.sku_id.clone(),
                    PushOutcome::Failed {
                        error: error.clone(),
                    },
                )
            }));
            return Some(outcomes);
        }
    };
    let session = Session {
        base_url: &access.base_url,
        credentials: &credentials,
        http: &state.http,
    };
    let idempotency_key = concord_connectors::content_id(
        format!(
            "{key}:{}",
            writes
                .iter()
                .map(|w| format!("{}={}/{:?}", w.external_item_id, w.quantity, w.expected))
                .collect::<Vec<_>>()
                .join(",")
        )
        .as_bytes(),
    );
    let platform = connector.platform();
    match connector
        .write_stock(session, &writes, &idempotency_key)
        .await
    {
        Ok(results) => {
            state
                .metrics
                .count_push(platform.slug(), "written", results.len());
            for (d, result) in written.iter().zip(results) {
                let outcome = match result {
                    WriteResult::Written => PushOutcome::Written(d.available),
                    WriteResult::Stale { .. } => retry(
                        d,
                        "the platform's figure changed meanwhile".into(),
                        Duration::from_secs(2),
                    ),
                    WriteResult::Refused(error) => PushOutcome::Failed { error },
                };
                outcomes.push((d.sku_id.clone(), outcome));
            }
        }
        Err(error) => {
            let wait = match &error {
                ConnectorError::RateLimited { retry_after } => {
                    state
                        .metrics
                        .count_push(platform.slug(), "throttled", writes.len());
                    let wait = retry_after.unwrap_or(Duration::from_secs(1));
                    gate.pause(&key, wait).await;
                    Some(wait)
                }
                ConnectorError::Auth(_) => {
                    // A refused token is refreshed now; the writes go again at once.
                    if let Err(e) = super::credentials_after_refusal(
                        state,
                        access,
                        credentials.access_token.as_deref(),
                    )
                    .await
                    {
                        tracing::warn!(connection_id = %key, error = %e, "cannot refresh the token");
                    }
                    Some(Duration::ZERO)
                }
                ConnectorError::Transient(_) => None,
                ConnectorError::Permanent(_) | ConnectorError::Unsupported(_) => {
                    outcomes.extend(written.iter().map(|d| {
                        (
                            d.sku_id.clone(),
                            PushOutcome::Failed {
                                error: error.to_string(),
                            },
                        )
                    }));
                    return Some(outcomes);
                }
            };
            tracing::warn!(connection_id = %key, %error, "stock write failed; retrying");
            outcomes.extend(written.iter().map(|d| {
                let backoff = wait.unwrap_or_else(|| super::backoff(d.attempts));
                (d.sku_id.clone(), retry(d, error.to_string(), backoff))
            }));
        }
    }
    Some(outcomes)
}

fn retry(d: &DuePush, error: String, wait: Duration) -> PushOutcome {
    if d.attempts + 1 >= MAX_ATTEMPTS {
        PushOutcome::Failed { error }
    } else {
        PushOutcome::Retry {
            error,
            at: retry_at(Utc::now(), wait),
        }
    }
}

/// When a write deferred by `wait` goes again: `now` plus the wait, capped at [`MAX_WAIT`]
/// (a platform may answer with any `Retry-After`, and an instant past the calendar's end
/// cannot be stored).
fn retry_at(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let wait = chrono::Duration::from_std(wait.min(MAX_WAIT)).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(wait).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_as_asked_up_to_the_cap() {
        let now = DateTime::from_timestamp(1_780_000_000, 0).expect("time");
        assert_eq!(
            retry_at(now, Duration::from_secs(30)),
            now + chrono::Duration::seconds(30)
        );
        // A `Retry-After` of 10^14 seconds: once a panic past the calendar's end.
        let capped = now + chrono::Duration::from_std(MAX_WAIT).expect("cap");
        assert_eq!(
            retry_at(now, Duration::from_secs(100_000_000_000_000)),
            capped
        );
        assert_eq!(retry_at(now, Duration::MAX), capped);
    }
}
