//! Compliance report exports, shared by `concord report` and `GET …/reports/{kind}`: build
//! the table (storage), render it as CSV or PDF, fingerprint the bytes with SHA-256 and
//! record that fingerprint in the audit chain before the file is handed out.

mod pdf;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use concord_domain::{ValidationError, audit::sha256_hex};
use concord_storage::{Period, ReportKind, ReportTable, Scoped, StorageError};

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Comma-separated values: the heading row, the table, then `total,<name>,<value>` rows.
    Csv,
    /// A paginated PDF table.
    Pdf,
}

impl ReportFormat {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Pdf => "pdf",
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Pdf => "application/pdf",
        }
    }
}

/// A rendered report and its fingerprint.
#[derive(Debug)]
pub struct Export {
    /// The table it renders.
    pub table: ReportTable,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, hex; recorded in the audit log.
    pub sha256: String,
}

impl Export {
    /// A file name for downloads (`restricted-sales-20261128T120000Z.csv`).
    pub fn file_name(&self, format: ReportFormat) -> String {
        format!(
            "{}-{}.{}",
            self.table.kind.as_str(),
            self.table.generated_at.format("%Y%m%dT%H%M%SZ"),
            format.as_str()
        )
    }
}

/// Builds, renders and fingerprints a report, and audits the export as done by `actor`.
pub async fn export(
    repos: &Scoped<'_>,
    kind: ReportKind,
    period: Period,
    format: ReportFormat,
    actor: &str,
) -> Result<Export, StorageError> {
    let table = repos.report(kind, period).await?;
    let bytes = match format {
        ReportFormat::Csv => csv(&table)?,
        ReportFormat::Pdf => pdf::render(&table),
    };
    let sha256 = sha256_hex(&bytes);
    repos
        .record_export(&table, format.as_str(), &sha256, actor)
        .await?;
    Ok(Export {
        table,
        bytes,
        sha256,
    })
}

/// A period bound given as a date (`2026-11-01`) or a time (`2026-11-01T09:00:00Z`). A date
/// as the end of a period includes that whole day.
pub fn parse_bound(
    field: &'static str,
    raw: &str,
    end: bool,
) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ValidationError {
        field,
        message: format!("`{raw}` is not a date (2026-11-01) or an RFC 3339 time"),
    })?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_time(NaiveTime::MIN).and_utc())
}

/// The period between two optional bounds, checked to be in order.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<Period, ValidationError> {
    let from = from.map(|f| parse_bound("from", f, false)).transpose()?;
    let to = to.map(|t| parse_bound("to", t, true)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err(ValidationError {
            field: "to",
            message: "must be after from".into(),
        });
    }
    Ok(Period { from, to })
}

fn csv(table: &ReportTable) -> Result<Vec<u8>, StorageError> {
    let failed = |e: csv::Error| StorageError::Corrupt(format!("writing CSV: {e}"));
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(&table.columns).map_err(failed)?;
    for row in &table.rows {
        w.write_record(row).map_err(failed)?;
    }
    for (name, value) in &table.totals {
        w.write_record(["total", name, &value.to_string()])
            .map_err(failed)?;
    }
    w.into_inner()
        .map_err(|e| StorageError::Corrupt(format!("writing CSV: {e}")))
}
