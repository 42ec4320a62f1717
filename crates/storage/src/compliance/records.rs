//! What is kept per restricted sale (COMPLIANCE.md §1.3): sale evidence (check type,
//! method category, result, verifier, delivery control; never a birth date, a document
//! number or an image), each record's SHA-256 in the audit chain; and the two ways a hold
//! ends: the checks it waits for being recorded, or a person releasing it (audited).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::{
    OrderId,
    audit::{AuditAction, canonical_json, sha256_hex},
    compliance::{
        ChannelKind, OrderState,
        evidence::{CheckMethod, CheckResult, CheckType, DeliveryControl},
        rules::SaleChecks,
    },
    orders::OrderStatus,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde_json::{Value, json};

use super::{
    AgeCheckFailureDraft, Period,
    orders::{LineJudgement, outstanding},
    registers::insert_failure,
};
use crate::{
    NewAuditEntry, Scoped,
    audit::append_in,
    decode,
    entity::{order, order_compliance, order_line, sale_evidence},
    error::{Result, StorageError},
    now,
};

/// An order's standing with the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCompliance {
    /// The order.
    pub order_id: OrderId,
    /// Clear, held, released or unchecked.
    pub state: OrderState,
    /// The jurisdiction it was judged in.
    pub jurisdiction: Option<String>,
    /// How it was sold.
    pub channel_kind: Option<ChannelKind>,
    /// Each SKU's judgement.
    pub lines: Vec<LineJudgement>,
    /// What still stands in the way (empty unless held).
    pub outstanding: Vec<String>,
    /// When it was last judged.
    pub judged_at: DateTime<Utc>,
    /// Who released it.
    pub released_by: Option<String>,
    /// When.
    pub released_at: Option<DateTime<Utc>>,
    /// Why.
    pub release_reason: Option<String>,
}

/// Evidence for a sale, as recorded by staff or a provider's callback.
#[derive(Debug, Clone)]
pub struct EvidenceDraft {
    /// How age was checked.
    pub check_type: CheckType,
    /// The document category or provider method.
    pub method: Option<CheckMethod>,
    /// How it ended.
    pub result: CheckResult,
    /// A staff user id, or the provider and its session id.
    pub verifier: String,
    /// When (UTC).
    pub checked_at: DateTime<Utc>,
    /// The clock that time came from (`pos`, `provider`).
    pub source_clock: Option<String>,
    /// The carrier control booked.
    pub delivery_control: Option<DeliveryControl>,
    /// The POS fiscal signature reference (TSE/NF525), if any.
    pub fiscal_ref: Option<String>,
}

/// One evidence record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleEvidence {
    /// `sev_…`
    pub id: String,
    /// The order.
    pub order_id: OrderId,
    /// Channel, order and line ids, fiscal reference.
    pub sale_ref: Value,
    /// The jurisdiction and rule versions the sale was judged by.
    pub jurisdiction_basis: Value,
    /// The titles sold with their classification snapshot.
    pub titles: Value,
    /// How age was checked.
    pub check_type: CheckType,
    /// The document category or provider method.
    pub method: Option<CheckMethod>,
    /// How it ended.
    pub result: CheckResult,
    /// Who checked.
    pub verifier: String,
    /// When.
    pub checked_at: DateTime<Utc>,
    /// The clock that time came from.
    pub source_clock: Option<String>,
    /// The carrier control.
    pub delivery_control: Option<DeliveryControl>,
    /// The fiscal reference.
    pub fiscal_ref: Option<String>,
    /// SHA-256 of the record's canonical JSON, also in the audit chain.
    pub hash: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

impl Scoped<'_> {
    /// An order's standing with the rules, if it was judged.
    pub async fn order_compliance(&self, order_id: &OrderId) -> Result<Option<OrderCompliance>> {
        let txn = self.begin().await?;
        find_order(self, &txn, order_id).await?;
        let row = self
            .select::<order_compliance::Entity>()
            .filter(order_compliance::Column::OrderId.eq(order_id.as_str()))
            .one(&txn)
            .await?;
        txn.commit().await?;
        row.map(to_compliance).transpose()
    }

    /// The compliance state of each of these orders that was judged.
    pub async fn order_states(
        &self,
        order_ids: &[OrderId],
    ) -> Result<std::collections::HashMap<OrderId, OrderState>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<order_compliance::Entity>()
            .filter(order_compliance::Column::OrderId.is_in(order_ids.iter().map(OrderId::as_str)))
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    decode::id(&r.order_id)?,
                    decode::parsed(&r.state, str::parse)?,
                ))
            })
            .collect()
    }

    /// Releases a held order (an override, audited with the reason and what was
    /// outstanding); it returns to open unless it is also held for an oversell.
    pub async fn release_order(
        &self,
        order_id: &OrderId,
        reason: &str,
        actor: &str,
    ) -> Result<OrderCompliance> {
        let txn = self.begin_write().await?;
        let mut current = held(self, &txn, order_id).await?;
        current.state = OrderState::Released;
        current.released_by = Some(actor.to_owned());
        current.released_at = Some(now());
        current.release_reason = Some(reason.to_owned());
        order_compliance::Entity::update_many()
            .col_expr(
                order_compliance::Column::State,
                Expr::value(OrderState::Released.as_str()),
            )
            .col_expr(order_compliance::Column::ReleasedBy, Expr::value(actor))
            .col_expr(
                order_compliance::Column::ReleasedAt,
                Expr::value(current.released_at),
            )
            .col_expr(order_compliance::Column::ReleaseReason, Expr::value(reason))
            .filter(order_compliance::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(order_compliance::Column::OrderId.eq(order_id.as_str()))
            .exec(&txn)
            .await?;
        reopen(self, &txn, order_id).await?;
        append_in(
            self,
            &txn,
            NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::OrderReleased,
                subject: order_id.to_string(),
                details: json!({ "reason": reason, "outstanding": current.outstanding }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(current)
    }

    /// Records evidence for a sale, hashed into the audit chain. A failed online check also
    /// enters the age-check failure log. When the order was held only for checks this
    /// evidence completes, the hold ends (audited as released by the checks).
    pub async fn record_sale_evidence(
        &self,
        order_id: &OrderId,
        draft: EvidenceDraft,
        actor: &str,
    ) -> Result<SaleEvidence> {
        let txn = self.begin_write().await?;
        let o = find_order(self, &txn, order_id).await?;
        let standing = self
            .select::<order_compliance::Entity>()
            .filter(order_compliance::Column::OrderId.eq(order_id.as_str()))
            .one(&txn)
            .await?
            .map(to_compliance)
            .transpose()?;
        let line_ids: Vec<String> = self
            .select::<order_line::Entity>()
            .filter(order_line::Column::OrderId.eq(order_id.as_str()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| l.external_line_id)
            .collect();
        let lines = standing
            .as_ref()
            .map(|s| s.lines.clone())
            .unwrap_or_default();
        let mut evidence = SaleEvidence {
            id: format!("sev_{}", uuid::Uuid::now_v7().simple()),
            order_id: order_id.clone(),
            sale_ref: json!({ "channel": o.connection_id, "order": o.external_id, "lines": line_ids,
                              "fiscal_ref": draft.fiscal_ref }),
            jurisdiction_basis: json!({
                "jurisdiction": standing.as_ref().and_then(|s| s.jurisdiction.clone()),
                "channel_kind": standing.as_ref().and_then(|s| s.channel_kind),
                "rules": lines.iter().filter_map(|l| l.decision.as_ref())
                    .flat_map(|d| d.reasons.iter().map(|r| format!("{}#{}", r.code, r.version)))
                    .collect::<Vec<_>>(),
            }),
            titles: json!(
                lines
                    .iter()
                    .map(|l| json!({ "sku": l.sku_code, "product_id": l.product_id,
                "title_version": l.title_version, "category": l.category }))
                    .collect::<Vec<_>>()
            ),
            check_type: draft.check_type,
            method: draft.method,
            result: draft.result,
            verifier: draft.verifier,
            checked_at: draft.checked_at,
            source_clock: draft.source_clock,
            delivery_control: draft.delivery_control,
            fiscal_ref: draft.fiscal_ref,
            hash: String::new(),
            recorded_by: actor.to_owned(),
            recorded_at: now(),
        };
        evidence.hash = sha256_hex(canonical_json(&evidence_json(&evidence)).as_bytes());
        insert_evidence(self, &txn, &evidence).await?;
        append_in(
            self,
            &txn,
            NewAuditEntry {
                actor: actor.to_owned(),
                action: AuditAction::EvidenceRecorded,
                subject: order_id.to_string(),
                details: json!({ "evidence": evidence.id, "sha256": evidence.hash,
                                 "check_type": evidence.check_type, "result": evidence.result }),
            },
        )
        .await?;
        if evidence.check_type == CheckType::OnlineAv && evidence.result != CheckResult::Pass {
            insert_failure(
                self,
                &txn,
                AgeCheckFailureDraft {
                    at: evidence.checked_at,
                    connection_id: Some(decode::id(&o.connection_id)?),
                    provider: evidence.verifier.clone(),
                    method: evidence.method,
                    result: evidence.result,
                    title_category: lines
                        .iter()
                        .map(|l| l.category.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                    order_id: Some(order_id.clone()),
                },
                actor,
            )
            .await?;
        }
        if let Some(s) = standing.filter(|s| s.state == OrderState::Held) {
            let checks = checks_of(self, &txn, &[order_id.as_str()])
                .await?
                .remove(order_id.as_str())
                .unwrap_or_default();
            let left = outstanding(&s.lines, &checks);
            lift_if_done(self, &txn, order_id, &left, &evidence.id, actor).await?;
        }
        txn.commit().await?;
        Ok(evidence)
    }

    /// The evidence of one order, oldest first.
    pub async fn evidence_of(&self, order_id: &OrderId) -> Result<Vec<SaleEvidence>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<sale_evidence::Entity>()
            .filter(sale_evidence::Column::OrderId.eq(order_id.as_str()))
            .order_by_asc(sale_evidence::Column::CheckedAt)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(to_evidence).collect()
    }

    /// Evidence checked in `period`, oldest first, at most `limit` records.
    pub async fn sale_evidence(&self, period: Period, limit: u64) -> Result<Vec<SaleEvidence>> {
        let txn = self.begin().await?;
        let mut q = self
            .select::<sale_evidence::Entity>()
            .order_by_asc(sale_evidence::Column::CheckedAt)
            .limit(limit);
        if let Some(from) = period.from {
            q = q.filter(sale_evidence::Column::CheckedAt.gte(from));
        }
        if let Some(to) = period.to {
            q = q.filter(sale_evidence::Column::CheckedAt.lt(to));
        }
        let rows = q.all(&txn).await?;
        txn.commit().await?;
        rows.into_iter().map(to_evidence).collect()
    }
}

/// The checks recorded for each of `orders`: a passed age check, the carrier controls.
pub(crate) async fn checks_of(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    orders: &[&str],
) -> Result<HashMap<String, SaleChecks>> {
    let mut out: HashMap<String, SaleChecks> = HashMap::new();
    for e in scoped
        .select::<sale_evidence::Entity>()
        .filter(sale_evidence::Column::OrderId.is_in(orders.iter().copied()))
        .all(db)
        .await?
    {
        let checks = out.entry(e.order_id.clone()).or_default();
        if e.result == CheckResult::Pass.as_str() && e.check_type != CheckType::NotRequired.as_str()
        {
            checks.age_verified = true;
        }
        if let Some(d) = e.delivery_control.as_deref() {
            let control: DeliveryControl = serde_json::from_str(d)
                .map_err(|err| StorageError::Corrupt(format!("evidence {}: {err}", e.id)))?;
            checks.delivery_controls.push(control.service_code);
        }
    }
    Ok(out)
}

async fn find_order(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    id: &OrderId,
) -> Result<order::Model> {
    scoped
        .select::<order::Entity>()
        .filter(order::Column::Id.eq(id.as_str()))
        .one(db)
        .await?
        .ok_or(StorageError::NotFound)
}

/// The order's standing, refused unless it is held.
async fn held(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    id: &OrderId,
) -> Result<OrderCompliance> {
    find_order(scoped, db, id).await?;
    let standing = scoped
        .select::<order_compliance::Entity>()
        .filter(order_compliance::Column::OrderId.eq(id.as_str()))
        .one(db)
        .await?
        .map(to_compliance)
        .transpose()?;
    match standing {
        Some(s) if s.state == OrderState::Held => Ok(s),
        Some(s) => Err(StorageError::Conflict(format!(
            "the order is not held for compliance (it is {})",
            s.state.as_str()
        ))),
        None => Err(StorageError::Conflict(
            "the order has not been judged by the compliance rules".into(),
        )),
    }
}

/// Puts a compliance-held order back to open, unless an oversell holds it too.
async fn reopen(scoped: &Scoped<'_>, db: &impl ConnectionTrait, id: &OrderId) -> Result<()> {
    order::Entity::update_many()
        .col_expr(
            order::Column::Status,
            Expr::value(OrderStatus::Open.as_str()),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(now()))
        .filter(order::Column::TenantId.eq(scoped.tenant_id().as_str()))
        .filter(order::Column::Id.eq(id.as_str()))
        .filter(order::Column::Status.eq(OrderStatus::OnHold.as_str()))
        .filter(order::Column::Oversold.eq(false))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends a hold whose last outstanding check was just recorded.
async fn lift_if_done(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    id: &OrderId,
    left: &[String],
    evidence_id: &str,
    actor: &str,
) -> Result<()> {
    order_compliance::Entity::update_many()
        .col_expr(
            order_compliance::Column::Outstanding,
            Expr::value(json!(left).to_string()),
        )
        .col_expr(
            order_compliance::Column::State,
            Expr::value(
                if left.is_empty() {
                    OrderState::Clear
                } else {
                    OrderState::Held
                }
                .as_str(),
            ),
        )
        .filter(order_compliance::Column::TenantId.eq(scoped.tenant_id().as_str()))
        .filter(order_compliance::Column::OrderId.eq(id.as_str()))
        .exec(db)
        .await?;
    if !left.is_empty() {
        return Ok(());
    }
    reopen(scoped, db, id).await?;
    append_in(
        scoped,
        db,
        NewAuditEntry {
            actor: actor.to_owned(),
            action: AuditAction::OrderReleased,
            subject: id.to_string(),
            details: json!({ "reason": "every check the rules need was recorded", "evidence": evidence_id }),
        },
    )
    .await?;
    Ok(())
}

fn evidence_json(e: &SaleEvidence) -> Value {
    json!({
        "id": e.id, "order_id": e.order_id, "sale_ref": e.sale_ref,
        "jurisdiction_basis": e.jurisdiction_basis, "titles": e.titles,
        "check_type": e.check_type, "method": e.method, "result": e.result,
        "verifier": e.verifier, "checked_at": e.checked_at, "source_clock": e.source_clock,
        "delivery_control": e.delivery_control, "fiscal_ref": e.fiscal_ref,
        "recorded_by": e.recorded_by, "recorded_at": e.recorded_at,
    })
}

async fn insert_evidence(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    e: &SaleEvidence,
) -> Result<()> {
    sale_evidence::Entity::insert(sale_evidence::ActiveModel {
        id: Set(e.id.clone()),
        tenant_id: Set(scoped.tenant_id().to_string()),
        order_id: Set(e.order_id.to_string()),
        sale_ref: Set(e.sale_ref.to_string()),
        jurisdiction_basis: Set(e.jurisdiction_basis.to_string()),
        titles: Set(e.titles.to_string()),
        check_type: Set(e.check_type.as_str().into()),
        method: Set(e.method.map(|m| m.as_str().into())),
        result: Set(e.result.as_str().into()),
        verifier: Set(e.verifier.clone()),
        checked_at: Set(e.checked_at),
        source_clock: Set(e.source_clock.clone()),
        delivery_control: Set(e.delivery_control.as_ref().map(|d| json!(d).to_string())),
        fiscal_ref: Set(e.fiscal_ref.clone()),
        hash: Set(e.hash.clone()),
        recorded_by: Set(e.recorded_by.clone()),
        recorded_at: Set(e.recorded_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

fn to_compliance(r: order_compliance::Model) -> Result<OrderCompliance> {
    let corrupt = |what: &str, e: serde_json::Error| {
        StorageError::Corrupt(format!("{what} of order {}: {e}", r.order_id))
    };
    Ok(OrderCompliance {
        order_id: decode::id(&r.order_id)?,
        state: decode::parsed(&r.state, str::parse)?,
        jurisdiction: r.jurisdiction.clone(),
        channel_kind: r
            .channel_kind
            .as_deref()
            .map(|k| decode::parsed(k, str::parse))
            .transpose()?,
        lines: serde_json::from_str(&r.lines).map_err(|e| corrupt("judgement", e))?,
        outstanding: serde_json::from_str(&r.outstanding).map_err(|e| corrupt("reasons", e))?,
        judged_at: r.judged_at,
        released_by: r.released_by,
        released_at: r.released_at,
        release_reason: r.release_reason,
    })
}

/// Reads a stored evidence record.
pub(crate) fn to_evidence(r: sale_evidence::Model) -> Result<SaleEvidence> {
    let corrupt = |e: serde_json::Error| StorageError::Corrupt(format!("evidence {}: {e}", r.id));
    Ok(SaleEvidence {
        order_id: decode::id(&r.order_id)?,
        sale_ref: serde_json::from_str(&r.sale_ref).map_err(corrupt)?,
        jurisdiction_basis: serde_json::from_str(&r.jurisdiction_basis).map_err(corrupt)?,
        titles: serde_json::from_str(&r.titles).map_err(corrupt)?,
        check_type: decode::parsed(&r.check_type, str::parse)?,
        method: r
            .method
            .as_deref()
            .map(|m| decode::parsed(m, str::parse))
            .transpose()?,
        result: decode::parsed(&r.result, str::parse)?,
        delivery_control: r
            .delivery_control
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(corrupt)?,
        id: r.id,
        verifier: r.verifier,
        checked_at: r.checked_at,
        source_clock: r.source_clock,
        fiscal_ref: r.fiscal_ref,
        hash: r.hash,
        recorded_by: r.recorded_by,
        recorded_at: r.recorded_at,
    })
}
