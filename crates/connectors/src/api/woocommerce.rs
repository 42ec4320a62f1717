//! WooCommerce's REST API (`/wp-json/wc/v3`): products with their stock — a variable
//! product lists its variations (`/products/{id}/variations`), each an item of its own named
//! `{product}:{variation}` — `products/batch` and `products/{id}/variations/batch` stock
//! writes (≤100, absolute, no locations), orders by `modified_after` for polling — the
//! safety net behind webhooks WooCommerce never retries.

use std::collections::BTreeMap;

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Changes, Connector, ConnectorError, Limits, Page, RemoteItem, RemoteLocation, RemoteStock,
    Session, StockWrite, WriteResult, http,
};
use crate::{
    Delivery, Platform,
    platforms::woocommerce::{item_id, split_item_id},
};

/// Items per page (WooCommerce's maximum).
const PER_PAGE: usize = 100;

/// Pages of one product's variations read at most.
const MAX_VARIATION_PAGES: u64 = 50;

/// WooCommerce's API.
pub struct WooCommerceApi;

/// A product, or a variation of a variable product.
#[derive(Deserialize)]
struct Product {
    id: u64,
    /// `simple`, `variable`, `grouped`, `external` (variations: `variation`).
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    sku: String,
    name: Option<String>,
    stock_quantity: Option<i64>,
    /// `true`, `false`, or for a variation `"parent"` (it shares its product's figure).
    #[serde(default)]
    manage_stock: Value,
    #[serde(default)]
    global_unique_id: String,
    /// A variation's attributes (`Format: Blu-ray`).
    #[serde(default)]
    attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
struct Attribute {
    #[serde(default)]
    option: String,
}

impl Product {
    fn manages_stock(&self) -> bool {
        self.manage_stock == Value::Bool(true)
    }
}

/// A listed item: a product without variations, or one variation of a variable product.
struct Listed {
    id: String,
    parent: Option<u64>,
    title: Option<String>,
    record: Product,
}

/// One page of products, each variable product replaced by its variations.
async fn listed(
    session: Session<'_>,
    cursor: Option<String>,
) -> Result<(Vec<Listed>, Option<String>), ConnectorError> {
    let (found, next) = products(session, cursor).await?;
    let mut listed = Vec::with_capacity(found.len());
    for product in found {
        if product.kind != "variable" {
            listed.push(Listed {
                id: product.id.to_string(),
                parent: None,
                title: product.name.clone(),
                record: product,
            });
            continue;
        }
        for variation in variations(session, product.id).await? {
            let options: Vec<&str> = variation
                .attributes
                .iter()
                .map(|a| a.option.as_str())
                .filter(|o| !o.is_empty())
                .collect();
            let title = match (&product.name, options.is_empty()) {
                (Some(name), false) => Some(format!("{name} – {}", options.join(", "))),
                (name, _) => variation.name.clone().or_else(|| name.clone()),
            };
            listed.push(Listed {
                id: item_id(&product.id.to_string(), Some(&variation.id.to_string())),
                parent: Some(product.id),
                title,
                record: variation,
            });
        }
    }
    Ok((listed, next))
}

/// Every variation of `product`, page by page.
async fn variations(session: Session<'_>, product: u64) -> Result<Vec<Product>, ConnectorError> {
    let path = format!("/products/{product}/variations");
    let mut all = Vec::new();
    for page in 1..=MAX_VARIATION_PAGES {
        let request = request(session, reqwest::Method::GET, &path)?.query(&[
            ("per_page", PER_PAGE.to_string()),
            ("page", page.to_string()),
        ]);
        let (found, headers): (Vec<Product>, _) = http::json(request).await?;
        all.extend(found);
        if next_page(&headers, page).is_none() {
            break;
        }
    }
    Ok(all)
}

/// Writes `updates` (`(index in the caller's writes, id, figure)`) through one batch
/// endpoint; each index with how its write ended.
async fn batch(
    session: Session<'_>,
    path: &str,
    updates: &[(usize, u64, i64)],
) -> Result<Vec<(usize, WriteResult)>, ConnectorError> {
    let update: Vec<Value> = updates
        .iter()
        .map(|(_, id, quantity)| json!({ "id": id, "manage_stock": true, "stock_quantity": quantity }))
        .collect();
    let request = request(session, reqwest::Method::POST, path)?.json(&json!({ "update": update }));
    let (answer, _): (BatchAnswer, _) = http::json(request).await?;
    Ok(updates
        .iter()
        .enumerate()
        .map(|(i, (index, _, _))| {
            let result = match answer.update.get(i).and_then(|u| u.get("error")) {
                Some(error) => WriteResult::Refused(
                    error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("refused")
                        .to_owned(),
                ),
                None => WriteResult::Written,
            };
            (*index, result)
        })
        .collect())
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
        let (found, next) = listed(session, cursor).await?;
        Ok(Page {
            items: found
                .into_iter()
                .map(|l| RemoteItem {
                    external_item_id: l.id,
                    external_parent_id: l.parent.map(|p| p.to_string()),
                    sku: Some(l.record.sku).filter(|s| !s.is_empty()),
                    barcode: Some(l.record.global_unique_id).filter(|s| !s.is_empty()),
                    title: l.title,
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
        let (found, next) = listed(session, cursor).await?;
        Ok(Page {
            items: found
                .into_iter()
                .filter(|l| l.record.manages_stock())
                .filter_map(|l| {
                    Some(RemoteStock {
                        quantity: l.record.stock_quantity?,
                        external_item_id: l.id,
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
        // Products go in one `products/batch`; variations in one
        // `products/{id}/variations/batch` per product.
        let mut simple = Vec::new();
        let mut by_product: BTreeMap<u64, Vec<(usize, u64, i64)>> = BTreeMap::new();
        let mut results: Vec<Option<WriteResult>> = vec![None; writes.len()];
        for (index, w) in writes.iter().enumerate() {
            match split_item_id(&w.external_item_id) {
                Some((product, None)) => simple.push((index, product, w.quantity)),
                Some((product, Some(variation))) => by_product
                    .entry(product)
                    .or_default()
                    .push((index, variation, w.quantity)),
                None => {
                    results[index] = Some(WriteResult::Refused(format!(
                        "`{}` is not a WooCommerce product or variation id",
                        w.external_item_id
                    )));
                }
            }
        }
        let mut requests = Vec::new();
        if !simple.is_empty() {
            requests.push(("/products/batch".to_owned(), simple));
        }
        for (product, updates) in by_product {
            requests.push((format!("/products/{product}/variations/batch"), updates));
        }
        for (path, updates) in requests {
            for (index, result) in batch(session, &path, &updates).await? {
                results[index] = Some(result);
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| WriteResult::Refused("not written".into())))
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
