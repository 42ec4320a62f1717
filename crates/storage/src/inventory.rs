//! The unified inventory view: one row per SKU with its title, stock per location and offer
//! per channel, searchable and filterable, paginated by SKU code.

use std::collections::BTreeMap;

use concord_domain::{Barcode, LocationId, ProductId, SkuId, catalog::Format, ledger::StockLevel};
use sea_orm::{
    ColumnTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Condition, Expr, ExprTrait, Query},
};

use crate::{
    ChannelAvailability, LocationLevel, Page, Scoped,
    catalog::{like_pattern, page_cursor},
    decode,
    entity::{availability, product, sku, stock_level},
    error::Result,
    ledger::to_channel_availability,
};

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct InventoryQuery {
    /// Matches a SKU code or title containing it, or a barcode equal to it.
    pub search: Option<String>,
    /// Only SKUs stocked at this location.
    pub location: Option<LocationId>,
    /// Only SKUs some platform shows differently from Concord.
    pub discrepancies_only: bool,
    /// Only SKUs whose total sellable stock is below this.
    pub sellable_below: Option<i64>,
    /// Only this format.
    pub format: Option<Format>,
    /// Continue after this SKU code (the previous page's cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: u64,
}

/// One SKU in the inventory view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    /// The SKU.
    pub sku_id: SkuId,
    /// Its code.
    pub code: String,
    /// Its barcode.
    pub barcode: Option<String>,
    /// Its product.
    pub product_id: ProductId,
    /// The product's title.
    pub title: String,
    /// The edition format.
    pub format: Format,
    /// Whether it is a kit (its stock is its components').
    pub is_kit: bool,
    /// Stock per location.
    pub levels: Vec<LocationLevel>,
    /// Offer per channel, with what the platform shows.
    pub availability: Vec<ChannelAvailability>,
}

impl Scoped<'_> {
    /// One page of the inventory view, ordered by SKU code.
    pub async fn inventory(&self, q: &InventoryQuery) -> Result<Page<InventoryRow>> {
        let tenant = self.tenant_id().as_str();
        let txn = self.begin().await?;
        let mut query = self
            .select::<sku::Entity>()
            .find_also_related(product::Entity)
            .order_by_asc(sku::Column::Code)
            .limit(q.limit + 1);
        if let Some(after) = &q.after {
            query = query.filter(sku::Column::Code.gt(after.as_str()));
        }
        if let Some(term) = q.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let mut any = Condition::any().add(sku::Column::SearchText.like(like_pattern(term)));
            if let Ok(barcode) = Barcode::parse(term) {
                any = any.add(sku::Column::Gtin14.eq(barcode.gtin14()));
            }
            query = query.filter(any);
        }
        if let Some(format) = q.format {
            query = query.filter(product::Column::Format.eq(format.as_str()));
        }
        if let Some(location) = &q.location {
            query = query.filter(
                sku::Column::Id.in_subquery(
                    Query::select()
                        .column(stock_level::Column::SkuId)
                        .from(stock_level::Entity)
                        .and_where(stock_level::Column::TenantId.eq(tenant))
                        .and_where(stock_level::Column::LocationId.eq(location.as_str()))
                        .to_owned(),
                ),
            );
        }
        if q.discrepancies_only {
            query = query.filter(
                sku::Column::Id.in_subquery(
                    Query::select()
                        .column(availability::Column::SkuId)
                        .from(availability::Entity)
                        .and_where(availability::Column::TenantId.eq(tenant))
                        .and_where(availability::Column::Reported.is_not_null())
                        .and_where(
                            Expr::col(availability::Column::Reported)
                                .ne(Expr::col(availability::Column::Available)),
                        )
                        .to_owned(),
                ),
            );
        }
        if let Some(below) = q.sellable_below {
            let stocked_enough = Query::select()
                .column(stock_level::Column::SkuId)
                .from(stock_level::Entity)
                .and_where(stock_level::Column::TenantId.eq(tenant))
                .group_by_col(stock_level::Column::SkuId)
                .and_having(
                    Expr::col(stock_level::Column::OnHand)
                        .sub(Expr::col(stock_level::Column::Committed))
                        .sum()
                        .gte(below),
                )
                .to_owned();
            query = query.filter(sku::Column::Id.not_in_subquery(stocked_enough));
        }
        let rows = query.all(&txn).await?;
        let ids: Vec<&str> = rows.iter().map(|(s, _)| s.id.as_str()).collect();
        let mut levels: BTreeMap<String, Vec<LocationLevel>> = BTreeMap::new();
        for l in self
            .select::<stock_level::Entity>()
            .filter(stock_level::Column::SkuId.is_in(ids.clone()))
            .order_by_asc(stock_level::Column::LocationId)
            .all(&txn)
            .await?
        {
            let level = LocationLevel {
                location_id: decode::id(&l.location_id)?,
                level: StockLevel {
                    on_hand: l.on_hand,
                    committed: l.committed,
                },
            };
            levels.entry(l.sku_id).or_default().push(level);
        }
        let mut offers: BTreeMap<String, Vec<ChannelAvailability>> = BTreeMap::new();
        for a in self
            .select::<availability::Entity>()
            .filter(availability::Column::SkuId.is_in(ids))
            .order_by_asc(availability::Column::ConnectionId)
            .all(&txn)
            .await?
        {
            let sku_id = a.sku_id.clone();
            offers
                .entry(sku_id)
                .or_default()
                .push(to_channel_availability(a)?);
        }
        txn.commit().await?;
        let mut items = Vec::with_capacity(rows.len());
        for (s, p) in rows {
            let Some(p) = p else { continue };
            items.push(InventoryRow {
                levels: levels.remove(&s.id).unwrap_or_default(),
                availability: offers.remove(&s.id).unwrap_or_default(),
                sku_id: decode::id(&s.id)?,
                code: s.code,
                barcode: s.barcode,
                product_id: decode::id(&p.id)?,
                title: p.title,
                format: decode::parsed(&p.format, str::parse)?,
                is_kit: s.is_kit,
            });
        }
        let next_cursor = page_cursor(&mut items, q.limit, |r| r.code.clone());
        Ok(Page { items, next_cursor })
    }
}
