//! CSV files: parsing catalog and stock-count imports row by row (so files of any size
//! stream), and writing catalog, stock and ledger exports page by page.
//!
//! Catalog columns: `sku,title,format,barcode,studio,release_date,explicit,
//! us_2257_statement_present,bbfc,fsk,au,mpa,ca_bc,components` (components as
//! `CODE*2;CODE`). Stock columns: `sku,location,quantity`. Only `sku`, `title` and `format`
//! (catalog) and all three stock columns are required; column order is free.

use std::{collections::HashMap, io::Read};

use chrono::NaiveDate;
use concord_domain::{
    Barcode,
    catalog::{ClassificationSystem, Classifications, Format, SkuCode},
    validate::parse_label,
};
use concord_storage::{CatalogRow, ProductDraft, Scoped, StockRow, StorageError};

/// Rows fetched per page when exporting.
const EXPORT_PAGE: u64 = 1000;

/// Catalog export columns, in order.
pub const CATALOG_COLUMNS: [&str; 14] = [
    "sku",
    "title",
    "format",
    "barcode",
    "studio",
    "release_date",
    "explicit",
    "us_2257_statement_present",
    "bbfc",
    "fsk",
    "au",
    "mpa",
    "ca_bc",
    "components",
];

/// A file that cannot be read at all (as opposed to a bad row).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A required column is missing from the header.
    #[error("the header has no `{0}` column")]
    MissingColumn(&'static str),
    /// The CSV itself is broken.
    #[error("unreadable CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Writing the export failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    /// Reading from the database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A parsed row with its 1-based line number, or why the line is refused.
pub type Parsed<T> = (u64, Result<T, String>);

/// Reads a catalog file's rows lazily.
pub fn catalog_rows(
    reader: impl Read,
) -> Result<impl Iterator<Item = Parsed<CatalogRow>>, FileError> {
    rows(reader, &["sku", "title", "format"], parse_catalog)
}

/// Reads a stock-count file's rows lazily.
pub fn stock_rows(reader: impl Read) -> Result<impl Iterator<Item = Parsed<StockRow>>, FileError> {
    rows(reader, &["sku", "location", "quantity"], |get| {
        let quantity = get("quantity")
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|q| *q >= 0)
            .ok_or_else(|| {
                format!(
                    "quantity `{}` is not a count (a whole number ≥ 0)",
                    get("quantity")
                )
            })?;
        Ok(StockRow {
            sku: get("sku").trim().to_owned(),
            location: get("location").trim().to_owned(),
            quantity,
        })
    })
}

fn rows<T>(
    reader: impl Read,
    required: &'static [&'static str],
    parse: impl Fn(&dyn Fn(&str) -> String) -> Result<T, String>,
) -> Result<impl Iterator<Item = Parsed<T>>, FileError> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(reader);
    let header: HashMap<String, usize> = csv
        .headers()?
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_ascii_lowercase(), i))
        .collect();
    if let Some(missing) = required.iter().find(|c| !header.contains_key(**c)) {
        return Err(FileError::MissingColumn(missing));
    }
    Ok(csv.into_records().map(move |record| match record {
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line());
            (line, Err(format!("unreadable line: {e}")))
        }
        Ok(record) => {
            let line = record.position().map_or(0, |p| p.line());
            let get = |column: &str| {
                header
                    .get(column)
                    .and_then(|i| record.get(*i))
                    .unwrap_or_default()
                    .to_owned()
            };
            (line, parse(&get))
        }
    }))
}

fn parse_catalog(get: &dyn Fn(&str) -> String) -> Result<CatalogRow, String> {
    let text = |c: &str| Some(get(c).trim().to_owned()).filter(|v| !v.is_empty());
    let mut classifications = Classifications::default();
    for system in ClassificationSystem::ALL {
        if let Some(rating) = text(system.as_str()) {
            classifications
                .set(system, &rating)
                .map_err(|e| e.to_string())?;
        }
    }
    let release_date = text("release_date")
        .map(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| format!("release_date `{d}` is not YYYY-MM-DD"))
        })
        .transpose()?;
    let components = text("components")
        .map(|list| {
            list.split(';')
                .filter(|p| !p.trim().is_empty())
                .map(|part| {
                    let (code, qty) = part.split_once('*').unwrap_or((part, "1"));
                    let quantity = qty
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|q| *q > 0)
                        .ok_or_else(|| format!("component `{part}` needs a quantity ≥ 1"))?;
                    Ok((SkuCode::parse(code).map_err(|e| e.to_string())?, quantity))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(CatalogRow {
        sku: SkuCode::parse(&get("sku")).map_err(|e| e.to_string())?,
        barcode: text("barcode")
            .map(|b| Barcode::parse(&b))
            .transpose()
            .map_err(|e| e.to_string())?,
        product: ProductDraft {
            title: parse_label("title", &get("title"), 300).map_err(|e| e.to_string())?,
            format: get("format").parse::<Format>().map_err(|e| e.to_string())?,
            studio: text("studio"),
            release_date,
            explicit: flag(&get("explicit"), "explicit")?,
            us_2257_statement_present: flag(
                &get("us_2257_statement_present"),
                "us_2257_statement_present",
            )?,
            classifications,
        },
        components,
    })
}

fn flag(value: &str, column: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "0" | "n" => Ok(false),
        "true" | "yes" | "1" | "y" => Ok(true),
        other => Err(format!("{column} `{other}` is not true or false")),
    }
}

/// Writes the whole catalog as CSV.
pub async fn write_catalog(repos: &Scoped<'_>, out: impl std::io::Write) -> Result<u64, FileError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CATALOG_COLUMNS)?;
    let mut after: Option<String> = None;
    let mut written = 0;
    loop {
        let page = repos.catalog_entries(after.as_deref(), EXPORT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.sku.code.to_string());
        for e in &page {
            let p = &e.product.draft;
            let rating =
                |s: ClassificationSystem| p.classifications.get(s).unwrap_or_default().to_owned();
            let components: Vec<String> = e
                .component_codes
                .iter()
                .map(|(c, q)| format!("{c}*{q}"))
                .collect();
            csv.write_record([
                e.sku.code.to_string(),
                p.title.clone(),
                p.format.to_string(),
                e.sku
                    .barcode
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                p.studio.clone().unwrap_or_default(),
                p.release_date.map(|d| d.to_string()).unwrap_or_default(),
                p.explicit.to_string(),
                p.us_2257_statement_present.to_string(),
                rating(ClassificationSystem::Bbfc),
                rating(ClassificationSystem::Fsk),
                rating(ClassificationSystem::Au),
                rating(ClassificationSystem::Mpa),
                rating(ClassificationSystem::CaBc),
                components.join(";"),
            ])?;
            written += 1;
        }
    }
    csv.flush()?;
    Ok(written)
}

/// Writes every stock level as CSV.
pub async fn write_stock(repos: &Scoped<'_>, out: impl std::io::Write) -> Result<u64, FileError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["sku", "location", "on_hand", "committed", "sellable"])?;
    let mut after: Option<(String, String)> = None;
    let mut written = 0;
    loop {
        let page = repos
            .stock_entries(
                after.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                EXPORT_PAGE,
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.sku.clone(), last.location.clone()));
        for e in &page {
            csv.write_record([
                e.sku.clone(),
                e.location.clone(),
                e.level.on_hand.to_string(),
                e.level.committed.to_string(),
                e.level.sellable().to_string(),
            ])?;
            written += 1;
        }
    }
    csv.flush()?;
    Ok(written)
}

/// Writes the whole ledger as CSV, in sequence order.
pub async fn write_ledger(repos: &Scoped<'_>, out: impl std::io::Write) -> Result<u64, FileError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "id",
        "sku",
        "location",
        "reason",
        "delta",
        "source_connection_id",
        "source_event_id",
        "actor",
        "note",
        "occurred_at",
        "recorded_at",
    ])?;
    let mut after = None;
    let mut written = 0;
    loop {
        let page = repos.ledger_entries(after, EXPORT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.movement.id);
        for e in &page {
            let m = &e.movement;
            csv.write_record([
                m.id.to_string(),
                e.sku.clone(),
                e.location.clone(),
                m.reason.to_string(),
                m.delta.to_string(),
                m.source_connection_id.clone().unwrap_or_default(),
                m.source_event_id.clone().unwrap_or_default(),
                m.actor.clone(),
                m.note.clone().unwrap_or_default(),
                m.occurred_at.to_rfc3339(),
                m.recorded_at.to_rfc3339(),
            ])?;
            written += 1;
        }
    }
    csv.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_rows_parse_with_per_line_errors() {
        let file = "SKU,Title,Format,Barcode,bbfc,components,explicit\n\
                    A-1,First,dvd,5012345678900,R18,,yes\n\
                    A-2,Second,vhs,,,,\n\
                    BOX,Box,box_set,,,A-1*2;A-3,\n";
        let rows: Vec<_> = catalog_rows(file.as_bytes()).expect("header").collect();
        assert_eq!(rows.len(), 3);
        let (line, first) = &rows[0];
        assert_eq!(*line, 2);
        let first = first.as_ref().expect("valid");
        assert!(first.product.explicit);
        assert_eq!(
            first
                .product
                .classifications
                .get(ClassificationSystem::Bbfc),
            Some("R18")
        );
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.as_ref().expect_err("bad format").contains("vhs"));
        let kit = rows[2].1.as_ref().expect("valid kit");
        assert_eq!(kit.components.len(), 2);
        assert_eq!(kit.components[1].1, 1);
    }

    #[test]
    fn a_header_without_required_columns_is_refused() {
        let err = catalog_rows("sku,name\nA,B\n".as_bytes())
            .err()
            .expect("refused");
        assert!(err.to_string().contains("title"));
        let err = stock_rows("sku,qty\n".as_bytes()).err().expect("refused");
        assert!(err.to_string().contains("location"));
    }

    #[test]
    fn stock_counts_must_be_whole_non_negative_numbers() {
        let rows: Vec<_> =
            stock_rows("sku,location,quantity\nA,Main,4\nA,Main,-1\nA,Main,two\n".as_bytes())
                .expect("header")
                .collect();
        assert_eq!(rows[0].1.as_ref().map(|r| r.quantity), Ok(4));
        assert!(rows[1].1.is_err());
        assert!(rows[2].1.is_err());
    }
}
