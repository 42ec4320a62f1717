//! Shopify's Admin GraphQL API: variants and their inventory items, locations, stock
//! figures, `inventorySetQuantities` with compare-and-set and an idempotency key, and orders
//! by `updated_at` for polling. Throttling is Shopify's calculated-cost bucket, reported in
//! `extensions.cost` and as a `THROTTLED` error.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Changes, Connector, ConnectorError, Limits, Page, RemoteItem, RemoteLocation, RemoteStock,
    Session, StockWrite, WriteResult, http,
};
use crate::{Delivery, Platform};

/// The Admin API version Concord speaks.
pub const API_VERSION: &str = "2025-01";
/// Items per page.
const PAGE: usize = 100;
/// Orders per page: with up to 30 lines each, a page stays well under Shopify's single-query
/// cost ceiling of 1000 points.
const ORDERS_PAGE: usize = 5;
/// Pages of orders one read follows at most.
const ORDERS_PAGES_PER_READ: usize = 40;
/// Separates an order cursor's second from the page a read stopped after.
const RESUME: &str = "|after:";
/// Items per page of stock figures at every location: with up to 50 levels each (3 points a
/// level), a page stays under the same ceiling. One location's figures come 100 a page.
const ALL_LEVELS_PAGE: usize = 5;

/// Shopify's API.
pub struct ShopifyApi;

/// The webhook topics Concord subscribes to.
const WEBHOOK_TOPICS: [&str; 6] = [
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "REFUNDS_CREATE",
    "INVENTORY_LEVELS_UPDATE",
    "PRODUCTS_UPDATE",
];

#[derive(Deserialize)]
struct Answer<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
    extensions: Option<Extensions>,
}

#[derive(Deserialize)]
struct GraphqlError {
    message: String,
    extensions: Option<ErrorExtensions>,
}

#[derive(Deserialize)]
struct ErrorExtensions {
    code: Option<String>,
}

#[derive(Deserialize)]
struct Extensions {
    cost: Option<Cost>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cost {
    requested_query_cost: Option<f64>,
    throttle_status: Option<ThrottleStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottleStatus {
    currently_available: f64,
    restore_rate: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Connection<T> {
    nodes: Vec<T>,
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VariantsData {
    product_variants: Connection<Variant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Variant {
    id: String,
    sku: Option<String>,
    barcode: Option<String>,
    title: Option<String>,
    inventory_item: Option<IdOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct LocationsData {
    locations: Connection<LocationNode>,
}

#[derive(Deserialize)]
struct LocationNode {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LevelsData {
    inventory_items: Connection<InventoryItemNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InventoryItemNode {
    id: String,
    /// Every location's level, when no location is named.
    #[serde(default)]
    inventory_levels: Option<LevelNodes>,
    /// The named location's level (absent where the item is not stocked there).
    #[serde(default)]
    inventory_level: Option<LevelNode>,
}

#[derive(Deserialize)]
struct LevelNodes {
    nodes: Vec<LevelNode>,
}

#[derive(Deserialize)]
struct LevelNode {
    location: IdOnly,
    quantities: Vec<NamedQuantity>,
}

#[derive(Deserialize)]
struct NamedQuantity {
    name: String,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetData {
    inventory_set_quantities: SetPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetPayload {
    #[serde(default)]
    user_errors: Vec<UserError>,
}

#[derive(Deserialize)]
struct UserError {
    #[serde(default)]
    field: Vec<String>,
    message: String,
    code: Option<String>,
}

#[derive(Deserialize)]
struct OrdersData {
    orders: Connection<Value>,
}

/// The numeric id inside a `gid://shopify/Type/123`.
fn numeric(gid: &str) -> String {
    gid.rsplit('/').next().unwrap_or(gid).to_owned()
}

fn gid(kind: &str, id: &str) -> String {
    if id.starts_with("gid://") {
        id.to_owned()
    } else {
        format!("gid://shopify/{kind}/{id}")
    }
}

/// How long until the bucket holds what the throttled query costs, from the answer's `cost`;
/// none where the figures give no usable wait (no restore rate, or a wait beyond what a
/// `Duration` holds).
fn throttle_wait(cost: Cost) -> Option<Duration> {
    let status = cost.throttle_status?;
    let needed = cost.requested_query_cost? - status.currently_available;
    if status.restore_rate <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64((needed / status.restore_rate).max(0.0)).ok()
}

async fn call<T: serde::de::DeserializeOwned>(
    session: Session<'_>,
    query: &str,
    variables: Value,
) -> Result<T, ConnectorError> {
    let request = session
        .http
        .post(session.url(&format!("/admin/api/{API_VERSION}/graphql.json")))
        .header("X-Shopify-Access-Token", session.token()?)
        .json(&json!({ "query": query, "variables": variables }));
    let (answer, _): (Answer<T>, _) = http::json(request).await?;
    if answer.errors.iter().any(|e| {
        e.extensions.as_ref().and_then(|x| x.code.as_deref()) == Some("THROTTLED")
            || e.message == "Throttled"
    }) {
        let wait = answer
            .extensions
            .and_then(|x| x.cost)
            .and_then(throttle_wait);
        return Err(ConnectorError::RateLimited { retry_after: wait });
    }
    if let Some(first) = answer.errors.first() {
        return Err(ConnectorError::Permanent(first.message.clone()));
    }
    answer
        .data
        .ok_or_else(|| ConnectorError::Permanent("an answer without data".into()))
}

#[async_trait]
impl Connector for ShopifyApi {
    fn platform(&self) -> Platform {
        Platform::Shopify
    }

    fn limits(&self) -> Limits {
        // The Standard plan restores 100 cost points per second; a stock write of up to
        // 250 quantities costs about 10 points.
        Limits {
            batch: 250,
            burst: 100.0,
            per_second: 10.0,
        }
    }

    async fn locations(&self, session: Session<'_>) -> Result<Vec<RemoteLocation>, ConnectorError> {
        let data: LocationsData = call(
            session,
            "query Locations($first: Int!) { locations(first: $first) { nodes { id name } pageInfo { hasNextPage endCursor } } }",
            json!({ "first": 250 }),
        )
        .await?;
        Ok(data
            .locations
            .nodes
            .into_iter()
            .map(|l| RemoteLocation {
                id: numeric(&l.id),
                name: l.name,
            })
            .collect())
    }

    async fn items(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteItem>, ConnectorError> {
        let data: VariantsData = call(
            session,
            "query ProductVariants($first: Int!, $after: String) { productVariants(first: $first, after: $after) { nodes { id sku barcode title inventoryItem { id } } pageInfo { hasNextPage endCursor } } }",
            json!({ "first": PAGE, "after": cursor }),
        )
        .await?;
        let page = data.product_variants;
        Ok(Page {
            items: page
                .nodes
                .into_iter()
                .filter_map(|v| {
                    Some(RemoteItem {
                        external_item_id: numeric(&v.inventory_item?.id),
                        external_parent_id: Some(numeric(&v.id)),
                        sku: v.sku.filter(|s| !s.is_empty()),
                        barcode: v.barcode.filter(|b| !b.is_empty()),
                        title: v.title,
                    })
                })
                .collect(),
            next: page
                .page_info
                .has_next_page
                .then_some(page.page_info.end_cursor)
                .flatten(),
        })
    }

    async fn stock(
        &self,
        session: Session<'_>,
        location_id: Option<&str>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteStock>, ConnectorError> {
        let data: LevelsData = match location_id {
            Some(location) => call(
                session,
                "query InventoryLevel($first: Int!, $after: String, $location: ID!) { inventoryItems(first: $first, after: $after) { nodes { id inventoryLevel(locationId: $location) { location { id } quantities(names: [\"available\"]) { name quantity } } } pageInfo { hasNextPage endCursor } } }",
                json!({ "first": PAGE, "after": cursor, "location": gid("Location", location) }),
            )
            .await?,
            None => call(
                session,
                "query InventoryLevels($first: Int!, $after: String) { inventoryItems(first: $first, after: $after) { nodes { id inventoryLevels(first: 50) { nodes { location { id } quantities(names: [\"available\"]) { name quantity } } } } pageInfo { hasNextPage endCursor } } }",
                json!({ "first": ALL_LEVELS_PAGE, "after": cursor }),
            )
            .await?,
        };
        let page = data.inventory_items;
        let mut items = Vec::new();
        for item in page.nodes {
            let levels = item.inventory_levels.map(|l| l.nodes).unwrap_or_default();
            for level in levels.into_iter().chain(item.inventory_level) {
                let location = numeric(&level.location.id);
                if location_id.is_some_and(|wanted| wanted != location) {
                    continue;
                }
                if let Some(q) = level.quantities.iter().find(|q| q.name == "available") {
                    items.push(RemoteStock {
                        external_item_id: numeric(&item.id),
                        location_id: Some(location.clone()),
                        quantity: q.quantity,
                    });
                }
            }
        }
        Ok(Page {
            items,
            next: page
                .page_info
                .has_next_page
                .then_some(page.page_info.end_cursor)
                .flatten(),
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
        let mut quantities = Vec::with_capacity(writes.len());
        for w in writes {
            let location = w
                .location_id
                .clone()
                .or_else(|| default_location.clone())
                .ok_or_else(|| ConnectorError::Permanent("the shop has no location".into()))?;
            quantities.push(json!({
                "inventoryItemId": gid("InventoryItem", &w.external_item_id),
                "locationId": gid("Location", &location),
                "quantity": w.quantity,
                "changeFromQuantity": w.expected,
            }));
        }
        let data: SetData = call(
            session,
            "mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) { inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) { inventoryAdjustmentGroup { id } userErrors { field message code } } }",
            json!({
                "input": { "name": "available", "reason": "correction", "quantities": quantities },
                "idempotencyKey": idempotency_key,
            }),
        )
        .await?;
        let errors = data.inventory_set_quantities.user_errors;
        if errors.is_empty() {
            return Ok(vec![WriteResult::Written; writes.len()]);
        }
        // The mutation is all or nothing: name the writes that caused it, refuse the rest
        // of the batch so they are sent again.
        let culprit = |e: &UserError| e.field.iter().find_map(|f| f.parse::<usize>().ok());
        Ok((0..writes.len())
            .map(|i| match errors.iter().find(|e| culprit(e) == Some(i)) {
                Some(e) if e.code.as_deref() == Some("CHANGE_FROM_QUANTITY_STALE") => {
                    WriteResult::Stale { actual: None }
                }
                Some(e) => WriteResult::Refused(e.message.clone()),
                None => WriteResult::Stale { actual: None },
            })
            .collect())
    }

    async fn register_webhooks(
        &self,
        session: Session<'_>,
        callback_url: &str,
        _secret: &str,
    ) -> Result<Option<String>, ConnectorError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            webhook_subscription_create: SetPayload,
        }
        for topic in WEBHOOK_TOPICS {
            let created: Created = call(
                session,
                "mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $callbackUrl: URL!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: { callbackUrl: $callbackUrl, format: JSON }) { webhookSubscription { id topic } userErrors { field message } } }",
                json!({ "topic": topic, "callbackUrl": callback_url }),
            )
            .await?;
            // An address already subscribed to the topic is what we want.
            if let Some(e) = created
                .webhook_subscription_create
                .user_errors
                .iter()
                .find(|e| !e.message.contains("already been taken"))
            {
                return Err(ConnectorError::Permanent(format!("{topic}: {}", e.message)));
            }
        }
        // Shopify signs an app's deliveries with the app's client secret.
        Ok(None)
    }

    async fn order_changes(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Changes, ConnectorError> {
        // The cursor is the second to read from, and, when the last read stopped part way
        // (a page refused by the cost budget, or more pages than one read follows), the
        // page it stopped after: the next read goes on from there instead of reading that
        // second's first pages again, which under a tight budget would never get further.
        let (since, mut after) = match cursor.as_deref().and_then(|c| c.split_once(RESUME)) {
            Some((since, page)) => (since.to_owned(), Some(page.to_owned())),
            None => (
                cursor
                    .clone()
                    .unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
                None,
            ),
        };
        // Stamps are to the second, and many orders can share one: the pages of one query
        // are followed to its end before the time cursor moves, and the cursor's second is
        // read again (what was read before is applied once), so no order stamped in the
        // second of the last one read is skipped.
        let query = format!("updated_at:>='{since}'");
        let resume_at = |page: &Option<String>| match page {
            Some(page) => Some(format!("{since}{RESUME}{page}")),
            None => Some(since.clone()),
        };
        let mut latest = Some(since.clone());
        let mut events = Vec::new();
        for _ in 0..ORDERS_PAGES_PER_READ {
            let page: Result<OrdersData, ConnectorError> = call(
                session,
                "query Orders($first: Int!, $after: String, $query: String!) { orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { nodes { legacyResourceId name currencyCode displayFinancialStatus cancelledAt createdAt updatedAt totalPriceSet { shopMoney { amount currencyCode } } lineItems(first: 30) { nodes { id sku quantity originalUnitPriceSet { shopMoney { amount } } } } } pageInfo { hasNextPage endCursor } } }",
                json!({ "first": ORDERS_PAGE, "after": after, "query": query }),
            )
            .await;
            let data = match page {
                Ok(data) => data,
                // Refused part way (a rate limit): what was read counts, and the next read
                // goes on after the last page read.
                Err(_) if !events.is_empty() => {
                    return Ok(Changes {
                        events,
                        cursor: resume_at(&after),
                        more: true,
                    });
                }
                Err(e) => return Err(e),
            };
            for node in &data.orders.nodes {
                let body = serde_json::to_vec(&rest_shape(node))
                    .map_err(|e| ConnectorError::Permanent(e.to_string()))?;
                let headers = [("X-Shopify-Topic".to_owned(), "orders/updated".to_owned())];
                let delivery = Delivery {
                    body: &body,
                    headers: &headers,
                    url: None,
                };
                events.extend(
                    crate::parse(Platform::Shopify, &delivery)
                        .map_err(|e| ConnectorError::Permanent(e.to_string()))?,
                );
                if let Some(updated) = node.get("updatedAt").and_then(Value::as_str) {
                    latest = Some(updated.to_owned());
                }
            }
            match data.orders.page_info.end_cursor {
                Some(next) if data.orders.page_info.has_next_page => after = Some(next),
                _ => {
                    return Ok(Changes {
                        events,
                        cursor: latest,
                        more: false,
                    });
                }
            }
        }
        // More pages than one read follows: the next read goes on after the last one.
        Ok(Changes {
            events,
            cursor: resume_at(&after),
            more: true,
        })
    }
}

/// A GraphQL order in the shape of Shopify's order webhook, so one mapping serves both.
fn rest_shape(node: &Value) -> Value {
    let money = |v: &Value| {
        v.pointer("/shopMoney/amount")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let lines: Vec<Value> = node
        .pointer("/lineItems/nodes")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    json!({
                        "id": l.get("id").and_then(Value::as_str).map(numeric),
                        "sku": l.get("sku"),
                        "quantity": l.get("quantity"),
                        "price": l.get("originalUnitPriceSet").map(money),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": node.get("legacyResourceId"),
        "name": node.get("name"),
        "currency": node.get("currencyCode"),
        "total_price": node.get("totalPriceSet").map(money),
        "financial_status": node.get("displayFinancialStatus").and_then(Value::as_str).map(str::to_ascii_lowercase),
        "cancelled_at": node.get("cancelledAt"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "line_items": lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(requested: f64, available: f64, restore_rate: f64) -> Cost {
        Cost {
            requested_query_cost: Some(requested),
            throttle_status: Some(ThrottleStatus {
                currently_available: available,
                restore_rate,
            }),
        }
    }

    #[test]
    fn throttle_waits_until_the_bucket_holds_the_cost() {
        assert_eq!(
            throttle_wait(cost(150.0, 50.0, 50.0)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(throttle_wait(cost(10.0, 50.0, 50.0)), Some(Duration::ZERO));
        assert_eq!(throttle_wait(cost(150.0, 50.0, 0.0)), None);
    }

    #[test]
    fn throttle_figures_beyond_a_duration_give_no_wait_not_a_panic() {
        assert_eq!(throttle_wait(cost(1e300, 0.0, 1e-300)), None);
        assert_eq!(throttle_wait(cost(f64::INFINITY, 0.0, 1.0)), None);
        assert_eq!(
            throttle_wait(cost(f64::NAN, 0.0, 1.0)),
            Some(Duration::ZERO)
        );
    }
}
