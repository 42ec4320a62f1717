//! What WordPress listings share: `per_page` (1–100) and `page`, the date window
//! (`modified_after`, `modified_before`, `after`, `before`), `orderby`/`order`, and the
//! `X-WP-Total`, `X-WP-TotalPages` and `Link` headers.

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use crate::{http, paging::page_count, server::Inner};

/// The largest `per_page` and batch.
pub(super) const MAX_PAGE: usize = 100;

pub(super) fn invalid_param(name: &str, message: &str) -> HttpResponse {
    http::json(
        400,
        &json!({
            "code": "rest_invalid_param",
            "message": format!("Invalid parameter(s): {name}"),
            "data": {
                "status": 400,
                "params": {name: message},
                "details": {name: {"code": "rest_invalid_param", "message": message, "data": null}},
            }
        }),
    )
}

/// `per_page` and `page` of a listing.
pub(super) struct Paging {
    pub per_page: usize,
    pub page: usize,
}

pub(super) fn paging(query: &[(String, String)]) -> Result<Paging, http::Refusal> {
    let per_page = match http::query_value(query, "per_page") {
        None => 10,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(Box::new(invalid_param(
                    "per_page",
                    "per_page must be between 1 (inclusive) and 100 (inclusive)",
                )));
            }
        },
    };
    let page = match http::query_value(query, "page") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(Box::new(invalid_param(
                    "page",
                    "page must be greater than or equal to 1",
                )));
            }
        },
    };
    Ok(Paging { per_page, page })
}

pub(super) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
        })
}

/// The `modified_after`/`modified_before`/`after`/`before` window of a listing.
pub(super) struct Dates {
    modified_after: Option<DateTime<Utc>>,
    modified_before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
}

pub(super) fn dates(query: &[(String, String)]) -> Result<Dates, http::Refusal> {
    let read = |name: &str| -> Result<Option<DateTime<Utc>>, http::Refusal> {
        match http::query_value(query, name) {
            None => Ok(None),
            Some(v) => parse_date(&v).map(Some).ok_or_else(|| {
                Box::new(invalid_param(name, &format!("{name} is not a valid date.")))
            }),
        }
    };
    Ok(Dates {
        modified_after: read("modified_after")?,
        modified_before: read("modified_before")?,
        after: read("after")?,
        before: read("before")?,
    })
}

impl Dates {
    pub(super) fn keeps(&self, created: DateTime<Utc>, modified: DateTime<Utc>) -> bool {
        self.modified_after.is_none_or(|t| modified > t)
            && self.modified_before.is_none_or(|t| modified < t)
            && self.after.is_none_or(|t| created > t)
            && self.before.is_none_or(|t| created < t)
    }
}

pub(super) fn ids(query: &[(String, String)], name: &str) -> Option<Vec<u64>> {
    http::query_value(query, name)
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

/// A page of `items` with WordPress's paging headers.
pub(super) fn page_response(
    inner: &Inner,
    req: &HttpRequest,
    items: Vec<Value>,
    paging: &Paging,
) -> HttpResponse {
    let total = items.len();
    let pages = page_count(total, paging.per_page);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((paging.page - 1) * paging.per_page)
        .take(paging.per_page)
        .collect();
    let link = |page: usize| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in http::query_pairs(req) {
            if k != "page" {
                serializer.append_pair(&k, &v);
            }
        }
        serializer.append_pair("page", &page.to_string());
        format!("<{}{}?{}>", inner.base_url, req.path(), serializer.finish())
    };
    let mut links = Vec::new();
    if paging.page > 1 && pages > 0 {
        links.push(format!(
            "{}; rel=\"prev\"",
            link((paging.page - 1).min(pages))
        ));
    }
    if paging.page < pages {
        links.push(format!("{}; rel=\"next\"", link(paging.page + 1)));
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("X-WP-Total", total.to_string()))
        .insert_header(("X-WP-TotalPages", pages.to_string()));
    if !links.is_empty() {
        response.insert_header(("Link", links.join(", ")));
    }
    response.json(Value::Array(shown))
}

pub(super) fn ordering(query: &[(String, String)]) -> (String, bool) {
    let by = http::query_value(query, "orderby").unwrap_or_else(|| "date".into());
    let ascending =
        http::query_value(query, "order").is_some_and(|o| o.eq_ignore_ascii_case("asc"));
    (by, ascending)
}

pub(super) fn path_id(raw: &str) -> Option<u64> {
    raw.trim().parse().ok()
}
