//! Stock reconciliation of restricted titles: per SKU and location, opening + receipts −
//! sales + returns ± adjustments, counts and transfers = closing, from the ledger alone;
//! for a period open at its end, the closing figure is compared with the stock level and
//! any difference is a variance (the ledger's invariant says there is none).

use std::collections::{BTreeMap, HashMap};

use concord_domain::{
    ProductId,
    compliance::title::version_at,
    ledger::{Bucket, MovementReason},
};
use sea_orm::{ColumnTrait, QueryFilter, QuerySelect, sea_query::Expr};

use super::{ReportKind, ReportTable};
use crate::{
    Period, Scoped,
    compliance::versions_of,
    decode,
    entity::{location, product, sku, stock_level, stock_movement},
    error::Result,
    now,
};

/// Figures of one SKU at one location: opening, receipts, sales, returns, adjustments,
/// counts, transfers.
type Figures = [i64; 7];

pub(super) async fn reconciliation(scoped: &Scoped<'_>, period: Period) -> Result<ReportTable> {
    let mut table = ReportTable::new(
        scoped,
        ReportKind::StockReconciliation,
        period,
        &[
            "sku",
            "title",
            "category",
            "location",
            "opening",
            "receipts",
            "sales",
            "returns",
            "adjustments",
            "counts",
            "transfers",
            "closing",
            "on_hand",
            "variance",
        ],
    );
    let txn = scoped.begin().await?;
    let products: HashMap<String, product::Model> = scoped
        .select::<product::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let ids: Vec<ProductId> = products
        .keys()
        .map(|p| decode::id(p))
        .collect::<Result<_>>()?;
    let versions = versions_of(scoped, &txn, &ids).await?;
    let at = period.to.unwrap_or_else(now);
    let category = |product_id: &str| {
        versions
            .get(product_id)
            .and_then(|v| version_at(v, at))
            .map(|t| (t.fields.is_restricted(), t.fields.category()))
            .unwrap_or((true, "no compliance record".into()))
    };
    let skus: BTreeMap<String, sku::Model> = scoped
        .select::<sku::Entity>()
        .filter(sku::Column::IsKit.eq(false))
        .all(&txn)
        .await?
        .into_iter()
        .filter(|s| category(&s.product_id).0)
        .map(|s| (s.id.clone(), s))
        .collect();
    let locations: HashMap<String, String> = scoped
        .select::<location::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    let mut figures: BTreeMap<(String, String), Figures> = BTreeMap::new();
    let opening = match period.from {
        Some(from) => sums(scoped, &txn, None, Some(from)).await?,
        None => Vec::new(),
    };
    let during = sums(scoped, &txn, period.from, period.to).await?;
    for (before_period, sums) in [(true, opening), (false, during)] {
        for (sku_id, location_id, reason, total) in sums {
            if !skus.contains_key(&sku_id) {
                continue;
            }
            let reason: MovementReason = decode::parsed(&reason, str::parse)?;
            if reason.bucket() != Bucket::OnHand {
                continue;
            }
            let slot = match (before_period, reason) {
                (true, _) => 0,
                (false, MovementReason::Receive) => 1,
                (false, MovementReason::Sale) => 2,
                (false, MovementReason::Return | MovementReason::RefundRestock) => 3,
                (false, MovementReason::Adjustment) => 4,
                (false, MovementReason::Count) => 5,
                (false, _) => 6,
            };
            figures.entry((sku_id, location_id)).or_default()[slot] += total;
        }
    }
    let levels: HashMap<(String, String), i64> = scoped
        .select::<stock_level::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| ((l.sku_id, l.location_id), l.on_hand))
        .collect();
    txn.commit().await?;
    for key in levels.keys().filter(|(s, _)| skus.contains_key(s)) {
        figures.entry(key.clone()).or_default();
    }
    let mut totals = [0_i64; 10];
    for ((sku_id, location_id), f) in figures {
        let Some(s) = skus.get(&sku_id) else { continue };
        let closing: i64 = f.iter().sum();
        let on_hand = levels
            .get(&(sku_id.clone(), location_id.clone()))
            .copied()
            .unwrap_or_default();
        let variance = period.to.is_none().then_some(on_hand - closing);
        let row = [
            f[0],
            f[1],
            -f[2],
            f[3],
            f[4],
            f[5],
            f[6],
            closing,
            on_hand,
            variance.unwrap_or_default(),
        ];
        for (t, v) in totals.iter_mut().zip(row) {
            *t += v;
        }
        let mut cells = vec![
            s.code.clone(),
            products
                .get(&s.product_id)
                .map(|p| p.title.clone())
                .unwrap_or_default(),
            category(&s.product_id).1,
            locations.get(&location_id).cloned().unwrap_or(location_id),
        ];
        cells.extend(row[..9].iter().map(i64::to_string));
        cells.push(variance.map(|v| v.to_string()).unwrap_or_default());
        table.rows.push(cells);
    }
    let names = [
        "opening",
        "receipts",
        "sales",
        "returns",
        "adjustments",
        "counts",
        "transfers",
        "closing",
        "on_hand",
        "variance",
    ];
    table.totals = names.iter().map(|n| (*n).to_owned()).zip(totals).collect();
    Ok(table)
}

/// Ledger sums per (SKU, location, reason) for movements that occurred in [from, to).
async fn sums(
    scoped: &Scoped<'_>,
    txn: &sea_orm::DatabaseTransaction,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<(String, String, String, i64)>> {
    let mut q = scoped
        .select::<stock_movement::Entity>()
        .select_only()
        .column(stock_movement::Column::SkuId)
        .column(stock_movement::Column::LocationId)
        .column(stock_movement::Column::Reason)
        .column_as(Expr::cust("CAST(SUM(delta) AS BIGINT)"), "total")
        .group_by(stock_movement::Column::SkuId)
        .group_by(stock_movement::Column::LocationId)
        .group_by(stock_movement::Column::Reason);
    if let Some(from) = from {
        q = q.filter(stock_movement::Column::OccurredAt.gte(from));
    }
    if let Some(to) = to {
        q = q.filter(stock_movement::Column::OccurredAt.lt(to));
    }
    Ok(q.into_tuple().all(txn).await?)
}
