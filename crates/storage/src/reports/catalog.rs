//! Catalogue compliance gaps, judged now: channels with no jurisdiction (their orders go
//! unchecked), titles lacking a field a channel's rules need (unsellable there), and titles
//! a platform still shows where a rule forbids the offer (must be zero).

use std::collections::HashMap;

use concord_domain::{
    ProductId,
    compliance::{rules::judge, title::version_at},
};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use super::{ReportKind, ReportTable};
use crate::{
    Period, Scoped,
    channels::load_connections,
    compliance::{load_rules, versions_of},
    decode,
    entity::{availability, listing, product, sku},
    error::Result,
    now,
};

pub(super) async fn gaps(scoped: &Scoped<'_>, period: Period) -> Result<ReportTable> {
    let mut table = ReportTable::new(
        scoped,
        ReportKind::CatalogGaps,
        period,
        &[
            "channel",
            "jurisdiction",
            "channel_kind",
            "product",
            "title",
            "issue",
            "detail",
        ],
    );
    let txn = scoped.begin_write().await?;
    let connections = load_connections(scoped, &txn).await?;
    let rules = load_rules(scoped, &txn).await?;
    let products = scoped
        .select::<product::Entity>()
        .order_by_asc(product::Column::Title)
        .all(&txn)
        .await?;
    let ids: Vec<ProductId> = products
        .iter()
        .map(|p| decode::id(&p.id))
        .collect::<Result<_>>()?;
    let versions = versions_of(scoped, &txn, &ids).await?;
    let skus: HashMap<String, String> = scoped
        .select::<sku::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.product_id))
        .collect();
    let offers: HashMap<(String, String), availability::Model> = scoped
        .select::<availability::Entity>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| ((a.sku_id.clone(), a.connection_id.clone()), a))
        .collect();
    let listings = scoped
        .select::<listing::Entity>()
        .filter(listing::Column::SkuId.is_not_null())
        .all(&txn)
        .await?;
    txn.commit().await?;
    let at = now();
    let (mut gaps, mut forbidden, mut unjudged) = (0_i64, 0_i64, 0_i64);
    for c in &connections {
        let Some(place) = &c.compliance else {
            unjudged += 1;
            table.rows.push(vec![
                c.name.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                "no jurisdiction set".into(),
                "its orders are recorded as unchecked; set one under …/connections/{id}/compliance"
                    .into(),
            ]);
            continue;
        };
        let row = |p: &product::Model, issue: &str, detail: String| {
            vec![
                c.name.clone(),
                place.jurisdiction.to_string(),
                place.kind.as_str().to_owned(),
                p.id.clone(),
                p.title.clone(),
                issue.to_owned(),
                detail,
            ]
        };
        let decide = |product_id: &str| {
            let title = versions.get(product_id).and_then(|v| version_at(v, at));
            judge(title, &rules, &place.jurisdiction, place.kind, at)
        };
        for p in &products {
            let d = decide(&p.id);
            if d.no_record && !d.missing_fields.is_empty() {
                gaps += 1;
                table.rows.push(row(
                    p,
                    "no compliance record",
                    "the rules here need its fields".into(),
                ));
            } else if !d.missing_fields.is_empty() {
                gaps += 1;
                let fields: Vec<&str> = d.missing_fields.iter().map(|f| f.as_str()).collect();
                table.rows.push(row(p, "missing fields", fields.join(", ")));
            }
        }
        for l in listings.iter().filter(|l| l.connection_id == c.id.as_str()) {
            let Some(sku_id) = &l.sku_id else { continue };
            let Some(product_id) = skus.get(sku_id) else {
                continue;
            };
            let d = decide(product_id);
            let shown = offers
                .get(&(sku_id.clone(), c.id.to_string()))
                .and_then(|o| o.reported.or(o.pushed))
                .unwrap_or_default();
            if !d.listable && shown > 0 {
                forbidden += 1;
                let rules: Vec<String> = d
                    .reasons
                    .iter()
                    .map(|r| format!("{}#{}", r.code, r.version))
                    .collect();
                if let Some(p) = products.iter().find(|p| &p.id == product_id) {
                    table.rows.push(row(
                        p,
                        "listed where a rule forbids it",
                        format!("{} shows {shown}; {}", l.external_item_id, rules.join(" ")),
                    ));
                }
            }
        }
    }
    table.totals = vec![
        ("gaps".into(), gaps),
        ("forbidden_listings".into(), forbidden),
        ("channels_without_jurisdiction".into(), unjudged),
    ];
    Ok(table)
}
