//! Compliance storage: the tenant's jurisdiction rules (versions, seeded on first use), each
//! title's compliance versions (`titles`), and where each connection sells. Every change is
//! audited in its own transaction. The rules themselves are judged by
//! `concord_domain::compliance::rules::judge`; nothing here decides.

mod listing;
mod orders;
mod records;
mod refresh;
mod registers;
mod retention;
mod titles;

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, ProductId,
    audit::AuditAction,
    compliance::{
        ChannelKind, Jurisdiction,
        rules::{Decision, Rule, judge},
        seed::{SEED_APPROVER, seeded_rules},
        title::version_at,
    },
};
pub(crate) use listing::{forbidden_offers, register_withheld};
pub use orders::LineJudgement;
pub(crate) use orders::{SaleToJudge, judge_sales};
pub(crate) use records::to_evidence;
pub use records::{EvidenceDraft, OrderCompliance, SaleEvidence};
pub use registers::{AgeCheckFailure, AgeCheckFailureDraft, Period, Refusal, RefusalDraft};
pub use retention::{Deletion, RetentionStatus};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, OnConflict},
};
use serde_json::json;
pub use titles::TitleDraft;
pub(crate) use titles::versions_of;

use crate::{
    NewAuditEntry, Scoped,
    audit::append_in,
    entity::{compliance_rule, connection},
    error::{Result, StorageError},
    now,
};

/// Who the seeding is attributed to in the audit log.
const SYSTEM: &str = "system";

/// One stored version of a jurisdiction rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// Its id (`rul_…`).
    pub id: String,
    /// The rule version.
    pub rule: Rule,
    /// Who recorded it (`system` for the seed).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Scoped<'_> {
    /// Every version of every jurisdiction rule, by code then version. The seeded rules are
    /// installed the first time a tenant's rules are read.
    pub async fn compliance_rules(&self) -> Result<Vec<RuleRecord>> {
        let txn = self.begin_write().await?;
        ensure_seeded(self, &txn).await?;
        let rows = self
            .select::<compliance_rule::Entity>()
            .order_by_asc(compliance_rule::Column::Code)
            .order_by_asc(compliance_rule::Column::Version)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(to_record).collect()
    }

    /// What the rules in force at `at` decide for a product sold in `place` through a
    /// `channel`, judged against its compliance version valid then.
    pub async fn title_decision(
        &self,
        product_id: &ProductId,
        place: &Jurisdiction,
        channel: ChannelKind,
        at: DateTime<Utc>,
    ) -> Result<Decision> {
        let versions = self.title_compliance(product_id).await?;
        let txn = self.begin_write().await?;
        let rules = load_rules(self, &txn).await?;
        txn.commit().await?;
        Ok(judge(version_at(&versions, at), &rules, place, channel, at))
    }

    /// Records a new version of the rule `draft.code` (version 1 for a new code), approved
    /// by `draft.approved_by` or else by `actor`, now unless `draft.approved_at` says when.
    /// Audited with the version it follows.
    pub async fn create_rule_version(&self, mut draft: Rule, actor: &str) -> Result<RuleRecord> {
        let txn = self.begin_write().await?;
        ensure_seeded(self, &txn).await?;
        let previous = self
            .select::<compliance_rule::Entity>()
            .filter(compliance_rule::Column::Code.eq(draft.code.as_str()))
            .order_by_desc(compliance_rule::Column::Version)
            .one(&txn)
            .await?
            .map(to_record)
            .transpose()?;
        draft.version = previous.as_ref().map_or(1, |p| p.rule.version + 1);
        if draft.approved_by.is_none() {
            draft.approved_by = Some(actor.to_owned());
        }
        if draft.approved_at.is_none() {
            draft.approved_at = Some(now());
        }
        let record = insert_rule(self, &txn, draft, actor).await?;
        append_in(
            self,
            &txn,
            NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::RuleVersionCreated,
                subject: format!("{}#{}", record.rule.code, record.rule.version),
                details: json!({
                    "before": previous.map(|p| p.rule),
                    "after": record.rule,
                }),
            },
        )
        .await?;
        crate::ledger::recompute_all_availability(self, &txn).await?;
        txn.commit().await?;
        Ok(record)
    }

    /// Sets where a connection sells and how (or clears it with `None`), audited, and
    /// recomputes its offers under the rules that now apply.
    pub async fn set_channel_compliance(
        &self,
        connection_id: &ConnectionId,
        compliance: Option<(Jurisdiction, ChannelKind)>,
        actor: &str,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let before = self
            .select::<connection::Entity>()
            .filter(connection::Column::Id.eq(connection_id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        let (jurisdiction, kind) = match &compliance {
            Some((j, k)) => (Some(j.to_string()), Some(k.as_str().to_owned())),
            None => (None, None),
        };
        connection::Entity::update_many()
            .col_expr(
                connection::Column::Jurisdiction,
                Expr::value(jurisdiction.clone()),
            )
            .col_expr(connection::Column::ChannelKind, Expr::value(kind.clone()))
            .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection::Column::Id.eq(connection_id.as_str()))
            .exec(&txn)
            .await?;
        append_in(
            self,
            &txn,
            NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::ConnectionComplianceChanged,
                subject: connection_id.to_string(),
                details: json!({
                    "before": { "jurisdiction": before.jurisdiction, "channel_kind": before.channel_kind },
                    "after": { "jurisdiction": jurisdiction, "channel_kind": kind },
                }),
            },
        )
        .await?;
        crate::ledger::recompute_all_availability(self, &txn).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// Installs the seeded rules if the tenant has none yet, audited as done by the system.
/// Two transactions seeding at once insert once: the second skips the rows the first wrote.
pub(crate) async fn ensure_seeded(scoped: &Scoped<'_>, db: &impl ConnectionTrait) -> Result<()> {
    if scoped.select::<compliance_rule::Entity>().count(db).await? > 0 {
        return Ok(());
    }
    let at = now();
    let mut codes = Vec::new();
    let mut rows = Vec::new();
    for mut rule in seeded_rules() {
        rule.approved_at = Some(at);
        codes.push(rule.code.clone());
        rows.push(active_rule(scoped, &new_record(rule, SYSTEM))?);
    }
    let inserted = compliance_rule::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                compliance_rule::Column::TenantId,
                compliance_rule::Column::Code,
                compliance_rule::Column::Version,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(());
    }
    append_in(
        scoped,
        db,
        NewAuditEntry {
            actor: SYSTEM.into(),
            action: AuditAction::RulesSeeded,
            subject: "compliance_rules".into(),
            details: json!({ "approved_by": SEED_APPROVER, "codes": codes, "version": 1 }),
        },
    )
    .await?;
    Ok(())
}

/// Every rule version of the tenant, seeding first if needed (for judging inside `db`).
pub(crate) async fn load_rules(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
) -> Result<Vec<Rule>> {
    ensure_seeded(scoped, db).await?;
    scoped
        .select::<compliance_rule::Entity>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| to_record(r).map(|r| r.rule))
        .collect()
}

fn new_record(rule: Rule, actor: &str) -> RuleRecord {
    RuleRecord {
        id: format!("rul_{}", uuid::Uuid::now_v7().simple()),
        rule,
        created_by: actor.to_owned(),
        created_at: now(),
    }
}

fn active_rule(scoped: &Scoped<'_>, record: &RuleRecord) -> Result<compliance_rule::ActiveModel> {
    let body = serde_json::to_string(&record.rule)
        .map_err(|e| StorageError::Corrupt(format!("rule {}: {e}", record.rule.code)))?;
    Ok(compliance_rule::ActiveModel {
        id: Set(record.id.clone()),
        tenant_id: Set(scoped.tenant_id().to_string()),
        code: Set(record.rule.code.clone()),
        version: Set(record.rule.version),
        rule: Set(body),
        created_by: Set(record.created_by.clone()),
        created_at: Set(record.created_at),
    })
}

async fn insert_rule(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    rule: Rule,
    actor: &str,
) -> Result<RuleRecord> {
    let record = new_record(rule, actor);
    compliance_rule::Entity::insert(active_rule(scoped, &record)?)
        .exec_without_returning(db)
        .await
        .map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(_) => StorageError::Conflict(format!(
                "version {} of {} was recorded at the same moment; try again",
                record.rule.version, record.rule.code
            )),
            other => other,
        })?;
    Ok(record)
}

fn to_record(m: compliance_rule::Model) -> Result<RuleRecord> {
    let rule: Rule = serde_json::from_str(&m.rule)
        .map_err(|e| StorageError::Corrupt(format!("rule {}#{}: {e}", m.code, m.version)))?;
    Ok(RuleRecord {
        id: m.id,
        rule,
        created_by: m.created_by,
        created_at: m.created_at,
    })
}
