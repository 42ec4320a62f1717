//! The background worker (`concord worker`): periodic housekeeping now, the job queue
//! consumers as they are added. Stops cleanly when its token is cancelled.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often housekeeping runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

/// Runs housekeeping every minute until `stop` is cancelled.
pub async fn run(state: AppState, stop: CancellationToken) -> anyhow::Result<()> {
    tracing::info!("worker started");
    let mut ticker = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticker.tick() => housekeeping(&state).await,
        }
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// One housekeeping pass: removes expired sessions. Failures are logged and retried on the
/// next pass; they never stop the worker.
pub async fn housekeeping(state: &AppState) {
    match state.store.delete_expired_sessions(Utc::now()).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "expired sessions removed"),
        Err(e) => tracing::warn!(error = %e, "session cleanup failed; retrying next pass"),
    }
}

/// Cancels `stop` on SIGINT or SIGTERM.
pub async fn cancel_on_signal(stop: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    stop.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    stop.cancel();
}
