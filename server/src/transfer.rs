//! `concord import` and `concord export`: CSV files in and out of one tenant, from the
//! command line, with progress on standard error.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::{Context, bail};
use concord_domain::TenantId;
use concord_storage::{ImportReport, Store};

use crate::{
    app,
    cli::{ExportKind, ImportKind},
    config::Settings,
    files,
};

/// Rows between progress lines.
const PROGRESS_EVERY: u64 = 5000;
/// Refused rows printed at the end.
const ERRORS_SHOWN: usize = 20;

/// Imports `file` into `tenant`; fails (exit 1) when rows were refused and nothing applied.
pub async fn import(
    settings: &Settings,
    kind: ImportKind,
    file: &Path,
    tenant: &str,
    partial: bool,
) -> anyhow::Result<()> {
    let store = app::open_store(settings).await?;
    let scope = operator_scope(&store, tenant).await?;
    let repos = store.scoped(&scope);
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let read = Arc::new(AtomicU64::new(0));
    let reader = Counting {
        inner: BufReader::new(File::open(file)?),
        read: read.clone(),
    };
    let mut progress = |rows: u64| {
        if rows.is_multiple_of(PROGRESS_EVERY) {
            let pct = read.load(Ordering::Relaxed) * 100 / size.max(1);
            eprint!("\r{rows} rows read ({pct}%)");
        }
    };
    let report = match kind {
        ImportKind::Catalog => {
            repos
                .import_catalog(files::catalog_rows(reader)?, partial, &mut progress)
                .await?
        }
        ImportKind::Stock => {
            repos
                .import_stock(files::stock_rows(reader)?, partial, "cli", &mut progress)
                .await?
        }
    };
    eprintln!();
    summarize(&report)
}

/// Writes `tenant`'s `kind` as CSV to `out` or standard output.
pub async fn export(
    settings: &Settings,
    kind: ExportKind,
    tenant: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let store = app::open_store(settings).await?;
    let scope = operator_scope(&store, tenant).await?;
    let repos = store.scoped(&scope);
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let written = match kind {
        ExportKind::Catalog => files::write_catalog(&repos, sink).await?,
        ExportKind::Stock => files::write_stock(&repos, sink).await?,
        ExportKind::Ledger => files::write_ledger(&repos, sink).await?,
    };
    eprintln!("exported {written} rows");
    Ok(())
}

pub(crate) async fn operator_scope(
    store: &Store,
    tenant: &str,
) -> anyhow::Result<concord_storage::TenantScope> {
    let id = TenantId::parse(tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
    store
        .operator_scope(&id)
        .await
        .with_context(|| format!("no tenant {tenant} in this database"))
}

fn summarize(report: &ImportReport) -> anyhow::Result<()> {
    for e in report.errors.iter().take(ERRORS_SHOWN) {
        eprintln!("line {}: {}", e.line, e.message);
    }
    if report.error_count as usize > ERRORS_SHOWN {
        eprintln!(
            "… and {} more refused rows",
            report.error_count as usize - ERRORS_SHOWN
        );
    }
    println!(
        "{} rows read, {} applied, {} refused",
        report.rows, report.applied, report.error_count
    );
    if !report.committed {
        bail!("nothing was applied because rows were refused; fix them or rerun with --partial");
    }
    Ok(())
}

/// Counts bytes read, for the progress percentage.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
