//! Compliance reports (COMPLIANCE.md §1.5) as tables: the restricted-title sales register,
//! the refusals and blocked-attempts register, catalogue compliance gaps, the stock
//! reconciliation of restricted titles, and the rule-change and override log. Rendering
//! (CSV, PDF) and fingerprinting the export are the caller's; [`Scoped::record_export`]
//! puts an export's SHA-256 in the audit chain.

mod catalog;
mod sales;
mod stock;

use std::{fmt, str::FromStr};

use chrono::{DateTime, SecondsFormat, Utc};
use concord_domain::{ValidationError, audit::AuditAction};
use serde_json::json;

use crate::{AuditQuery, NewAuditEntry, Period, Scoped, error::Result};

/// No limit on a register's rows (the largest `LIMIT` every backend accepts).
const UNLIMITED: u64 = i64::MAX as u64;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// Every sale of a restricted title with its checks (§1.5 item 1).
    RestrictedSales,
    /// In-store refusals, online age-check failures, blocked orders, withheld offers (item 2).
    Refusals,
    /// Titles missing fields a channel's rules need; titles listed where forbidden (item 3).
    CatalogGaps,
    /// Opening + receipts − sales + returns ± adjustments = closing per SKU and location
    /// (item 6).
    StockReconciliation,
    /// Who changed which rule, classification or decision, before and after (item 7).
    RuleChanges,
}

impl ReportKind {
    /// Every report.
    pub const ALL: [ReportKind; 5] = [
        Self::RestrictedSales,
        Self::Refusals,
        Self::CatalogGaps,
        Self::StockReconciliation,
        Self::RuleChanges,
    ];

    /// Wire name (`restricted-sales`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RestrictedSales => "restricted-sales",
            Self::Refusals => "refusals",
            Self::CatalogGaps => "catalog-gaps",
            Self::StockReconciliation => "stock-reconciliation",
            Self::RuleChanges => "rule-changes",
        }
    }

    /// The report's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::RestrictedSales => "Restricted-title sales register",
            Self::Refusals => "Refusals and blocked-attempts register",
            Self::CatalogGaps => "Catalogue compliance gaps",
            Self::StockReconciliation => "Stock reconciliation of restricted titles",
            Self::RuleChanges => "Rule-change and override log",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "kind",
                message: format!(
                    "unknown report `{s}`; expected restricted-sales, refusals, catalog-gaps, \
                     stock-reconciliation or rule-changes"
                ),
            })
    }
}

/// A report as a table, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTable {
    /// Which report.
    pub kind: ReportKind,
    /// The tenant it is about.
    pub tenant: String,
    /// The period it covers.
    pub from: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// When it was produced.
    pub generated_at: DateTime<Utc>,
    /// Column headings.
    pub columns: Vec<&'static str>,
    /// One row per line, as text.
    pub rows: Vec<Vec<String>>,
    /// Named totals.
    pub totals: Vec<(String, i64)>,
}

impl ReportTable {
    fn new(
        scoped: &Scoped<'_>,
        kind: ReportKind,
        period: Period,
        columns: &[&'static str],
    ) -> Self {
        Self {
            kind,
            tenant: scoped.tenant_id().to_string(),
            from: period.from,
            to: period.to,
            generated_at: crate::now(),
            columns: columns.to_vec(),
            rows: Vec::new(),
            totals: Vec::new(),
        }
    }

    /// A total by name.
    pub fn total(&self, name: &str) -> Option<i64> {
        self.totals.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// A time as reports print it.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Scoped<'_> {
    /// Builds a report for `period`.
    pub async fn report(&self, kind: ReportKind, period: Period) -> Result<ReportTable> {
        match kind {
            ReportKind::RestrictedSales => sales::restricted_sales(self, period).await,
            ReportKind::Refusals => sales::refusals(self, period).await,
            ReportKind::CatalogGaps => catalog::gaps(self, period).await,
            ReportKind::StockReconciliation => stock::reconciliation(self, period).await,
            ReportKind::RuleChanges => rule_changes(self, period).await,
        }
    }

    /// Records an export of `table` in the audit log with the SHA-256 of the bytes handed
    /// out, so an auditor can check a file against the chain.
    pub async fn record_export(
        &self,
        table: &ReportTable,
        format: &str,
        sha256: &str,
        actor: &str,
    ) -> Result<()> {
        self.audit()
            .append(NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::ReportExported,
                subject: table.kind.as_str().to_owned(),
                details: json!({
                    "format": format,
                    "from": table.from,
                    "to": table.to,
                    "rows": table.rows.len(),
                    "sha256": sha256,
                    "generated_at": table.generated_at,
                }),
            })
            .await?;
        Ok(())
    }
}

/// Audit entries that change a rule, a classification or a decision, page by page.
async fn rule_changes(scoped: &Scoped<'_>, period: Period) -> Result<ReportTable> {
    let mut table = ReportTable::new(
        scoped,
        ReportKind::RuleChanges,
        period,
        &[
            "seq",
            "at",
            "actor",
            "action",
            "subject",
            "approved_by",
            "before",
            "after",
        ],
    );
    let mut after = None;
    loop {
        let page = scoped
            .audit()
            .entries(&AuditQuery {
                rules_and_overrides: true,
                from: period.from,
                to: period.to,
                after,
                limit: 500,
                ..AuditQuery::default()
            })
            .await?;
        for e in &page.items {
            let approved = e.details["after"]["approved_by"]
                .as_str()
                .map_or_else(|| e.actor.clone(), str::to_owned);
            let compact = |v: &serde_json::Value| {
                if v.is_null() {
                    String::new()
                } else {
                    concord_domain::audit::canonical_json(v)
                }
            };
            let (before, after_value) = if e.details.get("after").is_some() {
                (compact(&e.details["before"]), compact(&e.details["after"]))
            } else {
                (String::new(), compact(&e.details))
            };
            table.rows.push(vec![
                e.seq.to_string(),
                stamp(e.at),
                e.actor.clone(),
                e.action.as_str().to_owned(),
                e.subject.clone(),
                approved,
                before,
                after_value,
            ]);
        }
        after = page.items.last().map(|e| e.seq);
        if page.next_cursor.is_none() {
            break;
        }
    }
    table
        .totals
        .push(("changes".into(), table.rows.len() as i64));
    Ok(table)
}
