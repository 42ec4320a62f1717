//! The `chaos` scenario: Concord as it runs in production (`concord serve` and
//! `concord worker` as separate processes on PostgreSQL, with a Redis of the run's own),
//! simulated platforms connected through the public API, and sales made on them while the
//! processes are killed with `SIGKILL` and restarted, Redis is stopped and started, PostgreSQL
//! is optionally restarted, and the simulators refuse, fail, slow down and lose webhooks. Once
//! the faults are cleared and everything has settled, the ledger must hold every sale the
//! platforms accepted exactly once, and every platform must show Concord's figure.

mod check;
mod procs;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use concord_server::demo::{self, ApiClient, Channel};
use concord_simulators::{Faults, Platform, RunningSim, SaleLine, SaleRequest};
use concord_storage::test_support::TestDatabase;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::json;

use self::{
    check::{Expected, Observed},
    procs::{Concord, PrivateRedis, free_port},
};
use crate::{
    scenarios::{KEYS, round, sku_code},
    sims::SimSpec,
};

/// Units of every SKU at the start, on Concord and on every platform.
const START: i64 = 1_000;
/// The platforms the channels cycle through.
const PLATFORMS: [Platform; 4] = [
    Platform::Shopify,
    Platform::Square,
    Platform::WooCommerce,
    Platform::LightspeedR,
];
/// How often the settle phase asks every connection for an incremental reconcile.
const RECONCILE_EVERY: Duration = Duration::from_secs(10);
/// How long exact figures must hold, with no work left, before the run ends: a late
/// delivery or order poll would show in that time.
const HOLD: Duration = Duration::from_secs(10);
/// How long nothing may change, with no work left, before a run that is not exact is
/// declared settled anyway.
const QUIET_FOR: Duration = Duration::from_secs(60);

/// What `concord-bench chaos` is asked for.
#[derive(Debug, clap::Args)]
pub struct ChaosArgs {
    /// PostgreSQL (`postgres://…`); the run works in a fresh schema of it, dropped after.
    #[arg(long)]
    database_url: String,
    /// Sales attempted on the simulators.
    #[arg(long, default_value_t = 400)]
    sales: usize,
    /// Simulated channels (Shopify, Square, WooCommerce and Lightspeed Retail in turn).
    #[arg(long, default_value_t = 4)]
    channels: usize,
    /// SKUs the sales spread over.
    #[arg(long, default_value_t = 6)]
    skus: usize,
    /// Milliseconds between two sales.
    #[arg(long, default_value_t = 40)]
    pace_ms: u64,
    /// Seed of every random choice (what sells where, which fault when).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Restart PostgreSQL too. It is the whole cluster, so every other user of it sees the
    /// restart: opt in only where that is acceptable.
    #[arg(long)]
    restart_postgres: bool,
    /// The command that restarts PostgreSQL (run by `sh -c`).
    #[arg(
        long,
        default_value = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart"
    )]
    postgres_restart_cmd: String,
    /// The `concord` executable; by default the one beside this program.
    #[arg(long)]
    concord_bin: Option<PathBuf>,
    /// Seconds the settle phase may take at most.
    #[arg(long, default_value_t = 600)]
    settle_timeout: u64,
}

/// A fault the run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    KillServer,
    KillWorker,
    RestartRedis,
    RestartPostgres,
    /// Changes one simulator's faults.
    Toggle,
}

/// What the chaos phase did.
#[derive(Debug, Default)]
struct Injected {
    postgres_restarts: u32,
    fault_toggles: u32,
}

/// Runs the scenario; returns the JSON line and whether the ledger came out exact.
pub async fn chaos(args: ChaosArgs) -> anyhow::Result<(String, bool)> {
    anyhow::ensure!(
        args.database_url.starts_with("postgres"),
        "--database-url must be PostgreSQL: chaos runs the server as separate processes"
    );
    anyhow::ensure!(
        args.channels > 0 && args.skus > 0,
        "--channels and --skus must be positive"
    );
    let started = Instant::now();
    let bin = match args.concord_bin.clone() {
        Some(bin) => bin,
        None => std::env::current_exe()?.with_file_name("concord"),
    };
    anyhow::ensure!(
        bin.is_file(),
        "no concord executable at {} (build it, or pass --concord-bin)",
        bin.display()
    );
    let db = TestDatabase::create_on(Some(&args.database_url), 4).await?;
    let port = free_port()?;
    let dir = std::env::temp_dir().join(format!("concord-chaos-{port}"));
    std::fs::create_dir_all(&dir)?;
    eprintln!("chaos: logs in {}", dir.display());
    let mut redis = PrivateRedis::start(&dir).await?;
    let config = dir.join("concord.toml");
    std::fs::write(
        &config,
        configuration(&db, &dir, port, &redis.url())?.as_bytes(),
    )?;
    let mut concord = Concord::start(&bin, &config, port).await?;
    let (api, _) = ApiClient::sign_in_or_up(
        &concord.base(),
        "chaos@concord.test",
        "chaos-run-password",
        "Chaos",
    )
    .await?;
    let warehouse = create_catalog(&api, args.skus).await?;
    let mut sims = Vec::with_capacity(args.channels);
    for n in 0..args.channels {
        let platform = PLATFORMS[n % PLATFORMS.len()];
        let sim = start_sim(platform, args.skus)?;
        let sourcing = [warehouse.clone()];
        let channel = Channel {
            sourcing: &sourcing,
            till: None,
        };
        let id = demo::connect(&api, &sim, &format!("{platform} {n}"), Some(channel)).await?;
        sims.push((sim, id));
    }
    wait_for_jobs(&api).await?;

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut expected = Expected::new(args.skus, args.channels);
    let mut injected = Injected::default();
    let selling = Instant::now();
    sell_under_faults(
        &args,
        &mut rng,
        &sims,
        &mut concord,
        &mut redis,
        &mut expected,
        &mut injected,
    )
    .await?;
    let selling_s = selling.elapsed().as_secs_f64();

    for (sim, _) in &sims {
        sim.set_faults(Faults::default());
    }
    let settling = Instant::now();
    concord.revive()?;
    concord.wait_serving(Duration::from_secs(120)).await?;
    let (observed, exact_at) = settle(
        &mut concord,
        &api,
        &db,
        &sims,
        &expected,
        Duration::from_secs(args.settle_timeout),
    )
    .await?;
    let settle_s = exact_at
        .unwrap_or_else(Instant::now)
        .duration_since(settling)
        .as_secs_f64();
    let figures = observed.compare(&expected);
    let line = json!({
        "scenario": "chaos",
        "backend": "postgres",
        "channels": args.channels,
        "skus": args.skus,
        "seed": args.seed,
        "sales_attempted": args.sales,
        "sales": expected.sales,
        "units_sold": expected.units(),
        "server_kills": concord.server.kills,
        "worker_kills": concord.worker.kills,
        "self_exits": concord.server.exits + concord.worker.exits,
        "redis_restarts": redis.restarts(),
        "postgres_restarts": injected.postgres_restarts,
        "fault_toggles": injected.fault_toggles,
        "lost": figures.lost,
        "duplicates_applied": figures.duplicates,
        "channels_mismatched": figures.mismatched,
        "platform_edits": observed.platform_edits,
        "given_back": observed.given_back,
        "dead_letters": observed.dead_letters,
        "selling_s": round(selling_s),
        "settle_s": round(settle_s),
        "wall_s": round(started.elapsed().as_secs_f64()),
    });
    let exact = figures.exact();
    drop(concord);
    drop(redis);
    for (sim, _) in sims {
        sim.stop().await;
    }
    if exact {
        db.cleanup().await?;
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        for line in observed.explain(&expected) {
            eprintln!("chaos: {line}");
        }
        // Left for inspection; the next run on this database drops it once two hours old.
        eprintln!(
            "chaos: not exact; the schema {} and the processes' logs in {} are kept",
            db.schema().unwrap_or_default(),
            dir.display()
        );
    }
    Ok((line.to_string(), exact))
}

/// The configuration file both roles read: the run's schema, Redis and port, fixed keys,
/// the OAuth app the simulators know, and a short order-polling interval.
fn configuration(
    db: &TestDatabase,
    dir: &std::path::Path,
    port: u16,
    redis_url: &str,
) -> anyhow::Result<String> {
    let schema = db.schema().context("chaos needs a PostgreSQL schema")?;
    let joiner = if db.url.contains('?') { '&' } else { '?' };
    let database_url = format!("{}{joiner}options=-c%20search_path%3D{schema}", db.url);
    Ok(format!(
        "mode = \"development\"\ndata_dir = {dir:?}\nbind = \"127.0.0.1:{port}\"\n\
         public_url = \"http://127.0.0.1:{port}\"\ndatabase_url = {database_url:?}\n\
         redis_url = {redis_url:?}\nredis_prefix = \"concord-chaos-{port}\"\n\
         log_level = \"warn\"\npoll_interval_secs = 5\n{KEYS}{}",
        demo::simulated_oauth_apps()
    ))
}

/// Creates a warehouse and `skus` SKUs of `START` units through the API; returns the
/// warehouse's id.
async fn create_catalog(api: &ApiClient, skus: usize) -> anyhow::Result<String> {
    let warehouse = api
        .post(
            "/locations",
            json!({ "name": "Warehouse", "kind": "warehouse" }),
        )
        .await?;
    let warehouse = warehouse["id"]
        .as_str()
        .context("no location id")?
        .to_owned();
    for i in 0..skus {
        let product = api
            .post(
                "/products",
                json!({ "title": format!("Chaos Title {i}"), "format": "dvd", "studio": "Chaos Pictures",
                        "explicit": false, "classifications": { "bbfc": "15" } }),
            )
            .await?;
        let sku = api
            .post(
                "/skus",
                json!({ "product_id": product["id"], "code": sku_code(i) }),
            )
            .await?;
        let sku_id = sku["id"].as_str().context("no SKU id")?;
        api.post(
            &format!("/skus/{sku_id}/adjustments"),
            json!({ "location_id": warehouse, "reason": "receive", "quantity": START }),
        )
        .await?;
    }
    Ok(warehouse)
}

fn start_sim(platform: Platform, skus: usize) -> anyhow::Result<RunningSim> {
    // Webhook retries an hour apart come 3.6 s apart (the spec's time scale).
    SimSpec {
        platform: platform.slug().to_owned(),
        skus,
        stock: START,
        unlimited: false,
    }
    .start()
}

/// Waits until the reconciles started while connecting have finished.
async fn wait_for_jobs(api: &ApiClient) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let jobs = api.get("/jobs").await?;
        let running = jobs
            .as_array()
            .into_iter()
            .flatten()
            .any(|j| j["finished_at"].is_null());
        if !running {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the first reconciles did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sales at `--pace-ms` on random simulators while faults strike at random moments: every
/// kind once first, in random order, then at random.
async fn sell_under_faults(
    args: &ChaosArgs,
    rng: &mut StdRng,
    sims: &[(RunningSim, String)],
    concord: &mut Concord,
    redis: &mut PrivateRedis,
    expected: &mut Expected,
    injected: &mut Injected,
) -> anyhow::Result<()> {
    let mut kinds = vec![
        Fault::KillServer,
        Fault::KillWorker,
        Fault::RestartRedis,
        Fault::Toggle,
        Fault::Toggle,
    ];
    if args.restart_postgres {
        kinds.push(Fault::RestartPostgres);
    }
    kinds.shuffle(rng);
    let mut faults = vec![Faults::default(); sims.len()];
    let mut next_fault = Instant::now() + Duration::from_millis(rng.random_range(300..1500));
    let mut pending_restart: Option<(Fault, Instant)> = None;
    for n in 0..args.sales {
        sell_one(rng, sims, expected);
        tokio::time::sleep(Duration::from_millis(args.pace_ms)).await;
        concord.revive()?;
        if let Some((fault, at)) = pending_restart
            && Instant::now() >= at
        {
            bring_back(fault, concord, redis).await?;
            pending_restart = None;
        }
        if Instant::now() < next_fault || pending_restart.is_some() || n + 1 == args.sales {
            continue;
        }
        next_fault = Instant::now() + Duration::from_millis(rng.random_range(300..1500));
        let fault = kinds.pop().unwrap_or_else(|| {
            let mut all = vec![
                Fault::KillServer,
                Fault::KillWorker,
                Fault::RestartRedis,
                Fault::Toggle,
                Fault::Toggle,
                Fault::Toggle,
            ];
            if args.restart_postgres && injected.postgres_restarts < 2 {
                all.push(Fault::RestartPostgres);
            }
            all[rng.random_range(0..all.len())]
        });
        let down = Duration::from_millis(rng.random_range(0..1500));
        match fault {
            Fault::KillServer => {
                concord.server.kill();
                pending_restart = Some((fault, Instant::now() + down));
            }
            Fault::KillWorker => {
                concord.worker.kill();
                pending_restart = Some((fault, Instant::now() + down));
            }
            Fault::RestartRedis => {
                redis.stop();
                pending_restart = Some((fault, Instant::now() + down));
            }
            Fault::RestartPostgres => {
                restart_postgres(&args.postgres_restart_cmd).await?;
                injected.postgres_restarts += 1;
            }
            Fault::Toggle => {
                let at = rng.random_range(0..sims.len());
                faults[at] = toggle(rng, faults[at]);
                sims[at].0.set_faults(faults[at]);
                injected.fault_toggles += 1;
            }
        }
    }
    if let Some((fault, _)) = pending_restart {
        bring_back(fault, concord, redis).await?;
    }
    Ok(())
}

/// Starts again what `fault` stopped.
async fn bring_back(
    fault: Fault,
    concord: &mut Concord,
    redis: &mut PrivateRedis,
) -> anyhow::Result<()> {
    match fault {
        Fault::KillServer => concord.server.restart(),
        Fault::KillWorker => concord.worker.restart(),
        Fault::RestartRedis => redis.resume().await,
        Fault::RestartPostgres | Fault::Toggle => Ok(()),
    }
}

/// One customer order on a random simulator: mostly one unit of one SKU, sometimes two
/// units, sometimes two SKUs. Only what the platform accepted is expected.
fn sell_one(rng: &mut StdRng, sims: &[(RunningSim, String)], expected: &mut Expected) {
    let skus = expected.skus();
    let sku = rng.random_range(0..skus);
    let lines = match rng.random_range(0..10) {
        0 if skus > 1 => vec![(sku, 1), ((sku + 1) % skus, 1)],
        1 => vec![(sku, 2)],
        _ => vec![(sku, 1)],
    };
    let request = SaleRequest {
        lines: lines
            .iter()
            .map(|(sku, quantity)| SaleLine {
                sku: sku_code(*sku),
                quantity: *quantity,
            })
            .collect(),
        ..SaleRequest::default()
    };
    let channel = rng.random_range(0..sims.len());
    if sims[channel].0.sale(&request).is_ok() {
        expected.sold(channel, &lines);
    }
}

/// The next faults of one simulator: one kind switched on or off.
fn toggle(rng: &mut StdRng, current: Faults) -> Faults {
    let mut next = current;
    match rng.random_range(0..5) {
        0 => next.storm_429 = !current.storm_429,
        1 => next.error_rate = if current.error_rate > 0.0 { 0.0 } else { 0.3 },
        2 => next.latency_ms = if current.latency_ms > 0 { 0 } else { 400 },
        3 => next.drop_webhooks = !current.drop_webhooks,
        _ => next = Faults::default(),
    }
    next
}

async fn restart_postgres(command: &str) -> anyhow::Result<()> {
    let command = command.to_owned();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .args(["-c", &command])
            .status()
    })
    .await??;
    anyhow::ensure!(status.success(), "restarting PostgreSQL failed: {status}");
    Ok(())
}

/// Asks for incremental reconciles now and then (missed orders are fetched) until
/// Concord's ledger and every platform show the expected figures with no work left, and
/// stay so for [`HOLD`]; or until nothing has changed for [`QUIET_FOR`] with no work left;
/// or until `limit` has passed. Returns the last observation and when the figures were
/// first exact and idle.
async fn settle(
    concord: &mut Concord,
    api: &ApiClient,
    db: &TestDatabase,
    sims: &[(RunningSim, String)],
    expected: &Expected,
    limit: Duration,
) -> anyhow::Result<(Observed, Option<Instant>)> {
    let deadline = Instant::now() + limit;
    let mut reconciled: Option<Instant> = None;
    let mut last: Option<(Observed, Instant)> = None;
    loop {
        concord.revive()?;
        if reconciled.is_none_or(|at| at.elapsed() >= RECONCILE_EVERY) {
            for (_, connection) in sims {
                let path = format!("/connections/{connection}/reconcile");
                if let Err(e) = api.post(&path, json!({ "full": false })).await {
                    eprintln!("chaos: reconcile not started: {e}");
                }
            }
            reconciled = Some(Instant::now());
        }
        let observed = match Observed::read(db, sims, expected.skus()).await {
            Ok(observed) => observed,
            Err(e) => {
                eprintln!("chaos: cannot read the figures yet: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let done = observed.compare(expected).exact() && observed.idle();
        last = match last {
            Some((before, since)) if before == observed => {
                let held = since.elapsed();
                if (done && held >= HOLD) || (observed.idle() && held >= QUIET_FOR) {
                    return Ok((before, done.then_some(since)));
                }
                Some((before, since))
            }
            _ => Some((observed, Instant::now())),
        };
        if Instant::now() > deadline {
            return Ok((last.map(|(o, _)| o).context("nothing observed")?, None));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
