//! The `concord` command line.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    app, audit_cli, config::Settings, reconcile_cli, report_cli, state::AppState, telemetry,
    transfer, webhook_cli, worker,
};

/// Concord: one truth about stock, orders and payments across every channel.
#[derive(Debug, Parser)]
#[command(name = "concord", version)]
pub struct Cli {
    /// A TOML configuration file (also CONCORD_CONFIG); see config.default.toml for keys.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try Concord with no setup: SQLite in --data-dir, the dashboard, simulated platforms
    /// connected to a demo shop, and sales at a human pace. Ctrl-C stops; the same
    /// --data-dir resumes.
    Demo {
        /// The dashboard's port; the simulators take the next five.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Where the demo keeps its database and secrets.
        #[arg(long, value_name = "DIR", default_value = "concord-demo")]
        data_dir: PathBuf,
        /// No generated sales, refunds or edits.
        #[arg(long)]
        no_traffic: bool,
        /// Where the built dashboard is.
        #[arg(long, value_name = "DIR", default_value = "frontend/dist")]
        dashboard_dir: PathBuf,
    },
    /// Run the HTTP API (and, without Redis, the worker in the same process).
    Serve {
        /// Listen address; overrides `bind` from the configuration.
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },
    /// Run background work: housekeeping and queued jobs.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Database to migrate; overrides `database_url` / DATABASE_URL.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Import a catalog or stock-count CSV into a tenant. Nothing is applied if any row is
    /// refused, unless --partial.
    Import {
        /// What the file holds.
        kind: ImportKind,
        /// The CSV file.
        file: PathBuf,
        /// The tenant (`tnt_…`).
        #[arg(long)]
        tenant: String,
        /// Apply the good rows even when some are refused.
        #[arg(long)]
        partial: bool,
        /// Database; overrides `database_url` / DATABASE_URL.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Reconcile connections with their platforms now: missed orders and unconfirmed
    /// offers, and with --full every listed item's stock.
    Reconcile {
        /// The tenant (`tnt_…`).
        #[arg(long)]
        tenant: String,
        /// Only this connection (`con_…`); all of the tenant's otherwise.
        #[arg(long)]
        connection: Option<String>,
        /// Compare every listed item's stock too.
        #[arg(long)]
        full: bool,
        /// Database; overrides `database_url` / DATABASE_URL.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Re-seal every stored platform secret under the current `token_encryption_key`
    /// (after listing the old key in `previous_token_encryption_keys`).
    RotateKey {
        /// Database; overrides `database_url` / DATABASE_URL.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Export a compliance report as CSV or PDF; its SHA-256 is recorded in the audit log.
    Report(report_cli::ReportArgs),
    /// Check the tamper-evident audit log.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Debug a platform's webhook deliveries.
    Webhook {
        /// What to do.
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Export a tenant's catalog, stock levels or ledger as CSV.
    Export {
        /// What to export.
        kind: ExportKind,
        /// The tenant (`tnt_…`).
        #[arg(long)]
        tenant: String,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Database; overrides `database_url` / DATABASE_URL.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

/// `concord audit …` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify every tenant's hash chain (or one tenant's): exit 0 with the number of entries
    /// when intact, exit 1 naming the first edited, deleted or reordered entry.
    Verify {
        /// Only this tenant (`tnt_…`).
        #[arg(long)]
        tenant: Option<String>,
        /// Database; overrides `database_url` / DATABASE_URL.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
}

/// `concord webhook …` subcommands.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Check a delivery's signature as the intake would.
    Verify(webhook_cli::VerifyArgs),
    /// Print the events a delivery carries, normalized.
    Parse(webhook_cli::ParseArgs),
}

/// Files `concord import` reads.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportKind {
    /// Products and SKUs.
    Catalog,
    /// Stock counts per SKU and location.
    Stock,
}

/// Files `concord export` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportKind {
    /// Products and SKUs, in the import format.
    Catalog,
    /// Stock levels per SKU and location.
    Stock,
    /// Every stock movement.
    Ledger,
}

impl Cli {
    /// Loads the configuration and runs the chosen command; returns the exit code.
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        if let Command::Webhook { command } = &self.command {
            return Ok(match command {
                WebhookCommand::Verify(args) => webhook_cli::verify(args),
                WebhookCommand::Parse(args) => webhook_cli::parse(args),
            });
        }
        if let Command::Demo {
            port,
            data_dir,
            no_traffic,
            dashboard_dir,
        } = self.command
        {
            let args = crate::demo::DemoArgs {
                port,
                data_dir,
                no_traffic,
                dashboard_dir,
            };
            return crate::demo::run(args).await.map(|()| ExitCode::SUCCESS);
        }
        self.run_with_settings().await
    }

    async fn run_with_settings(self) -> anyhow::Result<ExitCode> {
        let mut settings = Settings::load(self.config.as_deref())?;
        telemetry::init(settings.log_format, &settings.log_level);
        if let Command::Audit {
            command:
                AuditCommand::Verify {
                    tenant,
                    database_url,
                },
        } = &self.command
        {
            if let Some(url) = database_url {
                settings.database_url = url.clone();
            }
            return audit_cli::verify(&settings, tenant.as_deref()).await;
        }
        self.run_command(settings).await.map(|()| ExitCode::SUCCESS)
    }

    async fn run_command(self, mut settings: Settings) -> anyhow::Result<()> {
        match self.command {
            Command::Serve { bind } => app::serve(settings, bind).await,
            Command::Worker => {
                // Listen for SIGTERM before the (possibly slow) migrations, so a stop request
                // during start-up still ends cleanly.
                let stop = CancellationToken::new();
                tokio::spawn(worker::cancel_on_signal(stop.clone()));
                let store = app::open_store(&settings).await?;
                let state = AppState::build(settings, store).await?;
                worker::run(state, stop).await
            }
            Command::Import {
                kind,
                file,
                tenant,
                partial,
                database_url,
            } => {
                if let Some(url) = database_url {
                    settings.database_url = url;
                }
                transfer::import(&settings, kind, &file, &tenant, partial).await
            }
            Command::Export {
                kind,
                tenant,
                out,
                database_url,
            } => {
                if let Some(url) = database_url {
                    settings.database_url = url;
                }
                transfer::export(&settings, kind, &tenant, out.as_deref()).await
            }
            Command::Reconcile {
                tenant,
                connection,
                full,
                database_url,
            } => {
                if let Some(url) = database_url {
                    settings.database_url = url;
                }
                reconcile_cli::run(settings, &tenant, connection.as_deref(), full).await
            }
            Command::RotateKey { database_url } => {
                if let Some(url) = database_url {
                    settings.database_url = url;
                }
                let store = app::open_store(&settings).await?;
                let state = AppState::build(settings, store).await?;
                let resealed = crate::rotate_key::reseal_all(&state).await?;
                println!("re-sealed {resealed} secret(s) under the current key");
                Ok(())
            }
            Command::Report(args) => {
                if let Some(url) = &args.database_url {
                    settings.database_url = url.clone();
                }
                report_cli::run(&settings, &args).await
            }
            Command::Webhook { .. } | Command::Audit { .. } | Command::Demo { .. } => {
                unreachable!("handled before this match")
            }
            Command::Migrate { database_url } => {
                if let Some(url) = database_url {
                    settings.database_url = url;
                }
                if settings.is_embedded_database() {
                    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
                        format!("cannot create data_dir {}", settings.data_dir.display())
                    })?;
                }
                let store = concord_storage::Store::connect(&settings.database_url, 2)
                    .await
                    .context("cannot open the database")?;
                let applied = store.migrate().await?;
                println!("applied {applied} migration(s); the schema is up to date");
                Ok(())
            }
        }
    }
}
