//! Sales analytics: store and online orders merged, per channel and per day.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseTransaction, QueryFilter, QuerySelect};

use crate::{
    Scoped,
    entity::{order, order_line, refund},
    error::Result,
    scope::TenantOwned,
};

/// One channel's sales in a currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSales {
    /// The channel (`con_…`).
    pub connection_id: String,
    /// ISO currency.
    pub currency: String,
    /// Orders placed (cancelled ones excluded).
    pub orders: i64,
    /// Units on those orders.
    pub units: i64,
    /// Their totals, in minor units.
    pub revenue_minor: i64,
    /// Refunded on those orders, in minor units.
    pub refunded_minor: i64,
}

/// One UTC day's sales in a currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaySales {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// ISO currency.
    pub currency: String,
    /// Orders placed.
    pub orders: i64,
    /// Their totals, in minor units.
    pub revenue_minor: i64,
}

/// Sales since a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sales {
    /// Per channel and currency.
    pub by_channel: Vec<ChannelSales>,
    /// Per day and currency, oldest first.
    pub by_day: Vec<DaySales>,
}

impl Scoped<'_> {
    /// Orders placed at or after `since` (not cancelled), summed per channel and per day.
    pub async fn sales_since(&self, since: DateTime<Utc>) -> Result<Sales> {
        let txn = self.begin().await?;
        let orders: Vec<(String, String, String, i64, DateTime<Utc>)> = self
            .select::<order::Entity>()
            .select_only()
            .columns([
                order::Column::Id,
                order::Column::ConnectionId,
                order::Column::Currency,
                order::Column::TotalMinor,
            ])
            .column(order::Column::PlacedAt)
            .filter(order::Column::PlacedAt.gte(since))
            .filter(order::Column::Status.ne("cancelled"))
            .into_tuple()
            .all(&txn)
            .await?;
        let units = sum_per_order::<order_line::Entity>(
            self,
            &txn,
            order_line::Column::OrderId,
            order_line::Column::Quantity,
            since,
        )
        .await?;
        let refunded = sum_per_order::<refund::Entity>(
            self,
            &txn,
            refund::Column::OrderId,
            refund::Column::AmountMinor,
            since,
        )
        .await?;
        txn.commit().await?;
        let mut channels: BTreeMap<(String, String), ChannelSales> = BTreeMap::new();
        let mut days: BTreeMap<(String, String), DaySales> = BTreeMap::new();
        for (id, connection_id, currency, total, placed_at) in orders {
            let c = channels
                .entry((connection_id.clone(), currency.clone()))
                .or_insert_with(|| ChannelSales {
                    connection_id,
                    currency: currency.clone(),
                    ..ChannelSales::default()
                });
            c.orders += 1;
            c.units += units.get(&id).copied().unwrap_or_default();
            c.revenue_minor += total;
            c.refunded_minor += refunded.get(&id).copied().unwrap_or_default();
            let day = placed_at.format("%Y-%m-%d").to_string();
            let d = days
                .entry((day.clone(), currency.clone()))
                .or_insert_with(|| DaySales {
                    day,
                    currency,
                    ..DaySales::default()
                });
            d.orders += 1;
            d.revenue_minor += total;
        }
        Ok(Sales {
            by_channel: channels.into_values().collect(),
            by_day: days.into_values().collect(),
        })
    }
}

/// `amount` summed per order, for the orders placed since `since`.
async fn sum_per_order<E: TenantOwned>(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    order_id: E::Column,
    amount: E::Column,
    since: DateTime<Utc>,
) -> Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, Option<i64>)> = scoped
        .select::<E>()
        .select_only()
        .column(order_id)
        .column_as(bigint(amount.sum()), "total")
        .filter(order_id.in_subquery(order_ids_since(scoped, since)))
        .group_by(order_id)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, n.unwrap_or_default()))
        .collect())
}

/// A sum as a 64-bit integer on every backend (PostgreSQL sums `BIGINT` into `NUMERIC`).
fn bigint(sum: sea_orm::sea_query::Expr) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::ExprTrait;
    sum.cast_as(sea_orm::sea_query::Alias::new("BIGINT"))
}

fn order_ids_since(
    scoped: &Scoped<'_>,
    since: DateTime<Utc>,
) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(order::Column::TenantId.eq(scoped.tenant_id().as_str()))
        .and_where(order::Column::PlacedAt.gte(since))
        .to_owned()
}
