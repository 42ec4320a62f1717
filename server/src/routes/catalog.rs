//! Products and SKUs (kits included).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::{
    Barcode, Permission, ProductId, SkuId, ValidationError,
    catalog::{Classifications, Format, SkuCode},
    validate::parse_label,
};
use concord_storage::{KitComponent, Product, ProductDraft, Sku, SkuDraft};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    routes::{inventory::SkuStockOut, path_id},
    state::AppState,
};

/// A product's fields.
#[derive(Deserialize, ToSchema)]
pub struct ProductIn {
    /// Title, 1–300 characters.
    pub title: String,
    /// Edition format.
    pub format: Format,
    /// Studio or label.
    pub studio: Option<String>,
    /// Release date (YYYY-MM-DD).
    pub release_date: Option<NaiveDate>,
    /// Sexually explicit content.
    #[serde(default)]
    pub explicit: bool,
    /// The US §2257 statement is on the packaging.
    #[serde(default)]
    pub us_2257_statement_present: bool,
    /// Ratings by system: `{"bbfc":"R18","fsk":"18","au":"X18+","mpa":"NC-17","ca_bc":"adult"}`.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub classifications: BTreeMap<String, String>,
}

impl ProductIn {
    /// Validates into a draft.
    pub fn into_draft(self) -> Result<ProductDraft, ValidationError> {
        let studio = self
            .studio
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_label("studio", &s, 200))
            .transpose()?;
        Ok(ProductDraft {
            title: parse_label("title", &self.title, 300)?,
            format: self.format,
            studio,
            release_date: self.release_date,
            explicit: self.explicit,
            us_2257_statement_present: self.us_2257_statement_present,
            classifications: Classifications::try_from(self.classifications)?,
        })
    }
}

/// A product.
#[derive(Serialize, ToSchema)]
pub struct ProductOut {
    /// `prd_…`
    #[schema(value_type = String)]
    pub id: ProductId,
    /// Title.
    pub title: String,
    /// Edition format.
    pub format: Format,
    /// Studio.
    pub studio: Option<String>,
    /// Release date.
    pub release_date: Option<NaiveDate>,
    /// Sexually explicit content.
    pub explicit: bool,
    /// US §2257 statement present.
    pub us_2257_statement_present: bool,
    /// Ratings by system.
    #[schema(value_type = BTreeMap<String, String>)]
    pub classifications: Classifications,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Product> for ProductOut {
    fn from(p: Product) -> Self {
        let d = p.draft;
        Self {
            id: p.id,
            title: d.title,
            format: d.format,
            studio: d.studio,
            release_date: d.release_date,
            explicit: d.explicit,
            us_2257_statement_present: d.us_2257_statement_present,
            classifications: d.classifications,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of products.
#[derive(Serialize, ToSchema)]
pub struct ProductPage {
    /// The products.
    pub items: Vec<ProductOut>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Listing parameters.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Text to search for.
    pub search: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u64>,
}

/// Clamps a requested page size to 1–500, 50 by default.
pub fn page_size(limit: Option<u64>) -> u64 {
    limit.unwrap_or(50).clamp(1, 500)
}

/// A new SKU.
#[derive(Deserialize, ToSchema)]
pub struct SkuIn {
    /// The product it is an edition of.
    #[schema(value_type = String)]
    pub product_id: String,
    /// The merchant's code, unique in the tenant.
    pub code: String,
    /// UPC-A, EAN-13, EAN-8 or GTIN-14 with a valid check digit.
    pub barcode: Option<String>,
    /// For a kit or box set: the SKUs it is made of.
    #[serde(default)]
    pub components: Vec<ComponentIn>,
}

/// A kit component.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ComponentIn {
    /// The component SKU.
    #[schema(value_type = String)]
    pub sku_id: String,
    /// Units per kit (≥ 1).
    pub quantity: i64,
}

/// A SKU.
#[derive(Serialize, ToSchema)]
pub struct SkuOut {
    /// `sku_…`
    #[schema(value_type = String)]
    pub id: SkuId,
    /// Its product.
    #[schema(value_type = String)]
    pub product_id: ProductId,
    /// Its code.
    #[schema(value_type = String)]
    pub code: SkuCode,
    /// Its barcode.
    #[schema(value_type = Option<String>)]
    pub barcode: Option<Barcode>,
    /// Kit components (empty for ordinary SKUs).
    pub components: Vec<ComponentIn>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<Sku> for SkuOut {
    fn from(s: Sku) -> Self {
        Self {
            id: s.id,
            product_id: s.product_id,
            code: s.code,
            barcode: s.barcode,
            components: s
                .components
                .into_iter()
                .map(|c| ComponentIn {
                    sku_id: c.sku_id.to_string(),
                    quantity: c.quantity,
                })
                .collect(),
            created_at: s.created_at,
        }
    }
}

/// Products, oldest first.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/products", tag = "catalog",
    params(("tenant_id" = String, Path), ListQuery),
    responses((status = 200, body = ProductPage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_products(
    state: web::Data<AppState>,
    access: TenantAccess,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<ProductPage>> {
    let after = query
        .cursor
        .as_deref()
        .map(path_id::<ProductId>)
        .transpose()?;
    let page = access
        .repos(&state)
        .products(
            query.search.as_deref(),
            after.as_ref(),
            page_size(query.limit),
        )
        .await?;
    Ok(web::Json(ProductPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Adds a product (owner, admin, staff).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/products", tag = "catalog", request_body = ProductIn,
    params(("tenant_id" = String, Path)),
    responses((status = 201, body = ProductOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_product(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<ProductIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let product = access
        .repos(&state)
        .create_product(body.into_inner().into_draft()?)
        .await?;
    Ok(HttpResponse::Created().json(ProductOut::from(product)))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/products/{product_id}", tag = "catalog",
    params(("tenant_id" = String, Path), ("product_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 404, body = ErrorBody)))]
pub async fn get_product(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<ProductOut>> {
    let id: ProductId = path_id(&path.1)?;
    Ok(web::Json(access.repos(&state).product(&id).await?.into()))
}

/// Replaces a product's fields (owner, admin, staff).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/products/{product_id}", tag = "catalog",
    request_body = ProductIn, params(("tenant_id" = String, Path), ("product_id" = String, Path)),
    responses((status = 200, body = ProductOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_product(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<ProductIn>,
) -> ApiResult<web::Json<ProductOut>> {
    access.require(Permission::Operate)?;
    let id: ProductId = path_id(&path.1)?;
    Ok(web::Json(
        access
            .repos(&state)
            .update_product(&id, body.into_inner().into_draft()?)
            .await?
            .into(),
    ))
}

/// A product's SKUs.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/products/{product_id}/skus", tag = "catalog",
    params(("tenant_id" = String, Path), ("product_id" = String, Path)),
    responses((status = 200, body = Vec<SkuOut>), (status = 404, body = ErrorBody)))]
pub async fn product_skus(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Vec<SkuOut>>> {
    let id: ProductId = path_id(&path.1)?;
    let repos = access.repos(&state);
    repos.product(&id).await?;
    Ok(web::Json(
        repos
            .skus_of(&id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Adds a SKU, or a kit when it has components (owner, admin, staff).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/skus", tag = "catalog", request_body = SkuIn,
    params(("tenant_id" = String, Path)),
    responses((status = 201, body = SkuOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Code or barcode taken, or a bad component"),
        (status = 422, body = ErrorBody)))]
pub async fn create_sku(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<SkuIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::Operate)?;
    let body = body.into_inner();
    let product_id: ProductId =
        ProductId::parse(&body.product_id).map_err(|_| ValidationError {
            field: "product_id",
            message: format!("`{}` is not a product id", body.product_id),
        })?;
    let components = body
        .components
        .into_iter()
        .map(|c| {
            let sku_id = SkuId::parse(&c.sku_id).map_err(|_| ValidationError {
                field: "components",
                message: format!("`{}` is not a SKU id", c.sku_id),
            })?;
            Ok(KitComponent {
                sku_id,
                quantity: c.quantity,
            })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    let draft = SkuDraft {
        product_id,
        code: SkuCode::parse(&body.code)?,
        barcode: body
            .barcode
            .as_deref()
            .filter(|b| !b.trim().is_empty())
            .map(Barcode::parse)
            .transpose()?,
        components,
    };
    let repos = access.repos(&state);
    let sku = repos.create_sku(draft).await?;
    Ok(HttpResponse::Created().json(SkuOut::from(sku)))
}

/// One SKU with its stock per location and offer per channel.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/skus/{sku_id}", tag = "catalog",
    params(("tenant_id" = String, Path), ("sku_id" = String, Path)),
    responses((status = 200, body = SkuStockOut), (status = 404, body = ErrorBody)))]
pub async fn get_sku(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<SkuStockOut>> {
    let id: SkuId = path_id(&path.1)?;
    Ok(web::Json(
        SkuStockOut::load(&access.repos(&state), &id).await?,
    ))
}
