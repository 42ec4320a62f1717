//! Reading merged orders: the feed across channels and one order in full.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use concord_domain::{ConnectionId, CustomerId, LocationId, OrderId, SkuId, orders::OrderStatus};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    Page, Scoped,
    catalog::page_cursor,
    decode,
    entity::{customer, fulfilment, order, order_line, oversell, payment, refund, return_receipt},
    error::{Result, StorageError},
};

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    /// Only from this channel.
    pub connection_id: Option<ConnectionId>,
    /// Only in this status.
    pub status: Option<OrderStatus>,
    /// Placed at or after.
    pub from: Option<DateTime<Utc>>,
    /// Placed before.
    pub to: Option<DateTime<Utc>>,
    /// Only oversold orders.
    pub oversold_only: bool,
    /// Continue after this order (the previous page's cursor).
    pub after: Option<OrderId>,
    /// Page size.
    pub limit: u64,
}

/// An order in the merged feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    /// Concord's id.
    pub id: OrderId,
    /// The channel it came from.
    pub connection_id: ConnectionId,
    /// The platform's id.
    pub external_id: String,
    /// Where it stands.
    pub status: OrderStatus,
    /// ISO currency.
    pub currency: String,
    /// Total, minor units.
    pub total_minor: i64,
    /// The merged customer.
    pub customer: Option<CustomerRecord>,
    /// Some line could not be covered by stock.
    pub oversold: bool,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
}

/// A customer merged across channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    /// Concord's id.
    pub id: CustomerId,
    /// Normalized email.
    pub email: Option<String>,
    /// Normalized phone.
    pub phone: Option<String>,
    /// Name.
    pub name: Option<String>,
}

/// An order with everything attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetail {
    /// The summary.
    pub summary: OrderSummary,
    /// Lines.
    pub lines: Vec<OrderLineRecord>,
    /// Payments.
    pub payments: Vec<PaymentRecord>,
    /// Refunds.
    pub refunds: Vec<RefundRecord>,
    /// Returns.
    pub returns: Vec<ReturnRecord>,
    /// Fulfilments.
    pub fulfilments: Vec<FulfilmentRecord>,
    /// Oversells found on it.
    pub oversells: Vec<OversellRecord>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineRecord {
    /// The platform's line id.
    pub external_line_id: String,
    /// The SKU code sold.
    pub sku_code: String,
    /// The matched SKU, if the code is in the catalog.
    pub sku_id: Option<SkuId>,
    /// The location serving it.
    pub location_id: Option<LocationId>,
    /// Units ordered.
    pub quantity: i64,
    /// Units fulfilled.
    pub fulfilled_quantity: i64,
    /// Price per unit, minor units.
    pub unit_price_minor: i64,
}

/// A payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The platform's id.
    pub external_id: String,
    /// `captured` or `failed`.
    pub status: String,
    /// Minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// A refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// The platform's id.
    pub external_id: String,
    /// Minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// Whether units went back to stock.
    pub restocked: bool,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// A returned item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRecord {
    /// The platform's return id.
    pub external_id: String,
    /// The SKU code.
    pub sku_code: String,
    /// Units.
    pub quantity: i64,
    /// What happened to it.
    pub disposition: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// A fulfilment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilmentRecord {
    /// The platform's id.
    pub external_id: String,
    /// Carrier.
    pub carrier: Option<String>,
    /// Tracking number.
    pub tracking: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An oversell: units sold beyond stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversellRecord {
    /// The order that lost the last unit.
    pub order_id: OrderId,
    /// The SKU.
    pub sku_id: SkuId,
    /// Where.
    pub location_id: LocationId,
    /// Units short.
    pub shortfall: i64,
    /// The policy applied.
    pub policy: String,
    /// When found.
    pub created_at: DateTime<Utc>,
}

impl Scoped<'_> {
    /// The merged order feed, newest first.
    pub async fn orders(&self, q: &OrderQuery) -> Result<Page<OrderSummary>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<order::Entity>()
            .order_by_desc(order::Column::Id)
            .limit(q.limit + 1);
        if let Some(c) = &q.connection_id {
            query = query.filter(order::Column::ConnectionId.eq(c.as_str()));
        }
        if let Some(s) = q.status {
            query = query.filter(order::Column::Status.eq(s.as_str()));
        }
        if let Some(from) = q.from {
            query = query.filter(order::Column::PlacedAt.gte(from));
        }
        if let Some(to) = q.to {
            query = query.filter(order::Column::PlacedAt.lt(to));
        }
        if q.oversold_only {
            query = query.filter(order::Column::Oversold.eq(true));
        }
        if let Some(after) = &q.after {
            query = query.filter(order::Column::Id.lt(after.as_str()));
        }
        let rows = query.all(&txn).await?;
        let customer_ids: Vec<String> = rows.iter().filter_map(|o| o.customer_id.clone()).collect();
        let customers: BTreeMap<String, customer::Model> = self
            .select::<customer::Entity>()
            .filter(customer::Column::Id.is_in(customer_ids))
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        txn.commit().await?;
        let mut items = rows
            .into_iter()
            .map(|o| {
                let c = o
                    .customer_id
                    .as_ref()
                    .and_then(|id| customers.get(id))
                    .cloned();
                to_summary(o, c)
            })
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cursor(&mut items, q.limit, |o| o.id.to_string());
        Ok(Page { items, next_cursor })
    }

    /// One order with its lines, payments, refunds, returns, fulfilments and oversells.
    pub async fn order(&self, id: &OrderId) -> Result<OrderDetail> {
        let txn = self.begin().await?;
        let o = self
            .select::<order::Entity>()
            .filter(order::Column::Id.eq(id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        let c = match &o.customer_id {
            Some(cid) => {
                self.select::<customer::Entity>()
                    .filter(customer::Column::Id.eq(cid.as_str()))
                    .one(&txn)
                    .await?
            }
            None => None,
        };
        let of_order = id.as_str();
        let lines = self
            .select::<order_line::Entity>()
            .filter(order_line::Column::OrderId.eq(of_order))
            .order_by_asc(order_line::Column::ExternalLineId)
            .all(&txn)
            .await?;
        let payments = self
            .select::<payment::Entity>()
            .filter(payment::Column::OrderId.eq(of_order))
            .order_by_asc(payment::Column::OccurredAt)
            .all(&txn)
            .await?;
        let refunds = self
            .select::<refund::Entity>()
            .filter(refund::Column::OrderId.eq(of_order))
            .order_by_asc(refund::Column::OccurredAt)
            .all(&txn)
            .await?;
        let returns = self
            .select::<return_receipt::Entity>()
            .filter(return_receipt::Column::OrderId.eq(of_order))
            .order_by_asc(return_receipt::Column::ReceivedAt)
            .all(&txn)
            .await?;
        let fulfilments = self
            .select::<fulfilment::Entity>()
            .filter(fulfilment::Column::OrderId.eq(of_order))
            .order_by_asc(fulfilment::Column::CreatedAt)
            .all(&txn)
            .await?;
        let oversells = self
            .select::<oversell::Entity>()
            .filter(oversell::Column::OrderId.eq(of_order))
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(OrderDetail {
            summary: to_summary(o, c)?,
            lines: lines
                .into_iter()
                .map(|l| {
                    Ok(OrderLineRecord {
                        external_line_id: l.external_line_id,
                        sku_code: l.sku_code,
                        sku_id: l.sku_id.as_deref().map(decode::id).transpose()?,
                        location_id: l.location_id.as_deref().map(decode::id).transpose()?,
                        quantity: l.quantity,
                        fulfilled_quantity: l.fulfilled_quantity.max(l.fulfilled_by_events),
                        unit_price_minor: l.unit_price_minor,
                    })
                })
                .collect::<Result<_>>()?,
            payments: payments
                .into_iter()
                .map(|p| PaymentRecord {
                    external_id: p.external_id,
                    status: p.status,
                    amount_minor: p.amount_minor,
                    currency: p.currency,
                    occurred_at: p.occurred_at,
                })
                .collect(),
            refunds: refunds
                .into_iter()
                .map(|r| RefundRecord {
                    external_id: r.external_id,
                    amount_minor: r.amount_minor,
                    currency: r.currency,
                    restocked: r.restocked,
                    occurred_at: r.occurred_at,
                })
                .collect(),
            returns: returns
                .into_iter()
                .map(|r| ReturnRecord {
                    external_id: r.external_id,
                    sku_code: r.sku_code,
                    quantity: r.quantity,
                    disposition: r.disposition,
                    received_at: r.received_at,
                })
                .collect(),
            fulfilments: fulfilments
                .into_iter()
                .map(|f| FulfilmentRecord {
                    external_id: f.external_id,
                    carrier: f.carrier,
                    tracking: f.tracking,
                    created_at: f.created_at,
                })
                .collect(),
            oversells: oversells
                .into_iter()
                .map(to_oversell)
                .collect::<Result<_>>()?,
        })
    }

    /// Oversells, newest first.
    pub async fn oversells(&self, limit: u64) -> Result<Vec<OversellRecord>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<oversell::Entity>()
            .order_by_desc(oversell::Column::CreatedAt)
            .limit(limit)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(to_oversell).collect()
    }
}

fn to_oversell(o: oversell::Model) -> Result<OversellRecord> {
    Ok(OversellRecord {
        order_id: decode::id(&o.order_id)?,
        sku_id: decode::id(&o.sku_id)?,
        location_id: decode::id(&o.location_id)?,
        shortfall: o.shortfall,
        policy: o.policy,
        created_at: o.created_at,
    })
}

fn to_summary(o: order::Model, c: Option<customer::Model>) -> Result<OrderSummary> {
    Ok(OrderSummary {
        id: decode::id(&o.id)?,
        connection_id: decode::id(&o.connection_id)?,
        external_id: o.external_id,
        status: decode::parsed(&o.status, str::parse)?,
        currency: o.currency,
        total_minor: o.total_minor,
        customer: c
            .map(|c| {
                Ok::<_, StorageError>(CustomerRecord {
                    id: decode::id(&c.id)?,
                    email: c.email,
                    phone: c.phone,
                    name: c.name,
                })
            })
            .transpose()?,
        oversold: o.oversold,
        placed_at: o.placed_at,
    })
}
