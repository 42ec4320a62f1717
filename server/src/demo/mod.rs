//! `concord demo`: the embedded default a newcomer runs first. SQLite in the data
//! directory, the in-process queue, the dashboard, and simulators of every platform that
//! has one, connected to a demo tenant through the public API exactly as a merchant would;
//! a seeded catalog and, unless `--no-traffic`, sales, refunds and stock edits at a human
//! pace. The same directory resumes where it stopped.

mod catalog;
mod client;
mod seed;
mod traffic;

pub use client::ApiClient;
pub use seed::{Channel, connect};

use std::{net::TcpListener, path::PathBuf, time::Duration};

use actix_web::HttpServer;
use anyhow::Context;
use concord_simulators::{Platform, RunningSim, SimConfig, Simulator};
use tokio_util::sync::CancellationToken;

use crate::{app, config::Settings, state::AppState, worker};

/// The demo user's email.
pub const DEMO_EMAIL: &str = "demo@concord.test";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "concord-demo";

/// What `concord demo` was asked for.
#[derive(Debug, Clone)]
pub struct DemoArgs {
    /// The dashboard's port; the simulators take the next five.
    pub port: u16,
    /// Where the database and secrets live.
    pub data_dir: PathBuf,
    /// No generated sales.
    pub no_traffic: bool,
    /// Where the built dashboard is.
    pub dashboard_dir: PathBuf,
}

/// The platforms the demo simulates, in port order, with the connection's name and what it
/// sells from (`None`: a payment processor).
const CHANNELS: [(Platform, &str, Option<usize>); 5] = [
    (Platform::Shopify, "Online store (Shopify)", Some(0)),
    (Platform::WooCommerce, "Outlet site (WooCommerce)", Some(0)),
    (Platform::Square, "Soho store (Square)", Some(1)),
    (Platform::LightspeedR, "Camden store (Lightspeed)", Some(2)),
    (Platform::Stripe, "Payments (Stripe)", None),
];

/// Runs the demo until Ctrl-C.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let base = format!("http://127.0.0.1:{}", args.port);
    let mut toml = format!(
        "mode = \"development\"\ndata_dir = {data_dir:?}\nbind = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\n\
         poll_interval_secs = 15\nlog_level = \"warn\"\ndashboard_dir = {dashboard:?}\n",
        port = args.port,
        dashboard = args.dashboard_dir,
    );
    toml.push_str(&simulated_oauth_apps());
    let mut settings = Settings::from_toml(&toml).map_err(|e| anyhow::anyhow!("{e}"))?;
    settings.demo = true;
    crate::telemetry::init(settings.log_format, &settings.log_level);
    let store = app::open_store(&settings).await?;
    let state = AppState::build(settings, store).await?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .with_context(|| format!("port {} is taken: pass --port", args.port))?;
    let server_state = state.clone();
    let server = HttpServer::new(move || app::app(server_state.clone()))
        .listen(listener)?
        .workers(2)
        .disable_signals()
        .shutdown_timeout(5)
        .run();
    let handle = server.handle();
    let serving = tokio::spawn(server);
    let stop = CancellationToken::new();
    let working = tokio::spawn(worker::run(state.clone(), stop.clone()));

    let (api, first_run) =
        client::ApiClient::sign_in_or_up(&base, DEMO_EMAIL, DEMO_PASSWORD, "Velvet Screen Video")
            .await?;
    let shop = seed::Shop::prepare(&api, first_run).await?;
    let mut sims = Vec::new();
    for (i, (platform, name, sells_from)) in CHANNELS.iter().enumerate() {
        let port = args
            .port
            .checked_add(1 + i as u16)
            .context("--port too high")?;
        let sim = start_sim(
            *platform,
            port,
            shop.listings(*platform, *sells_from, first_run),
        )?;
        shop.connect(&api, &sim, name, *sells_from).await?;
        sims.push(sim);
    }
    println!("\nConcord demo is running: {base}/");
    println!("  sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}");
    for sim in &sims {
        println!(
            "  {:<14} simulator at {}",
            sim.platform().to_string(),
            sim.base_url()
        );
    }
    println!(
        "  data in {}; Ctrl-C stops, the same --data-dir resumes.\n",
        data_dir.display()
    );
    let traffic = (!args.no_traffic).then(|| {
        let urls = sims
            .iter()
            .filter(|s| s.platform() != Platform::Stripe)
            .map(|s| s.base_url().to_owned())
            .collect();
        tokio::spawn(traffic::run(urls, shop.codes(), stop.clone()))
    });
    tokio::signal::ctrl_c().await?;
    println!("stopping…");
    stop.cancel();
    if let Some(t) = traffic {
        let _ = t.await;
    }
    handle.stop(true).await;
    let _ = serving.await;
    working.await.context("worker panicked")??;
    for sim in sims {
        sim.stop().await;
    }
    println!("stopped");
    Ok(())
}

/// The `[oauth_apps.*]` configuration tables of the platforms connected by OAuth, naming the
/// app every simulator knows, so Concord can be connected to simulators as to the real
/// platforms.
pub fn simulated_oauth_apps() -> String {
    let sim = SimConfig::new(Platform::Shopify);
    ["shopify", "square", "lightspeed-r"]
        .iter()
        .map(|platform| {
            format!(
                "[oauth_apps.{platform}]\nclient_id = {:?}\nclient_secret = {:?}\n",
                sim.client_id, sim.client_secret
            )
        })
        .collect()
}

fn start_sim(
    platform: Platform,
    port: u16,
    seed: Vec<concord_simulators::SeedProduct>,
) -> anyhow::Result<RunningSim> {
    let mut config = SimConfig::new(platform);
    config.port = port;
    config.seed = seed;
    config.currency = "GBP".to_owned();
    config.time_scale = 0.01;
    // A restarted demo must not reuse the ids its platforms issued before: count on from
    // the clock (a hundred ids per second of the past).
    config.first_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs().saturating_sub(1_790_000_000) * 100);
    Simulator::start(config)
        .with_context(|| format!("cannot start the {platform} simulator on port {port}"))
}

/// The shortest wait between generated events (the longest is three times it): about one
/// event every six seconds, which Lightspeed's write budget (one write per ten seconds,
/// bursts of eight) keeps up with.
pub(crate) const PACE: Duration = Duration::from_secs(3);
