//! `concord-sim`: runs one platform simulator by hand, with a demo catalog, until Ctrl-C.
//!
//! ```text
//! concord-sim --platform shopify --port 8081 --webhook-url http://127.0.0.1:8080/webhooks/shopify/1
//! ```
//!
//! It prints what a connector needs (base URLs, credentials, account facts) as JSON, then
//! serves the platform API and the `/_sim` control API.

use std::process::ExitCode;

use clap::Parser;
use concord_simulators::{Platform, SIMULATED, SimConfig, Simulator, demo_catalog};

/// Runs a local simulator of a commerce platform's API.
#[derive(Debug, Parser)]
#[command(name = "concord-sim", version, about)]
struct Args {
    /// The platform: shopify, square, woocommerce, lightspeed-r or stripe.
    #[arg(long)]
    platform: Platform,
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to deliver webhooks.
    #[arg(long)]
    webhook_url: Option<String>,
    /// The webhook signing secret (default: the simulator's).
    #[arg(long)]
    secret: Option<String>,
    /// Titles in the demo catalog.
    #[arg(long, default_value_t = 50)]
    products: usize,
    /// Location names, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "Main Store,Warehouse")]
    locations: Vec<String>,
    /// Multiplier for the platform's delays (webhook retries); 1 is real time.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// The shop's currency.
    #[arg(long, default_value = "USD")]
    currency: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if !SIMULATED.contains(&args.platform) {
        eprintln!(
            "no simulator for {}; simulated: {}",
            args.platform,
            SIMULATED.map(Platform::slug).join(", ")
        );
        return ExitCode::from(2);
    }
    let mut config = SimConfig::new(args.platform);
    config.port = args.port;
    config.webhook_url = args.webhook_url;
    if let Some(secret) = args.secret {
        config.webhook_secret = secret;
    }
    config.locations = args.locations;
    config.time_scale = args.time_scale;
    config.currency = args.currency.to_ascii_uppercase();
    config.seed = demo_catalog(args.products, &config.currency);
    let sim = match Simulator::start(config) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("cannot start the simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string_pretty(&sim.info()) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("cannot print the simulator facts: {e}"),
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
    sim.stop().await;
    ExitCode::SUCCESS
}
