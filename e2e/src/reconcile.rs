//! The `reconcile` scenario: a full reconcile of every simulated channel of a catalog, as
//! many at once as the worker runs them, timed end to end, with a known number of
//! discrepancies for it to find.

use std::time::{Duration, Instant};

use concord_server::sync::{
    push::push_pass,
    reconcile::{self, Depth},
};
use concord_simulators::AdjustRequest;
use serde_json::json;

use crate::{
    scenarios::{START_STOCK, round, set_stock, sku_code},
    sync::{Rig, Start},
};

/// The scenario's size.
pub struct Size {
    /// SKUs listed on every channel.
    pub skus: usize,
    /// Simulated channels.
    pub channels: usize,
    /// Discrepancies to make.
    pub discrepancies: usize,
    /// Reconciles at once (0: the worker's default for the database).
    pub concurrency: usize,
}

/// Builds `skus` SKUs on `channels` simulated channels in sync, makes `discrepancies` of
/// them differ (see [`lose_writes`]), then runs a full reconcile of every channel.
pub async fn reconcile(
    database_url: Option<String>,
    redis_url: Option<String>,
    size: Size,
) -> anyhow::Result<String> {
    let Size {
        skus,
        channels,
        discrepancies,
        concurrency,
    } = size;
    anyhow::ensure!(
        skus > 0 && channels > 0,
        "--skus and --channels must be positive"
    );
    let discrepancies = discrepancies.min(skus);
    let rig = Rig::start(
        database_url,
        redis_url,
        channels,
        skus,
        Start::Quiet,
        &format!("reconcile_concurrency = {concurrency}"),
    )
    .await?;
    lose_writes(&rig, skus, discrepancies).await?;
    let targets: Vec<_> = rig
        .state
        .store
        .callable_connections()
        .await?
        .into_iter()
        .filter(|c| rig.sims.iter().any(|(_, id)| *id == c.connection_id))
        .collect();
    anyhow::ensure!(targets.len() == channels, "a channel is not connected");

    // As the worker's schedule runs them: on PostgreSQL several at once, on SQLite (one
    // writer) one after another.
    let started = Instant::now();
    let runs = targets.into_iter().map(|c| (c, Depth::Full)).collect();
    let (mut found, mut checked) = (0, 0);
    for (_, outcome) in reconcile::run_all(&rig.state, &rig.state.gate, runs).await {
        let job = outcome.map_err(|e| anyhow::anyhow!("reconcile: {e}"))?;
        if let Some(error) = job.error {
            anyhow::bail!("a reconcile failed: {error}");
        }
        found += job.found;
        checked += job.done;
    }
    let wall = started.elapsed().as_secs_f64();

    let line = json!({
        "scenario": "reconcile",
        "backend": if rig.db.schema().is_some() { "postgres" } else { "sqlite" },
        "skus": skus,
        "channels": channels,
        "concurrency": rig.state.reconciles_at_once(),
        "wall_s": round(wall),
        "peak_rss_mb": peak_rss_mb(),
        "checked": checked,
        "discrepancies_found": found,
        "expected_discrepancies": discrepancies,
    });
    rig.finish().await?;
    Ok(line.to_string())
}

/// Makes `count` SKUs, spread over the catalog, differ on one channel each. Concord's figure
/// of each drops twice, every drop pushed to every channel; then one channel per SKU, in
/// turn, loses the second write and shows the first figure again. That figure is neither a
/// sale nor a manual edit (Concord wrote it itself), so each is one discrepancy a full
/// reconcile must find and repair, whatever order the channels are reconciled in.
async fn lose_writes(rig: &Rig, skus: usize, count: usize) -> anyhow::Result<()> {
    let picked: Vec<usize> = (0..count).map(|n| n * skus / count.max(1)).collect();
    let repos = rig.state.store.scoped(&rig.scope);
    for lowered in 1..=2 {
        set_stock(&repos, picked.iter().copied(), START_STOCK - lowered).await?;
        push_everything(rig).await?;
        for i in &picked {
            rig.wait_until(
                &sku_code(*i),
                START_STOCK - lowered,
                None,
                Duration::from_secs(10),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("a push did not land"))?;
        }
    }
    for (n, i) in picked.iter().enumerate() {
        let (sim, _) = &rig.sims[n % rig.sims.len()];
        sim.adjust(&AdjustRequest {
            sku: sku_code(*i),
            quantity: Some(START_STOCK - 1),
            delta: None,
            location: None,
        })
        .await?;
    }
    Ok(())
}

/// Runs push passes until no offer is due (the rig runs no worker).
async fn push_everything(rig: &Rig) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !rig.state.store.due_push_connections().await?.is_empty() {
        anyhow::ensure!(Instant::now() < deadline, "the pushes did not settle");
        if push_pass(&rig.state, &rig.state.gate).await == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// The process's peak resident set size (`VmHWM`) in MiB; 0 where `/proc` is absent.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
        })
        .map_or(0.0, |kb| round(kb / 1024.0))
}
