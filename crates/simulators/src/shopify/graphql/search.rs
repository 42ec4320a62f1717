//! Shopify's search syntax in `query:` arguments (`sku:A updated_at:>'2024-01-01T00:00:00Z'`):
//! terms are `field:value` with an optional comparison (`>`, `>=`, `<`, `<=`), values may
//! be quoted, `AND`/`OR` are accepted (every term must hold) and negated terms are ignored.

use chrono::{DateTime, NaiveDate, Utc};

/// One `field:value` term.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Term {
    pub field: String,
    pub op: &'static str,
    pub value: String,
}

pub(super) fn terms(query: &str) -> Vec<Term> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
        .into_iter()
        .filter(|t| t != "AND" && t != "OR" && !t.starts_with('-'))
        .filter_map(|t| {
            let (field, rest) = t.split_once(':')?;
            let (op, value) = [">=", "<=", ">", "<", "="]
                .into_iter()
                .find_map(|op| rest.strip_prefix(op).map(|v| (op, v)))
                .unwrap_or(("=", rest));
            Some(Term {
                field: field.to_ascii_lowercase(),
                op,
                value: value.to_owned(),
            })
        })
        .collect()
}

pub(super) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
            Some(date.and_hms_opt(0, 0, 0)?.and_utc())
        })
}

fn compare<T: PartialOrd>(op: &str, left: &T, right: &T) -> bool {
    match op {
        ">" => left > right,
        ">=" => left >= right,
        "<" => left < right,
        "<=" => left <= right,
        _ => left == right,
    }
}

pub(super) fn time_term(term: &Term, at: DateTime<Utc>) -> bool {
    parse_time(&term.value).is_none_or(|t| compare(term.op, &at, &t))
}

pub(super) fn text_term(term: &Term, text: &str) -> bool {
    match term.value.strip_suffix('*') {
        Some(prefix) => text.to_lowercase().starts_with(&prefix.to_lowercase()),
        None => text.eq_ignore_ascii_case(&term.value),
    }
}

pub(super) fn id_term(term: &Term, id: u64) -> bool {
    term.value
        .parse::<u64>()
        .map_or(true, |v| compare(term.op, &id, &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms() {
        let parsed = terms("sku:DVD-1 AND updated_at:>'2024-01-01T00:00:00Z' -status:x");
        assert_eq!(
            parsed,
            vec![
                Term {
                    field: "sku".into(),
                    op: "=",
                    value: "DVD-1".into()
                },
                Term {
                    field: "updated_at".into(),
                    op: ">",
                    value: "2024-01-01T00:00:00Z".into()
                },
            ]
        );
        let t = &parsed[1];
        let later = parse_time("2024-02-01T00:00:00Z").expect("time");
        let earlier = parse_time("2023-02-01").expect("time");
        assert!(time_term(t, later));
        assert!(!time_term(t, earlier));
    }
}
