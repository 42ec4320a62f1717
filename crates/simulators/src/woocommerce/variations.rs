//! Variable products and their variations: `GET /products/{id}/variations` (paged like
//! every listing), `GET`/`PUT`/`POST /products/{id}/variations/{variation}`, and
//! `POST /products/{id}/variations/batch` (at most 100 items, each answered on its own).
//! A variation's stock is its own (`manage_stock: true`); the variable product keeps none.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{
    WooCommerce, error,
    listing::{page_response, paging, path_id},
    parse_product_id, parse_variable_id, product_id,
    products::{Batch, ItemError, apply_update, item_error, slug, sold},
    time, variable_id,
};
use crate::{
    core::{Core, Parent, Product},
    http,
    money::decimal,
    server::Inner,
};

/// The attribute variants differ by.
const ATTRIBUTE: &str = "Format";

pub(super) fn routes(api: &mut web::ServiceConfig) {
    api.route("/products/{id}/variations/batch", web::post().to(batch))
        .route("/products/{id}/variations/batch", web::put().to(batch))
        .route("/products/{id}/variations/batch", web::patch().to(batch))
        .route("/products/{id}/variations", web::get().to(list))
        .route("/products/{id}/variations/{variation}", web::get().to(get))
        .route(
            "/products/{id}/variations/{variation}",
            web::put().to(update),
        )
        .route(
            "/products/{id}/variations/{variation}",
            web::post().to(update),
        )
        .route(
            "/products/{id}/variations/{variation}",
            web::patch().to(update),
        );
}

/// A variation's attributes as the products endpoint shows them (none for a product).
pub(super) fn variant_attributes(p: &Product) -> Value {
    match (&p.parent, &p.variant) {
        (Some(_), Some(option)) => json!([{"id": 0, "name": ATTRIBUTE, "option": option}]),
        _ => json!([]),
    }
}

/// Whether any variation of `parent` has stock.
pub(super) fn in_stock(core: &Core, parent: u64) -> bool {
    core.variants(parent)
        .any(|p| p.levels.first().is_some_and(|l| l.quantity > 0))
}

/// A variable product as the products endpoint shows it: no stock of its own, its
/// variations' ids, the lowest of their prices.
pub(super) fn variable(core: &Core, v: &Parent, site: &str) -> Value {
    let variants: Vec<&Product> = core.variants(v.id).collect();
    let id = variable_id(v.id);
    let slug = slug(&v.title);
    let modified = core.parent_modified(v.id).unwrap_or(v.created_at);
    let cheapest = variants.iter().min_by_key(|p| p.price_minor);
    let price = cheapest.map_or_else(String::new, |p| decimal(p.price_minor, &p.currency));
    let options: Vec<&str> = variants
        .iter()
        .filter_map(|p| p.variant.as_deref())
        .collect();
    json!({
        "id": id,
        "name": v.title,
        "slug": slug,
        "permalink": format!("{site}product/{slug}/"),
        "date_created": time(v.created_at),
        "date_created_gmt": time(v.created_at),
        "date_modified": time(modified),
        "date_modified_gmt": time(modified),
        "type": "variable",
        "parent_id": 0,
        "status": "publish",
        "featured": false,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": "",
        "global_unique_id": "",
        "price": price,
        "regular_price": "",
        "sale_price": "",
        "on_sale": false,
        "purchasable": true,
        "total_sales": variants.iter().map(|p| sold(core, p.id)).sum::<i64>(),
        "virtual": false,
        "downloadable": false,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": false,
        "stock_quantity": null,
        "stock_status": if in_stock(core, v.id) { "instock" } else { "outofstock" },
        "backorders": "no",
        "backorders_allowed": false,
        "backordered": false,
        "low_stock_amount": null,
        "sold_individually": false,
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": [{"id": 0, "name": ATTRIBUTE, "position": 0, "visible": true,
                        "variation": true, "options": options}],
        "variations": variants.iter().map(|p| product_id(p.id)).collect::<Vec<_>>(),
        "meta_data": [],
        "_links": {
            "self": [{"href": format!("{site}wp-json/wc/v3/products/{id}")}],
            "collection": [{"href": format!("{site}wp-json/wc/v3/products")}],
        },
    })
}

/// A variation as the variations endpoint shows it.
fn variation(core: &Core, p: &Product, site: &str) -> Value {
    let quantity = p.levels.first().map_or(0, |l| l.quantity);
    let modified = p.last_modified();
    let parent = p.parent.map_or(0, variable_id);
    let parent_slug = p
        .parent
        .and_then(|n| core.parent(n))
        .map_or_else(String::new, |v| slug(&v.title));
    let id = product_id(p.id);
    let price = decimal(p.price_minor, &p.currency);
    let option = p.variant.clone().unwrap_or_default();
    json!({
        "id": id,
        "parent_id": parent,
        "type": "variation",
        "name": p.title,
        "date_created": time(p.created_at),
        "date_created_gmt": time(p.created_at),
        "date_modified": time(modified),
        "date_modified_gmt": time(modified),
        "description": "",
        "permalink": format!("{site}product/{parent_slug}/?attribute_format={}", slug(&option)),
        "sku": p.sku,
        "global_unique_id": p.barcode,
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "on_sale": false,
        "status": "publish",
        "purchasable": true,
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
        "attributes": variant_attributes(p),
        "menu_order": 0,
        "meta_data": [],
        "_links": {
            "self": [{"href": format!("{site}wp-json/wc/v3/products/{parent}/variations/{id}")}],
            "collection": [{"href": format!("{site}wp-json/wc/v3/products/{parent}/variations")}],
            "up": [{"href": format!("{site}wp-json/wc/v3/products/{parent}")}],
        },
    })
}

/// What a `/products/{id}` path names for the variations routes.
enum Owner {
    /// A variable product.
    Variable(u64),
    /// A product without variations.
    Product,
}

fn owner(core: &Core, raw: &str) -> Option<Owner> {
    let id = path_id(raw)?;
    if let Some(parent) = parse_variable_id(id).filter(|n| core.parent(*n).is_some()) {
        return Some(Owner::Variable(parent));
    }
    parse_product_id(id)
        .filter(|n| core.product(*n).is_some())
        .map(|_| Owner::Product)
}

/// The shop's product for variation id `raw` of parent `parent`.
fn variation_of(core: &Core, parent: u64, raw: i64) -> Option<u64> {
    u64::try_from(raw)
        .ok()
        .and_then(parse_product_id)
        .filter(|n| core.product(*n).is_some_and(|p| p.parent == Some(parent)))
}

fn invalid_product() -> HttpResponse {
    error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

fn invalid_variation() -> ItemError {
    (
        404,
        "woocommerce_rest_product_variation_invalid_id",
        "Invalid ID.".to_owned(),
    )
}

/// `GET /products/{id}/variations`: a product without variations lists none.
async fn list(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let query = http::query_pairs(&req);
    let paging = match paging(&query) {
        Ok(p) => p,
        Err(e) => return *e,
    };
    let items = {
        let core = inner.core();
        match owner(&core, &id) {
            None => return invalid_product(),
            Some(Owner::Product) => Vec::new(),
            Some(Owner::Variable(parent)) => core
                .variants(parent)
                .map(|p| variation(&core, p, &woo.site_url))
                .collect(),
        }
    };
    page_response(&inner, &req, items, &paging)
}

/// `GET /products/{id}/variations/{variation}`.
async fn get(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, raw) = path.into_inner();
    let core = inner.core();
    let Some(Owner::Variable(parent)) = owner(&core, &id) else {
        return invalid_product();
    };
    let found = path_id(&raw)
        .and_then(|v| i64::try_from(v).ok())
        .and_then(|v| variation_of(&core, parent, v))
        .and_then(|n| core.product(n));
    match found {
        Some(p) => HttpResponse::Ok().json(variation(&core, p, &woo.site_url)),
        None => {
            let (status, code, message) = invalid_variation();
            error(status, code, &message)
        }
    }
}

/// `PUT /products/{id}/variations/{variation}`: the same writable fields as a product.
async fn update(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let (id, raw) = path.into_inner();
    let fields = http::json_or_form(&req, &body);
    let now = Utc::now();
    let result = inner.mutate(|core| {
        let Some(Owner::Variable(parent)) = owner(core, &id) else {
            return Err((
                404,
                "woocommerce_rest_product_invalid_id",
                "Invalid ID.".to_owned(),
            ));
        };
        let product = path_id(&raw)
            .and_then(|v| i64::try_from(v).ok())
            .and_then(|v| variation_of(core, parent, v))
            .ok_or_else(invalid_variation)?;
        apply_update(core, product, &fields, now).map(|c| (product, c))
    });
    match result {
        Ok(product) => {
            inner.count_write(1);
            let core = inner.core();
            match core.product(product) {
                Some(p) => HttpResponse::Ok().json(variation(&core, p, &woo.site_url)),
                None => invalid_product(),
            }
        }
        Err((status, code, message)) => error(status, code, &message),
    }
}

/// `POST /products/{id}/variations/batch`: `update` items change their variation;
/// `create` and `delete` are refused item by item (the simulated catalog is seeded).
async fn batch(
    inner: web::Data<Inner>,
    woo: web::Data<WooCommerce>,
    id: web::Path<String>,
    body: web::Bytes,
    req: HttpRequest,
) -> HttpResponse {
    let batch = match Batch::read(&req, &body) {
        Ok(batch) => batch,
        Err((status, code, message)) => return error(status, code, &message),
    };
    let (request, create, delete) = (&batch.request, &batch.create, &batch.delete);
    let now = Utc::now();
    let mut written = 0;
    let answer = inner.mutate(|core| {
        let Some(Owner::Variable(parent)) = owner(core, &id) else {
            return Err((
                404,
                "woocommerce_rest_product_invalid_id",
                "Invalid ID.".to_owned(),
            ));
        };
        let mut changes = Vec::new();
        let mut answer = Map::new();
        let refused = |items: &[Value], code: &'static str, message: &str| -> Value {
            items
                .iter()
                .map(|item| {
                    json!({"id": item.get("id").cloned().unwrap_or(json!(0)),
                           "error": item_error(&(501, code, message.to_owned()))})
                })
                .collect()
        };
        if request.contains_key("create") {
            let message = "The simulated store keeps the variations it was seeded with.";
            answer.insert(
                "create".into(),
                refused(create, "woocommerce_rest_cannot_create", message),
            );
        }
        if request.contains_key("update") {
            let resolve = |core: &Core, raw_id: i64| {
                variation_of(core, parent, raw_id).ok_or_else(invalid_variation)
            };
            let render = |core: &Core, p: &Product| variation(core, p, &woo.site_url);
            let updated =
                batch.apply_updates(core, now, resolve, render, &mut changes, &mut written);
            answer.insert("update".into(), updated);
        }
        if request.contains_key("delete") {
            let message = "The simulated store keeps every variation.";
            let items: Vec<Value> = delete.iter().map(|id| json!({"id": id})).collect();
            answer.insert(
                "delete".into(),
                refused(&items, "woocommerce_rest_cannot_delete", message),
            );
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
