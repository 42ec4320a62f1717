//! `concord report KIND --tenant T [--from D] [--to D] --format csv|pdf --out FILE`: writes
//! a compliance report and prints its SHA-256, which is also recorded in the audit log.

use std::path::PathBuf;

use anyhow::Context;
use concord_storage::ReportKind;

use crate::{
    app,
    config::Settings,
    reports::{self, ReportFormat},
    transfer::operator_scope,
};

/// Which report, as the command line names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportArg {
    /// Every sale of a restricted title with its checks.
    RestrictedSales,
    /// Refusals, age-check failures, blocked orders, withheld offers.
    Refusals,
    /// Titles lacking fields a channel's rules need; titles listed where forbidden.
    CatalogGaps,
    /// Opening + receipts − sales + returns ± adjustments = closing for restricted titles.
    StockReconciliation,
    /// Who changed which rule, classification or decision.
    RuleChanges,
}

impl From<ReportArg> for ReportKind {
    fn from(a: ReportArg) -> Self {
        match a {
            ReportArg::RestrictedSales => Self::RestrictedSales,
            ReportArg::Refusals => Self::Refusals,
            ReportArg::CatalogGaps => Self::CatalogGaps,
            ReportArg::StockReconciliation => Self::StockReconciliation,
            ReportArg::RuleChanges => Self::RuleChanges,
        }
    }
}

/// `concord report` arguments.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Which report.
    pub kind: ReportArg,
    /// The tenant (`tnt_…`).
    #[arg(long)]
    pub tenant: String,
    /// From this date (2026-11-01) or time (RFC 3339), inclusive.
    #[arg(long, value_name = "D")]
    pub from: Option<String>,
    /// Until this date (inclusive) or time (exclusive).
    #[arg(long, value_name = "D")]
    pub to: Option<String>,
    /// csv or pdf.
    #[arg(long)]
    pub format: ReportFormat,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Database; overrides `database_url` / DATABASE_URL.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Writes the report and prints where, how many rows and its SHA-256.
pub async fn run(settings: &Settings, args: &ReportArgs) -> anyhow::Result<()> {
    let period = reports::period(args.from.as_deref(), args.to.as_deref())
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let store = app::open_store(settings).await?;
    let scope = operator_scope(&store, &args.tenant).await?;
    let repos = store.scoped(&scope);
    let export = reports::export(&repos, args.kind.into(), period, args.format, "cli").await?;
    std::fs::write(&args.out, &export.bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote {}: {} rows, sha256 {} (recorded in the audit log)",
        args.out.display(),
        export.table.rows.len(),
        export.sha256
    );
    for (name, value) in &export.table.totals {
        println!("  {name}: {value}");
    }
    Ok(())
}
