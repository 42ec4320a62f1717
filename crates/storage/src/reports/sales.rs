//! The restricted-title sales register and the refusals register.

use std::collections::{BTreeMap, HashMap};

use concord_domain::{ProductId, compliance::OrderState};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use super::{ReportKind, ReportTable, stamp};
use crate::{
    Period, SaleEvidence, Scoped,
    channels::load_connections,
    compliance::{LineJudgement, to_evidence, versions_of},
    decode,
    entity::{order, order_compliance, order_line, sale_evidence},
    error::{Result, StorageError},
};

/// Orders read per query.
const CHUNK: usize = 400;

/// Every restricted line of every judged order placed in the period, with the latest check
/// recorded for it; the totals count sales, units and sales without a passed check.
pub(super) async fn restricted_sales(scoped: &Scoped<'_>, period: Period) -> Result<ReportTable> {
    let mut table = ReportTable::new(
        scoped,
        ReportKind::RestrictedSales,
        period,
        &[
            "placed_at",
            "channel",
            "jurisdiction",
            "channel_kind",
            "order",
            "sku",
            "category",
            "certificate",
            "quantity",
            "check_type",
            "check_result",
            "verifier",
            "fiscal_ref",
            "delivery_control",
            "standing",
        ],
    );
    let txn = scoped.begin().await?;
    let mut query = scoped
        .select::<order::Entity>()
        .order_by_asc(order::Column::PlacedAt);
    if let Some(from) = period.from {
        query = query.filter(order::Column::PlacedAt.gte(from));
    }
    if let Some(to) = period.to {
        query = query.filter(order::Column::PlacedAt.lt(to));
    }
    let orders = query.all(&txn).await?;
    let channels: HashMap<String, String> = load_connections(scoped, &txn)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    let (mut units, mut unchecked, mut sales) = (0_i64, 0_i64, 0_i64);
    for chunk in orders.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|o| o.id.as_str()).collect();
        let standings: HashMap<String, order_compliance::Model> = scoped
            .select::<order_compliance::Entity>()
            .filter(order_compliance::Column::OrderId.is_in(ids.iter().copied()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.order_id.clone(), s))
            .collect();
        let mut quantities: HashMap<(String, String), i64> = HashMap::new();
        for l in scoped
            .select::<order_line::Entity>()
            .filter(order_line::Column::OrderId.is_in(ids.iter().copied()))
            .all(&txn)
            .await?
        {
            *quantities.entry((l.order_id, l.sku_code)).or_default() += l.quantity;
        }
        let mut judged: Vec<(&order::Model, &order_compliance::Model, Vec<LineJudgement>)> =
            Vec::new();
        for o in chunk {
            let Some(s) = standings.get(&o.id) else {
                continue;
            };
            let lines: Vec<LineJudgement> = serde_json::from_str(&s.lines)
                .map_err(|e| StorageError::Corrupt(format!("judgement of {}: {e}", o.id)))?;
            let restricted: Vec<LineJudgement> =
                lines.into_iter().filter(|l| l.restricted).collect();
            if !restricted.is_empty() {
                judged.push((o, s, restricted));
            }
        }
        let mut products: Vec<ProductId> = judged
            .iter()
            .flat_map(|(_, _, lines)| lines.iter().filter_map(|l| l.product_id.as_deref()))
            .map(decode::id)
            .collect::<Result<_>>()?;
        products.sort();
        products.dedup();
        let versions = versions_of(scoped, &txn, &products).await?;
        let mut evidence: BTreeMap<String, SaleEvidence> = BTreeMap::new();
        for row in scoped
            .select::<sale_evidence::Entity>()
            .filter(
                sale_evidence::Column::OrderId.is_in(judged.iter().map(|(o, _, _)| o.id.as_str())),
            )
            .order_by_asc(sale_evidence::Column::CheckedAt)
            .all(&txn)
            .await?
        {
            evidence.insert(row.order_id.clone(), to_evidence(row)?);
        }
        for (o, s, lines) in judged {
            let check = evidence.get(&o.id);
            let passed = check.is_some_and(|e| e.result.as_str() == "pass");
            for l in lines {
                let quantity = quantities
                    .get(&(o.id.clone(), l.sku_code.clone()))
                    .copied()
                    .unwrap_or_default();
                let certificate = l
                    .product_id
                    .as_ref()
                    .and_then(|p| versions.get(p))
                    .and_then(|v| v.iter().find(|v| Some(v.version) == l.title_version))
                    .and_then(|v| {
                        let f = &v.fields;
                        f.uk_bbfc_cert_no
                            .clone()
                            .or(f.ca_bc_decal_no.clone())
                            .or(f.ca_qc_stamp_no.clone())
                    })
                    .unwrap_or_default();
                units += quantity;
                sales += 1;
                if !passed {
                    unchecked += 1;
                }
                table.rows.push(vec![
                    stamp(o.placed_at),
                    channels
                        .get(&o.connection_id)
                        .cloned()
                        .unwrap_or_else(|| o.connection_id.clone()),
                    s.jurisdiction.clone().unwrap_or_default(),
                    s.channel_kind.clone().unwrap_or_default(),
                    o.external_id.clone(),
                    l.sku_code,
                    l.category,
                    certificate,
                    quantity.to_string(),
                    check
                        .map(|e| e.check_type.as_str().to_owned())
                        .unwrap_or_default(),
                    check
                        .map(|e| e.result.as_str().to_owned())
                        .unwrap_or_default(),
                    check.map(|e| e.verifier.clone()).unwrap_or_default(),
                    check.and_then(|e| e.fiscal_ref.clone()).unwrap_or_default(),
                    check
                        .and_then(|e| e.delivery_control.as_ref())
                        .map(|d| format!("{} {}", d.carrier, d.service_code))
                        .unwrap_or_default(),
                    decode::parsed::<OrderState, _>(&s.state, str::parse)?
                        .as_str()
                        .to_owned(),
                ]);
            }
        }
    }
    txn.commit().await?;
    table.totals = vec![
        ("sales".into(), sales),
        ("units".into(), units),
        ("without_passed_check".into(), unchecked),
    ];
    Ok(table)
}

/// The refusals register and the age-check failure log for the period, in time order.
pub(super) async fn refusals(scoped: &Scoped<'_>, period: Period) -> Result<ReportTable> {
    let mut table = ReportTable::new(
        scoped,
        ReportKind::Refusals,
        period,
        &[
            "at", "register", "reason", "location", "channel", "verifier", "category", "order",
            "rules",
        ],
    );
    let mut rows: Vec<(chrono::DateTime<chrono::Utc>, Vec<String>)> = Vec::new();
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for r in scoped.refusals(period, super::UNLIMITED).await? {
        *counts.entry(r.kind.clone()).or_default() += 1;
        let rules = r.detail["rules"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        rows.push((
            r.at,
            vec![
                stamp(r.at),
                r.kind,
                r.reason,
                r.location_id.unwrap_or_default(),
                r.connection_id.unwrap_or_default(),
                r.verifier.unwrap_or_default(),
                r.title_category,
                r.order_id.unwrap_or_default(),
                rules,
            ],
        ));
    }
    for f in scoped.age_check_failures(period, super::UNLIMITED).await? {
        *counts.entry("age_check_failure".into()).or_default() += 1;
        rows.push((
            f.at,
            vec![
                stamp(f.at),
                "age_check_failure".into(),
                f.result.as_str().into(),
                String::new(),
                f.connection_id.unwrap_or_default(),
                f.provider,
                f.title_category,
                f.order_id.unwrap_or_default(),
                f.method.map(|m| m.as_str().to_owned()).unwrap_or_default(),
            ],
        ));
    }
    rows.sort_by_key(|a| a.0);
    table.rows = rows.into_iter().map(|(_, r)| r).collect();
    table.totals = counts.into_iter().collect();
    table
        .totals
        .push(("entries".into(), table.rows.len() as i64));
    Ok(table)
}
