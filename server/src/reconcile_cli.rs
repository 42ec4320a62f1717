//! `concord reconcile --tenant T [--connection C] [--full]`: runs a reconcile now, with a
//! progress bar on standard error and each run's report as a JSON line on standard output.

use std::{io::Write, time::Instant};

use anyhow::{Context, bail};
use concord_domain::ConnectionId;
use concord_storage::Progress;

use crate::{
    app,
    config::Settings,
    state::AppState,
    sync::reconcile::{self, Depth},
    transfer::operator_scope,
};

/// Runs the reconcile of one connection, or of all the tenant's connections.
pub async fn run(
    settings: Settings,
    tenant: &str,
    connection: Option<&str>,
    full: bool,
) -> anyhow::Result<()> {
    let store = app::open_store(&settings).await?;
    let scope = operator_scope(&store, tenant).await?;
    let wanted: Option<ConnectionId> = connection
        .map(|c| ConnectionId::parse(c).map_err(|e| anyhow::anyhow!("--connection: {e}")))
        .transpose()?;
    let state = AppState::build(settings, store).await?;
    let gate = state.gate.clone();
    let targets: Vec<_> = state
        .store
        .callable_connections()
        .await?
        .into_iter()
        .filter(|c| c.scope.tenant_id() == scope.tenant_id())
        .filter(|c| wanted.as_ref().is_none_or(|w| *w == c.connection_id))
        .collect();
    if targets.is_empty() {
        bail!(match connection {
            Some(c) =>
                format!("no connected connection {c} in tenant {tenant} (set its access first)"),
            None => format!("tenant {tenant} has no connected connections"),
        });
    }
    let depth = if full {
        Depth::Full
    } else {
        Depth::Incremental
    };
    let mut failed = false;
    for access in &targets {
        let started = Instant::now();
        let label = format!("{} {}", access.platform, access.connection_id);
        let bar = |p: &Progress| draw(&label, p, started);
        let job = reconcile::run(&state, &gate, access, depth, &bar)
            .await
            .map_err(|e| anyhow::anyhow!(e))
            .with_context(|| format!("reconciling {label}"))?;
        eprintln!();
        println!("{}", job.report.as_deref().unwrap_or("{}"));
        if let Some(error) = &job.error {
            eprintln!("{label}: failed: {error}");
            failed = true;
        }
    }
    if failed {
        bail!("a reconcile failed");
    }
    Ok(())
}

/// A one-line progress bar: done of total, percentage, ETA.
fn draw(label: &str, p: &Progress, started: Instant) {
    const WIDTH: usize = 30;
    let mut line = format!("\r{label}: {} checked", p.done);
    if let Some(total) = p.total.filter(|t| *t > 0) {
        let ratio = (p.done as f64 / total as f64).clamp(0.0, 1.0);
        let filled = (ratio * WIDTH as f64) as usize;
        let elapsed = started.elapsed().as_secs_f64();
        let eta = if ratio > 0.0 {
            elapsed / ratio - elapsed
        } else {
            0.0
        };
        line = format!(
            "\r{label}: [{}{}] {}/{total} {:.0}% ETA {:.0}s",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            p.done,
            ratio * 100.0,
            eta
        );
    }
    line.push_str(&format!(
        " · {} discrepancies, {} repaired",
        p.found, p.repaired
    ));
    let mut err = std::io::stderr();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}
