//! Lightspeed R-Series resources: Account, Shop, Item (with ItemShops and Prices),
//! ItemShop, Sale (with SaleLines and SalePayments) and `PUT Item/{id}.json` for stock.
//!
//! Query parameters use Lightspeed's operator syntax, `field=op,value` (`timeStamp=>,2024-…`,
//! `itemID=IN,[1,2]`, `description=~,%film%`); `sort` names a field (`-field` descends);
//! `limit` is at most 100 and further pages come from the `@attributes.next` URL.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{LightspeedR, SaleRef, error, time};
use crate::{
    core::{Cause, Change, Core, Order, ProductEdit, Time},
    http,
    money::{self, decimal},
    paging::{self, Key},
    server::Inner,
};

/// The largest page.
const MAX_LIMIT: usize = 100;

mod sales;

use sales::*;

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/V3/Account.json", web::get().to(account))
        .route("/V3/Account/{account}/Shop.json", web::get().to(shops))
        .route("/V3/Account/{account}/Item.json", web::get().to(items))
        .route("/V3/Account/{account}/Item/{id}.json", web::get().to(item))
        .route(
            "/V3/Account/{account}/Item/{id}.json",
            web::put().to(update_item),
        )
        .route(
            "/V3/Account/{account}/ItemShop.json",
            web::get().to(item_shops),
        )
        .route("/V3/Account/{account}/Sale.json", web::get().to(sales))
        .route("/V3/Account/{account}/Sale/{id}.json", web::get().to(sale));
}

/// `items` as Lightspeed writes a relation: one child is an object, several an array.
fn one_or_many(items: Vec<Value>) -> Value {
    match <[Value; 1]>::try_from(items) {
        Ok([one]) => one,
        Err(items) => Value::Array(items),
    }
}

/// The `itemShopID` of `product` at shop `shop` (0: all shops).
fn item_shop_id(product: u64, shop: u64) -> u64 {
    product * 1000 + shop
}

fn item_shops_of(core: &Core, product: u64) -> Vec<Value> {
    let Some(p) = core.product(product) else {
        return Vec::new();
    };
    let mut shops: Vec<Value> = core
        .locations
        .iter()
        .zip(&p.levels)
        .map(|(l, level)| item_shop(p.id, l.id, level.quantity, level.updated_at))
        .collect();
    shops.push(item_shop(p.id, 0, p.total_stock(), p.last_modified()));
    shops
}

fn item_shop(product: u64, shop: u64, qoh: i64, at: Time) -> Value {
    json!({
        "itemShopID": item_shop_id(product, shop).to_string(),
        "qoh": qoh.to_string(),
        "sellable": qoh.max(0).to_string(),
        "backorder": "0",
        "componentQoh": "0",
        "componentBackorder": "0",
        "reorderPoint": "0",
        "reorderLevel": "0",
        "timeStamp": time(at),
        "itemID": product.to_string(),
        "shopID": shop.to_string(),
    })
}

fn item_json(core: &Core, product: u64, relations: &Relations) -> Value {
    let Some(p) = core.product(product) else {
        return Value::Null;
    };
    let price = decimal(p.price_minor, &p.currency);
    let (upc, ean) = if p.barcode.len() == 13 {
        (String::new(), p.barcode.clone())
    } else {
        (p.barcode.clone(), String::new())
    };
    let mut item = json!({
        "itemID": p.id.to_string(),
        "systemSku": format!("21{:010}", p.id),
        "defaultCost": "0",
        "avgCost": "0",
        "discountable": "true",
        "tax": "true",
        "archived": "false",
        "itemType": "default",
        "serialized": "false",
        "description": p.title,
        "modelYear": "0",
        "upc": upc,
        "ean": ean,
        "customSku": p.sku,
        "manufacturerSku": "",
        "createTime": time(p.created_at),
        "timeStamp": time(p.last_modified()),
        "publishToEcom": "false",
        "categoryID": "0",
        "taxClassID": "1",
        "departmentID": "0",
        "itemMatrixID": "0",
        "manufacturerID": "0",
        "seasonID": "0",
        "defaultVendorID": "0",
        "Prices": {"ItemPrice": [
            {"amount": price, "useTypeID": "1", "useType": "Default"},
            {"amount": price, "useTypeID": "2", "useType": "MSRP"},
        ]},
    });
    if relations.has("ItemShops")
        && let Some(map) = item.as_object_mut()
    {
        map.insert(
            "ItemShops".into(),
            json!({"ItemShop": one_or_many(item_shops_of(core, p.id))}),
        );
    }
    item
}

/// The relations a request asked to load (`load_relations=["ItemShops"]` or `all`).
struct Relations(Vec<String>);

impl Relations {
    fn from(query: &[(String, String)]) -> Self {
        let Some(raw) = http::query_value(query, "load_relations") else {
            return Self(Vec::new());
        };
        if raw.trim() == "all" {
            return Self(vec!["all".into()]);
        }
        let list = serde_json::from_str::<Vec<String>>(&raw).unwrap_or_else(|_| {
            raw.trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        });
        Self(list)
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|r| r == name || r == "all")
    }
}

/// One `field=op,value` condition.
#[derive(Debug, Clone)]
struct Condition {
    field: String,
    op: String,
    values: Vec<String>,
}

const RESERVED: [&str; 8] = [
    "limit",
    "after",
    "before",
    "sort",
    "load_relations",
    "count",
    "offset",
    "archived",
];

fn conditions(query: &[(String, String)]) -> Vec<Condition> {
    query
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .map(|(field, raw)| {
            let (op, rest) = match raw.split_once(',') {
                Some((op, rest))
                    if ["=", "!=", ">", ">=", "<", "<=", "~", "!~", "><", "IN"].contains(&op) =>
                {
                    (op.to_owned(), rest.to_owned())
                }
                _ => ("=".to_owned(), raw.clone()),
            };
            let values = match op.as_str() {
                "IN" => rest
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_owned())
                    .collect(),
                "><" => rest.split(',').map(str::to_owned).collect(),
                _ => vec![rest],
            };
            Condition {
                field: field.clone(),
                op,
                values,
            }
        })
        .collect()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// Whether `record` (a rendered resource) meets `condition`; fields the record lacks
/// are ignored, as unknown filters are.
fn meets(record: &Value, condition: &Condition) -> bool {
    let Some(actual) = record.get(&condition.field).and_then(Value::as_str) else {
        return true;
    };
    let first = condition
        .values
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let compare = |wanted: &str| -> Option<std::cmp::Ordering> {
        if let (Some(a), Some(b)) = (parse_time(actual), parse_time(wanted)) {
            return Some(a.cmp(&b));
        }
        if let (Ok(a), Ok(b)) = (actual.parse::<f64>(), wanted.parse::<f64>()) {
            return a.partial_cmp(&b);
        }
        Some(actual.cmp(wanted))
    };
    let like = |pattern: &str| {
        let lower = actual.to_lowercase();
        let parts: Vec<String> = pattern
            .to_lowercase()
            .split('%')
            .map(str::to_owned)
            .collect();
        let mut at = 0;
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            match lower[at..].find(part.as_str()) {
                Some(found) if i > 0 || found == 0 => at += found + part.len(),
                _ => return false,
            }
        }
        parts
            .last()
            .is_none_or(|l| l.is_empty() || lower.ends_with(l.as_str()))
    };
    use std::cmp::Ordering::*;
    match condition.op.as_str() {
        "=" => compare(first) == Some(Equal),
        "!=" => compare(first) != Some(Equal),
        ">" => compare(first) == Some(Greater),
        ">=" => matches!(compare(first), Some(Greater | Equal)),
        "<" => compare(first) == Some(Less),
        "<=" => matches!(compare(first), Some(Less | Equal)),
        "~" => like(first),
        "!~" => !like(first),
        "><" => {
            let high = condition
                .values
                .get(1)
                .map(String::as_str)
                .unwrap_or_default();
            matches!(compare(first), Some(Greater | Equal))
                && matches!(compare(high), Some(Less | Equal))
        }
        "IN" => condition.values.iter().any(|v| compare(v) == Some(Equal)),
        _ => true,
    }
}

fn account_matches(ls: &LightspeedR, account: &str) -> Result<(), http::Refusal> {
    if account.trim() == ls.account_id.to_string() {
        Ok(())
    } else {
        Err(Box::new(error(
            403,
            "You do not have access to this account.",
            "ForbiddenException",
        )))
    }
}

/// The relations a request asks to load, once its account is checked.
fn related(ls: &LightspeedR, req: &HttpRequest, account: &str) -> Result<Relations, http::Refusal> {
    account_matches(ls, account)?;
    Ok(Relations::from(&http::query_pairs(req)))
}

/// One record of `kind` (`Item`, `Sale`) as `GET …/{kind}/{id}.json` answers it, or the 404
/// for `id`.
fn single(kind: &str, id: &str, record: Option<Value>) -> HttpResponse {
    match record {
        Some(value) => HttpResponse::Ok().json(json!({"@attributes": {"count": "1"}, kind: value})),
        None => error(404, &format!("{kind} {id} not found."), "NotFoundException"),
    }
}

/// A page of `records` (each with its `id` and rendered value) as Lightspeed lists them.
fn listing(
    ls: &LightspeedR,
    req: &HttpRequest,
    resource: &str,
    id_field: &str,
    records: Vec<(u64, Value)>,
) -> HttpResponse {
    let query = http::query_pairs(req);
    let limit = match http::query_value(&query, "limit") {
        None => MAX_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return error(
                    400,
                    "limit must be between 1 and 100.",
                    "ValidationException",
                );
            }
        },
    };
    let conditions = conditions(&query);
    let sort = http::query_value(&query, "sort").unwrap_or_else(|| id_field.to_owned());
    let (sort_field, descending) = match sort.strip_prefix('-') {
        Some(field) => (field.to_owned(), true),
        None => (sort, false),
    };
    let kind = format!("{resource}:{sort_field}:{descending}");
    let cursor = |name: &str| -> Result<Option<Key>, String> {
        match http::query_value(&query, name) {
            None => Ok(None),
            Some(c) => paging::decode(&kind, &c)
                .map(Some)
                .ok_or_else(|| format!("Invalid {name} cursor.")),
        }
    };
    let (after, before) = match (cursor("after"), cursor("before")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return error(400, &e, "ValidationException"),
    };
    let keyed: Vec<(Key, Value)> = records
        .into_iter()
        .filter(|(_, v)| conditions.iter().all(|c| meets(v, c)))
        .map(|(id, v)| {
            let sort_value = v.get(&sort_field).and_then(Value::as_str).map_or(0, |s| {
                parse_time(s)
                    .map(|t| t.timestamp_millis())
                    .or_else(|| s.parse::<i64>().ok())
                    .unwrap_or(0)
            });
            let key = if sort_field == id_field {
                (0, id)
            } else {
                (sort_value, id)
            };
            (key, v)
        })
        .collect();
    let count = keyed.len();
    let order = if descending {
        paging::Order::Descending
    } else {
        paging::Order::Ascending
    };
    let page = paging::window(keyed, order, after, before, limit);
    let link = |name: &str, key: Option<Key>| -> String {
        let Some(key) = key else {
            return String::new();
        };
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &query {
            if k != "after" && k != "before" {
                serializer.append_pair(k, v);
            }
        }
        serializer.append_pair(name, &paging::encode(&kind, key));
        format!("{}{}?{}", ls.base_url, req.path(), serializer.finish())
    };
    let next = if page.has_next {
        link("after", page.end())
    } else {
        String::new()
    };
    let previous = if page.has_previous {
        link("before", page.start())
    } else {
        String::new()
    };
    let mut answer = Map::new();
    answer.insert(
        "@attributes".into(),
        json!({"next": next, "previous": previous, "count": count.to_string()}),
    );
    let items: Vec<Value> = page.items.into_iter().map(|(_, v)| v).collect();
    if !items.is_empty() {
        answer.insert(resource.into(), one_or_many(items));
    }
    HttpResponse::Ok().json(Value::Object(answer))
}

async fn account(ls: web::Data<LightspeedR>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "@attributes": {"count": "1"},
        "Account": {
            "accountID": ls.account_id.to_string(),
            "name": "Concord Simulator",
            "link": {"@attributes": {"href": format!("/API/V3/Account/{}", ls.account_id)}},
        }
    }))
}

async fn shops(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(e) = account_matches(&ls, &path) {
        return *e;
    }
    let records = {
        let core = inner.core();
        core.locations
            .iter()
            .map(|l| {
                (
                    l.id,
                    json!({
                        "shopID": l.id.to_string(),
                        "name": l.name,
                        "serviceRate": "0",
                        "timeZone": "UTC",
                        "taxLabel1": "Tax",
                        "taxLabel2": "",
                        "labelTitle": "Shop Name",
                        "archived": "false",
                        "timeStamp": time(l.created_at),
                        "priceLevelID": "1",
                    }),
                )
            })
            .collect()
    };
    listing(&ls, &req, "Shop", "shopID", records)
}

async fn items(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let relations = match related(&ls, &req, &path) {
        Ok(relations) => relations,
        Err(e) => return *e,
    };
    let records = {
        let core = inner.core();
        core.products
            .iter()
            .map(|p| (p.id, item_json(&core, p.id, &relations)))
            .collect()
    };
    listing(&ls, &req, "Item", "itemID", records)
}

async fn item(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, id) = path.into_inner();
    let relations = match related(&ls, &req, &account) {
        Ok(relations) => relations,
        Err(e) => return *e,
    };
    let core = inner.core();
    let found = id
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| core.product(*n).is_some())
        .map(|n| item_json(&core, n, &relations));
    single("Item", &id, found)
}

fn text_or_number(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `ItemShop` entries of a PUT body (one object or a list).
fn shop_entries(body: &Map<String, Value>) -> Vec<Map<String, Value>> {
    match body.get("ItemShops").and_then(|s| s.get("ItemShop")) {
        Some(Value::Array(list)) => list.iter().filter_map(|v| v.as_object().cloned()).collect(),
        Some(Value::Object(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

async fn update_item(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (account, id) = path.into_inner();
    if let Err(e) = account_matches(&ls, &account) {
        return *e;
    }
    let Some(product) = id.trim().parse::<u64>().ok() else {
        return error(404, &format!("Item {id} not found."), "NotFoundException");
    };
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => {
            return error(
                400,
                "The request body is not a JSON object.",
                "ValidationException",
            );
        }
    };
    let entries = shop_entries(&body);
    let now = Utc::now();
    let result = inner.mutate(|core| {
        let Some(p) = core.product(product) else {
            return Err(Box::new(error(
                404,
                &format!("Item {id} not found."),
                "NotFoundException",
            )));
        };
        let currency = p.currency.clone();
        // Validate every entry before changing anything.
        let mut targets = Vec::new();
        for entry in &entries {
            let shop = match (
                text_or_number(entry.get("itemShopID")).and_then(|s| s.parse::<u64>().ok()),
                text_or_number(entry.get("shopID")).and_then(|s| s.parse::<u64>().ok()),
            ) {
                (Some(item_shop), _) if item_shop / 1000 == product => item_shop % 1000,
                (Some(item_shop), _) => {
                    return Err(Box::new(error(
                        400,
                        &format!("ItemShop {item_shop} does not belong to Item {product}."),
                        "ValidationException",
                    )));
                }
                (None, Some(shop)) => shop,
                (None, None) => {
                    return Err(Box::new(error(
                        400,
                        "Each ItemShop needs an itemShopID or a shopID.",
                        "ValidationException",
                    )));
                }
            };
            if shop == 0 {
                return Err(Box::new(error(
                    400,
                    "The all-shops ItemShop (shopID 0) is calculated and cannot be set.",
                    "ValidationException",
                )));
            }
            let Some(location) = core.locations.iter().position(|l| l.id == shop) else {
                return Err(Box::new(error(
                    400,
                    &format!("Shop {shop} does not exist."),
                    "ValidationException",
                )));
            };
            let Some(qoh) = text_or_number(entry.get("qoh")) else {
                continue;
            };
            let Ok(qoh) = qoh.parse::<f64>().map(|q| q as i64) else {
                return Err(Box::new(error(
                    400,
                    "qoh must be a number.",
                    "ValidationException",
                )));
            };
            targets.push((location, qoh));
        }
        let price = body
            .get("Prices")
            .and_then(|p| p.get("ItemPrice"))
            .and_then(|p| match p {
                Value::Array(list) => list.iter().find(|x| x["useType"] == "Default").cloned(),
                other => Some(other.clone()),
            })
            .and_then(|p| text_or_number(p.get("amount")))
            .and_then(|a| money::parse_decimal(&a, &currency));
        let barcode = text_or_number(body.get("upc"))
            .filter(|s| !s.is_empty())
            .or_else(|| text_or_number(body.get("ean")).filter(|s| !s.is_empty()));
        let edit = ProductEdit {
            title: text_or_number(body.get("description")),
            price_minor: price,
            barcode,
            sku: text_or_number(body.get("customSku")),
        };
        let mut changes: Vec<Change> = core
            .update_product(product, &edit, now)
            .map_err(|e| Box::new(error(400, &e.to_string(), "ValidationException")))?;
        for (location, qoh) in &targets {
            if let Ok(Some(change)) = core.set_stock(product, *location, *qoh, Cause::Api, now) {
                changes.push(change);
            }
        }
        let relations = Relations(vec!["ItemShops".into()]);
        Ok::<_, http::Refusal>((item_json(core, product, &relations), changes))
    });
    match result {
        Ok(item) => {
            inner.count_write(entries.len().max(1));
            HttpResponse::Ok().json(json!({"Item": item}))
        }
        Err(refusal) => *refusal,
    }
}

async fn item_shops(
    inner: web::Data<Inner>,
    ls: web::Data<LightspeedR>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(e) = account_matches(&ls, &path) {
        return *e;
    }
    let records = {
        let core = inner.core();
        core.products
            .iter()
            .flat_map(|p| {
                item_shops_of(&core, p.id).into_iter().map(|v| {
                    let id = v["itemShopID"]
                        .as_str()
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(0);
                    (id, v)
                })
            })
            .collect()
    };
    listing(&ls, &req, "ItemShop", "itemShopID", records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_syntax() {
        let query = vec![
            (
                "timeStamp".to_owned(),
                ">,2024-01-01T00:00:00+00:00".to_owned(),
            ),
            ("itemID".to_owned(), "IN,[1,3]".to_owned()),
            ("description".to_owned(), "~,%film%".to_owned()),
            ("limit".to_owned(), "10".to_owned()),
        ];
        let conditions = conditions(&query);
        assert_eq!(conditions.len(), 3);
        let record = json!({"timeStamp": "2024-02-01T00:00:00+00:00", "itemID": "3", "description": "A Film"});
        assert!(conditions.iter().all(|c| meets(&record, c)));
        let other =
            json!({"timeStamp": "2023-02-01T00:00:00+00:00", "itemID": "2", "description": "Book"});
        assert!(conditions.iter().all(|c| !meets(&other, c)));
        assert_eq!(one_or_many(vec![json!(1)]), json!(1));
        assert_eq!(one_or_many(vec![json!(1), json!(2)]), json!([1, 2]));
    }
}
