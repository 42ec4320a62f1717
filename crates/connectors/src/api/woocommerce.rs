//! WooCommerce's REST API (`/wp-json/wc/v3`): products with their stock, `products/batch`
//! stock writes (≤100, absolute, no locations), orders by `modified_after` for polling —
//! the safety net behind webhooks WooCommerce never retries.

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Changes, Connector, ConnectorError, Limits, Page, RemoteItem, RemoteLocation, RemoteStock,
    Session, StockWrite, WriteResult, http,
};
use crate::{Delivery, Platform};

/// Items per page (WooCommerce's maximum).
const PER_PAGE: usize = 100;

/// WooCommerce's API.
pub struct WooCommerceApi;

#[derive(Deserialize)]
struct Product {
    id: u64,
    #[serde(default)]
    sku: String,
    name: Option<String>,
    stock_quantity: Option<i64>,
    #[serde(default)]
    manage_stock: bool,
    #[serde(default)]
    global_unique_id: String,
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    update: Vec<Value>,
}

fn request(
    session: Session<'_>,
    method: reqwest::Method,
    path: &str,
) -> Result<reqwest::RequestBuilder, ConnectorError> {
    let credentials = session.credentials;
    let (Some(key), Some(secret)) = (&credentials.api_key, &credentials.api_secret) else {
        return Err(ConnectorError::Auth(
            "no consumer key and secret: connect the store first".into(),
        ));
    };
    Ok(session
        .http
        .request(method, session.url(&format!("/wp-json/wc/v3{path}")))
        .basic_auth(key, Some(secret)))
}

/// The next page number, from `X-WP-TotalPages`.
fn next_page(headers: &HeaderMap, page: u64) -> Option<String> {
    let total: u64 = headers
        .get("x-wp-totalpages")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    (page < total).then(|| (page + 1).to_string())
}

async fn products(
    session: Session<'_>,
    cursor: Option<String>,
) -> Result<(Vec<Product>, Option<String>), ConnectorError> {
    let page: u64 = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(1);
    let request = request(session, reqwest::Method::GET, "/products")?.query(&[
        ("per_page", PER_PAGE.to_string()),
        ("page", page.to_string()),
    ]);
    let (found, headers): (Vec<Product>, _) = http::json(request).await?;
    Ok((found, next_page(&headers, page)))
}

#[async_trait]
impl Connector for WooCommerceApi {
    fn platform(&self) -> Platform {
        Platform::WooCommerce
    }

    fn limits(&self) -> Limits {
        // Core sets no limit; hosts and firewalls do, commonly a few dozen requests per
        // second. Stay under that.
        Limits {
            batch: 100,
            burst: 40.0,
            per_second: 20.0,
        }
    }

    async fn locations(
        &self,
        _session: Session<'_>,
    ) -> Result<Vec<RemoteLocation>, ConnectorError> {
        Ok(Vec::new())
    }

    async fn items(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteItem>, ConnectorError> {
        let (found, next) = products(session, cursor).await?;
        Ok(Page {
            items: found
                .into_iter()
                .map(|p| RemoteItem {
                    external_item_id: p.id.to_string(),
                    external_parent_id: None,
                    sku: Some(p.sku).filter(|s| !s.is_empty()),
                    barcode: Some(p.global_unique_id).filter(|s| !s.is_empty()),
                    title: p.name,
                })
                .collect(),
            next,
        })
    }

    async fn stock(
        &self,
        session: Session<'_>,
        _location_id: Option<&str>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteStock>, ConnectorError> {
        let (found, next) = products(session, cursor).await?;
        Ok(Page {
            items: found
                .into_iter()
                .filter(|p| p.manage_stock)
                .filter_map(|p| {
                    Some(RemoteStock {
                        quantity: p.stock_quantity?,
                        external_item_id: p.id.to_string(),
                        location_id: None,
                    })
                })
                .collect(),
            next,
        })
    }

    async fn write_stock(
        &self,
        session: Session<'_>,
        writes: &[StockWrite],
        _idempotency_key: &str,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let mut update = Vec::with_capacity(writes.len());
        for w in writes {
            let id: u64 = w.external_item_id.parse().map_err(|_| {
                ConnectorError::Permanent(format!("`{}` is not a product id", w.external_item_id))
            })?;
            update.push(json!({ "id": id, "manage_stock": true, "stock_quantity": w.quantity }));
        }
        let request = request(session, reqwest::Method::POST, "/products/batch")?
            .json(&json!({ "update": update }));
        let (answer, _): (BatchAnswer, _) = http::json(request).await?;
        Ok(writes
            .iter()
            .enumerate()
            .map(
                |(i, _)| match answer.update.get(i).and_then(|u| u.get("error")) {
                    Some(error) => WriteResult::Refused(
                        error
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("refused")
                            .to_owned(),
                    ),
                    None => WriteResult::Written,
                },
            )
            .collect())
    }

    async fn register_webhooks(
        &self,
        session: Session<'_>,
        callback_url: &str,
        secret: &str,
    ) -> Result<Option<String>, ConnectorError> {
        for topic in ["order.created", "order.updated", "product.updated"] {
            let hook = json!({
                "name": format!("Concord {topic}"),
                "topic": topic,
                "delivery_url": callback_url,
                "secret": secret,
                "status": "active",
            });
            http::send(request(session, reqwest::Method::POST, "/webhooks")?.json(&hook)).await?;
        }
        // WooCommerce signs with the secret given at creation.
        Ok(Some(secret.to_owned()))
    }

    async fn order_changes(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Changes, ConnectorError> {
        let since = cursor
            .clone()
            .unwrap_or_else(|| "1970-01-01T00:00:00".into());
        let request = request(session, reqwest::Method::GET, "/orders")?.query(&[
            ("modified_after", since.as_str()),
            ("dates_are_gmt", "true"),
            ("orderby", "modified"),
            ("order", "asc"),
            ("per_page", "100"),
        ]);
        let response = http::send(request).await?;
        let more = next_page(response.headers(), 1).is_some();
        let body = response
            .bytes()
            .await
            .map_err(|e| ConnectorError::Transient(e.to_string()))?;
        let orders: Vec<&serde_json::value::RawValue> =
            serde_json::from_slice(&body).map_err(|e| ConnectorError::Permanent(e.to_string()))?;
        let mut latest = cursor;
        let mut events = Vec::new();
        for raw in orders {
            let headers = [
                ("X-WC-Webhook-Topic".to_owned(), "order.updated".to_owned()),
                ("X-WC-Webhook-Resource".to_owned(), "order".to_owned()),
            ];
            let delivery = Delivery {
                body: raw.get().as_bytes(),
                headers: &headers,
                url: None,
            };
            events.extend(
                crate::parse(Platform::WooCommerce, &delivery)
                    .map_err(|e| ConnectorError::Permanent(e.to_string()))?,
            );
            let modified: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
            if let Some(at) = modified.get("date_modified_gmt").and_then(Value::as_str) {
                latest = Some(at.to_owned());
            }
        }
        Ok(Changes {
            events,
            cursor: latest,
            more,
        })
    }
}
