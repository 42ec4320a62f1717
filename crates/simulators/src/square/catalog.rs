//! Square locations, catalog (items and their variations) and inventory: counts and
//! `BatchChangeInventory` with idempotency keys, at most 100 changes, and changes applied
//! by `occurred_at`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{
    Invalid, Square, invalid, item_id, location_id, location_index, money, parse_sq_id, time,
    variation_id,
};
use crate::{
    core::{Cause, Core, Product, Time},
    http,
    paging::{self, Key},
    server::{Inner, lock},
};

/// ListCatalog's page size.
const LIST_PAGE: usize = 100;
/// The most changes in one batch.
const MAX_CHANGES: usize = 100;

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/locations", web::get().to(locations))
        .route("/locations/{id}", web::get().to(location))
        .route("/catalog/list", web::get().to(list))
        .route("/catalog/search", web::post().to(search))
        .route("/catalog/object/{id}", web::get().to(object))
        .route("/catalog/batch-retrieve", web::post().to(batch_retrieve))
        .route("/inventory/counts/batch-retrieve", web::post().to(counts))
        .route("/inventory/batch-retrieve-counts", web::post().to(counts))
        .route(
            "/inventory/changes/batch-create",
            web::post().to(batch_change),
        )
        .route("/inventory/batch-change", web::post().to(batch_change))
        .route("/inventory/{id}", web::get().to(object_counts));
}

fn location_json(core: &Core, square: &Square, index: usize) -> Value {
    let l = &core.locations[index];
    json!({
        "id": location_id(core, index),
        "name": l.name,
        "business_name": "Concord Simulator",
        "merchant_id": square.merchant_id,
        "status": "ACTIVE",
        "type": "PHYSICAL",
        "country": "US",
        "currency": square.currency,
        "language_code": "en-US",
        "timezone": "UTC",
        "capabilities": ["CREDIT_CARD_PROCESSING"],
        "created_at": time(l.created_at),
    })
}

async fn locations(inner: web::Data<Inner>, square: web::Data<Square>) -> HttpResponse {
    let core = inner.core();
    let list: Vec<Value> = (0..core.locations.len())
        .map(|i| location_json(&core, &square, i))
        .collect();
    HttpResponse::Ok().json(json!({"locations": list}))
}

async fn location(
    inner: web::Data<Inner>,
    square: web::Data<Square>,
    id: web::Path<String>,
) -> HttpResponse {
    let core = inner.core();
    match location_index(&core, &id) {
        Some(i) => HttpResponse::Ok().json(json!({"location": location_json(&core, &square, i)})),
        None => super::not_found("Location not found."),
    }
}

fn version(p: &Product) -> i64 {
    p.updated_at.timestamp_millis()
}

/// A catalog ITEM_VARIATION object.
pub(super) fn variation(p: &Product) -> Value {
    let mut data = json!({
        "item_id": item_id(p.id),
        "name": "Regular",
        "sku": p.sku,
        "ordinal": 0,
        "pricing_type": "FIXED_PRICING",
        "price_money": money(p.price_minor, &p.currency),
        "track_inventory": true,
        "sellable": true,
        "stockable": true,
    });
    if !p.barcode.is_empty()
        && let Some(map) = data.as_object_mut()
    {
        map.insert("upc".into(), json!(p.barcode));
    }
    json!({
        "type": "ITEM_VARIATION",
        "id": variation_id(p.id),
        "updated_at": time(p.updated_at),
        "created_at": time(p.created_at),
        "version": version(p),
        "is_deleted": false,
        "present_at_all_locations": true,
        "item_variation_data": data,
    })
}

/// A catalog ITEM object with its variation.
pub(super) fn item(p: &Product) -> Value {
    json!({
        "type": "ITEM",
        "id": item_id(p.id),
        "updated_at": time(p.updated_at),
        "created_at": time(p.created_at),
        "version": version(p),
        "is_deleted": false,
        "present_at_all_locations": true,
        "item_data": {
            "name": p.title,
            "product_type": "REGULAR",
            "is_archived": false,
            "variations": [variation(p)],
        },
    })
}

/// Catalog objects of `types` (ITEM, ITEM_VARIATION) as keyed entries.
fn objects(
    core: &Core,
    types: &[String],
    keep: impl Fn(&Product, bool) -> bool,
) -> Vec<(Key, Value)> {
    let wants = |t: &str| types.is_empty() || types.iter().any(|w| w.eq_ignore_ascii_case(t));
    let mut out = Vec::new();
    for p in &core.products {
        if wants("ITEM") && keep(p, false) {
            out.push(((0, p.id * 2), item(p)));
        }
        if wants("ITEM_VARIATION") && keep(p, true) {
            out.push(((0, p.id * 2 + 1), variation(p)));
        }
    }
    out
}

fn bad_cursor() -> HttpResponse {
    invalid(
        "INVALID_CURSOR",
        "The cursor is invalid or does not belong to this query.",
        Some("cursor"),
    )
}

async fn list(inner: web::Data<Inner>, req: HttpRequest) -> HttpResponse {
    let query = http::query_pairs(&req);
    let types: Vec<String> = http::query_value(&query, "types")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let after = match http::query_value(&query, "cursor") {
        Some(c) => match paging::decode("catalog", &c) {
            Some(k) => Some(k),
            None => return bad_cursor(),
        },
        None => None,
    };
    let core = inner.core();
    let entries = objects(&core, &types, |_, _| true);
    let page = paging::window(entries, paging::Order::Ascending, after, None, LIST_PAGE);
    let mut answer = Map::new();
    if page.has_next
        && let Some(end) = page.end()
    {
        answer.insert("cursor".into(), json!(paging::encode("catalog", end)));
    }
    answer.insert(
        "objects".into(),
        Value::Array(page.items.into_iter().map(|(_, v)| v).collect()),
    );
    HttpResponse::Ok().json(Value::Object(answer))
}

fn parse_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    value
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn attribute(p: &Product, variation: bool, name: &str) -> Option<String> {
    match (name, variation) {
        ("sku", true) => Some(p.sku.clone()),
        ("upc", true) => Some(p.barcode.clone()),
        ("name", true) => Some("Regular".into()),
        ("name", false) | ("description", false) => Some(p.title.clone()),
        _ => None,
    }
}

fn matches_query(p: &Product, variation: bool, query: Option<&Map<String, Value>>) -> bool {
    let Some(query) = query else {
        return true;
    };
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(exact) = query.get("exact_query") {
        let value = attribute(p, variation, &text(exact, "attribute_name"));
        if value.as_deref() != Some(text(exact, "attribute_value").as_str()) {
            return false;
        }
    }
    if let Some(prefix) = query.get("prefix_query") {
        let value = attribute(p, variation, &text(prefix, "attribute_name")).unwrap_or_default();
        if !value
            .to_lowercase()
            .starts_with(&text(prefix, "attribute_prefix").to_lowercase())
        {
            return false;
        }
    }
    if let Some(set) = query.get("set_query") {
        let value = attribute(p, variation, &text(set, "attribute_name"));
        let values = set.get("attribute_values").and_then(Value::as_array);
        if !values.is_some_and(|vs| vs.iter().any(|v| v.as_str() == value.as_deref())) {
            return false;
        }
    }
    if let Some(keywords) = query
        .get("text_query")
        .and_then(|t| t.get("keywords"))
        .and_then(Value::as_array)
    {
        let haystack = format!("{} {}", p.title, p.sku).to_lowercase();
        if !keywords
            .iter()
            .filter_map(Value::as_str)
            .all(|k| haystack.contains(&k.to_lowercase()))
        {
            return false;
        }
    }
    true
}

async fn search(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let body = match super::body_json(&body) {
        Ok(b) => b,
        Err(e) => return e.response(),
    };
    let types: Vec<String> = body
        .get("object_types")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let limit = body
        .get("limit")
        .and_then(Value::as_i64)
        .filter(|l| (1..=1000).contains(l))
        .map_or(100, |l| l as usize);
    let begin = parse_time(body.get("begin_time"));
    let related = body
        .get("include_related_objects")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let after = match body.get("cursor").and_then(Value::as_str) {
        Some(c) => match paging::decode("search", c) {
            Some(k) => Some(k),
            None => return bad_cursor(),
        },
        None => None,
    };
    let query = body.get("query").and_then(Value::as_object);
    let core = inner.core();
    let entries = objects(&core, &types, |p, variation| {
        begin.is_none_or(|b| p.updated_at >= b) && matches_query(p, variation, query)
    });
    let page = paging::window(entries, paging::Order::Ascending, after, None, limit);
    let mut answer = Map::new();
    if page.has_next
        && let Some(end) = page.end()
    {
        answer.insert("cursor".into(), json!(paging::encode("search", end)));
    }
    let objects: Vec<Value> = page.items.into_iter().map(|(_, v)| v).collect();
    if related {
        let mut items: Vec<Value> = Vec::new();
        for o in &objects {
            if o["type"] == "ITEM_VARIATION"
                && let Some(p) = o["item_variation_data"]["item_id"]
                    .as_str()
                    .and_then(|id| parse_sq_id('I', id))
                    .and_then(|n| core.product(n))
            {
                let it = item(p);
                if !items.contains(&it) {
                    items.push(it);
                }
            }
        }
        answer.insert("related_objects".into(), Value::Array(items));
    }
    answer.insert("objects".into(), Value::Array(objects));
    answer.insert(
        "latest_time".into(),
        json!(time(
            core.products
                .iter()
                .map(|p| p.updated_at)
                .max()
                .unwrap_or_else(Utc::now)
        )),
    );
    HttpResponse::Ok().json(Value::Object(answer))
}

fn find_object(core: &Core, id: &str) -> Option<Value> {
    if let Some(p) = parse_sq_id('V', id).and_then(|n| core.product(n)) {
        return Some(variation(p));
    }
    parse_sq_id('I', id).and_then(|n| core.product(n)).map(item)
}

async fn object(inner: web::Data<Inner>, id: web::Path<String>) -> HttpResponse {
    let core = inner.core();
    match find_object(&core, &id) {
        Some(o) => HttpResponse::Ok().json(json!({"object": o})),
        None => super::not_found("Object not found."),
    }
}

async fn batch_retrieve(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let ids = match super::batch_ids(&body, "object_ids") {
        Ok(ids) => ids,
        Err(response) => return *response,
    };
    let core = inner.core();
    let objects: Vec<Value> = ids.iter().filter_map(|id| find_object(&core, id)).collect();
    HttpResponse::Ok().json(json!({"objects": objects}))
}

/// An InventoryCount.
pub(super) fn count(core: &Core, product: u64, location: usize, quantity: i64, at: Time) -> Value {
    json!({
        "catalog_object_id": variation_id(product),
        "catalog_object_type": "ITEM_VARIATION",
        "state": "IN_STOCK",
        "location_id": location_id(core, location),
        "quantity": quantity.to_string(),
        "calculated_at": time(at),
    })
}

fn string_list(body: &Map<String, Value>, name: &str) -> Option<Vec<String>> {
    body.get(name).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

async fn counts(inner: web::Data<Inner>, body: web::Bytes) -> HttpResponse {
    let body = match super::body_json(&body) {
        Ok(b) => b,
        Err(e) => return e.response(),
    };
    let objects = string_list(&body, "catalog_object_ids");
    let locations = string_list(&body, "location_ids");
    let states = string_list(&body, "states");
    let updated_after = parse_time(body.get("updated_after"));
    let limit = match body.get("limit").and_then(Value::as_i64) {
        None => 100,
        Some(l) if (1..=1000).contains(&l) => l as usize,
        Some(_) => {
            return invalid(
                "VALUE_TOO_HIGH",
                "limit must be between 1 and 1000.",
                Some("limit"),
            );
        }
    };
    let after = match body.get("cursor").and_then(Value::as_str) {
        Some(c) => match paging::decode("counts", c) {
            Some(k) => Some(k),
            None => return bad_cursor(),
        },
        None => None,
    };
    if states
        .as_ref()
        .is_some_and(|s| !s.iter().any(|x| x == "IN_STOCK"))
    {
        return HttpResponse::Ok().json(json!({"counts": []}));
    }
    let core = inner.core();
    let mut entries = Vec::new();
    for p in &core.products {
        if objects
            .as_ref()
            .is_some_and(|ids| !ids.contains(&variation_id(p.id)))
        {
            continue;
        }
        for (i, level) in p.levels.iter().enumerate() {
            if locations
                .as_ref()
                .is_some_and(|ids| !ids.contains(&location_id(&core, i)))
            {
                continue;
            }
            if updated_after.is_some_and(|t| level.updated_at <= t) {
                continue;
            }
            entries.push((
                (p.id as i64, i as u64),
                count(&core, p.id, i, level.quantity, level.updated_at),
            ));
        }
    }
    let page = paging::window(entries, paging::Order::Ascending, after, None, limit);
    let mut answer = Map::new();
    if page.has_next
        && let Some(end) = page.end()
    {
        answer.insert("cursor".into(), json!(paging::encode("counts", end)));
    }
    answer.insert(
        "counts".into(),
        Value::Array(page.items.into_iter().map(|(_, v)| v).collect()),
    );
    HttpResponse::Ok().json(Value::Object(answer))
}

async fn object_counts(
    inner: web::Data<Inner>,
    id: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let wanted: Option<Vec<String>> = http::query_value(&query, "location_ids")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let core = inner.core();
    let Some(p) = parse_sq_id('V', &id).and_then(|n| core.product(n)) else {
        return HttpResponse::Ok().json(json!({"counts": []}));
    };
    let counts: Vec<Value> = p
        .levels
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            wanted
                .as_ref()
                .is_none_or(|w| w.contains(&location_id(&core, *i)))
        })
        .map(|(i, l)| count(&core, p.id, i, l.quantity, l.updated_at))
        .collect();
    HttpResponse::Ok().json(json!({"counts": counts}))
}

/// One validated inventory change.
struct Planned {
    product: u64,
    /// (location, effect) pairs: a physical count or a delta.
    effects: Vec<(usize, Effect)>,
    occurred_at: Time,
    echo: Value,
}

#[derive(Debug, Clone, Copy)]
enum Effect {
    Count(i64),
    Delta(i64),
}

fn whole(quantity: &str) -> Option<i64> {
    let text = quantity.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.bytes().all(|b| b == b'0') || fraction.len() > 5 {
        return None;
    }
    whole.parse().ok()
}

/// Validates change `i`; the error is Square's 400.
fn plan(core: &Core, i: usize, change: &Value) -> Result<Planned, Invalid> {
    let kind = change
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (section, field) = match kind {
        "PHYSICAL_COUNT" => ("physical_count", "physical_count"),
        "ADJUSTMENT" => ("adjustment", "adjustment"),
        "TRANSFER" => ("transfer", "transfer"),
        "" => {
            return Err(super::missing(&format!("changes[{i}].type")));
        }
        other => {
            return Err(Invalid::new(
                "INVALID_ENUM_VALUE",
                format!("`{other}` is not a valid InventoryChangeType."),
                Some(&format!("changes[{i}].type")),
            ));
        }
    };
    let path = |name: &str| format!("changes[{i}].{field}.{name}");
    let Some(detail) = change.get(section).and_then(Value::as_object) else {
        return Err(super::missing(&format!("changes[{i}].{field}")));
    };
    let text = |name: &str| detail.get(name).and_then(Value::as_str).map(str::to_owned);
    let required = |name: &str| text(name).ok_or_else(|| super::missing(&path(name)));
    let object_id = required("catalog_object_id")?;
    let product = parse_sq_id('V', &object_id)
        .filter(|n| core.product(*n).is_some())
        .ok_or_else(|| {
            Invalid::new(
                "INVALID_VALUE",
                format!("Invalid catalog object ID: {object_id}"),
                Some(&path("catalog_object_id")),
            )
        })?;
    let quantity_text = required("quantity")?;
    let quantity = whole(&quantity_text).filter(|q| *q >= 0).ok_or_else(|| {
        Invalid::new(
            "INVALID_VALUE",
            "quantity must be a non-negative whole number for this item.",
            Some(&path("quantity")),
        )
    })?;
    let occurred = required("occurred_at")?;
    let occurred_at = DateTime::parse_from_rfc3339(&occurred)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Invalid::new(
                "INVALID_TIME",
                "occurred_at must be an RFC 3339 timestamp.",
                Some(&path("occurred_at")),
            )
        })?;
    let location_of = |name: &str| -> Result<usize, Invalid> {
        let id = required(name)?;
        location_index(core, &id).ok_or_else(|| {
            Invalid::new(
                "INVALID_VALUE",
                format!("Invalid location ID: {id}"),
                Some(&path(name)),
            )
        })
    };
    let effects = match kind {
        "PHYSICAL_COUNT" => {
            let location = location_of("location_id")?;
            let state = required("state")?;
            if state == "IN_STOCK" {
                vec![(location, Effect::Count(quantity))]
            } else {
                Vec::new()
            }
        }
        "ADJUSTMENT" => {
            let location = location_of("location_id")?;
            let from = required("from_state")?;
            let to = required("to_state")?;
            let delta = match (from == "IN_STOCK", to == "IN_STOCK") {
                (true, false) => -quantity,
                (false, true) => quantity,
                _ => 0,
            };
            vec![(location, Effect::Delta(delta))]
        }
        _ => {
            let from = location_of("from_location_id")?;
            let to = location_of("to_location_id")?;
            if required("state")? == "IN_STOCK" {
                vec![
                    (from, Effect::Delta(-quantity)),
                    (to, Effect::Delta(quantity)),
                ]
            } else {
                Vec::new()
            }
        }
    };
    let mut echo = Value::Object(detail.clone());
    if let Some(map) = echo.as_object_mut() {
        map.insert("catalog_object_type".into(), json!("ITEM_VARIATION"));
    }
    Ok(Planned {
        product,
        effects,
        occurred_at,
        echo: json!({"type": kind, section: echo}),
    })
}

async fn batch_change(
    inner: web::Data<Inner>,
    square: web::Data<Square>,
    body: web::Bytes,
) -> HttpResponse {
    let request = match super::body_json(&body) {
        Ok(b) => b,
        Err(e) => return e.response(),
    };
    let Some(key) = request
        .get("idempotency_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
    else {
        return super::missing("idempotency_key").response();
    };
    if key.len() > 128 {
        return invalid(
            "VALUE_TOO_LONG",
            "idempotency_key must be at most 128 characters.",
            Some("idempotency_key"),
        );
    }
    let changes = request
        .get("changes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if changes.len() > MAX_CHANGES {
        return invalid(
            "ARRAY_LENGTH_TOO_LONG",
            &format!(
                "changes must contain at most {MAX_CHANGES} items; {} given.",
                changes.len()
            ),
            Some("changes"),
        );
    }
    let ignore_unchanged = request
        .get("ignore_unchanged_counts")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let fingerprint = Value::Object(request.clone());
    let mut replays = lock(&square.idempotent);
    if let Some((seen, answer)) = replays.get(&key) {
        return if *seen == fingerprint {
            HttpResponse::Ok().json(answer)
        } else {
            invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key can only be retried with the same request data.",
                Some("idempotency_key"),
            )
        };
    }
    let now = Utc::now();
    let result = inner.mutate(|core| {
        let mut planned = Vec::with_capacity(changes.len());
        for (i, change) in changes.iter().enumerate() {
            planned.push(plan(core, i, change)?);
        }
        let mut recorded = Vec::new();
        let mut touched: Vec<(u64, usize)> = Vec::new();
        let mut targets: Vec<((u64, usize), i64)> = Vec::new();
        {
            let mut histories = lock(&square.history);
            for (n, p) in planned.iter().enumerate() {
                for (location, effect) in &p.effects {
                    let current = core
                        .level(p.product, *location)
                        .map(|l| l.quantity)
                        .unwrap_or(0);
                    let Some(history) =
                        Square::history(&mut histories, core, p.product, *location, current)
                    else {
                        continue;
                    };
                    match *effect {
                        Effect::Count(q) => {
                            if ignore_unchanged && q == history.quantity() {
                                continue;
                            }
                            history.physical(p.occurred_at, q);
                        }
                        Effect::Delta(d) => history.adjust(p.occurred_at, d),
                    }
                    targets.retain(|(k, _)| *k != (p.product, *location));
                    targets.push(((p.product, *location), history.quantity()));
                    if !touched.contains(&(p.product, *location)) {
                        touched.push((p.product, *location));
                    }
                }
                let mut echo = p.echo.clone();
                if let Some(section) = echo
                    .as_object_mut()
                    .and_then(|o| o.values_mut().find(|v| v.is_object()))
                    .and_then(Value::as_object_mut)
                {
                    section.insert(
                        "id".into(),
                        json!(super::sq_id(
                            'C',
                            (now.timestamp_millis() as u64) * 128 + n as u64,
                            26
                        )),
                    );
                    section.insert("created_at".into(), json!(time(now)));
                }
                recorded.push(echo);
            }
        }
        let mut out = Vec::new();
        for ((product, location), target) in targets {
            if let Ok(Some(change)) = core.set_stock(product, location, target, Cause::Api, now) {
                out.push(change);
            }
        }
        let counts: Vec<Value> = touched
            .iter()
            .filter_map(|&(product, location)| {
                let level = core.level(product, location).ok()?;
                Some(count(
                    core,
                    product,
                    location,
                    level.quantity,
                    level.updated_at,
                ))
            })
            .collect();
        Ok::<_, Invalid>((json!({"changes": recorded, "counts": counts}), out))
    });
    match result {
        Ok(answer) => {
            inner.count_write(changes.len());
            replays.insert(key, (fingerprint, answer.clone()));
            HttpResponse::Ok().json(answer)
        }
        Err(refusal) => refusal.response(),
    }
}
