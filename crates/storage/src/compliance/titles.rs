//! Title compliance versions: a change never edits what was known before; it records a
//! new version valid from a time and closes the previous one there, so a sale is always
//! judged against the version valid when it happened.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::{
    ProductId,
    audit::AuditAction,
    compliance::title::{TitleFields, TitleOverride, TitleVersion},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use serde_json::json;

use crate::{
    NewAuditEntry, Scoped,
    audit::append_in,
    decode,
    entity::{product, sku, title_compliance},
    error::{Result, StorageError},
    ledger, now,
};

/// A new version of a title's compliance record, already validated.
#[derive(Debug, Clone)]
pub struct TitleDraft {
    /// The fields.
    pub fields: TitleFields,
    /// Restrictions beyond the law.
    pub overrides: Vec<TitleOverride>,
    /// References to uploaded evidence.
    pub evidence_refs: Vec<String>,
    /// Where the classification came from.
    pub source: Option<String>,
    /// Who checked it.
    pub verified_by: Option<String>,
    /// When it was checked.
    pub verified_at: Option<DateTime<Utc>>,
    /// From when it applies (now when `None`); never before the current version's start.
    pub valid_from: Option<DateTime<Utc>>,
}

impl Scoped<'_> {
    /// Every compliance version of a product, newest first.
    pub async fn title_compliance(&self, product_id: &ProductId) -> Result<Vec<TitleVersion>> {
        let txn = self.begin().await?;
        find_product(self, &txn, product_id).await?;
        let mut versions = versions_of(self, &txn, std::slice::from_ref(product_id))
            .await?
            .remove(product_id.as_str())
            .unwrap_or_default();
        txn.commit().await?;
        versions.reverse();
        Ok(versions)
    }

    /// Records a new version of a product's compliance record, valid from `draft.valid_from`
    /// (closing the current one there), audited with what it replaces; recomputes the
    /// product's offers under it.
    pub async fn set_title_compliance(
        &self,
        product_id: &ProductId,
        draft: TitleDraft,
        actor: &str,
    ) -> Result<TitleVersion> {
        let txn = self.begin_write().await?;
        find_product(self, &txn, product_id).await?;
        let current = versions_of(self, &txn, std::slice::from_ref(product_id))
            .await?
            .remove(product_id.as_str())
            .and_then(|mut v| v.pop());
        let valid_from = draft.valid_from.unwrap_or_else(now);
        if let Some(c) = &current
            && valid_from <= c.valid_from
        {
            return Err(StorageError::Conflict(format!(
                "version {} is valid from {}; a new version must start after it (versions are never back-dated)",
                c.version, c.valid_from
            )));
        }
        let created = TitleVersion {
            version: current.as_ref().map_or(1, |c| c.version + 1),
            fields: draft.fields,
            overrides: draft.overrides,
            evidence_refs: draft.evidence_refs,
            source: draft.source,
            verified_by: draft.verified_by,
            verified_at: draft.verified_at,
            valid_from,
            valid_to: None,
        };
        if let Some(c) = &current {
            title_compliance::Entity::update_many()
                .col_expr(title_compliance::Column::ValidTo, Expr::value(valid_from))
                .filter(title_compliance::Column::TenantId.eq(self.tenant_id().as_str()))
                .filter(title_compliance::Column::ProductId.eq(product_id.as_str()))
                .filter(title_compliance::Column::Version.eq(c.version))
                .exec(&txn)
                .await?;
        }
        title_compliance::Entity::insert(title_compliance::ActiveModel {
            id: Set(format!("tcv_{}", uuid::Uuid::now_v7().simple())),
            tenant_id: Set(self.tenant_id().to_string()),
            product_id: Set(product_id.to_string()),
            version: Set(created.version),
            fields: Set(to_json(&created.fields)?),
            overrides: Set(to_json(&created.overrides)?),
            evidence_refs: Set(to_json(&created.evidence_refs)?),
            source: Set(created.source.clone()),
            verified_by: Set(created.verified_by.clone()),
            verified_at: Set(created.verified_at),
            valid_from: Set(created.valid_from),
            valid_to: Set(None),
            recorded_by: Set(actor.to_owned()),
            recorded_at: Set(now()),
        })
        .exec_without_returning(&txn)
        .await?;
        append_in(
            self,
            &txn,
            NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::TitleComplianceChanged,
                subject: format!("{product_id}#{}", created.version),
                details: json!({
                    "before": current.as_ref().map(|c| json!({ "version": c.version, "fields": c.fields, "overrides": c.overrides })),
                    "after": { "version": created.version, "fields": created.fields, "overrides": created.overrides,
                               "valid_from": created.valid_from, "source": created.source, "verified_by": created.verified_by },
                }),
            },
        )
        .await?;
        let skus: Vec<_> = self
            .select::<sku::Entity>()
            .filter(sku::Column::ProductId.eq(product_id.as_str()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| decode::id(&s.id))
            .collect::<Result<_>>()?;
        ledger::recompute_availability(self, &txn, &skus).await?;
        txn.commit().await?;
        Ok(created)
    }
}

/// A value as stored JSON text.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StorageError::Corrupt(format!("json: {e}")))
}

/// Every compliance version of `products`, oldest first per product id.
pub(crate) async fn versions_of(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    products: &[ProductId],
) -> Result<HashMap<String, Vec<TitleVersion>>> {
    let mut out: HashMap<String, Vec<TitleVersion>> = HashMap::new();
    if products.is_empty() {
        return Ok(out);
    }
    let rows = scoped
        .select::<title_compliance::Entity>()
        .filter(title_compliance::Column::ProductId.is_in(products.iter().map(ProductId::as_str)))
        .order_by_asc(title_compliance::Column::Version)
        .all(db)
        .await?;
    for r in rows {
        let corrupt = |what: &str, e: serde_json::Error| {
            StorageError::Corrupt(format!("{what} of {} v{}: {e}", r.product_id, r.version))
        };
        let version = TitleVersion {
            version: r.version,
            fields: serde_json::from_str(&r.fields).map_err(|e| corrupt("fields", e))?,
            overrides: serde_json::from_str(&r.overrides).map_err(|e| corrupt("overrides", e))?,
            evidence_refs: serde_json::from_str(&r.evidence_refs)
                .map_err(|e| corrupt("evidence refs", e))?,
            source: r.source.clone(),
            verified_by: r.verified_by.clone(),
            verified_at: r.verified_at,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        };
        out.entry(r.product_id).or_default().push(version);
    }
    Ok(out)
}

async fn find_product(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    id: &ProductId,
) -> Result<product::Model> {
    scoped
        .select::<product::Entity>()
        .filter(product::Column::Id.eq(id.as_str()))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound)
}
