//! Square's API: item variations from the catalog, locations, inventory counts and
//! `BatchChangeInventory` with `PHYSICAL_COUNT` changes (≤100, idempotency key), orders by
//! `updated_at` for polling.

use async_trait::async_trait;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Changes, Connector, ConnectorError, Limits, Page, RemoteItem, RemoteLocation, RemoteStock,
    Session, StockWrite, WriteResult, http,
};
use crate::{Delivery, Normalized, Platform};

/// The API version Concord speaks.
pub const API_VERSION: &str = "2025-01-23";

/// Square's API.
pub struct SquareApi;

#[derive(Deserialize)]
struct CatalogList {
    #[serde(default)]
    objects: Vec<CatalogObject>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct CatalogObject {
    id: String,
    item_variation_data: Option<VariationData>,
}

#[derive(Deserialize)]
struct VariationData {
    item_id: Option<String>,
    sku: Option<String>,
    upc: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Locations {
    #[serde(default)]
    locations: Vec<LocationObject>,
}

#[derive(Deserialize)]
struct LocationObject {
    id: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Counts {
    #[serde(default)]
    counts: Vec<Count>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct Count {
    catalog_object_id: String,
    location_id: Option<String>,
    state: Option<String>,
    quantity: Option<String>,
}

#[derive(Deserialize)]
struct Orders {
    #[serde(default)]
    orders: Vec<Value>,
    cursor: Option<String>,
}

fn get(session: Session<'_>, path: &str) -> Result<reqwest::RequestBuilder, ConnectorError> {
    Ok(session
        .http
        .get(session.url(path))
        .bearer_auth(session.token()?)
        .header("Square-Version", API_VERSION))
}

fn post(
    session: Session<'_>,
    path: &str,
    body: &Value,
) -> Result<reqwest::RequestBuilder, ConnectorError> {
    Ok(session
        .http
        .post(session.url(path))
        .bearer_auth(session.token()?)
        .header("Square-Version", API_VERSION)
        .json(body))
}

/// A quantity as Square writes it (a decimal string), in whole units.
fn units(quantity: Option<&str>) -> Option<i64> {
    let text = quantity?.trim();
    let whole =
        text.split_once('.').map_or(
            text,
            |(w, f)| {
                if f.bytes().all(|b| b == b'0') { w } else { "" }
            },
        );
    whole.parse().ok()
}

#[async_trait]
impl Connector for SquareApi {
    fn platform(&self) -> Platform {
        Platform::Square
    }

    fn limits(&self) -> Limits {
        // Square publishes no figure; its SDKs back off on 429. Stay modest.
        Limits {
            batch: 100,
            burst: 20.0,
            per_second: 10.0,
        }
    }

    async fn locations(&self, session: Session<'_>) -> Result<Vec<RemoteLocation>, ConnectorError> {
        let (found, _): (Locations, _) = http::json(get(session, "/v2/locations")?).await?;
        Ok(found
            .locations
            .into_iter()
            .map(|l| RemoteLocation {
                name: l.name.unwrap_or_else(|| l.id.clone()),
                id: l.id,
            })
            .collect())
    }

    async fn items(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteItem>, ConnectorError> {
        let mut request = get(session, "/v2/catalog/list")?.query(&[("types", "ITEM_VARIATION")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let (list, _): (CatalogList, _) = http::json(request).await?;
        Ok(Page {
            items: list
                .objects
                .into_iter()
                .filter_map(|o| {
                    let data = o.item_variation_data?;
                    Some(RemoteItem {
                        external_item_id: o.id,
                        external_parent_id: data.item_id,
                        sku: data.sku.filter(|s| !s.is_empty()),
                        barcode: data.upc.filter(|s| !s.is_empty()),
                        title: data.name,
                    })
                })
                .collect(),
            next: list.cursor.filter(|c| !c.is_empty()),
        })
    }

    async fn stock(
        &self,
        session: Session<'_>,
        location_id: Option<&str>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteStock>, ConnectorError> {
        let mut body = json!({ "states": ["IN_STOCK"] });
        if let Some(location) = location_id {
            body["location_ids"] = json!([location]);
        }
        if let Some(cursor) = cursor {
            body["cursor"] = json!(cursor);
        }
        let (counts, _): (Counts, _) =
            http::json(post(session, "/v2/inventory/counts/batch-retrieve", &body)?).await?;
        Ok(Page {
            items: counts
                .counts
                .into_iter()
                .filter(|c| c.state.as_deref().is_none_or(|s| s == "IN_STOCK"))
                .filter_map(|c| {
                    Some(RemoteStock {
                        quantity: units(c.quantity.as_deref())?,
                        external_item_id: c.catalog_object_id,
                        location_id: c.location_id,
                    })
                })
                .collect(),
            next: counts.cursor.filter(|c| !c.is_empty()),
        })
    }

    async fn write_stock(
        &self,
        session: Session<'_>,
        writes: &[StockWrite],
        idempotency_key: &str,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let default_location = match writes.iter().any(|w| w.location_id.is_none()) {
            true => self
                .locations(session)
                .await?
                .into_iter()
                .next()
                .map(|l| l.id),
            false => None,
        };
        let occurred_at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut changes = Vec::with_capacity(writes.len());
        for w in writes {
            let location = w
                .location_id
                .clone()
                .or_else(|| default_location.clone())
                .ok_or_else(|| ConnectorError::Permanent("the seller has no location".into()))?;
            changes.push(json!({
                "type": "PHYSICAL_COUNT",
                "physical_count": {
                    "catalog_object_id": w.external_item_id,
                    "location_id": location,
                    "state": "IN_STOCK",
                    "quantity": w.quantity.to_string(),
                    "occurred_at": occurred_at,
                }
            }));
        }
        let body = json!({
            "idempotency_key": idempotency_key,
            "changes": changes,
            "ignore_unchanged_counts": true,
        });
        http::send(post(session, "/v2/inventory/changes/batch-create", &body)?).await?;
        Ok(vec![WriteResult::Written; writes.len()])
    }

    async fn register_webhooks(
        &self,
        session: Session<'_>,
        callback_url: &str,
        _secret: &str,
    ) -> Result<Option<String>, ConnectorError> {
        #[derive(Deserialize)]
        struct Created {
            subscription: Subscription,
        }
        #[derive(Deserialize)]
        struct Subscription {
            signature_key: Option<String>,
        }
        let body = json!({
            "idempotency_key": crate::content_id(callback_url.as_bytes()),
            "subscription": {
                "name": "Concord",
                "event_types": ["order.created", "order.updated", "payment.created", "payment.updated",
                                "refund.created", "inventory.count.updated"],
                "notification_url": callback_url,
                "api_version": API_VERSION,
            }
        });
        let (created, _): (Created, _) =
            http::json(post(session, "/v2/webhooks/subscriptions", &body)?).await?;
        // Square issues the signature key with the subscription.
        Ok(created.subscription.signature_key)
    }

    async fn order(
        &self,
        session: Session<'_>,
        id: &str,
    ) -> Result<Vec<Normalized>, ConnectorError> {
        #[derive(Deserialize)]
        struct One {
            order: Value,
        }
        let (found, _): (One, _) = http::json(get(session, &format!("/v2/orders/{id}"))?).await?;
        as_events(&found.order)
    }

    async fn order_changes(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Changes, ConnectorError> {
        let locations: Vec<String> = self
            .locations(session)
            .await?
            .into_iter()
            .take(10)
            .map(|l| l.id)
            .collect();
        let since = cursor
            .clone()
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
        let body = json!({
            "location_ids": locations,
            "limit": 100,
            "query": {
                "filter": { "date_time_filter": { "updated_at": { "start_at": since } } },
                "sort": { "sort_field": "UPDATED_AT", "sort_order": "ASC" }
            }
        });
        let (found, _): (Orders, _) =
            http::json(post(session, "/v2/orders/search", &body)?).await?;
        let mut latest = cursor;
        let mut events = Vec::new();
        for order in &found.orders {
            events.extend(as_events(order)?);
            if let Some(updated) = order.get("updated_at").and_then(Value::as_str) {
                latest = Some(updated.to_owned());
            }
        }
        Ok(Changes {
            events,
            cursor: latest,
            more: found.cursor.is_some_and(|c| !c.is_empty()),
        })
    }
}

/// A fetched order, read as the `order.updated` webhook would carry it in full.
fn as_events(order: &Value) -> Result<Vec<Normalized>, ConnectorError> {
    let id = order.get("id").and_then(Value::as_str).unwrap_or_default();
    let version = order.get("version").cloned().unwrap_or(Value::Null);
    let envelope = json!({
        "type": "order.updated",
        "event_id": format!("fetch:{id}:{version}"),
        "created_at": order.get("updated_at"),
        "data": { "type": "order", "id": id, "object": { "order": order } }
    });
    let body =
        serde_json::to_vec(&envelope).map_err(|e| ConnectorError::Permanent(e.to_string()))?;
    let delivery = Delivery {
        body: &body,
        headers: &[],
        url: None,
    };
    crate::parse(Platform::Square, &delivery).map_err(|e| ConnectorError::Permanent(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::units;

    #[test]
    fn square_quantities_are_decimal_strings() {
        assert_eq!(units(Some("5")), Some(5));
        assert_eq!(units(Some("12.000")), Some(12));
        assert_eq!(units(Some("1.5")), None);
        assert_eq!(units(None), None);
    }
}
