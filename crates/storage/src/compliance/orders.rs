//! Order-time enforcement: each imported order is judged line by line against the title
//! version valid when it was placed, in the jurisdiction it ships to (or its channel's), and
//! gets a standing: clear, held (with every reason), released, or unchecked when its channel
//! has no jurisdiction. A newly held order is audited; a sale a destination's rule blocks
//! goes in the refusals register. A hold is lifted only by a person (audited) or by the
//! checks it waits for being recorded (`records`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId,
    audit::AuditAction,
    compliance::{
        ChannelKind, Jurisdiction, OrderState,
        evidence::RefusalReason,
        rules::{Decision, Rule, SaleChecks, Verdict, judge},
        title::{TitleVersion, version_at},
    },
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{load_rules, records::checks_of, titles::versions_of};
use crate::{
    NewAuditEntry, Scoped,
    audit::append_in,
    decode,
    entity::{connection, order_compliance, refusal},
    error::{Result, StorageError},
    now,
};

/// Standings written per statement (11 columns each, well under bind-parameter limits).
const WRITE_CHUNK: usize = 200;

/// An order to judge, as the order engine holds it.
pub(crate) struct SaleToJudge {
    /// Concord's order id.
    pub order_id: String,
    /// When it was placed (the time rules and title versions are taken at).
    pub placed_at: DateTime<Utc>,
    /// The ship-to jurisdiction the platform gave, if any.
    pub ship_to: Option<String>,
    /// Its lines: SKU code and, when in the catalog, the SKU's product id.
    pub lines: Vec<(String, Option<String>)>,
}

/// How one line was judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineJudgement {
    /// The SKU code sold.
    pub sku_code: String,
    /// The title (product), when the SKU is in the catalog.
    pub product_id: Option<String>,
    /// The title's compliance version valid at the sale, if any.
    pub title_version: Option<i32>,
    /// Its classifications, for registers.
    pub category: String,
    /// Whether it is a restricted title (18+, R18, X18+, FSK 18, pornographic).
    pub restricted: bool,
    /// What the rules decided (absent when the SKU is not in the catalog, or the sale was
    /// not checked).
    pub decision: Option<Decision>,
}

/// What judging changed for one order, for the order engine.
pub(crate) struct Judged {
    /// The order.
    pub order_id: String,
    /// Its standing now.
    pub state: OrderState,
}

/// The standing of each order, from its lines' decisions and the checks recorded so far.
pub(crate) fn outstanding(lines: &[LineJudgement], checks: &SaleChecks) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        match &l.decision {
            None => out.push(format!(
                "{}: not in the catalog, so no rule can clear it",
                l.sku_code
            )),
            Some(d) => out.extend(
                d.outstanding(checks)
                    .into_iter()
                    .map(|why| format!("{}: {why}", l.sku_code)),
            ),
        }
    }
    out
}

/// Judges `sales` from `connection_id` inside the order engine's transaction; returns each
/// order's standing (released and already-held orders keep theirs).
pub(crate) async fn judge_sales(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    connection_id: &ConnectionId,
    sales: Vec<SaleToJudge>,
) -> Result<Vec<Judged>> {
    if sales.is_empty() {
        return Ok(Vec::new());
    }
    let channel = scoped
        .select::<connection::Entity>()
        .filter(connection::Column::Id.eq(connection_id.as_str()))
        .one(txn)
        .await?
        .ok_or(StorageError::NotFound)?;
    let setting = match (
        channel.jurisdiction.as_deref(),
        channel.channel_kind.as_deref(),
    ) {
        (Some(j), Some(k)) => Some((
            decode::parsed(j, Jurisdiction::parse)?,
            decode::parsed::<ChannelKind, _>(k, str::parse)?,
        )),
        _ => None,
    };
    let ids: Vec<&str> = sales.iter().map(|s| s.order_id.as_str()).collect();
    let known: HashMap<String, OrderState> = scoped
        .select::<order_compliance::Entity>()
        .filter(order_compliance::Column::OrderId.is_in(ids.iter().copied()))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| Ok((r.order_id, decode::parsed(&r.state, str::parse)?)))
        .collect::<Result<_>>()?;
    let mut products: Vec<_> = sales
        .iter()
        .flat_map(|s| s.lines.iter().filter_map(|(_, p)| p.as_deref()))
        .map(decode::id)
        .collect::<Result<_>>()?;
    products.sort();
    products.dedup();
    // Unchecked sales still record what they sold, for the restricted-sales register.
    let versions = versions_of(scoped, txn, &products).await?;
    let (rules, checks) = match &setting {
        Some(_) => (
            load_rules(scoped, txn).await?,
            checks_of(scoped, txn, &ids).await?,
        ),
        None => Default::default(),
    };
    let mut out = Vec::with_capacity(sales.len());
    let mut rows = Vec::with_capacity(sales.len());
    for sale in sales {
        let before = known.get(&sale.order_id).copied();
        if matches!(before, Some(OrderState::Released | OrderState::Held)) {
            continue;
        }
        let Some((channel_place, kind)) = &setting else {
            let lines = judge_lines(&sale, &versions, None);
            rows.push(row(
                scoped,
                &sale.order_id,
                OrderState::Unchecked,
                None,
                &lines,
                &[],
            ));
            out.push(Judged {
                order_id: sale.order_id,
                state: OrderState::Unchecked,
            });
            continue;
        };
        let place = sale
            .ship_to
            .as_deref()
            .and_then(|s| Jurisdiction::parse(s).ok())
            .unwrap_or_else(|| channel_place.clone());
        let lines = judge_lines(&sale, &versions, Some((&rules, &place, *kind)));
        let sale_checks = checks.get(&sale.order_id).cloned().unwrap_or_default();
        let reasons = outstanding(&lines, &sale_checks);
        let state = if reasons.is_empty() {
            OrderState::Clear
        } else {
            OrderState::Held
        };
        rows.push(row(
            scoped,
            &sale.order_id,
            state,
            Some((&place, *kind)),
            &lines,
            &reasons,
        ));
        if state == OrderState::Held {
            announce_hold(scoped, txn, connection_id, &sale, &place, &lines, &reasons).await?;
        }
        out.push(Judged {
            order_id: sale.order_id,
            state,
        });
    }
    write(txn, rows).await?;
    Ok(out)
}

/// Each distinct SKU of the sale with its title version; judged under `rules` in a place and
/// channel when given (an unchecked sale is only described).
fn judge_lines(
    sale: &SaleToJudge,
    versions: &HashMap<String, Vec<TitleVersion>>,
    rules: Option<(&[Rule], &Jurisdiction, ChannelKind)>,
) -> Vec<LineJudgement> {
    // One judgement per distinct SKU code: several lines of one title need one decision.
    let mut by_code: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for (code, product) in &sale.lines {
        by_code.insert(code.as_str(), product.as_deref());
    }
    by_code
        .into_iter()
        .map(|(code, product)| {
            let title = product
                .and_then(|p| versions.get(p))
                .and_then(|v| version_at(v, sale.placed_at));
            LineJudgement {
                sku_code: code.to_owned(),
                product_id: product.map(str::to_owned),
                title_version: title.map(|t| t.version),
                category: title
                    .map_or_else(|| "no compliance record".into(), |t| t.fields.category()),
                restricted: title.is_none_or(|t| t.fields.is_restricted()),
                decision: product.zip(rules).map(|(_, (rules, place, kind))| {
                    judge(title, rules, place, kind, sale.placed_at)
                }),
            }
        })
        .collect()
}

/// An order's standing as a row to write.
fn row(
    scoped: &Scoped<'_>,
    order_id: &str,
    state: OrderState,
    place: Option<(&Jurisdiction, ChannelKind)>,
    lines: &[LineJudgement],
    reasons: &[String],
) -> order_compliance::ActiveModel {
    order_compliance::ActiveModel {
        order_id: Set(order_id.to_owned()),
        tenant_id: Set(scoped.tenant_id().to_string()),
        state: Set(state.as_str().to_owned()),
        jurisdiction: Set(place.map(|(j, _)| j.to_string())),
        channel_kind: Set(place.map(|(_, k)| k.as_str().to_owned())),
        lines: Set(json!(lines).to_string()),
        outstanding: Set(json!(reasons).to_string()),
        judged_at: Set(now()),
        released_by: Set(None),
        released_at: Set(None),
        release_reason: Set(None),
    }
}

/// Writes standings in multi-row statements, replacing earlier judgements.
async fn write(txn: &DatabaseTransaction, rows: Vec<order_compliance::ActiveModel>) -> Result<()> {
    for chunk in rows.chunks(WRITE_CHUNK) {
        order_compliance::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(order_compliance::Column::OrderId)
                    .update_columns([
                        order_compliance::Column::State,
                        order_compliance::Column::Jurisdiction,
                        order_compliance::Column::ChannelKind,
                        order_compliance::Column::Lines,
                        order_compliance::Column::Outstanding,
                        order_compliance::Column::JudgedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Audits a new hold and registers a sale a destination's rule blocks.
async fn announce_hold(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    connection_id: &ConnectionId,
    sale: &SaleToJudge,
    place: &Jurisdiction,
    lines: &[LineJudgement],
    reasons: &[String],
) -> Result<()> {
    append_in(
        scoped,
        txn,
        NewAuditEntry {
            actor: connection_id.to_string(),
            action: AuditAction::OrderHeld,
            subject: sale.order_id.clone(),
            details: json!({ "jurisdiction": place, "reasons": reasons }),
        },
    )
    .await?;
    for l in lines {
        let Some(d) = l
            .decision
            .as_ref()
            .filter(|d| d.verdict == Verdict::Blocked)
        else {
            continue;
        };
        refusal::Entity::insert(refusal::ActiveModel {
            id: Set(format!("ref_{}", uuid::Uuid::now_v7().simple())),
            tenant_id: Set(scoped.tenant_id().to_string()),
            at: Set(sale.placed_at),
            kind: Set("order_blocked".into()),
            reason: Set(RefusalReason::DestinationRule.as_str().into()),
            location_id: Set(None),
            connection_id: Set(Some(connection_id.to_string())),
            verifier: Set(None),
            title_category: Set(l.category.clone()),
            order_id: Set(Some(sale.order_id.clone())),
            sku_id: Set(None),
            detail: Set(json!({
                "sku": l.sku_code,
                "jurisdiction": place,
                "rules": d.reasons.iter().map(|r| format!("{}#{}", r.code, r.version)).collect::<Vec<_>>(),
                "missing_fields": d.missing_fields,
            })
            .to_string()),
            recorded_by: Set(connection_id.to_string()),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}
