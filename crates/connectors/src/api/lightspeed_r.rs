//! Lightspeed Retail R-Series (API V3): items with their per-shop stock (`ItemShops`),
//! absolute `qoh` writes per shop (one item per request), sales by `timeStamp` for polling
//! (R-Series sends no webhooks). Numbers arrive as strings and a single child comes back as
//! an object instead of a one-element list; both are handled here.

use async_trait::async_trait;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::{
    Changes, Connector, ConnectorError, Limits, Page, RemoteItem, RemoteLocation, RemoteStock,
    Session, StockWrite, WriteResult, http,
};
use crate::Platform;

/// Lightspeed R-Series' API.
pub struct LightspeedRApi;

/// A list that the API writes as an object when it has one element.
#[derive(Debug)]
struct OneOrMany<T>(Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            Many(Vec<T>),
            One(T),
        }
        Ok(match Shape::deserialize(deserializer)? {
            Shape::Many(items) => Self(items),
            Shape::One(item) => Self(vec![item]),
        })
    }
}

#[derive(Deserialize)]
struct Attributes {
    next: Option<String>,
}

#[derive(Deserialize)]
struct ItemList {
    #[serde(rename = "@attributes")]
    attributes: Option<Attributes>,
    #[serde(rename = "Item", default)]
    items: OneOrMany<Item>,
}

#[derive(Deserialize)]
struct ItemOne {
    #[serde(rename = "Item")]
    item: Item,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(rename = "itemID")]
    item_id: String,
    system_sku: Option<String>,
    custom_sku: Option<String>,
    upc: Option<String>,
    ean: Option<String>,
    description: Option<String>,
    #[serde(rename = "ItemShops")]
    item_shops: Option<ItemShops>,
}

#[derive(Deserialize)]
struct ItemShops {
    #[serde(rename = "ItemShop", default)]
    shops: OneOrMany<ItemShop>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemShop {
    #[serde(rename = "itemShopID")]
    item_shop_id: String,
    #[serde(rename = "shopID")]
    shop_id: String,
    qoh: String,
}

#[derive(Deserialize)]
struct ShopList {
    #[serde(rename = "Shop", default)]
    shops: OneOrMany<Shop>,
}

#[derive(Deserialize)]
struct Shop {
    #[serde(rename = "shopID")]
    shop_id: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct AccountAnswer {
    #[serde(rename = "Account")]
    account: OneOrMany<AccountRow>,
}

#[derive(Deserialize)]
struct AccountRow {
    #[serde(rename = "accountID")]
    account_id: String,
}

/// The account a fresh token belongs to (every R-Series path names it).
pub(super) async fn account_of(session: Session<'_>) -> Result<Option<String>, ConnectorError> {
    let request = session
        .http
        .get(session.url("/API/V3/Account.json"))
        .bearer_auth(session.token()?);
    let (answer, _): (AccountAnswer, _) = http::json(request).await?;
    Ok(answer.account.0.into_iter().next().map(|a| a.account_id))
}

fn account(session: Session<'_>) -> Result<&str, ConnectorError> {
    session
        .credentials
        .account_id
        .as_deref()
        .ok_or_else(|| ConnectorError::Auth("no account id: connect the account first".into()))
}

fn get(session: Session<'_>, resource: &str) -> Result<reqwest::RequestBuilder, ConnectorError> {
    let url = if resource.starts_with("http") {
        resource.to_owned()
    } else {
        session.url(&format!("/API/V3/Account/{}/{resource}", account(session)?))
    };
    Ok(session.http.get(url).bearer_auth(session.token()?))
}

async fn items_page(
    session: Session<'_>,
    cursor: Option<String>,
) -> Result<(Vec<Item>, Option<String>), ConnectorError> {
    let request = match cursor {
        // The API hands out the next page as a full URL; never build one by hand.
        Some(next) => get(session, &next)?,
        None => get(session, "Item.json")?
            .query(&[("load_relations", "[\"ItemShops\"]"), ("limit", "100")]),
    };
    let (list, _): (ItemList, _) = http::json(request).await?;
    let next = list
        .attributes
        .and_then(|a| a.next)
        .filter(|n| !n.is_empty());
    Ok((list.items.0, next))
}

#[async_trait]
impl Connector for LightspeedRApi {
    fn platform(&self) -> Platform {
        Platform::LightspeedR
    }

    fn limits(&self) -> Limits {
        // A leaky bucket of 90 units draining 1 per second; a write costs 10, a read 1.
        Limits {
            batch: 1,
            burst: 8.0,
            per_second: 0.1,
        }
    }

    async fn locations(&self, session: Session<'_>) -> Result<Vec<RemoteLocation>, ConnectorError> {
        let (list, _): (ShopList, _) = http::json(get(session, "Shop.json")?).await?;
        Ok(list
            .shops
            .0
            .into_iter()
            .map(|s| RemoteLocation {
                name: s.name.unwrap_or_else(|| s.shop_id.clone()),
                id: s.shop_id,
            })
            .collect())
    }

    async fn items(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteItem>, ConnectorError> {
        let (items, next) = items_page(session, cursor).await?;
        Ok(Page {
            items: items
                .into_iter()
                .map(|i| RemoteItem {
                    external_item_id: i.item_id,
                    external_parent_id: None,
                    sku: i.custom_sku.filter(|s| !s.is_empty()).or(i.system_sku),
                    barcode: i
                        .upc
                        .filter(|s| !s.is_empty())
                        .or(i.ean)
                        .filter(|s| !s.is_empty()),
                    title: i.description,
                })
                .collect(),
            next,
        })
    }

    async fn stock(
        &self,
        session: Session<'_>,
        location_id: Option<&str>,
        cursor: Option<String>,
    ) -> Result<Page<RemoteStock>, ConnectorError> {
        let (items, next) = items_page(session, cursor).await?;
        let mut stock = Vec::new();
        for item in items {
            for shop in item.item_shops.map(|s| s.shops.0).unwrap_or_default() {
                // shopID 0 is the all-shops total.
                if shop.shop_id == "0" || location_id.is_some_and(|l| l != shop.shop_id) {
                    continue;
                }
                if let Ok(quantity) = shop.qoh.trim().parse() {
                    stock.push(RemoteStock {
                        external_item_id: item.item_id.clone(),
                        location_id: Some(shop.shop_id),
                        quantity,
                    });
                }
            }
        }
        Ok(Page { items: stock, next })
    }

    async fn write_stock(
        &self,
        session: Session<'_>,
        writes: &[StockWrite],
        _idempotency_key: &str,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let mut results = Vec::with_capacity(writes.len());
        for w in writes {
            let path = format!("Item/{}.json", w.external_item_id);
            let (found, _): (ItemOne, _) =
                http::json(get(session, &path)?.query(&[("load_relations", "[\"ItemShops\"]")]))
                    .await?;
            let shops = found.item.item_shops.map(|s| s.shops.0).unwrap_or_default();
            let Some(shop) = shops.iter().find(|s| match &w.location_id {
                Some(l) => &s.shop_id == l,
                None => s.shop_id != "0",
            }) else {
                results.push(WriteResult::Refused(
                    "the item is not stocked at that shop".into(),
                ));
                continue;
            };
            let url = session.url(&format!("/API/V3/Account/{}/{path}", account(session)?));
            let body = json!({ "ItemShops": { "ItemShop": [{ "itemShopID": shop.item_shop_id, "qoh": w.quantity.to_string() }] } });
            http::send(
                session
                    .http
                    .put(url)
                    .bearer_auth(session.token()?)
                    .json(&body),
            )
            .await?;
            results.push(WriteResult::Written);
        }
        Ok(results)
    }

    async fn order_changes(
        &self,
        session: Session<'_>,
        cursor: Option<String>,
    ) -> Result<Changes, ConnectorError> {
        let since = cursor
            .clone()
            .unwrap_or_else(|| "1970-01-01T00:00:00+00:00".into());
        let request = get(session, "Sale.json")?.query(&[
            // Stamps are to the second: a sale stamped in the second of the last one seen may
            // have been made after that read. Read that second again (what was read before is
            // applied once: the ledger keys each sale), so none is skipped.
            ("timeStamp", format!(">=,{since}").as_str()),
            ("sort", "timeStamp"),
            ("completed", "true"),
            ("load_relations", "[\"SaleLines\",\"SaleLines.Item\"]"),
            ("limit", "100"),
        ]);
        let (list, _): (Value, _) = http::json(request).await?;
        let sales: Vec<Value> = match list.get("Sale") {
            Some(Value::Array(items)) => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => Vec::new(),
        };
        let mut latest = cursor;
        let mut events = Vec::new();
        for sale in &sales {
            events.push(sale_event(sale));
            if let Some(at) = sale.get("timeStamp").and_then(Value::as_str) {
                latest = Some(at.to_owned());
            }
        }
        let more = list
            .pointer("/@attributes/next")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        Ok(Changes {
            events,
            cursor: latest,
            more,
        })
    }
}

/// A completed sale as an order: numbers are strings; amounts are in the account's
/// currency, which the sale does not name (left unknown, never guessed).
fn sale_event(sale: &Value) -> crate::Normalized {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let mut event = crate::Normalized::new(crate::Kind::Order);
    event.topic = Some("Sale".into());
    event.external_order_id = text(sale.get("saleID"));
    event.event_id = event
        .external_order_id
        .as_ref()
        .zip(text(sale.get("timeStamp")))
        .map(|(id, at)| format!("sale:{id}:{at}"));
    event.occurred_at = text(sale.get("timeStamp"));
    event.status = Some(
        if sale.get("voided").and_then(Value::as_str) == Some("true") {
            "voided".into()
        } else {
            "completed".into()
        },
    );
    event.location_id = text(sale.get("shopID"));
    let lines = match sale.pointer("/SaleLines/SaleLine") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    event.lines = lines
        .iter()
        .filter_map(|l| {
            Some(crate::Line {
                line_id: text(l.get("saleLineID")),
                sku: text(l.pointer("/Item/customSku"))
                    .filter(|s| !s.is_empty())
                    .or_else(|| text(l.pointer("/Item/systemSku"))),
                external_item_id: text(l.get("itemID")),
                quantity: text(l.get("unitQuantity"))?.parse().ok()?,
                unit_price_minor: None,
            })
        })
        .collect();
    event
}
