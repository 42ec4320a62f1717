//! WooCommerce products: listing (SKU, date and stock filters; variable products in place
//! of their variations), reading (a variation too, as WooCommerce's products endpoint
//! shows it), updating stock and the record, and `/products/batch` (at most 100 items,
//! each answered on its own).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{
    WooCommerce, error,
    listing::{MAX_PAGE, dates, ids, ordering, page_response, paging, path_id},
    parse_product_id, parse_variable_id, product_id, time,
    variations::{in_stock, variable, variant_attributes},
};
use crate::{
    SeedProduct,
    core::{Cause, Change, Core, CoreError, Parent, Product, ProductEdit},
    http,
    money::{self, decimal},
    server::Inner,
};

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/products/batch", web::post().to(batch))
        .route("/products/batch", web::put().to(batch))
        .route("/products/batch", web::patch().to(batch))
        .route("/products", web::get().to(list_products))
        .route("/products/{id}", web::get().to(get_product))
        .route("/products/{id}", web::put().to(update_product))
        .route("/products/{id}", web::post().to(update_product))
        .route("/products/{id}", web::patch().to(update_product));
}

pub(super) fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Units of `product` sold and not refunded.
pub(super) fn sold(core: &Core, product: u64) -> i64 {
    core.orders
        .iter()
        .flat_map(|o| o.lines.iter())
        .filter(|l| l.product == product)
        .map(|l| l.quantity - l.refunded)
        .sum()
}

/// A product as the API and `product.*` webhooks show it; a variation as the products
/// endpoint shows it (`type: variation`, its variable product in `parent_id`).
pub(super) fn product(core: &Core, p: &Product, site: &str) -> Value {
    let quantity = p.levels.first().map_or(0, |l| l.quantity);
    let modified = p.last_modified();
    let sold = sold(core, p.id);
    let parent_id = p.parent.map_or(0, super::variable_id);
    let price = decimal(p.price_minor, &p.currency);
    let slug = slug(&p.title);
    let id = product_id(p.id);
    json!({
        "id": id,
        "name": p.title,
        "slug": slug,
        "permalink": format!("{site}product/{slug}/"),
        "date_created": time(p.created_at),
        "date_created_gmt": time(p.created_at),
        "date_modified": time(modified),
        "date_modified_gmt": time(modified),
        "type": if p.parent.is_some() { "variation" } else { "simple" },
        "parent_id": parent_id,
        "status": "publish",
        "featured": false,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": p.sku,
        "global_unique_id": p.barcode,
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "on_sale": false,
        "purchasable": true,
        "total_sales": sold,
        "virtual": false,
        "downloadable": false,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": true,
        "stock_quantity": quantity,
        "stock_status": if quantity > 0 { "instock" } else { "outofstock" },
        "backorders": "no",
        "backorders_allowed": false,
        "backordered": false,
        "low_stock_amount": null,
        "sold_individually": false,
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": variant_attributes(p),
        "variations": [],
        "meta_data": [],
        "_links": {
            "self": [{"href": format!("{site}wp-json/wc/v3/products/{id}")}],
            "collection": [{"href": format!("{site}wp-json/wc/v3/products")}],
        },
    })
}

/// A row of the product listing: a product without variants, or a variable product.
#[derive(Clone, Copy)]
enum Row<'a> {
    /// A product (or, read by its id, a variation).
    Product(&'a Product),
    /// A variable product.
    Variable(&'a Parent),
}

impl Row<'_> {
    fn id(self) -> u64 {
        match self {
            Row::Product(p) => product_id(p.id),
            Row::Variable(v) => super::variable_id(v.id),
        }
    }

    fn title(self) -> String {
        match self {
            Row::Product(p) => p.title.clone(),
            Row::Variable(v) => v.title.clone(),
        }
    }

    fn sku(self) -> String {
        match self {
            Row::Product(p) => p.sku.clone(),
            Row::Variable(_) => String::new(),
        }
    }

    fn created(self) -> DateTime<Utc> {
        match self {
            Row::Product(p) => p.created_at,
            Row::Variable(v) => v.created_at,
        }
    }

    fn modified(self, core: &Core) -> DateTime<Utc> {
        match self {
            Row::Product(p) => p.last_modified(),
            Row::Variable(v) => core.parent_modified(v.id).unwrap_or(v.created_at),
        }
    }

    fn price(self, core: &Core) -> i64 {
        match self {
            Row::Product(p) => p.price_minor,
            Row::Variable(v) => core
                .variants(v.id)
                .map(|p| p.price_minor)
                .min()
                .unwrap_or(0),
        }
    }

    fn in_stock(self, core: &Core) -> bool {
        match self {
            Row::Product(p) => p.levels.first().is_some_and(|l| l.quantity > 0),
            Row::Variable(v) => in_stock(core, v.id),
        }
    }

    fn render(self, core: &Core, site: &str) -> Value {
        match self {
            Row::Product(p) => product(core, p, site),
            Row::Variable(v) => variable(core, v, site),
        }
    }
}

async fn list_products(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    req: HttpRequest,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let paging = match paging(&query) {
        Ok(p) => p,
        Err(e) => return *e,
    };
    let dates = match dates(&query) {
        Ok(d) => d,
        Err(e) => return *e,
    };
    let skus: Option<Vec<String>> = http::query_value(&query, "sku")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let include = ids(&query, "include");
    let search = http::query_value(&query, "search").map(|s| s.to_lowercase());
    let stock_status = http::query_value(&query, "stock_status");
    let (by, ascending) = ordering(&query);
    let core = inner.core();
    let rows = core
        .products
        .iter()
        .filter(|p| p.parent.is_none())
        .map(Row::Product)
        .chain(core.parents.iter().map(Row::Variable));
    let mut chosen: Vec<Row<'_>> = rows
        .filter(|r| skus.as_ref().is_none_or(|s| s.contains(&r.sku())))
        .filter(|r| include.as_ref().is_none_or(|i| i.contains(&r.id())))
        .filter(|r| {
            search
                .as_ref()
                .is_none_or(|s| r.title().to_lowercase().contains(s))
        })
        .filter(|r| {
            stock_status
                .as_ref()
                .is_none_or(|s| (s == "instock") == r.in_stock(&core))
        })
        .filter(|r| dates.keeps(r.created(), r.modified(&core)))
        .collect();
    chosen.sort_by(|a, b| {
        let key = match by.as_str() {
            "id" | "include" => a.id().cmp(&b.id()),
            "title" | "slug" => a.title().cmp(&b.title()).then(a.id().cmp(&b.id())),
            "modified" => a
                .modified(&core)
                .cmp(&b.modified(&core))
                .then(a.id().cmp(&b.id())),
            "price" => a
                .price(&core)
                .cmp(&b.price(&core))
                .then(a.id().cmp(&b.id())),
            _ => a.created().cmp(&b.created()).then(a.id().cmp(&b.id())),
        };
        if ascending { key } else { key.reverse() }
    });
    let items = chosen
        .into_iter()
        .map(|r| r.render(&core, &woo.site_url))
        .collect();
    page_response(&inner, &req, items, &paging)
}

async fn get_product(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
) -> HttpResponse {
    let core = inner.core();
    let id = path_id(&id);
    let found = match (
        id.and_then(parse_product_id).and_then(|n| core.product(n)),
        id.and_then(parse_variable_id).and_then(|n| core.parent(n)),
    ) {
        (Some(p), _) => Row::Product(p),
        (None, Some(v)) => Row::Variable(v),
        (None, None) => return error(404, "woocommerce_rest_product_invalid_id", "Invalid ID."),
    };
    HttpResponse::Ok().json(found.render(&core, &woo.site_url))
}

/// A refused item: `(status, code, message)`.
pub(super) type ItemError = (u16, &'static str, String);

/// A batch request (`POST …/batch`): its body and its `create`, `update` and `delete` lists.
pub(super) struct Batch {
    /// The body, to tell an absent list from an empty one.
    pub request: Map<String, Value>,
    /// Items to create.
    pub create: Vec<Value>,
    /// Items to update.
    pub update: Vec<Value>,
    /// Ids to delete.
    pub delete: Vec<Value>,
}

impl Batch {
    /// Reads a batch, or gives WooCommerce's 413 when it holds more than a page of items.
    pub(super) fn read(req: &HttpRequest, body: &[u8]) -> Result<Self, ItemError> {
        let request = http::json_or_form(req, body);
        let list = |name: &str| -> Vec<Value> {
            request
                .get(name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (create, update, delete) = (list("create"), list("update"), list("delete"));
        if create.len() + update.len() + delete.len() > MAX_PAGE {
            return Err((
                413,
                "woocommerce_rest_request_entity_too_large",
                format!("Unable to accept more than {MAX_PAGE} items for this request."),
            ));
        }
        Ok(Self {
            request,
            create,
            update,
            delete,
        })
    }

    /// Applies each `update` item to the product `resolve` names from its `id`, answering
    /// each with the product as `render` shows it or with its error; returns the answers
    /// and adds the changes and the count of items written.
    pub(super) fn apply_updates(
        &self,
        core: &mut Core,
        now: DateTime<Utc>,
        resolve: impl Fn(&Core, i64) -> Result<u64, ItemError>,
        render: impl Fn(&Core, &Product) -> Value,
        changes: &mut Vec<Change>,
        written: &mut usize,
    ) -> Value {
        let mut updated = Vec::new();
        for item in &self.update {
            let Some(fields) = item.as_object() else {
                continue;
            };
            let raw_id = fields.get("id").and_then(integer).unwrap_or(0);
            let result = resolve(core, raw_id)
                .and_then(|p| apply_update(core, p, fields, now).map(|c| (p, c)));
            match result {
                Ok((p, more)) => {
                    changes.extend(more);
                    *written += 1;
                    updated.push(core.product(p).map_or(Value::Null, |p| render(core, p)));
                }
                Err(e) => updated.push(json!({"id": raw_id, "error": item_error(&e)})),
            }
        }
        Value::Array(updated)
    }
}

pub(super) fn item_error((status, code, message): &ItemError) -> Value {
    json!({"code": code, "message": message, "data": {"status": status}})
}

pub(super) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Applies the writable fields of `fields` to `product`: `stock_quantity`, `name`,
/// `regular_price`, `sku`, `global_unique_id`. `manage_stock` is always on here.
pub(super) fn apply_update(
    core: &mut Core,
    product: u64,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Vec<Change>, ItemError> {
    let currency = core.product(product).map(|p| p.currency.clone()).ok_or((
        400,
        "woocommerce_rest_product_invalid_id",
        "Invalid ID.".to_owned(),
    ))?;
    let quantity = match fields.get("stock_quantity") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            integer(v).ok_or((
                400,
                "rest_invalid_param",
                "Invalid parameter(s): stock_quantity (stock_quantity is not of type integer.)"
                    .to_owned(),
            ))?,
        ),
    };
    let price = match fields.get("regular_price").and_then(Value::as_str) {
        None => None,
        Some(text) => Some(money::parse_decimal(text, &currency).ok_or((
            400,
            "rest_invalid_param",
            "Invalid parameter(s): regular_price".to_owned(),
        ))?),
    };
    let edit = ProductEdit {
        title: fields
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        price_minor: price,
        barcode: fields
            .get("global_unique_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        sku: fields.get("sku").and_then(Value::as_str).map(str::to_owned),
    };
    let mut changes = core
        .update_product(product, &edit, now)
        .map_err(|e| match e {
            CoreError::Conflict(_) => (
                400,
                "product_invalid_sku",
                "Invalid or duplicated SKU.".to_owned(),
            ),
            other => (400, "woocommerce_rest_product_invalid", other.to_string()),
        })?;
    if let Some(quantity) = quantity
        && let Some(change) = core
            .set_stock(product, 0, quantity, Cause::Api, now)
            .map_err(|e| (400, "woocommerce_rest_product_invalid", e.to_string()))?
    {
        changes.push(change);
    }
    Ok(changes)
}

async fn update_product(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let fields = http::json_or_form(&req, &body);
    let Some(product) = path_id(&id).and_then(parse_product_id) else {
        return error(400, "woocommerce_rest_product_invalid_id", "Invalid ID.");
    };
    let now = Utc::now();
    let result = inner.mutate(|core| apply_update(core, product, &fields, now).map(|c| ((), c)));
    match result {
        Ok(()) => {
            inner.count_write(1);
            let core = inner.core();
            match core.product(product) {
                Some(p) => HttpResponse::Ok().json(product_json(&core, p, &woo)),
                None => error(400, "woocommerce_rest_product_invalid_id", "Invalid ID."),
            }
        }
        Err((status, code, message)) => error(status, code, &message),
    }
}

fn product_json(core: &Core, p: &Product, woo: &WooCommerce) -> Value {
    product(core, p, &woo.site_url)
}

async fn batch(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let batch = match Batch::read(&req, &body) {
        Ok(batch) => batch,
        Err((status, code, message)) => return error(status, code, &message),
    };
    let (request, create, delete) = (&batch.request, &batch.create, &batch.delete);
    let now = Utc::now();
    let currency = inner.config.currency.clone();
    let mut written = 0;
    let answer = inner.mutate(|core| {
        let mut changes = Vec::new();
        let mut answer = Map::new();
        if request.contains_key("create") {
            let mut created = Vec::new();
            for item in create {
                let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                let price = item
                    .get("regular_price")
                    .and_then(Value::as_str)
                    .and_then(|p| money::parse_decimal(p, &currency))
                    .unwrap_or(0);
                let seed = SeedProduct::new(
                    text("sku"),
                    text("global_unique_id"),
                    text("name"),
                    price,
                    currency.clone(),
                    item.get("stock_quantity").and_then(integer).unwrap_or(0),
                );
                match core.add_product(&seed, now) {
                    Ok((id, more)) => {
                        changes.extend(more);
                        written += 1;
                        created.push(core.product(id).map_or(Value::Null, |p| product_json(core, p, &woo)));
                    }
                    Err(e) => created.push(json!({"id": 0, "error": item_error(&(400, "product_invalid_sku", e.to_string()))})),
                }
            }
            answer.insert("create".into(), Value::Array(created));
        }
        if request.contains_key("update") {
            let resolve = |core: &Core, raw_id: i64| {
                u64::try_from(raw_id)
                    .ok()
                    .and_then(parse_product_id)
                    .filter(|p| core.product(*p).is_some())
                    .ok_or((400, "woocommerce_rest_product_invalid_id", "Invalid ID.".to_owned()))
            };
            let render = |core: &Core, p: &Product| product_json(core, p, &woo);
            let updated = batch.apply_updates(core, now, resolve, render, &mut changes, &mut written);
            answer.insert("update".into(), updated);
        }
        if request.contains_key("delete") {
            let refused: Vec<Value> = delete
                .iter()
                .map(|id| {
                    json!({"id": id, "error": item_error(&(501, "woocommerce_rest_cannot_delete", "The simulated store keeps every product.".to_owned()))})
                })
                .collect();
            answer.insert("delete".into(), Value::Array(refused));
        }
        Ok::<_, ItemError>((Value::Object(answer), changes))
    });
    match answer {
        Ok(answer) => {
            inner.count_write(written);
            HttpResponse::Ok().json(answer)
        }
        Err((status, code, message)) => error(status, code, &message),
    }
}
