//! The Admin GraphQL endpoint: the document is parsed, its cost charged to the leaky
//! bucket (or the call answered `THROTTLED`), every root field resolved to a full object
//! and projected onto the selection set, and the cost reported in `extensions.cost`.
//!
//! Root fields: `shop`, `locations`, `location`, `productVariants`, `productVariant`,
//! `inventoryItems`, `inventoryItem`, `orders`, `order`, and the mutations
//! `inventorySetQuantities` and `inventoryAdjustQuantities` (see [`inventory`]), and the
//! webhook subscriptions: `webhookSubscriptions`, `webhookSubscriptionCreate` and
//! `webhookSubscriptionDelete` (see [`webhooks`]).

mod inventory;
mod orders;
mod search;
mod webhooks;

use orders::*;

pub(super) use webhooks::WebhookSubscription;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use self::search::{Term, id_term, terms, text_term, time_term};
use super::{
    ITEM_BASE, LOCATION_BASE, ORDER_BASE, Shopify, VARIANT_BASE, gid, item_id, line_id,
    location_id, order_id, product_id, refund_id, refund_transaction_id, time, transaction_id,
    variant_id,
};
use crate::{
    core::{Core, Line, Order, OrderStatus, Product},
    gql::{self, Document, Field, Kind},
    http,
    money::decimal,
    paging::{self, Key},
    server::{Inner, lock},
};

/// The largest page and input array Shopify accepts.
const MAX_PAGE: i64 = 250;
/// The largest cost of a single query.
const MAX_COST: i64 = 1000;
/// The cost of a mutation root field.
const MUTATION_COST: i64 = 10;

/// A field error.
#[derive(Debug)]
struct GqlError {
    message: String,
    code: &'static str,
}

impl GqlError {
    fn new(message: impl Into<String>, code: &'static str) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }

    fn to_json(&self, path: &str) -> Value {
        json!({
            "message": self.message,
            "locations": [],
            "path": [path],
            "extensions": {"code": self.code},
        })
    }
}

struct Ctx<'a> {
    inner: &'a Inner,
    shop: &'a Shopify,
    doc: &'a Document,
    vars: &'a Map<String, Value>,
}

/// `POST /admin/api/{version}/graphql.json`.
pub(super) async fn handle(
    inner: web::Data<Inner>,
    shop: web::Data<Shopify>,
    version: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if !valid_version(&version) {
        return http::json(404, &json!({"errors": "Not Found"}));
    }
    let is_graphql = http::header_str(&req, "content-type")
        .is_some_and(|ct| ct.starts_with("application/graphql"));
    let (query, given_vars, op_name) = if is_graphql {
        (
            String::from_utf8_lossy(&body).into_owned(),
            Map::new(),
            None,
        )
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => {
                let Some(query) = map.get("query").and_then(Value::as_str) else {
                    return missing_query();
                };
                let vars = match map.get("variables") {
                    Some(Value::Object(v)) => v.clone(),
                    Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
                    _ => Map::new(),
                };
                let op = map
                    .get("operationName")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (query.to_owned(), vars, op)
            }
            _ => return missing_query(),
        }
    };
    let doc = match gql::parse(&query) {
        Ok(doc) => doc,
        Err(message) => {
            return HttpResponse::Ok().json(json!({"errors": [{
                "message": message, "locations": [], "extensions": {"code": "PARSE_ERROR"}
            }]}));
        }
    };
    let op = match doc.operation(op_name.as_deref()) {
        Ok(op) => op,
        Err(message) => {
            return HttpResponse::Ok().json(json!({"errors": [{"message": message}]}));
        }
    };
    if op.kind == Kind::Subscription {
        return HttpResponse::Ok()
            .json(json!({"errors": [{"message": "Subscriptions are not supported"}]}));
    }
    let mut vars = op.defaults.clone();
    vars.extend(given_vars);
    let roots = doc.fields(&op.selections);
    let mutation = op.kind == Kind::Mutation;
    let root_costs: Vec<i64> = roots
        .iter()
        .map(|f| {
            if mutation {
                MUTATION_COST
            } else {
                gql::cost(&doc, f, &vars)
            }
        })
        .collect();
    let requested: i64 = root_costs.iter().sum();
    if requested > MAX_COST {
        return HttpResponse::Ok().json(json!({"errors": [{
            "message": format!("Query cost is {requested}, which exceeds the single query max cost limit ({MAX_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"),
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_COST}
        }]}));
    }
    let admitted = lock(&shop.bucket).try_take(requested as f64);
    if admitted.is_err() {
        crate::faults::Counters::bump(&inner.stats.throttled);
        return HttpResponse::Ok().json(json!({
            "errors": [{
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}
            }],
            "extensions": {"cost": cost_block(&shop, requested, None)}
        }));
    }
    let ctx = Ctx {
        inner: &inner,
        shop: &shop,
        doc: &doc,
        vars: &vars,
    };
    let mut data = Map::new();
    let mut errors = Vec::new();
    let mut actual = 0;
    for (field, requested_cost) in roots.iter().zip(&root_costs) {
        let result = if mutation {
            match field.name.as_str() {
                "webhookSubscriptionCreate" | "webhookSubscriptionDelete" => {
                    webhooks::mutate(&ctx, field)
                }
                _ => inventory::mutate(&ctx, field),
            }
        } else {
            query_root(&ctx, field)
        };
        match result {
            Ok((full, returned)) => {
                actual += actual_cost(ctx.doc, field, ctx.vars, *requested_cost, returned);
                data.insert(
                    field.key().to_owned(),
                    gql::project(&doc, &full, &field.selections),
                );
            }
            Err(e) => {
                actual += 1;
                errors.push(e.to_json(field.key()));
                data.insert(field.key().to_owned(), Value::Null);
            }
        }
    }
    lock(&shop.bucket).give_back((requested - actual).max(0) as f64);
    let mut answer = Map::new();
    if !errors.is_empty() {
        answer.insert("errors".into(), Value::Array(errors));
    }
    answer.insert("data".into(), Value::Object(data));
    answer.insert(
        "extensions".into(),
        json!({"cost": cost_block(&shop, requested, Some(actual))}),
    );
    HttpResponse::Ok().json(Value::Object(answer))
}

fn valid_version(version: &str) -> bool {
    version == "unstable"
        || (version.len() == 7
            && version.as_bytes()[4] == b'-'
            && version
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit()))
}

fn missing_query() -> HttpResponse {
    http::json(
        400,
        &json!({"errors": {"query": "Required parameter missing or invalid"}}),
    )
}

fn cost_block(shop: &Shopify, requested: i64, actual: Option<i64>) -> Value {
    let mut bucket = lock(&shop.bucket);
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": bucket.capacity(),
            "currentlyAvailable": bucket.available().floor() as i64,
            "restoreRate": bucket.per_second(),
        }
    })
}

/// The cost of what was actually returned: a connection's page size replaced by the
/// number of nodes returned.
fn actual_cost(
    doc: &Document,
    field: &Field,
    vars: &Map<String, Value>,
    requested: i64,
    returned: Option<usize>,
) -> i64 {
    match (gql::page_size(field, vars), returned) {
        (Some(n), Some(m)) if n > 0 => {
            let per_node = (requested - 2) / n;
            2 + per_node * m as i64
        }
        _ => {
            let _ = doc;
            requested
        }
    }
}

type Resolved = Result<(Value, Option<usize>), GqlError>;

fn query_root(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    match field.name.as_str() {
        "shop" => Ok((shop_node(ctx), None)),
        "locations" => locations(ctx, field),
        "location" => by_id(ctx, field, |core, id| {
            let n = super::parse_gid(id, "Location", LOCATION_BASE)?;
            let index = core.locations.iter().position(|l| l.id == n)?;
            Some(location_with_levels(ctx, core, index, field))
        }),
        "productVariants" => product_variants(ctx, field),
        "productVariant" => by_id(ctx, field, |core, id| {
            let p = core.product(super::parse_gid(id, "ProductVariant", VARIANT_BASE)?)?;
            Some(variant_node(ctx, core, p, field))
        }),
        "inventoryItems" => inventory_items(ctx, field),
        "inventoryItem" => by_id(ctx, field, |core, id| {
            let p = core.product(super::parse_gid(id, "InventoryItem", ITEM_BASE)?)?;
            Some(item_node(ctx, core, p, field))
        }),
        "orders" => orders(ctx, field),
        "order" => by_id(ctx, field, |core, id| {
            let o = core.order(super::parse_gid(id, "Order", ORDER_BASE)?)?;
            Some(order_node(ctx, core, o, field))
        }),
        "webhookSubscriptions" => webhooks::list(ctx, field),
        "webhookSubscription" => webhooks::by_id(ctx, field),
        "__typename" => Ok((json!("QueryRoot"), None)),
        other => Err(GqlError::new(
            format!("Field '{other}' doesn't exist on type 'QueryRoot'"),
            "undefinedField",
        )),
    }
}

fn by_id(
    ctx: &Ctx<'_>,
    field: &Field,
    find: impl FnOnce(&Core, &str) -> Option<Value>,
) -> Resolved {
    let id = field
        .arg("id", ctx.vars)
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| {
            GqlError::new(
                format!("Field '{}' is missing required arguments: id", field.name),
                "missingRequiredArguments",
            )
        })?;
    let core = ctx.inner.core();
    Ok((find(&core, &id).unwrap_or(Value::Null), None))
}

fn shop_node(ctx: &Ctx<'_>) -> Value {
    json!({
        "__typename": "Shop",
        "id": gid("Shop", 1),
        "name": ctx.shop.shop_name,
        "myshopifyDomain": ctx.shop.shop_domain,
        "currencyCode": ctx.shop.currency,
        "ianaTimezone": "UTC",
        "email": "owner@concord-sim.example",
    })
}

/// A connection page over `items` (sorted by key), rendered by `render`.
fn connection<T>(
    ctx: &Ctx<'_>,
    field: &Field,
    kind: &str,
    items: Vec<(Key, T)>,
    mut render: impl FnMut(T) -> Value,
) -> Resolved {
    let first = field.arg("first", ctx.vars).and_then(|v| v.as_i64());
    let last = field.arg("last", ctx.vars).and_then(|v| v.as_i64());
    let size = match (first, last) {
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => {
            return Err(GqlError::new(
                format!("you must provide one of first or last for {}", field.name),
                "BAD_REQUEST",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(GqlError::new(
                "Passing both first and last is not supported",
                "BAD_REQUEST",
            ));
        }
    };
    if !(0..=MAX_PAGE).contains(&size) {
        return Err(GqlError::new(
            format!("The first and last arguments must be between 0 and {MAX_PAGE}; got {size}"),
            "BAD_REQUEST",
        ));
    }
    let cursor = |name: &str| -> Result<Option<Key>, GqlError> {
        match field.arg(name, ctx.vars) {
            None => Ok(None),
            Some(Value::String(s)) => paging::decode(kind, &s).map(Some).ok_or_else(|| {
                GqlError::new("Invalid cursor for current pagination sort.", "BAD_REQUEST")
            }),
            Some(_) => Err(GqlError::new("Cursors are strings", "BAD_REQUEST")),
        }
    };
    let after = cursor("after")?;
    let mut before = cursor("before")?;
    let reverse = field
        .arg("reverse", ctx.vars)
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let order = if reverse {
        paging::Order::Descending
    } else {
        paging::Order::Ascending
    };
    if last.is_some() && before.is_none() {
        before = Some(match order {
            paging::Order::Ascending => (i64::MAX, u64::MAX),
            paging::Order::Descending => (i64::MIN, 0),
        });
    }
    let window = paging::window(items, order, after, before, size as usize);
    let start = window.start().map(|k| paging::encode(kind, k));
    let end = window.end().map(|k| paging::encode(kind, k));
    let (has_next, has_previous) = (window.has_next, window.has_previous);
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for (key, item) in window.items {
        let node = render(item);
        edges.push(json!({"cursor": paging::encode(kind, key), "node": node}));
        nodes.push(node);
    }
    let count = nodes.len();
    Ok((
        json!({
            "nodes": nodes,
            "edges": edges,
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": has_previous,
                "startCursor": start,
                "endCursor": end,
            }
        }),
        Some(count),
    ))
}

fn location_node(core: &Core, index: usize) -> Value {
    let l = &core.locations[index];
    json!({
        "__typename": "Location",
        "id": gid("Location", location_id(core, index)),
        "legacyResourceId": location_id(core, index).to_string(),
        "name": l.name,
        "isActive": true,
        "fulfillsOnlineOrders": index == 0,
        "shipsInventory": true,
        "createdAt": time(l.created_at),
        "updatedAt": time(l.created_at),
    })
}

/// A location with its `inventoryLevels(first:, after:, query:)` connection when the
/// selection asks for it (stock of every item at that location).
fn location_with_levels(ctx: &Ctx<'_>, core: &Core, index: usize, field: &Field) -> Value {
    let mut node = location_node(core, index);
    if let Some(levels_field) = ctx.doc.find(&field.selections, "inventoryLevels") {
        let terms = query_terms(ctx, levels_field);
        let items = core
            .products
            .iter()
            .filter(|p| product_matches(p, &terms, true))
            .map(|p| ((0, p.id), p))
            .collect();
        let kind = format!("location-levels{index}");
        let levels = connection(ctx, levels_field, &kind, items, |p| {
            level_node(ctx, core, p, index, levels_field)
        })
        .map_or(Value::Null, |(v, _)| v);
        if let Some(map) = node.as_object_mut() {
            map.insert("inventoryLevels".into(), levels);
        }
    }
    node
}

fn locations(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let core = ctx.inner.core();
    let items = (0..core.locations.len())
        .map(|i| ((0, core.locations[i].id), i))
        .collect();
    connection(ctx, field, "locations", items, |i| {
        location_with_levels(ctx, &core, i, field)
    })
}

/// A Shopify search query (`sku:A updated_at:>'2024-01-01T00:00:00Z'`) as terms.
fn query_terms(ctx: &Ctx<'_>, field: &Field) -> Vec<Term> {
    field
        .arg("query", ctx.vars)
        .and_then(|v| v.as_str().map(terms))
        .unwrap_or_default()
}

fn product_matches(p: &Product, terms: &[Term], use_stock_time: bool) -> bool {
    terms.iter().all(|t| match t.field.as_str() {
        "sku" => text_term(t, &p.sku),
        "barcode" => text_term(t, &p.barcode),
        "title" => text_term(t, &p.title),
        "product_id" => id_term(t, product_id(p.id)),
        "id" => id_term(
            t,
            if use_stock_time {
                item_id(p.id)
            } else {
                variant_id(p.id)
            },
        ),
        "updated_at" => time_term(
            t,
            if use_stock_time {
                p.last_modified()
            } else {
                p.updated_at
            },
        ),
        "created_at" => time_term(t, p.created_at),
        _ => true,
    })
}

fn product_variants(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let terms = query_terms(ctx, field);
    let core = ctx.inner.core();
    let items = core
        .products
        .iter()
        .filter(|p| product_matches(p, &terms, false))
        .map(|p| ((0, p.id), p))
        .collect();
    connection(ctx, field, "variants", items, |p| {
        variant_node(ctx, &core, p, field)
    })
}

fn variant_node(ctx: &Ctx<'_>, core: &Core, p: &Product, field: &Field) -> Value {
    let item = ctx
        .doc
        .find(&field.selections, "inventoryItem")
        .map_or(Value::Null, |f| item_node(ctx, core, p, f));
    json!({
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", variant_id(p.id)),
        "legacyResourceId": variant_id(p.id).to_string(),
        "sku": p.sku,
        "barcode": p.barcode,
        "title": "Default Title",
        "displayName": format!("{} - Default Title", p.title),
        "price": decimal(p.price_minor, &p.currency),
        "compareAtPrice": null,
        "inventoryQuantity": p.total_stock(),
        "availableForSale": p.total_stock() > 0,
        "createdAt": time(p.created_at),
        "updatedAt": time(p.updated_at),
        "product": {
            "__typename": "Product",
            "id": gid("Product", product_id(p.id)),
            "legacyResourceId": product_id(p.id).to_string(),
            "title": p.title,
            "handle": p.sku.to_lowercase(),
            "status": "ACTIVE",
        },
        "inventoryItem": item,
    })
}

fn item_node(ctx: &Ctx<'_>, core: &Core, p: &Product, field: &Field) -> Value {
    let levels = ctx
        .doc
        .find(&field.selections, "inventoryLevels")
        .map_or(Value::Null, |f| levels(ctx, core, p, f));
    let level = ctx
        .doc
        .find(&field.selections, "inventoryLevel")
        .and_then(|f| {
            let id = f.arg("locationId", ctx.vars)?;
            let n = super::parse_gid(id.as_str()?, "Location", LOCATION_BASE)?;
            let index = core.locations.iter().position(|l| l.id == n)?;
            Some(level_node(ctx, core, p, index, f))
        })
        .unwrap_or(Value::Null);
    json!({
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", item_id(p.id)),
        "legacyResourceId": item_id(p.id).to_string(),
        "sku": p.sku,
        "tracked": true,
        "requiresShipping": true,
        "createdAt": time(p.created_at),
        "updatedAt": time(p.last_modified()),
        "variant": {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", variant_id(p.id)),
            "sku": p.sku,
            "barcode": p.barcode,
            "title": "Default Title",
            "displayName": format!("{} - Default Title", p.title),
            "product": {"id": gid("Product", product_id(p.id)), "title": p.title},
        },
        "inventoryLevels": levels,
        "inventoryLevel": level,
    })
}

fn levels(ctx: &Ctx<'_>, core: &Core, p: &Product, field: &Field) -> Value {
    let items = (0..core.locations.len())
        .map(|i| ((0, core.locations[i].id), i))
        .collect();
    let kind = format!("levels{}", p.id);
    connection(ctx, field, &kind, items, |i| {
        level_node(ctx, core, p, i, field)
    })
    .map(|(v, _)| v)
    .unwrap_or(Value::Null)
}

fn level_node(ctx: &Ctx<'_>, core: &Core, p: &Product, index: usize, field: &Field) -> Value {
    let level = p.levels[index];
    let names: Vec<String> = ctx
        .doc
        .find(&field.selections, "quantities")
        .and_then(|f| f.arg("names", ctx.vars))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_else(|| vec!["available".to_owned()]);
    let quantities: Vec<Value> = names
        .iter()
        .map(|name| {
            let quantity = match name.as_str() {
                "available" | "on_hand" => level.quantity,
                _ => 0,
            };
            json!({"name": name, "quantity": quantity, "updatedAt": time(level.updated_at)})
        })
        .collect();
    let location = location_id(core, index);
    json!({
        "__typename": "InventoryLevel",
        "id": format!("gid://shopify/InventoryLevel/{location}?inventory_item_id={}", item_id(p.id)),
        "location": location_node(core, index),
        "quantities": quantities,
        "updatedAt": time(level.updated_at),
        "createdAt": time(p.created_at),
        "item": {
            "id": gid("InventoryItem", item_id(p.id)),
            "sku": p.sku,
            "tracked": true,
            "variant": {
                "id": gid("ProductVariant", variant_id(p.id)),
                "sku": p.sku,
                "barcode": p.barcode,
            },
        },
    })
}

fn inventory_items(ctx: &Ctx<'_>, field: &Field) -> Resolved {
    let terms = query_terms(ctx, field);
    let core = ctx.inner.core();
    let items = core
        .products
        .iter()
        .filter(|p| product_matches(p, &terms, true))
        .map(|p| ((0, p.id), p))
        .collect();
    connection(ctx, field, "items", items, |p| {
        item_node(ctx, &core, p, field)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(valid_version("2025-01"));
        assert!(valid_version("unstable"));
        assert!(!valid_version("2025-1"));
    }
}
