//! Reconcile: compare a connection's platform with Concord and repair the difference.
//! Incremental runs catch missed orders (the order poll) and re-send offers the platform
//! has not confirmed. Full runs also stream every listed item's stock figure page by page
//! (memory does not grow with the catalog): a figure that differs from what Concord
//! expects is a manual edit on the platform and reaches the ledger; a figure that differs
//! from the channel's offer is a discrepancy, repaired by writing the offer again. A
//! platform that keeps no stock (Stripe) has its orders polled and nothing compared.

use std::{collections::BTreeMap, time::Instant};

use chrono::Utc;
use concord_connectors::{
    Platform,
    api::{self, ConnectorError, Session},
};
use concord_domain::{
    ConnectionId, JobId,
    events::{CommerceEvent, InboundEvent},
};
use concord_storage::{ConnectionAccess, Job, Progress};
use serde::Serialize;
use serde_json::json;

use super::{RateGate, credentials_of, poll::poll_connection, push::push_pass};
use crate::state::AppState;

/// How thorough a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Missed orders and unconfirmed offers.
    Incremental,
    /// Also every listed item's stock figure.
    Full,
}

impl Depth {
    /// The job kind recorded for it.
    pub fn kind(self) -> &'static str {
        match self {
            Depth::Incremental => "reconcile",
            Depth::Full => "full_reconcile",
        }
    }
}

/// What a run found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// `reconcile` or `full_reconcile`.
    pub kind: &'static str,
    /// The connection.
    pub connection_id: String,
    /// Order changes polled and applied.
    pub orders_applied: usize,
    /// Offers re-sent because the platform had not confirmed them.
    pub unconfirmed_resent: u64,
    /// Platform figures checked.
    pub checked: i64,
    /// Figures that differed from the channel's offer.
    pub discrepancies: i64,
    /// Discrepancies repaired (the offer written again).
    pub repaired: i64,
    /// Figures not compared, by reason.
    pub skipped: BTreeMap<String, i64>,
    /// Manual edits on the platform found and applied to the ledger.
    pub edits_applied: usize,
    /// Why a full run compared no stock figures (a platform that keeps none, like Stripe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_not_compared: Option<String>,
    /// Wall time.
    pub duration_ms: u128,
}

/// Runs one reconcile of `access`'s connection now, reporting progress to `on_progress`
/// after each page. The job and its report are stored; live subscribers see its progress.
pub async fn run(
    state: &AppState,
    gate: &RateGate,
    access: &ConnectionAccess,
    depth: Depth,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Job, String> {
    let job = state
        .store
        .scoped(&access.scope)
        .start_job(&access.connection_id, depth.kind())
        .await
        .map_err(|e| e.to_string())?;
    run_started(state, gate, access, depth, job, on_progress).await
}

/// Runs a reconcile whose job is already recorded (so its id could be handed out first).
pub async fn run_started(
    state: &AppState,
    gate: &RateGate,
    access: &ConnectionAccess,
    depth: Depth,
    job: Job,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<Job, String> {
    let repos = state.store.scoped(&access.scope);
    let started = Instant::now();
    let mut report = Report {
        kind: depth.kind(),
        connection_id: access.connection_id.to_string(),
        ..Report::default()
    };
    let mut progress = Progress::default();
    let outcome = reconcile(
        state,
        gate,
        access,
        depth,
        &job.id,
        &mut report,
        &mut progress,
        on_progress,
    )
    .await;
    report.duration_ms = started.elapsed().as_millis();
    progress.found = report.discrepancies;
    progress.repaired = report.repaired;
    progress.skipped = report.skipped.values().sum();
    let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    let finished = repos
        .finish_job(&job.id, progress, text, outcome.err())
        .await
        .map_err(|e| e.to_string())?;
    publish(state, access, &finished).await;
    Ok(finished)
}

#[allow(clippy::too_many_arguments)]
async fn reconcile(
    state: &AppState,
    gate: &RateGate,
    access: &ConnectionAccess,
    depth: Depth,
    job_id: &JobId,
    report: &mut Report,
    progress: &mut Progress,
    on_progress: &(dyn Fn(&Progress) + Sync),
) -> Result<(), String> {
    let repos = state.store.scoped(&access.scope);
    let Some(connector) = access
        .platform
        .parse::<Platform>()
        .ok()
        .and_then(api::connector)
    else {
        return Err(format!(
            "Concord does not read stock or orders from {}",
            access.platform
        ));
    };
    report.orders_applied = poll_connection(state, gate, access).await?;
    report.unconfirmed_resent = repos
        .reopen_unconfirmed(&access.connection_id)
        .await
        .map_err(|e| e.to_string())?;
    if depth == Depth::Incremental {
        push_pass(state, gate).await;
        return Ok(());
    }
    progress.total = Some(
        repos
            .matched_listing_count(&access.connection_id)
            .await
            .map_err(|e| e.to_string())?,
    );
    let credentials = credentials_of(state, access).await?;
    let session = Session {
        base_url: &access.base_url,
        credentials: &credentials,
        http: &state.http,
    };
    let key = access.connection_id.to_string();
    let location = match &access.external_location_id {
        Some(location) => Some(location.clone()),
        None => {
            wait_for(gate, &key, connector.limits()).await;
            match connector.locations(session).await {
                Ok(found) => found.into_iter().next().map(|l| l.id),
                Err(ConnectorError::Unsupported(why)) => {
                    report.stock_not_compared = Some(why.to_owned());
                    return Ok(());
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    let mut cursor = None;
    loop {
        wait_for(gate, &key, connector.limits()).await;
        let page = match connector
            .stock(session, location.as_deref(), cursor.clone())
            .await
        {
            Ok(page) => page,
            Err(ConnectorError::RateLimited { retry_after }) => {
                let wait = retry_after.unwrap_or(std::time::Duration::from_secs(1));
                gate.pause(&key, wait).await;
                continue;
            }
            Err(ConnectorError::Unsupported(why)) => {
                report.stock_not_compared = Some(why.to_owned());
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        };
        let items: Vec<String> = page
            .items
            .iter()
            .map(|s| s.external_item_id.clone())
            .collect();
        let before = repos
            .offers_of_items(&access.connection_id, &items)
            .await
            .map_err(|e| e.to_string())?;
        // Only news reaches the ledger: an echo of Concord's write, or the figure already
        // recorded, changes nothing there (most of a healthy catalog).
        let mut events = Vec::new();
        for figure in &page.items {
            match before.get(&figure.external_item_id) {
                None => {
                    *report
                        .skipped
                        .entry("not matched to a SKU".into())
                        .or_default() += 1
                }
                Some(offer) if offer.is_news(figure.quantity) => events.push(InboundEvent {
                    event_id: format!("{job_id}:{}", figure.external_item_id),
                    occurred_at: Utc::now(),
                    event: CommerceEvent::StockLevelReported {
                        sku: offer.sku_code.clone(),
                        location: figure.location_id.clone(),
                        quantity: figure.quantity,
                    },
                }),
                Some(_) => {}
            }
        }
        let after = if events.is_empty() {
            before
        } else {
            let applied = repos
                .apply_events(&access.connection_id, &events)
                .await
                .map_err(|e| e.to_string())?;
            report.edits_applied += applied.iter().filter(|a| a.movements > 0).count();
            state
                .live
                .applied(access.scope.tenant_id().as_str(), &applied)
                .await;
            repos
                .offers_of_items(&access.connection_id, &items)
                .await
                .map_err(|e| e.to_string())?
        };
        let mut repair = Vec::new();
        for figure in &page.items {
            if let Some(offer) = after.get(&figure.external_item_id) {
                report.checked += 1;
                if offer.available != figure.quantity {
                    report.discrepancies += 1;
                    repair.push((offer.sku_id.clone(), figure.quantity));
                }
            }
        }
        repos
            .repair_offers(&access.connection_id, &repair)
            .await
            .map_err(|e| e.to_string())?;
        report.repaired += repair.len() as i64;
        progress.done += page.items.len() as i64;
        progress.found = report.discrepancies;
        progress.repaired = report.repaired;
        progress.skipped = report.skipped.values().sum();
        repos
            .job_progress(job_id, *progress)
            .await
            .map_err(|e| e.to_string())?;
        on_progress(progress);
        publish_progress(state, access, job_id, progress).await;
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    push_pass(state, gate).await;
    Ok(())
}

/// Waits until the connection's bucket gives a token.
async fn wait_for(gate: &RateGate, key: &str, limits: api::Limits) {
    while let Err(wait) = gate.take(key, limits).await {
        tokio::time::sleep(wait.min(std::time::Duration::from_secs(5))).await;
    }
}

async fn publish_progress(
    state: &AppState,
    access: &ConnectionAccess,
    job_id: &JobId,
    p: &Progress,
) {
    state
        .live
        .job(
            access.scope.tenant_id().as_str(),
            json!({ "job_id": job_id, "connection_id": access.connection_id, "status": "running",
                    "done": p.done, "total": p.total, "found": p.found, "repaired": p.repaired }),
        )
        .await;
}

async fn publish(state: &AppState, access: &ConnectionAccess, job: &Job) {
    state
        .live
        .job(
            access.scope.tenant_id().as_str(),
            json!({ "job_id": job.id, "connection_id": access.connection_id, "status": job.status,
                    "done": job.done, "total": job.total, "found": job.found, "repaired": job.repaired }),
        )
        .await;
}

/// Runs the reconciles that are due by each tenant's schedule, as many at once as the
/// settings allow; returns how many ran.
pub async fn scheduled_pass(state: &AppState, gate: &RateGate) -> usize {
    let callable = match state.store.callable_connections().await {
        Ok(callable) => callable,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list connections to reconcile");
            return 0;
        }
    };
    let mut due = Vec::new();
    for access in callable {
        match due_depth(state, &access.connection_id, &access).await {
            Ok(Some(depth)) => due.push((access, depth)),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot read the reconcile schedule"),
        }
    }
    let ran = due.len();
    for (access, outcome) in run_all(state, gate, due).await {
        match outcome {
            Ok(job) => {
                tracing::info!(job_id = %job.id, kind = %job.kind, found = job.found, "reconcile finished")
            }
            Err(error) => {
                tracing::warn!(connection_id = %access.connection_id, %error, "reconcile failed")
            }
        }
    }
    ran
}

/// Runs a reconcile of each connection, [`AppState::reconciles_at_once`] at a time; each
/// connection's calls stay within its own request budget. Returns each outcome.
pub async fn run_all(
    state: &AppState,
    gate: &RateGate,
    runs: Vec<(ConnectionAccess, Depth)>,
) -> Vec<(ConnectionAccess, Result<Job, String>)> {
    use futures_util::StreamExt;
    futures_util::stream::iter(runs)
        .map(|(access, depth)| async move {
            let outcome = run(state, gate, &access, depth, &|_| {}).await;
            (access, outcome)
        })
        .buffer_unordered(state.reconciles_at_once())
        .collect()
        .await
}

/// The reconcile due now on a connection, if any: a full one first.
async fn due_depth(
    state: &AppState,
    connection_id: &ConnectionId,
    access: &ConnectionAccess,
) -> Result<Option<Depth>, String> {
    let repos = state.store.scoped(&access.scope);
    let schedule = repos.tenant().await.map_err(|e| e.to_string())?.schedule;
    let now = Utc::now();
    for (depth, every) in [
        (
            Depth::Full,
            chrono::Duration::hours(i64::from(schedule.full_hours)),
        ),
        (
            Depth::Incremental,
            chrono::Duration::minutes(i64::from(schedule.incremental_minutes)),
        ),
    ] {
        let last = repos
            .last_job(connection_id, depth.kind())
            .await
            .map_err(|e| e.to_string())?;
        if last.is_none_or(|job| now - job.created_at >= every) {
            return Ok(Some(depth));
        }
    }
    Ok(None)
}
