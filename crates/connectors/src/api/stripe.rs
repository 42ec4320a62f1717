//! Stripe's API (`/v1`, the secret key `sk_…` as a Bearer token, form-encoded POSTs with an
//! `Idempotency-Key`): the webhook endpoint Concord subscribes itself with, and the event
//! list as the polling safety net behind it. Stripe keeps no stock: items, locations, stock
//! figures and stock writes answer [`ConnectorError::Unsupported`].

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    Changes, Connector, ConnectorError, Limits, Page, RemoteItem, RemoteLocation, RemoteStock,
    Session, StockWrite, WriteResult, http,
};
use crate::{Delivery, Platform};

/// The events Concord reads (what its Stripe delivery parser turns into payments and
/// refunds).
const EVENTS: [&str; 8] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.succeeded",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "checkout.session.completed",
    "invoice.paid",
];

/// Objects per list page (Stripe's maximum).
const PER_PAGE: &str = "100";

/// Pages of webhook endpoints read at most while looking for Concord's.
const MAX_ENDPOINT_PAGES: usize = 20;

const NO_STOCK: &str = "Stripe keeps no stock: it has no items, locations or stock figures";

/// Stripe's API.
pub struct StripeApi;

/// A list object.
#[derive(Deserialize)]
struct List<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct Endpoint {
    id: String,
    url: String,
    #[serde(default)]
    enabled_events: Vec<String>,
    status: Option<String>,
    /// Only in the answer to the endpoint's creation.
    secret: Option<String>,
}

#[derive(Deserialize)]
struct EventId {
    id: String,
}

/// The secret key: `api_key` when the account was connected with one, else the access
/// token (Stripe Apps OAuth or Connect).
fn secret_key<'a>(session: &Session<'a>) -> Result<&'a str, ConnectorError> {
    let credentials = session.credentials;
    credentials
        .api_key
        .as_deref()
        .or(credentials.access_token.as_deref())
        .ok_or_else(|| {
            ConnectorError::Auth("no secret key: connect the Stripe account first".into())
        })
}

fn get(session: Session<'_>, path: &str) -> Result<reqwest::RequestBuilder, ConnectorError> {
    Ok(session
        .http
        .get(session.url(path))
        .bearer_auth(secret_key(&session)?))
}

fn post(
    session: Session<'_>,
    path: &str,
    form: &[(&str, &str)],
    idempotency_key: &str,
) -> Result<reqwest::RequestBuilder, ConnectorError> {
    Ok(session
        .http
        .post(session.url(path))
        .bearer_auth(secret_key(&session)?)
        .header("Idempotency-Key", idempotency_key)
        .form(form))
}

/// Every webhook endpoint of the account, page by page.
async fn endpoints(session: Session<'_>) -> Result<Vec<Endpoint>, ConnectorError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_ENDPOINT_PAGES {
        let mut request = get(session, "/v1/webhook_endpoints")?.query(&[("limit", PER_PAGE)]);
        if let Some(after) = &after {
            request = request.query(&[("starting_after", after)]);
        }
        let (page, _): (List<Endpoint>, _) = http::json(request).await?;
        after = page.data.last().map(|e| e.id.clone());
        all.extend(page.data);
        if !page.has_more || after.is_none() {
            break;
        }
    }
    Ok(all)
}

/// The events of `wanted` an endpoint subscribed to `events` lacks.
fn missing<'a>(events: &[String], wanted: &[&'a str]) -> Vec<&'a str> {
    if events.iter().any(|e| e == "*") {
        return Vec::new();
    }
    wanted
        .iter()
        .filter(|w| !events.iter().any(|e| e == *w))
        .copied()
        .collect()
}

/// `enabled_events[]` pairs for a form.
fn event_pairs<'a>(events: impl IntoIterator<Item = &'a str>) -> Vec<(&'static str, &'a str)> {
    events
        .into_iter()
        .map(|e| ("enabled_events[]", e))
        .collect()
}

/// Whether a refusal says the cursor object no longer exists (events are kept 30 days).
fn cursor_gone(error: &ConnectorError) -> bool {
    matches!(error, ConnectorError::Permanent(detail) if detail.contains("resource_missing"))
}

/// One page of the events Concord reads: with a cursor, those right after it (oldest of
/// them first, `ending_before`); without, the latest page.
async fn events_page(
    session: Session<'_>,
    cursor: Option<&str>,
) -> Result<List<Box<RawValue>>, ConnectorError> {
    let mut request = get(session, "/v1/events")?.query(&[("limit", PER_PAGE)]);
    for event in EVENTS {
        request = request.query(&[("types[]", event)]);
    }
    if let Some(cursor) = cursor {
        request = request.query(&[("ending_before", cursor)]);
    }
    let (page, _) = http::json(request).await?;
    Ok(page)
}

#[async_trait]
impl Connector for StripeApi {
    fn platform(&self) -> Platform {
        Platform::Stripe
    }

    fn limits(&self) -> Limits {
        // Test mode allows 25 requests a second (live mode 100); Concord only reads.
        Limits {
            batch: 1,
            burst: 20.0,
            per_second: 20.0,
        }
    }

    async fn locations(
        &self,
        _session: Session<'_>,
    ) -> Result<Vec<RemoteLocation>, ConnectorError> {
        Err(ConnectorError::Unsupported(NO_STOCK))
    }

    async fn items(
        &self,
        _session: Session<'_>,
        _cursor: Option<String>,
    ) -> Result<Page<RemoteItem>, ConnectorError> {
        Err(ConnectorError::Unsupported(NO_STOCK))
    }

    async fn stock(
        &self,
        _session: Session<'_>,
        _location_id: Option<&str>,
        _cursor: Option<String>,
    ) -> Result<Page<RemoteStock>, ConnectorError> {
        Err(ConnectorError::Unsupported(NO_STOCK))
    }

    async fn write_stock(
        &self,
        _session: Session<'_>,
        _writes: &[StockWrite],
        _idempotency_key: &str,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        Err(ConnectorError::Unsupported(NO_STOCK))
    }

    /// Creates a webhook endpoint for `callback_url` with the events Concord reads and
    /// returns its signing secret, which Stripe shows only then. An endpoint already
    /// registered for the URL is kept (its missing events added, re-enabled if disabled)
    /// and `None` returned: deliveries are signed with the secret stored when it was
    /// created.
    async fn register_webhooks(
        &self,
        session: Session<'_>,
        callback_url: &str,
        secret: &str,
    ) -> Result<Option<String>, ConnectorError> {
        // A key per registration attempt: a retried request is answered once, while a
        // later registration (after the endpoint was deleted) creates a new one.
        let key = crate::content_id(format!("{callback_url}\n{secret}").as_bytes());
        let existing = endpoints(session)
            .await?
            .into_iter()
            .find(|e| e.url == callback_url);
        if let Some(endpoint) = existing {
            let lacking = missing(&endpoint.enabled_events, &EVENTS);
            let disabled = endpoint.status.as_deref() == Some("disabled");
            if !lacking.is_empty() || disabled {
                let mut form = event_pairs(endpoint.enabled_events.iter().map(String::as_str));
                form.extend(event_pairs(lacking));
                form.push(("disabled", "false"));
                let path = format!("/v1/webhook_endpoints/{}", endpoint.id);
                http::send(post(session, &path, &form, &key)?).await?;
            }
            return Ok(None);
        }
        let mut form = vec![
            ("url", callback_url),
            ("description", "Concord: payments and refunds"),
        ];
        form.extend(event_pairs(EVENTS));
        let (created, _): (Endpoint, _) =
            http::json(post(session, "/v1/webhook_endpoints", &form, &key)?).await?;
        created.secret.map(Some).ok_or_else(|| {
            ConnectorError::Permanent("Stripe created the endpoint without a signing secret".into())
        })
    }

    /// Events since `cursor` (the id of the last event read), oldest first. The first poll
    /// of a connection reads the latest page only: what came before was delivered by
    /// webhook or predates the connection. A cursor Stripe no longer keeps (events live 30
    /// days) starts over the same way.
    async fn order_changes(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Changes, ConnectorError> {
        let (page, from_cursor) = match events_page(session, cursor.as_deref()).await {
            Ok(page) => (page, cursor.is_some()),
            Err(e) if cursor.is_some() && cursor_gone(&e) => {
                (events_page(session, None).await?, false)
            }
            Err(e) => return Err(e),
        };
        let mut latest = cursor;
        if let Some(newest) = page.data.first() {
            let id: EventId = serde_json::from_str(newest.get())
                .map_err(|e| ConnectorError::Permanent(format!("unexpected event: {e}")))?;
            latest = Some(id.id);
        }
        let mut events = Vec::new();
        // Stripe lists newest first.
        for raw in page.data.iter().rev() {
            let delivery = Delivery {
                body: raw.get().as_bytes(),
                headers: &[],
                url: None,
            };
            events.extend(
                crate::parse(Platform::Stripe, &delivery)
                    .map_err(|e| ConnectorError::Permanent(e.to_string()))?,
            );
        }
        Ok(Changes {
            events,
            cursor: latest,
            more: from_cursor && page.has_more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_lacks_what_it_does_not_name_unless_it_takes_everything() {
        let some = vec!["charge.succeeded".to_owned(), "refund.created".to_owned()];
        assert_eq!(
            missing(
                &some,
                &["charge.succeeded", "charge.refunded", "refund.created"]
            ),
            vec!["charge.refunded"]
        );
        assert!(missing(&["*".to_owned()], &EVENTS).is_empty());
        assert_eq!(missing(&[], &EVENTS).len(), EVENTS.len());
    }

    #[test]
    fn only_a_missing_object_counts_as_a_lost_cursor() {
        assert!(cursor_gone(&ConnectorError::Permanent(
            r#"400 Bad Request: {"error":{"code":"resource_missing"}}"#.into()
        )));
        assert!(!cursor_gone(&ConnectorError::Permanent(
            "400 Bad Request: limit".into()
        )));
        assert!(!cursor_gone(&ConnectorError::Transient(
            "resource_missing".into()
        )));
    }
}
