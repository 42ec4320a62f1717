//! A minimal PDF writer for report tables: A4 landscape pages of fixed-size text in the
//! standard Helvetica fonts (nothing embedded), a heading, the table with repeated column
//! headings, totals, and page numbers.
//!
//! Hand-written rather than a dependency: `printpdf` brings a layout engine and font
//! tooling for what is a page of text lines, and `pdf-writer` would still leave layout and
//! text encoding to us. PDF 1.4 objects, a correct cross-reference table, WinAnsi text.

use std::fmt::Write as _;

use chrono::SecondsFormat;
use concord_storage::ReportTable;

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 36.0;
const FONT: f32 = 7.0;
const LINE: f32 = 9.0;
/// Average Helvetica glyph width as a share of the font size, for truncating cells.
const GLYPH: f32 = 0.52;
/// Widest a column may ask to be, in characters.
const MAX_COLUMN_CHARS: usize = 48;
/// Space between columns, in points.
const GUTTER: f32 = 4.0;

/// Renders `table` as a PDF document.
pub fn render(table: &ReportTable) -> Vec<u8> {
    let widths = column_widths(table);
    let heading = heading(table);
    let body_top = PAGE_H - MARGIN - LINE * (heading.len() as f32 + 1.5);
    let rows_per_page = (((body_top - MARGIN - LINE) / LINE).floor() as usize)
        .saturating_sub(1)
        .max(1);
    let mut lines: Vec<Vec<String>> = table.rows.clone();
    if !table.totals.is_empty() {
        lines.push(Vec::new());
        let totals: Vec<String> = table
            .totals
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        lines.push(vec![format!("Totals: {}", totals.join(" · "))]);
    }
    let pages: Vec<&[Vec<String>]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(rows_per_page).collect()
    };
    let count = pages.len();
    let streams: Vec<String> = pages
        .iter()
        .enumerate()
        .map(|(i, rows)| page_stream(table, &heading, &widths, body_top, rows, i + 1, count))
        .collect();
    assemble(table, &streams)
}

fn heading(table: &ReportTable) -> Vec<String> {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>, open: &str| {
        t.map_or_else(
            || open.to_owned(),
            |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
    };
    vec![
        format!("Tenant {}", table.tenant),
        format!(
            "Period {} to {} · generated {} · {} rows",
            when(table.from, "the beginning"),
            when(table.to, "now"),
            table
                .generated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            table.rows.len()
        ),
    ]
}

/// Column widths in points, proportional to what each column holds.
fn column_widths(table: &ReportTable) -> Vec<f32> {
    let wants: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let longest = table
                .rows
                .iter()
                .map(|r| r.get(i).map_or(0, |v| v.chars().count()))
                .max()
                .unwrap_or(0);
            longest.max(c.len()).clamp(3, MAX_COLUMN_CHARS)
        })
        .collect();
    let total: usize = wants.iter().sum::<usize>().max(1);
    let room = PAGE_W - 2.0 * MARGIN - GUTTER * table.columns.len() as f32;
    wants
        .iter()
        .map(|w| room * *w as f32 / total as f32)
        .collect()
}

fn page_stream(
    table: &ReportTable,
    heading: &[String],
    widths: &[f32],
    body_top: f32,
    rows: &[Vec<String>],
    page: usize,
    pages: usize,
) -> String {
    let mut s = String::new();
    let mut y = PAGE_H - MARGIN - 12.0;
    text(&mut s, "F2", 12.0, MARGIN, y, table.kind.title());
    for line in heading {
        y -= LINE + 1.0;
        text(&mut s, "F1", FONT, MARGIN, y, line);
    }
    let header: Vec<String> = table.columns.iter().map(|c| (*c).to_owned()).collect();
    row(&mut s, "F2", widths, body_top, &header);
    let mut y = body_top - LINE;
    for r in rows {
        if r.len() == 1 && r.len() != widths.len() {
            text(&mut s, "F2", FONT, MARGIN, y, &r[0]);
        } else {
            row(&mut s, "F1", widths, y, r);
        }
        y -= LINE;
    }
    let footer = format!("Concord · {} · page {page} of {pages}", table.kind.as_str());
    text(&mut s, "F1", FONT, MARGIN, MARGIN - LINE, &footer);
    s
}

fn row(s: &mut String, font: &str, widths: &[f32], y: f32, cells: &[String]) {
    let mut x = MARGIN;
    for (cell, width) in cells.iter().zip(widths) {
        let fits = ((width / (FONT * GLYPH)).floor() as usize).max(1);
        let shown: String = if cell.chars().count() > fits {
            let mut cut: String = cell.chars().take(fits.saturating_sub(3)).collect();
            cut.push_str("...");
            cut
        } else {
            cell.clone()
        };
        text(s, font, FONT, x, y, &shown);
        x += width + GUTTER;
    }
}

fn text(s: &mut String, font: &str, size: f32, x: f32, y: f32, value: &str) {
    let _ = writeln!(
        s,
        "BT /{font} {size} Tf {x:.1} {y:.1} Td ({}) Tj ET",
        escape(value)
    );
}

/// A PDF literal string body in WinAnsi: ASCII as is (delimiters escaped), Latin-1 and the
/// WinAnsi punctuation as octal escapes, anything else as `?`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let byte = match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
                continue;
            }
            ' '..='~' => {
                out.push(c);
                continue;
            }
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            c if ('\u{a0}'..='\u{ff}').contains(&c) => c as u32 as u8,
            _ => {
                out.push('?');
                continue;
            }
        };
        let _ = write!(out, "\\{byte:03o}");
    }
    out
}

/// Writes the objects and the cross-reference table.
fn assemble(table: &ReportTable, streams: &[String]) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3–4 fonts, 5 info, then a page and its content per page.
    let page_ids: Vec<usize> = (0..streams.len()).map(|i| 6 + 2 * i).collect();
    let mut objects: Vec<String> =
        vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            page_ids.iter().map(|id| format!("{id} 0 R")).collect::<Vec<_>>().join(" "),
            streams.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .into(),
        format!(
            "<< /Producer (Concord) /Title ({}) /CreationDate (D:{}Z) >>",
            escape(table.kind.title()),
            table.generated_at.format("%Y%m%d%H%M%S")
        ),
    ];
    for (i, stream) in streams.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            page_ids[i] + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}endstream",
            stream.len()
        ));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(tail, "{offset:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use concord_storage::ReportKind;

    use super::*;

    fn table(rows: usize) -> ReportTable {
        ReportTable {
            kind: ReportKind::RestrictedSales,
            tenant: "tnt_x".into(),
            from: None,
            to: None,
            generated_at: Utc::now(),
            columns: vec!["order", "category", "note"],
            rows: (0..rows)
                .map(|i| {
                    vec![
                        format!("O-{i}"),
                        "BBFC R18 · FSK 18".into(),
                        "a (b) \\ c — ✓".into(),
                    ]
                })
                .collect(),
            totals: vec![("sales".into(), rows as i64)],
        }
    }

    #[test]
    fn the_document_is_well_formed_with_a_correct_cross_reference_table() {
        let pdf = render(&table(150));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.ends_with("%%EOF\n"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .expect("startxref");
        // Offsets are in bytes; the binary marker on line 2 is not UTF-8, so check on bytes.
        assert!(pdf[start..].starts_with(b"xref"));
        let table = String::from_utf8_lossy(&pdf[start..]).into_owned();
        let entries: Vec<&str> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .collect();
        assert!(entries.len() > 5);
        for (i, line) in entries.into_iter().enumerate() {
            let offset: usize = line[..10].parse().expect("offset");
            let object = format!("{} 0 obj", i + 1);
            assert!(pdf[offset..].starts_with(object.as_bytes()), "{object}");
        }
        let pages = text.matches("/Type /Page ").count();
        assert!(pages >= 3, "150 rows span pages: {pages}");
        assert!(text.contains(&format!("page 1 of {pages}")));
        assert!(text.contains("a \\(b\\) \\\\ c \\227 ?"), "escaped");
        assert!(text.contains("BBFC R18 \\267 FSK 18"));
        assert!(text.contains("Totals: sales 150"));
    }

    #[test]
    fn an_empty_report_is_one_page() {
        let pdf = render(&table(0));
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("/Type /Page ").count(), 1);
        assert!(text.contains("page 1 of 1"));
    }
}
