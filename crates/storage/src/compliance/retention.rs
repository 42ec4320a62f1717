//! Retention: each tenant's periods, the purge of compliance records past them, and the
//! deletion log. A purge deletes only age evidence, the age-check failure log and the
//! refusals register; orders, payments, refunds, the stock ledger, the orders' compliance
//! standing and the audit log are never touched. Every run is logged per kind of record,
//! deletions or not, and audited, so the log proves the schedule ran.
//!
//! The worker runs it daily per tenant (`Store::retention_pass`); the claim on
//! `retention_settings.ran_at` makes one worker do each tenant's daily run.

use chrono::{DateTime, Duration, Utc};
use concord_domain::{
    Role,
    audit::AuditAction,
    compliance::retention::{RecordKind, RetentionPolicy},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Condition, Expr, OnConflict},
};
use serde_json::json;

use super::Period;
use crate::{
    NewAuditEntry, Scoped, Store, TenantScope,
    audit::append_in,
    decode,
    entity::{age_check_failure, refusal, retention_run, retention_setting, sale_evidence, tenant},
    error::Result,
    now,
};

/// How often each tenant's purge runs.
const EVERY: Duration = Duration::hours(24);

/// A tenant's retention periods and when its purge last ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionStatus {
    /// The periods.
    pub policy: RetentionPolicy,
    /// When the purge last ran.
    pub last_run: Option<DateTime<Utc>>,
}

/// One kind of record's outcome in one purge: the deletion log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// `del_…`
    pub id: String,
    /// When the purge ran.
    pub ran_at: DateTime<Utc>,
    /// Which records.
    pub kind: RecordKind,
    /// The period applied, in days.
    pub period_days: i32,
    /// Records from before this were past their period.
    pub cutoff: DateTime<Utc>,
    /// How many were deleted.
    pub deleted: i64,
    /// The oldest deleted record's time.
    pub oldest_deleted: Option<DateTime<Utc>>,
    /// The newest deleted record's time.
    pub newest_deleted: Option<DateTime<Utc>>,
    /// Who ran it (`system` for the schedule).
    pub actor: String,
}

impl Scoped<'_> {
    /// The tenant's retention periods (the defaults until changed) and last purge.
    pub async fn retention(&self) -> Result<RetentionStatus> {
        let txn = self.begin().await?;
        let row = self.select::<retention_setting::Entity>().one(&txn).await?;
        txn.commit().await?;
        Ok(status(row))
    }

    /// Changes the tenant's retention periods, audited with the previous ones.
    pub async fn set_retention(
        &self,
        policy: RetentionPolicy,
        actor: &str,
    ) -> Result<RetentionStatus> {
        let txn = self.begin_write().await?;
        let before = status(self.select::<retention_setting::Entity>().one(&txn).await?);
        retention_setting::Entity::insert(retention_setting::ActiveModel {
            tenant_id: Set(self.tenant_id().to_string()),
            sale_evidence_days: Set(policy.sale_evidence_days),
            age_check_failure_days: Set(policy.age_check_failure_days),
            refusal_days: Set(policy.refusal_days),
            ran_at: Set(before.last_run),
        })
        .on_conflict(
            OnConflict::column(retention_setting::Column::TenantId)
                .update_columns([
                    retention_setting::Column::SaleEvidenceDays,
                    retention_setting::Column::AgeCheckFailureDays,
                    retention_setting::Column::RefusalDays,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        append_in(
            self,
            &txn,
            NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::RetentionChanged,
                subject: "retention".into(),
                details: json!({ "before": before.policy, "after": policy }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(RetentionStatus {
            policy,
            last_run: before.last_run,
        })
    }

    /// Purges every record past its period now, whatever the schedule (an operator's run).
    pub async fn purge_expired(&self, actor: &str) -> Result<Vec<Deletion>> {
        let txn = self.begin_write().await?;
        let at = now();
        claim(self, &txn, at, None).await?;
        let policy = status(self.select::<retention_setting::Entity>().one(&txn).await?).policy;
        let done = purge_in(self, &txn, policy, at, actor).await?;
        txn.commit().await?;
        Ok(done)
    }

    /// The deletion log for `period`, newest first.
    pub async fn deletions(&self, period: Period, limit: u64) -> Result<Vec<Deletion>> {
        let txn = self.begin().await?;
        let mut q = self
            .select::<retention_run::Entity>()
            .order_by_desc(retention_run::Column::RanAt)
            .order_by_asc(retention_run::Column::RecordKind)
            .limit(limit);
        if let Some(from) = period.from {
            q = q.filter(retention_run::Column::RanAt.gte(from));
        }
        if let Some(to) = period.to {
            q = q.filter(retention_run::Column::RanAt.lt(to));
        }
        let rows = q.all(&txn).await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(Deletion {
                    kind: RecordKind::ALL
                        .into_iter()
                        .find(|k| k.as_str() == r.record_kind)
                        .ok_or_else(|| {
                            crate::StorageError::Corrupt(format!("record kind {}", r.record_kind))
                        })?,
                    id: r.id,
                    ran_at: r.ran_at,
                    period_days: r.period_days,
                    cutoff: r.cutoff,
                    deleted: r.deleted,
                    oldest_deleted: r.oldest_deleted,
                    newest_deleted: r.newest_deleted,
                    actor: r.actor,
                })
            })
            .collect()
    }
}

impl Store {
    /// The scheduled purge: every tenant whose last run is a day old (or that never ran)
    /// is purged once, by whichever worker claims it first. Returns how many tenants ran.
    pub async fn retention_pass(&self) -> Result<usize> {
        let at = now();
        let tenants: Vec<String> = tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut ran = 0;
        for id in tenants {
            let scope = TenantScope::new(decode::id(&id)?, Role::Owner);
            let scoped = self.scoped(&scope);
            let txn = scoped.begin_write().await?;
            if !claim(&scoped, &txn, at, Some(at - EVERY)).await? {
                txn.rollback().await?;
                continue;
            }
            let policy = status(
                scoped
                    .select::<retention_setting::Entity>()
                    .one(&txn)
                    .await?,
            )
            .policy;
            purge_in(&scoped, &txn, policy, at, "system").await?;
            txn.commit().await?;
            ran += 1;
        }
        Ok(ran)
    }
}

fn status(row: Option<retention_setting::Model>) -> RetentionStatus {
    match row {
        Some(r) => RetentionStatus {
            policy: RetentionPolicy {
                sale_evidence_days: r.sale_evidence_days,
                age_check_failure_days: r.age_check_failure_days,
                refusal_days: r.refusal_days,
            },
            last_run: r.ran_at,
        },
        None => RetentionStatus {
            policy: RetentionPolicy::default(),
            last_run: None,
        },
    }
}

/// Marks the tenant's purge as run at `at`; with `due_before`, only if it last ran before
/// then (or never). Returns whether this caller holds the run.
async fn claim(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    due_before: Option<DateTime<Utc>>,
) -> Result<bool> {
    let defaults = RetentionPolicy::default();
    let inserted = retention_setting::Entity::insert(retention_setting::ActiveModel {
        tenant_id: Set(scoped.tenant_id().to_string()),
        sale_evidence_days: Set(defaults.sale_evidence_days),
        age_check_failure_days: Set(defaults.age_check_failure_days),
        refusal_days: Set(defaults.refusal_days),
        ran_at: Set(Some(at)),
    })
    .on_conflict(
        OnConflict::column(retention_setting::Column::TenantId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted > 0 {
        return Ok(true);
    }
    let mut update = retention_setting::Entity::update_many()
        .col_expr(retention_setting::Column::RanAt, Expr::value(at))
        .filter(retention_setting::Column::TenantId.eq(scoped.tenant_id().as_str()));
    if let Some(due) = due_before {
        update = update.filter(
            Condition::any()
                .add(retention_setting::Column::RanAt.is_null())
                .add(retention_setting::Column::RanAt.lt(due)),
        );
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// Deletes each kind's records from before its cutoff, logs every kind, audits the run.
async fn purge_in(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    policy: RetentionPolicy,
    at: DateTime<Utc>,
    actor: &str,
) -> Result<Vec<Deletion>> {
    let tenant = scoped.tenant_id().as_str();
    let mut out = Vec::new();
    for kind in RecordKind::ALL {
        let cutoff = policy.cutoff(kind, at);
        let (times, deleted): (Vec<DateTime<Utc>>, u64) = match kind {
            RecordKind::SaleEvidence => {
                let old = sale_evidence::Column::CheckedAt.lt(cutoff);
                let times = scoped
                    .select::<sale_evidence::Entity>()
                    .filter(old.clone())
                    .select_only()
                    .column(sale_evidence::Column::CheckedAt)
                    .into_tuple()
                    .all(db)
                    .await?;
                let done = sale_evidence::Entity::delete_many()
                    .filter(sale_evidence::Column::TenantId.eq(tenant))
                    .filter(old)
                    .exec(db)
                    .await?;
                (times, done.rows_affected)
            }
            RecordKind::AgeCheckFailures => {
                let old = age_check_failure::Column::At.lt(cutoff);
                let times = scoped
                    .select::<age_check_failure::Entity>()
                    .filter(old.clone())
                    .select_only()
                    .column(age_check_failure::Column::At)
                    .into_tuple()
                    .all(db)
                    .await?;
                let done = age_check_failure::Entity::delete_many()
                    .filter(age_check_failure::Column::TenantId.eq(tenant))
                    .filter(old)
                    .exec(db)
                    .await?;
                (times, done.rows_affected)
            }
            RecordKind::Refusals => {
                let old = refusal::Column::At.lt(cutoff);
                let times = scoped
                    .select::<refusal::Entity>()
                    .filter(old.clone())
                    .select_only()
                    .column(refusal::Column::At)
                    .into_tuple()
                    .all(db)
                    .await?;
                let done = refusal::Entity::delete_many()
                    .filter(refusal::Column::TenantId.eq(tenant))
                    .filter(old)
                    .exec(db)
                    .await?;
                (times, done.rows_affected)
            }
        };
        let entry = Deletion {
            id: format!("del_{}", uuid::Uuid::now_v7().simple()),
            ran_at: at,
            kind,
            period_days: policy.days(kind),
            cutoff,
            deleted: i64::try_from(deleted).unwrap_or(i64::MAX),
            oldest_deleted: times.iter().min().copied(),
            newest_deleted: times.iter().max().copied(),
            actor: actor.to_owned(),
        };
        retention_run::Entity::insert(retention_run::ActiveModel {
            id: Set(entry.id.clone()),
            tenant_id: Set(tenant.to_owned()),
            ran_at: Set(entry.ran_at),
            record_kind: Set(kind.as_str().into()),
            period_days: Set(entry.period_days),
            cutoff: Set(entry.cutoff),
            deleted: Set(entry.deleted),
            oldest_deleted: Set(entry.oldest_deleted),
            newest_deleted: Set(entry.newest_deleted),
            actor: Set(entry.actor.clone()),
        })
        .exec_without_returning(db)
        .await?;
        out.push(entry);
    }
    append_in(
        scoped,
        db,
        NewAuditEntry {
            actor: actor.to_owned(),
            action: AuditAction::RetentionPurged,
            subject: "retention".into(),
            details: json!(
                out.iter()
                    .map(|d| json!({ "kind": d.kind, "cutoff": d.cutoff, "deleted": d.deleted }))
                    .collect::<Vec<_>>()
            ),
        },
    )
    .await?;
    Ok(out)
}
