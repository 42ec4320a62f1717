//! Time-driven listing enforcement: a rule version or a title version can take effect at a
//! time of its own, with no write to trigger a recompute then. Each pass finds what took
//! effect (or lapsed) since the tenant's last refresh and recomputes the offers it touches:
//! every SKU for a rule, the title's SKUs for a title version. Offers of channels without a
//! jurisdiction do not depend on rules, so tenants without one are skipped.

use chrono::{DateTime, Utc};
use concord_domain::{ProductId, Role};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};

use super::load_rules;
use crate::{
    Scoped, Store, TenantScope,
    channels::load_connections,
    decode,
    entity::{offer_refresh, sku, tenant, title_compliance},
    error::Result,
    ledger, now,
};

impl Store {
    /// One pass over every tenant; returns how many had offers recomputed.
    pub async fn refresh_offers_pass(&self) -> Result<usize> {
        let tenants: Vec<String> = tenant::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        let mut refreshed = 0;
        for id in tenants {
            let scope = TenantScope::new(decode::id(&id)?, Role::Owner);
            if refresh(&self.scoped(&scope)).await? {
                refreshed += 1;
            }
        }
        Ok(refreshed)
    }
}

/// Recomputes what took effect since the last refresh; returns whether anything was.
async fn refresh(scoped: &Scoped<'_>) -> Result<bool> {
    let txn = scoped.begin_write().await?;
    let at = now();
    let last = scoped
        .select::<offer_refresh::Entity>()
        .one(&txn)
        .await?
        .map(|r| r.refreshed_at);
    offer_refresh::Entity::insert(offer_refresh::ActiveModel {
        tenant_id: Set(scoped.tenant_id().to_string()),
        refreshed_at: Set(at),
    })
    .on_conflict(
        OnConflict::column(offer_refresh::Column::TenantId)
            .update_column(offer_refresh::Column::RefreshedAt)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let judged = load_connections(scoped, &txn)
        .await?
        .iter()
        .any(|c| c.compliance.is_some());
    let crossed =
        |t: Option<DateTime<Utc>>| t.is_some_and(|t| t <= at && last.is_none_or(|l| l < t));
    let mut done = false;
    if judged {
        let rules = load_rules(scoped, &txn).await?;
        if last.is_none()
            || rules
                .iter()
                .any(|r| crossed(r.effective_from) || crossed(r.effective_to))
        {
            ledger::recompute_all_availability(scoped, &txn).await?;
            done = true;
        } else {
            let mut started = scoped
                .select::<title_compliance::Entity>()
                .filter(title_compliance::Column::ValidFrom.lte(at));
            if let Some(last) = last {
                started = started.filter(title_compliance::Column::ValidFrom.gt(last));
            }
            let products: Vec<ProductId> = started
                .all(&txn)
                .await?
                .iter()
                .map(|v| decode::id(&v.product_id))
                .collect::<Result<_>>()?;
            if !products.is_empty() {
                let skus: Vec<_> = scoped
                    .select::<sku::Entity>()
                    .filter(sku::Column::ProductId.is_in(products.iter().map(ProductId::as_str)))
                    .all(&txn)
                    .await?
                    .into_iter()
                    .map(|s| decode::id(&s.id))
                    .collect::<Result<_>>()?;
                ledger::recompute_availability(scoped, &txn, &skus).await?;
                done = true;
            }
        }
    }
    txn.commit().await?;
    Ok(done)
}
