//! The catalog: products (titles) and their SKUs, including kits made of other SKUs.

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::{
    Barcode, ProductId, SkuId,
    catalog::{Classifications, Format, SkuCode},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::{
    Scoped, decode,
    entity::{kit_component, product, sku},
    error::{Result, StorageError},
    ledger, now,
};

/// A title in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// The fields a merchant edits.
    pub draft: ProductDraft,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A product's editable fields, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    /// Title.
    pub title: String,
    /// Edition format.
    pub format: Format,
    /// Studio or label.
    pub studio: Option<String>,
    /// Release date.
    pub release_date: Option<NaiveDate>,
    /// Whether the content is sexually explicit.
    pub explicit: bool,
    /// Whether the US 18 U.S.C. §2257 statement is present on the packaging.
    pub us_2257_statement_present: bool,
    /// Ratings per classification system.
    pub classifications: Classifications,
}

/// A sellable unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku {
    /// Its id.
    pub id: SkuId,
    /// The title it is an edition of.
    pub product_id: ProductId,
    /// The merchant's code, unique in the tenant.
    pub code: SkuCode,
    /// Its barcode, unique in the tenant.
    pub barcode: Option<Barcode>,
    /// For kits: the SKUs it consists of, with units per kit. Empty for ordinary SKUs.
    pub components: Vec<KitComponent>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// One component of a kit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitComponent {
    /// The component SKU.
    pub sku_id: SkuId,
    /// Units of it in one kit.
    pub quantity: i64,
}

/// What a new SKU needs.
#[derive(Debug, Clone)]
pub struct SkuDraft {
    /// The product.
    pub product_id: ProductId,
    /// The code.
    pub code: SkuCode,
    /// The barcode, if any.
    pub barcode: Option<Barcode>,
    /// Components, for a kit.
    pub components: Vec<KitComponent>,
}

/// One page of a listing and the cursor for the next.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

impl Scoped<'_> {
    /// Adds a product.
    pub async fn create_product(&self, draft: ProductDraft) -> Result<Product> {
        let txn = self.begin_write().await?;
        let created = insert_product(self, &txn, draft).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Replaces a product's fields.
    pub async fn update_product(&self, id: &ProductId, draft: ProductDraft) -> Result<Product> {
        let txn = self.begin_write().await?;
        let mut found = find_product(self, &txn, id).await?;
        found.draft = draft;
        found.updated_at = now();
        // The row was found through the tenant scope just above, so updating by key is safe.
        product::Entity::update(active_product(self, &found)?)
            .exec(&txn)
            .await?;
        refresh_search_text(self, &txn, id, &found.draft.title).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// One product.
    pub async fn product(&self, id: &ProductId) -> Result<Product> {
        let txn = self.begin().await?;
        let found = find_product(self, &txn, id).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// Products in creation order, optionally those whose title contains `search`.
    pub async fn products(
        &self,
        search: Option<&str>,
        after: Option<&ProductId>,
        limit: u64,
    ) -> Result<Page<Product>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<product::Entity>()
            .order_by_asc(product::Column::Id)
            .limit(limit + 1);
        if let Some(after) = after {
            query = query.filter(product::Column::Id.gt(after.as_str()));
        }
        if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
            query = query.filter(
                Expr::expr(Func::lower(Expr::col(product::Column::Title))).like(like_pattern(term)),
            );
        }
        let rows = query.all(&txn).await?;
        txn.commit().await?;
        let mut items = rows
            .into_iter()
            .map(to_product)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cursor(&mut items, limit, |p| p.id.to_string());
        Ok(Page { items, next_cursor })
    }

    /// Adds a SKU (or a kit, when it has components) to a product.
    pub async fn create_sku(&self, draft: SkuDraft) -> Result<Sku> {
        let txn = self.begin_write().await?;
        let product = find_product(self, &txn, &draft.product_id).await?;
        let created = insert_sku(self, &txn, draft, &product.draft.title).await?;
        ledger::recompute_availability(self, &txn, std::slice::from_ref(&created.id)).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// One SKU.
    pub async fn sku(&self, id: &SkuId) -> Result<Sku> {
        let txn = self.begin().await?;
        let row = find_sku_row(self, &txn, id).await?;
        let found = with_components(self, &txn, row).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// The SKUs of a product.
    pub async fn skus_of(&self, product_id: &ProductId) -> Result<Vec<Sku>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<sku::Entity>()
            .filter(sku::Column::ProductId.eq(product_id.as_str()))
            .order_by_asc(sku::Column::Code)
            .all(&txn)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(with_components(self, &txn, row).await?);
        }
        txn.commit().await?;
        Ok(out)
    }
}

/// Inserts a SKU (and its kit components, checked to exist and not be kits themselves).
pub(crate) async fn insert_sku(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    draft: SkuDraft,
    title: &str,
) -> Result<Sku> {
    let id = SkuId::generate();
    for component in &draft.components {
        if component.quantity <= 0 {
            return Err(StorageError::Conflict(
                "a kit component needs a quantity of at least 1".into(),
            ));
        }
        let part = find_sku_row(scoped, db, &component.sku_id)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => StorageError::Conflict(format!(
                    "kit component {} does not exist",
                    component.sku_id
                )),
                other => other,
            })?;
        if part.is_kit {
            return Err(StorageError::Conflict(format!(
                "kit component {} is itself a kit",
                part.code
            )));
        }
    }
    let created = Sku {
        id,
        product_id: draft.product_id,
        code: draft.code,
        barcode: draft.barcode,
        components: draft.components,
        created_at: now(),
    };
    sku::Entity::insert(sku::ActiveModel {
        id: Set(created.id.to_string()),
        tenant_id: Set(scoped.tenant_id().to_string()),
        product_id: Set(created.product_id.to_string()),
        code: Set(created.code.to_string()),
        barcode: Set(created.barcode.as_ref().map(ToString::to_string)),
        gtin14: Set(created.barcode.as_ref().map(Barcode::gtin14)),
        search_text: Set(search_text(created.code.as_str(), title)),
        is_kit: Set(!created.components.is_empty()),
        created_at: Set(created.created_at),
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| match StorageError::from(e) {
        StorageError::Conflict(_) => StorageError::Conflict(format!(
            "SKU code {} or its barcode is already in the catalog",
            created.code
        )),
        other => other,
    })?;
    for component in &created.components {
        kit_component::Entity::insert(kit_component::ActiveModel {
            kit_sku_id: Set(created.id.to_string()),
            component_sku_id: Set(component.sku_id.to_string()),
            tenant_id: Set(scoped.tenant_id().to_string()),
            quantity: Set(component.quantity),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(created)
}

/// Inserts a product.
pub(crate) async fn insert_product(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    draft: ProductDraft,
) -> Result<Product> {
    let at = now();
    let created = Product {
        id: ProductId::generate(),
        draft,
        created_at: at,
        updated_at: at,
    };
    product::Entity::insert(active_product(scoped, &created)?)
        .exec_without_returning(db)
        .await?;
    Ok(created)
}

/// What inventory search matches against: the SKU code and the title, lower-cased, in one
/// column so a search scans one plain column instead of joining and lower-casing.
pub(crate) fn search_text(code: &str, title: &str) -> String {
    format!("{code} {title}").to_lowercase()
}

/// Rewrites the search text of a product's SKUs after its title changed.
pub(crate) async fn refresh_search_text(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    product_id: &ProductId,
    title: &str,
) -> Result<()> {
    let skus = scoped
        .select::<sku::Entity>()
        .filter(sku::Column::ProductId.eq(product_id.as_str()))
        .all(db)
        .await?;
    for s in skus {
        sku::Entity::update_many()
            .col_expr(
                sku::Column::SearchText,
                Expr::value(search_text(&s.code, title)),
            )
            .filter(sku::Column::TenantId.eq(scoped.tenant_id().as_str()))
            .filter(sku::Column::Id.eq(s.id.as_str()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Keeps `limit` items and returns the cursor of the last kept one if more followed.
pub(crate) fn page_cursor<T>(
    items: &mut Vec<T>,
    limit: u64,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(key)
    } else {
        None
    }
}

/// A case-insensitive `LIKE` pattern matching `term` anywhere, with wildcards escaped.
pub(crate) fn like_pattern(term: &str) -> String {
    let escaped: String = term
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    format!("%{escaped}%")
}

async fn find_product(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    id: &ProductId,
) -> Result<Product> {
    let row = scoped
        .select::<product::Entity>()
        .filter(product::Column::Id.eq(id.as_str()))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound)?;
    to_product(row)
}

pub(crate) async fn find_sku_row(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    id: &SkuId,
) -> Result<sku::Model> {
    scoped
        .select::<sku::Entity>()
        .filter(sku::Column::Id.eq(id.as_str()))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound)
}

async fn with_components(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    row: sku::Model,
) -> Result<Sku> {
    let components = if row.is_kit {
        scoped
            .select::<kit_component::Entity>()
            .filter(kit_component::Column::KitSkuId.eq(row.id.as_str()))
            .all(db)
            .await?
            .into_iter()
            .map(|c| {
                Ok(KitComponent {
                    sku_id: decode::id(&c.component_sku_id)?,
                    quantity: c.quantity,
                })
            })
            .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    to_sku(row, components)
}

pub(crate) fn to_sku(row: sku::Model, components: Vec<KitComponent>) -> Result<Sku> {
    Ok(Sku {
        id: decode::id(&row.id)?,
        product_id: decode::id(&row.product_id)?,
        code: decode::parsed(&row.code, SkuCode::parse)?,
        barcode: row
            .barcode
            .as_deref()
            .map(|b| decode::parsed(b, Barcode::parse))
            .transpose()?,
        components,
        created_at: row.created_at,
    })
}

/// Reads a stored product.
pub(crate) fn to_product(row: product::Model) -> Result<Product> {
    let classifications: Classifications = serde_json::from_str(&row.classifications)
        .map_err(|e| StorageError::Corrupt(format!("classifications of {}: {e}", row.id)))?;
    Ok(Product {
        id: decode::id(&row.id)?,
        draft: ProductDraft {
            title: row.title,
            format: decode::parsed(&row.format, str::parse)?,
            studio: row.studio,
            release_date: row.release_date,
            explicit: row.explicit,
            us_2257_statement_present: row.us_2257_statement_present,
            classifications,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn active_product(scoped: &Scoped<'_>, p: &Product) -> Result<product::ActiveModel> {
    let classifications = serde_json::to_string(&p.draft.classifications)
        .map_err(|e| StorageError::Corrupt(format!("classifications: {e}")))?;
    Ok(product::ActiveModel {
        id: Set(p.id.to_string()),
        tenant_id: Set(scoped.tenant_id().to_string()),
        title: Set(p.draft.title.clone()),
        format: Set(p.draft.format.as_str().to_owned()),
        studio: Set(p.draft.studio.clone()),
        release_date: Set(p.draft.release_date),
        explicit: Set(p.draft.explicit),
        us_2257_statement_present: Set(p.draft.us_2257_statement_present),
        classifications: Set(classifications),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    })
}
