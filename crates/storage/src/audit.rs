//! The tamper-evident audit log: appending to a tenant's hash chain, reading it back, and
//! verifying every chain (see `concord_domain::audit` for the chain's rules).
//!
//! Appends are serialized per tenant by the chain's head row (`audit_heads`), locked for
//! the rest of the transaction on PostgreSQL (SQLite's write lock already serializes
//! writers). Changes that must be audited append inside their own transaction
//! ([`append_in`]), so a change and its entry commit together or not at all.

use chrono::{DateTime, Utc};
use concord_domain::{
    TenantId,
    audit::{AuditAction, AuditEntry, ChainBreak, ChainCheck, GENESIS, canonical_json},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use serde_json::Value;

use crate::{
    Page, Scoped, Store,
    catalog::page_cursor,
    decode,
    entity::{audit_entry, audit_head, tenant},
    error::{Result, StorageError},
    now,
};

/// Entries read per query while verifying.
const VERIFY_BATCH: u64 = 1000;

/// What to record in the audit log.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// Who acted: a user id, a connection id, or `system`.
    pub actor: String,
    /// What they did.
    pub action: AuditAction,
    /// What it was done to: an id or a code.
    pub subject: String,
    /// Structured details: before and after, reasons, hashes. Never personal data.
    pub details: Value,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only actions that change a rule, a classification or a decision.
    pub rules_and_overrides: bool,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
    /// Continue after this position (the previous page's cursor).
    pub after: Option<i64>,
    /// Page size.
    pub limit: u64,
}

/// One tenant's audit log. Opened by [`Scoped::audit`].
#[derive(Debug)]
pub struct AuditLog<'a> {
    scoped: &'a Scoped<'a>,
}

/// The outcome of verifying one tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Entries checked and found intact, or the first break.
    pub outcome: Result<i64, ChainBreak>,
}

impl Scoped<'_> {
    /// The tenant's audit log.
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog { scoped: self }
    }
}

impl AuditLog<'_> {
    /// Appends one entry on its own (for events with no other write, such as an export).
    pub async fn append(&self, entry: NewAuditEntry) -> Result<AuditEntry> {
        let txn = self.scoped.begin_write().await?;
        let appended = append_in(self.scoped, &txn, entry).await?;
        txn.commit().await?;
        Ok(appended)
    }

    /// Entries in chain order, filtered and paged.
    pub async fn entries(&self, q: &AuditQuery) -> Result<Page<AuditEntry>> {
        let txn = self.scoped.begin().await?;
        let mut query = self
            .scoped
            .select::<audit_entry::Entity>()
            .order_by_asc(audit_entry::Column::Seq)
            .limit(q.limit + 1);
        if let Some(action) = q.action {
            query = query.filter(audit_entry::Column::Action.eq(action.as_str()));
        }
        if q.rules_and_overrides {
            let actions: Vec<&str> = AuditAction::ALL
                .into_iter()
                .filter(|a| a.is_rule_or_override())
                .map(AuditAction::as_str)
                .collect();
            query = query.filter(audit_entry::Column::Action.is_in(actions));
        }
        if let Some(from) = q.from {
            query = query.filter(audit_entry::Column::At.gte(from));
        }
        if let Some(to) = q.to {
            query = query.filter(audit_entry::Column::At.lt(to));
        }
        if let Some(after) = q.after {
            query = query.filter(audit_entry::Column::Seq.gt(after));
        }
        let rows = query.all(&txn).await?;
        txn.commit().await?;
        let mut items = rows
            .into_iter()
            .map(|m| to_entry(m).map_err(|seq| StorageError::Corrupt(format!("audit entry {seq}"))))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cursor(&mut items, q.limit, |e| e.seq.to_string());
        Ok(Page { items, next_cursor })
    }
}

/// Appends `entry` to the scope's chain inside `txn`.
pub(crate) async fn append_in(
    scoped: &Scoped<'_>,
    txn: &impl ConnectionTrait,
    entry: NewAuditEntry,
) -> Result<AuditEntry> {
    let tenant = scoped.tenant_id().as_str();
    audit_head::Entity::insert(audit_head::ActiveModel {
        tenant_id: Set(tenant.to_owned()),
        seq: Set(0),
        hash: Set(GENESIS.to_owned()),
    })
    .on_conflict(
        OnConflict::column(audit_head::Column::TenantId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let mut head_query = scoped.select::<audit_head::Entity>();
    if txn.get_database_backend() == DbBackend::Postgres {
        head_query = head_query.lock_exclusive();
    }
    let head = head_query
        .one(txn)
        .await?
        .ok_or_else(|| StorageError::Corrupt(format!("audit head of {tenant}")))?;
    let prev = (head.seq > 0).then_some((head.seq, head.hash.as_str()));
    let next = AuditEntry::next(
        prev,
        tenant,
        now(),
        &entry.actor,
        entry.action,
        &entry.subject,
        entry.details,
    );
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        tenant_id: Set(tenant.to_owned()),
        seq: Set(next.seq),
        at: Set(next.at),
        actor: Set(next.actor.clone()),
        action: Set(next.action.as_str().to_owned()),
        subject: Set(next.subject.clone()),
        details: Set(canonical_json(&next.details)),
        content: Set(next.content.clone()),
        prev_hash: Set(next.prev_hash.clone()),
        hash: Set(next.hash.clone()),
    })
    .exec_without_returning(txn)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, Expr::value(next.seq))
        .col_expr(audit_head::Column::Hash, Expr::value(next.hash.clone()))
        .filter(audit_head::Column::TenantId.eq(tenant))
        .exec(txn)
        .await?;
    Ok(next)
}

impl Store {
    /// Verifies the audit chain of one tenant, or of every tenant that has one.
    pub async fn verify_audit(&self, only: Option<&TenantId>) -> Result<Vec<ChainReport>> {
        let tenants: Vec<String> = match only {
            Some(id) => {
                tenant::Entity::find_by_id(id.to_string())
                    .one(&self.db)
                    .await?
                    .ok_or(StorageError::NotFound)?;
                vec![id.to_string()]
            }
            None => {
                let mut ids: Vec<String> = audit_head::Entity::find()
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|h| h.tenant_id)
                    .collect();
                let logged: Vec<String> = audit_entry::Entity::find()
                    .select_only()
                    .column(audit_entry::Column::TenantId)
                    .distinct()
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                ids.extend(logged);
                ids.sort();
                ids.dedup();
                ids
            }
        };
        let mut out = Vec::with_capacity(tenants.len());
        for tenant_id in tenants {
            out.push(ChainReport {
                outcome: self.verify_chain(&tenant_id).await?,
                tenant_id: decode::id(&tenant_id)?,
            });
        }
        Ok(out)
    }

    async fn verify_chain(&self, tenant_id: &str) -> Result<Result<i64, ChainBreak>> {
        let mut check = ChainCheck::default();
        let mut after = 0_i64;
        loop {
            let rows = audit_entry::Entity::find()
                .filter(audit_entry::Column::TenantId.eq(tenant_id))
                .filter(audit_entry::Column::Seq.gt(after))
                .order_by_asc(audit_entry::Column::Seq)
                .limit(VERIFY_BATCH)
                .all(&self.db)
                .await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            for row in rows {
                let entry = match to_entry(row) {
                    Ok(entry) => entry,
                    Err(seq) => return Ok(Err(ChainBreak::FieldsEdited { seq })),
                };
                if let Err(broken) = check.push(&entry) {
                    return Ok(Err(broken));
                }
            }
            after = last;
        }
        let head = audit_head::Entity::find_by_id(tenant_id.to_owned())
            .one(&self.db)
            .await?;
        Ok(check.finish(head.as_ref().map(|h| (h.seq, h.hash.as_str()))))
    }
}

/// Reads a stored entry; a field that no longer parses is reported by its position.
fn to_entry(m: audit_entry::Model) -> std::result::Result<AuditEntry, i64> {
    let action = m.action.parse().map_err(|_| m.seq)?;
    let details = serde_json::from_str(&m.details).map_err(|_| m.seq)?;
    Ok(AuditEntry {
        seq: m.seq,
        tenant: m.tenant_id,
        at: m.at,
        actor: m.actor,
        action,
        subject: m.subject,
        details,
        content: m.content,
        prev_hash: m.prev_hash,
        hash: m.hash,
    })
}
