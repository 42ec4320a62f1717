//! `concord-bench`: measures Concord on this machine and prints one JSON line per scenario
//! (the last line of standard output). Figures, not pass/fail — except `chaos`, a
//! correctness check that also exits with status 1 when a sale was lost or applied twice:
//! see `e2e/README.md`.

mod api;
mod chaos;
mod ingest;
mod pgbench;
mod reconcile;
mod scenarios;
mod sims;
mod sync;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmarks for Concord.
#[derive(Debug, Parser)]
#[command(name = "concord-bench")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Apply sale events to the ledger: events per second, and the ledger checked after.
    Apply {
        /// Database (`sqlite://…?mode=rwc` or `postgres://…`); a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// Sale events to apply.
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        /// SKUs the sales spread over.
        #[arg(long, default_value_t = 10_000)]
        skus: usize,
        /// Concurrent appliers, each with its own sales channel.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Events per transaction.
        #[arg(long, default_value_t = 50)]
        batch: usize,
    },
    /// Signed webhook deliveries to the real server: acknowledgements per second, p50/p99.
    Ingest {
        /// Database; a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// Redis; the embedded shape if absent.
        #[arg(long)]
        redis_url: Option<String>,
        /// Deliveries to send.
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Concurrent senders (keep-alive connections).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Deliveries per second, all senders together, on a fixed schedule; as fast as
        /// answered if absent.
        #[arg(long)]
        rate: Option<f64>,
        /// Intake writers (the `intake_writers` setting; 0: the default for the database).
        #[arg(long, default_value_t = 0)]
        writers: usize,
    },
    /// Sales on simulated channels, timed until every other channel shows the new figure.
    Propagation {
        /// Database; a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// Redis; the embedded shape if absent.
        #[arg(long)]
        redis_url: Option<String>,
        /// Simulated channels (Shopify, Square and WooCommerce in turn).
        #[arg(long, default_value_t = 6)]
        channels: usize,
        /// Sales to time.
        #[arg(long, default_value_t = 100)]
        sales: usize,
    },
    /// A burst of sales on one channel: platform writes issued against the fewest possible.
    Efficiency {
        /// Database; a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// Redis; the embedded shape if absent.
        #[arg(long)]
        redis_url: Option<String>,
        /// Simulated channels.
        #[arg(long, default_value_t = 6)]
        channels: usize,
        /// Sales in the burst.
        #[arg(long, default_value_t = 1000)]
        sales: usize,
        /// SKUs the sales spread over.
        #[arg(long, default_value_t = 50)]
        skus: usize,
    },
    /// A full reconcile of every channel, with known discrepancies: wall time, peak memory,
    /// discrepancies found against those made.
    Reconcile {
        /// Database; a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// Redis; the embedded shape if absent.
        #[arg(long)]
        redis_url: Option<String>,
        /// SKUs in the catalog, listed on every channel.
        #[arg(long, default_value_t = 2_000)]
        skus: usize,
        /// Simulated channels (Shopify, Square and WooCommerce in turn).
        #[arg(long, default_value_t = 4)]
        channels: usize,
        /// Discrepancies to make (one SKU on one channel each), at most `--skus`.
        #[arg(long, default_value_t = 50)]
        discrepancies: usize,
        /// Reconciles at once (0: the worker's default, 4 on PostgreSQL and 1 on SQLite).
        #[arg(long, default_value_t = 0)]
        concurrency: usize,
    },
    /// Runs simulators for another scenario's process (started by it; not a scenario).
    #[command(hide = true)]
    SimHost {
        /// The simulators, as JSON.
        #[arg(long)]
        specs: String,
    },
    /// The inventory endpoint over HTTP: list and search p50/p95 latency.
    Api {
        /// Database; a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// SKUs in the catalog.
        #[arg(long, default_value_t = 2_000)]
        skus: usize,
        /// Requests to time.
        #[arg(long, default_value_t = 400)]
        requests: usize,
    },
    /// List and search the inventory view: p50/p95 latency.
    Inventory {
        /// Database; a temporary SQLite file if absent.
        #[arg(long)]
        database_url: Option<String>,
        /// SKUs in the catalog.
        #[arg(long, default_value_t = 100_000)]
        skus: usize,
        /// Queries to time.
        #[arg(long, default_value_t = 300)]
        queries: usize,
    },
    /// Sales on simulated channels while the server and the worker are killed and
    /// restarted, Redis (and optionally PostgreSQL) restarted and the platforms misbehave;
    /// then the ledger is checked: nothing lost, nothing applied twice. Exits with status 1
    /// when it is not exact.
    Chaos(chaos::ChaosArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    // Warnings (a platform refusing, a retry) go to standard error; the figures to standard
    // output.
    concord_server::telemetry::init(concord_server::config::LogFormat::Pretty, "warn");
    let line = match Cli::parse().scenario {
        Scenario::Apply {
            database_url,
            events,
            skus,
            concurrency,
            batch,
        } => scenarios::apply(database_url, events, skus, concurrency, batch).await?,
        Scenario::Propagation {
            database_url,
            redis_url,
            channels,
            sales,
        } => sync::propagation(database_url, redis_url, channels, sales).await?,
        Scenario::Efficiency {
            database_url,
            redis_url,
            channels,
            sales,
            skus,
        } => sync::efficiency(database_url, redis_url, channels, sales, skus).await?,
        Scenario::Inventory {
            database_url,
            skus,
            queries,
        } => scenarios::inventory(database_url, skus, queries).await?,
        Scenario::Reconcile {
            database_url,
            redis_url,
            skus,
            channels,
            discrepancies,
            concurrency,
        } => {
            let size = reconcile::Size {
                skus,
                channels,
                discrepancies,
                concurrency,
            };
            reconcile::reconcile(database_url, redis_url, size).await?
        }
        Scenario::SimHost { specs } => return sims::host(&specs).await.map(|()| ExitCode::SUCCESS),
        Scenario::Api {
            database_url,
            skus,
            requests,
        } => api::api(database_url, skus, requests).await?,
        Scenario::Ingest {
            database_url,
            redis_url,
            events,
            concurrency,
            rate,
            writers,
        } => ingest::ingest(database_url, redis_url, events, concurrency, rate, writers).await?,
        Scenario::Chaos(args) => {
            let (line, exact) = chaos::chaos(args).await?;
            println!("{line}");
            return Ok(if exact {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    };
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}
