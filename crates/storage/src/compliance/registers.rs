//! The refusals register and the online age-check failure log (COMPLIANCE.md §1.3): who
//! was refused or failed a check, when, where and for which category of title, without any
//! customer identity.

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, LocationId, OrderId,
    compliance::evidence::{CheckMethod, CheckResult, RefusalReason},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};

use crate::{
    Scoped, decode,
    entity::{age_check_failure, refusal},
    error::{Result, StorageError},
};

/// An in-store refusal to record.
#[derive(Debug, Clone)]
pub struct RefusalDraft {
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: RefusalReason,
    /// The store.
    pub location_id: Option<LocationId>,
    /// The channel (a POS connection), if any.
    pub connection_id: Option<ConnectionId>,
    /// The staff member.
    pub verifier: Option<String>,
    /// The title's category (`BBFC R18`).
    pub title_category: String,
}

/// A refusals-register entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `ref_…`
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// `in_store`, `order_blocked` or `listing_withheld`.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// The store.
    pub location_id: Option<String>,
    /// The channel.
    pub connection_id: Option<String>,
    /// The staff member or provider.
    pub verifier: Option<String>,
    /// The title's category.
    pub title_category: String,
    /// The order, for blocked orders.
    pub order_id: Option<String>,
    /// The SKU, for withheld offers.
    pub sku_id: Option<String>,
    /// Rules, jurisdiction and fields involved.
    pub detail: Value,
    /// Who recorded it.
    pub recorded_by: String,
}

/// An online age-check failure to record (no customer identity).
#[derive(Debug, Clone)]
pub struct AgeCheckFailureDraft {
    /// When.
    pub at: DateTime<Utc>,
    /// The channel.
    pub connection_id: Option<ConnectionId>,
    /// The AV provider.
    pub provider: String,
    /// The provider's method.
    pub method: Option<CheckMethod>,
    /// fail, refused or abandoned.
    pub result: CheckResult,
    /// The title's category.
    pub title_category: String,
    /// The order, if one was placed.
    pub order_id: Option<OrderId>,
}

/// An age-check failure log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeCheckFailure {
    /// `avf_…`
    pub id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The channel.
    pub connection_id: Option<String>,
    /// The provider.
    pub provider: String,
    /// Its method.
    pub method: Option<CheckMethod>,
    /// fail, refused or abandoned.
    pub result: CheckResult,
    /// The title's category.
    pub title_category: String,
    /// The order.
    pub order_id: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
}

/// A period of records, `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    /// From.
    pub from: Option<DateTime<Utc>>,
    /// Until.
    pub to: Option<DateTime<Utc>>,
}

impl Scoped<'_> {
    /// Enters an in-store refusal in the register.
    pub async fn record_refusal(&self, draft: RefusalDraft, actor: &str) -> Result<Refusal> {
        let txn = self.begin_write().await?;
        let created = Refusal {
            id: format!("ref_{}", uuid::Uuid::now_v7().simple()),
            at: draft.at,
            kind: "in_store".into(),
            reason: draft.reason.as_str().into(),
            location_id: draft.location_id.map(String::from),
            connection_id: draft.connection_id.map(String::from),
            verifier: draft.verifier,
            title_category: draft.title_category,
            order_id: None,
            sku_id: None,
            detail: json!({}),
            recorded_by: actor.to_owned(),
        };
        refusal::Entity::insert(refusal::ActiveModel {
            id: Set(created.id.clone()),
            tenant_id: Set(self.tenant_id().to_string()),
            at: Set(created.at),
            kind: Set(created.kind.clone()),
            reason: Set(created.reason.clone()),
            location_id: Set(created.location_id.clone()),
            connection_id: Set(created.connection_id.clone()),
            verifier: Set(created.verifier.clone()),
            title_category: Set(created.title_category.clone()),
            order_id: Set(None),
            sku_id: Set(None),
            detail: Set("{}".into()),
            recorded_by: Set(created.recorded_by.clone()),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// The refusals register for `period`, oldest first.
    pub async fn refusals(&self, period: Period, limit: u64) -> Result<Vec<Refusal>> {
        let txn = self.begin().await?;
        let mut q = self
            .select::<refusal::Entity>()
            .order_by_asc(refusal::Column::At)
            .limit(limit);
        if let Some(from) = period.from {
            q = q.filter(refusal::Column::At.gte(from));
        }
        if let Some(to) = period.to {
            q = q.filter(refusal::Column::At.lt(to));
        }
        let rows = q.all(&txn).await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(Refusal {
                    detail: serde_json::from_str(&r.detail)
                        .map_err(|e| StorageError::Corrupt(format!("refusal {}: {e}", r.id)))?,
                    id: r.id,
                    at: r.at,
                    kind: r.kind,
                    reason: r.reason,
                    location_id: r.location_id,
                    connection_id: r.connection_id,
                    verifier: r.verifier,
                    title_category: r.title_category,
                    order_id: r.order_id,
                    sku_id: r.sku_id,
                    recorded_by: r.recorded_by,
                })
            })
            .collect()
    }

    /// Enters an online age-check failure in the log.
    pub async fn record_age_check_failure(
        &self,
        draft: AgeCheckFailureDraft,
        actor: &str,
    ) -> Result<AgeCheckFailure> {
        if draft.result == CheckResult::Pass {
            return Err(StorageError::Conflict(
                "a passed check is not a failure".into(),
            ));
        }
        let txn = self.begin_write().await?;
        let created = insert_failure(self, &txn, draft, actor).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// The age-check failure log for `period`, oldest first.
    pub async fn age_check_failures(
        &self,
        period: Period,
        limit: u64,
    ) -> Result<Vec<AgeCheckFailure>> {
        let txn = self.begin().await?;
        let mut q = self
            .select::<age_check_failure::Entity>()
            .order_by_asc(age_check_failure::Column::At)
            .limit(limit);
        if let Some(from) = period.from {
            q = q.filter(age_check_failure::Column::At.gte(from));
        }
        if let Some(to) = period.to {
            q = q.filter(age_check_failure::Column::At.lt(to));
        }
        let rows = q.all(&txn).await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(AgeCheckFailure {
                    method: r
                        .method
                        .as_deref()
                        .map(|m| decode::parsed(m, str::parse))
                        .transpose()?,
                    result: decode::parsed(&r.result, str::parse)?,
                    id: r.id,
                    at: r.at,
                    connection_id: r.connection_id,
                    provider: r.provider,
                    title_category: r.title_category,
                    order_id: r.order_id,
                    recorded_by: r.recorded_by,
                })
            })
            .collect()
    }
}

/// Writes a failure log entry.
pub(crate) async fn insert_failure(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    draft: AgeCheckFailureDraft,
    actor: &str,
) -> Result<AgeCheckFailure> {
    let created = AgeCheckFailure {
        id: format!("avf_{}", uuid::Uuid::now_v7().simple()),
        at: draft.at,
        connection_id: draft.connection_id.map(String::from),
        provider: draft.provider,
        method: draft.method,
        result: draft.result,
        title_category: draft.title_category,
        order_id: draft.order_id.map(String::from),
        recorded_by: actor.to_owned(),
    };
    age_check_failure::Entity::insert(age_check_failure::ActiveModel {
        id: Set(created.id.clone()),
        tenant_id: Set(scoped.tenant_id().to_string()),
        at: Set(created.at),
        connection_id: Set(created.connection_id.clone()),
        provider: Set(created.provider.clone()),
        method: Set(created.method.map(|m| m.as_str().into())),
        result: Set(created.result.as_str().into()),
        title_category: Set(created.title_category.clone()),
        order_id: Set(created.order_id.clone()),
        recorded_by: Set(created.recorded_by.clone()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(created)
}
