//! `concord audit verify [--tenant T]`: walks every tenant's audit chain (or one) and says
//! whether it is intact. Exit 0 prints the entries checked; exit 1 names the first broken
//! entry of each broken chain.

use std::process::ExitCode;

use anyhow::Context;
use concord_domain::TenantId;

use crate::{app, config::Settings};

/// Verifies the chains; returns the exit code.
pub async fn verify(settings: &Settings, tenant: Option<&str>) -> anyhow::Result<ExitCode> {
    let only = tenant
        .map(|t| TenantId::parse(t).map_err(|e| anyhow::anyhow!("--tenant: {e}")))
        .transpose()?;
    let store = app::open_store(settings).await?;
    let reports = store
        .verify_audit(only.as_ref())
        .await
        .with_context(|| match tenant {
            Some(t) => format!("cannot verify the audit log of {t} (is it a tenant here?)"),
            None => "cannot verify the audit log".to_owned(),
        })?;
    let mut total = 0;
    let mut broken = 0;
    for report in &reports {
        match &report.outcome {
            Ok(count) => total += count,
            Err(e) => {
                broken += 1;
                println!("BROKEN {}: {e}", report.tenant_id);
            }
        }
    }
    if broken > 0 {
        eprintln!(
            "audit log tampered with: {broken} of {} chain(s) broken",
            reports.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "audit log intact: {total} entries in {} chain(s)",
        reports.len()
    );
    Ok(ExitCode::SUCCESS)
}
