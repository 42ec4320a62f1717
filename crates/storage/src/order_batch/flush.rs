//! Writing a run: customers, movements, levels (read back), oversells, orders, lines, offers.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use concord_domain::{
    SkuId,
    ledger::{Bucket, MovementReason, StockLevel},
    orders::{OrderStatus, OversellPolicy},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, OnConflict},
};

use super::{CHUNK, Engine, EventEffect, PendingMovement, Taker};
use crate::{
    AvailabilityChange, decode,
    entity::{availability, customer, order, order_line, oversell, stock_level, stock_movement},
    error::Result,
    events::{Oversold, load_policy},
    ledger, now,
};

impl Engine<'_> {
    /// Writes everything, judges oversells on the levels as stored, recomputes offers.
    pub(super) async fn flush(
        mut self,
        effects: &mut [EventEffect],
    ) -> Result<(Vec<EventEffect>, Vec<AvailabilityChange>)> {
        let txn = self.txn;
        let new_customers: Vec<customer::ActiveModel> = self
            .customers
            .iter()
            .filter(|c| self.new_customers.contains(&c.id))
            .cloned()
            .map(|c| customer::ActiveModel {
                id: Set(c.id),
                tenant_id: Set(c.tenant_id),
                email: Set(c.email),
                phone: Set(c.phone),
                name: Set(c.name),
                created_at: Set(c.created_at),
            })
            .collect();
        for chunk in new_customers.chunks(CHUNK) {
            customer::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
        for c in self.customers.iter().filter(|c| {
            self.changed_customers.contains(&c.id) && !self.new_customers.contains(&c.id)
        }) {
            customer::Entity::update_many()
                .col_expr(customer::Column::Email, Expr::value(c.email.clone()))
                .col_expr(customer::Column::Phone, Expr::value(c.phone.clone()))
                .col_expr(customer::Column::Name, Expr::value(c.name.clone()))
                .filter(customer::Column::TenantId.eq(self.tenant.as_str()))
                .filter(customer::Column::Id.eq(c.id.as_str()))
                .exec(txn)
                .await?;
        }
        self.explain_counted_sales().await?;
        let movements = std::mem::take(&mut self.movements);
        let mut deltas: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        for m in &movements {
            let entry = deltas
                .entry((m.sku_id.clone(), m.location_id.clone()))
                .or_default();
            match m.reason.bucket() {
                Bucket::OnHand => entry.0 += m.delta,
                Bucket::Committed => entry.1 += m.delta,
            }
        }
        let latest = movements
            .iter()
            .map(|m| m.occurred_at)
            .max()
            .unwrap_or_else(now);
        self.follow_platform_figures(txn, &deltas, latest).await?;
        let recorded_at = now();
        let rows: Vec<stock_movement::ActiveModel> = movements
            .iter()
            .map(|m| stock_movement::ActiveModel {
                id: Default::default(),
                tenant_id: Set(self.tenant.clone()),
                sku_id: Set(m.sku_id.clone()),
                location_id: Set(m.location_id.clone()),
                reason: Set(m.reason.as_str().to_owned()),
                delta: Set(m.delta),
                idempotency_key: Set(None),
                source_connection_id: Set(Some(self.connection_id.to_string())),
                source_event_id: Set(Some(m.event_id.clone())),
                order_id: Set(Some(m.order_id.clone())),
                order_line_id: Set(m.stock_key.clone()),
                actor: Set(self.connection_id.to_string()),
                note: Set(m.note.clone()),
                occurred_at: Set(m.occurred_at),
                recorded_at: Set(recorded_at),
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            stock_movement::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
        let level_rows: Vec<stock_level::ActiveModel> = deltas
            .iter()
            .map(|((s, l), (on_hand, committed))| stock_level::ActiveModel {
                sku_id: Set(s.clone()),
                location_id: Set(l.clone()),
                tenant_id: Set(self.tenant.clone()),
                on_hand: Set(*on_hand),
                committed: Set(*committed),
                updated_at: Set(recorded_at),
            })
            .collect();
        let mut stored: HashMap<(String, String), StockLevel> = HashMap::new();
        for chunk in level_rows.chunks(CHUNK) {
            let after = stock_level::Entity::insert_many(chunk.to_vec())
                .on_conflict(ledger::add_to_levels())
                .exec_with_returning(txn)
                .await?;
            stored.extend(after.into_iter().map(|l| {
                (
                    (l.sku_id, l.location_id),
                    StockLevel {
                        on_hand: l.on_hand,
                        committed: l.committed,
                    },
                )
            }));
        }
        self.judge_oversells(&stored, effects).await?;
        let orders: Vec<order::ActiveModel> = self
            .orders
            .values()
            .filter(|o| o.dirty)
            .map(|o| {
                let m = o.model.clone();
                order::ActiveModel {
                    id: Set(m.id),
                    tenant_id: Set(m.tenant_id),
                    connection_id: Set(m.connection_id),
                    external_id: Set(m.external_id),
                    status: Set(m.status),
                    currency: Set(m.currency),
                    total_minor: Set(m.total_minor),
                    customer_id: Set(m.customer_id),
                    location_id: Set(m.location_id),
                    oversold: Set(m.oversold),
                    placed_at: Set(m.placed_at),
                    source_updated_at: Set(m.source_updated_at),
                    created_at: Set(m.created_at),
                    updated_at: Set(m.updated_at),
                }
            })
            .collect();
        for chunk in orders.chunks(CHUNK) {
            order::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(order::Column::Id)
                        .update_columns([
                            order::Column::Status,
                            order::Column::Currency,
                            order::Column::TotalMinor,
                            order::Column::CustomerId,
                            order::Column::LocationId,
                            order::Column::Oversold,
                            order::Column::PlacedAt,
                            order::Column::SourceUpdatedAt,
                            order::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        let lines: Vec<order_line::ActiveModel> = self
            .lines
            .values()
            .filter(|l| l.dirty)
            .map(|l| {
                let m = l.model.clone();
                order_line::ActiveModel {
                    id: Set(m.id),
                    tenant_id: Set(m.tenant_id),
                    order_id: Set(m.order_id),
                    external_line_id: Set(m.external_line_id),
                    sku_code: Set(m.sku_code),
                    sku_id: Set(m.sku_id),
                    location_id: Set(m.location_id),
                    quantity: Set(m.quantity),
                    fulfilled_quantity: Set(m.fulfilled_quantity),
                    fulfilled_by_events: Set(m.fulfilled_by_events),
                    unit_price_minor: Set(m.unit_price_minor),
                }
            })
            .collect();
        for chunk in lines.chunks(CHUNK) {
            order_line::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        order_line::Column::OrderId,
                        order_line::Column::ExternalLineId,
                    ])
                    .update_columns([
                        order_line::Column::SkuId,
                        order_line::Column::LocationId,
                        order_line::Column::Quantity,
                        order_line::Column::FulfilledQuantity,
                        order_line::Column::UnitPriceMinor,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        let touched: Vec<SkuId> = deltas
            .keys()
            .map(|(s, _)| s.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(decode::id)
            .collect::<Result<_>>()?;
        let availability = ledger::recompute_availability(self.scoped, txn, &touched).await?;
        Ok((effects.to_vec(), availability))
    }

    /// Gives each location's shortfall (as stored now) to the latest orders of this run that
    /// took stock there, records one oversell per order and SKU, and applies the policy.
    async fn judge_oversells(
        &mut self,
        stored: &HashMap<(String, String), StockLevel>,
        effects: &mut [EventEffect],
    ) -> Result<()> {
        if self.takers.is_empty() {
            return Ok(());
        }
        let order_ids: Vec<&str> = self.takers.iter().map(|t| t.order_id.as_str()).collect();
        let mut recorded: BTreeSet<(String, String)> = self
            .scoped
            .select::<oversell::Entity>()
            .filter(oversell::Column::OrderId.is_in(order_ids))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|o| (o.order_id, o.sku_id))
            .collect();
        let policy = load_policy(self.scoped, self.txn).await?;
        let mut remaining: HashMap<(String, String), i64> = stored
            .iter()
            .map(|(k, l)| (k.clone(), l.shortfall()))
            .filter(|(_, s)| *s > 0)
            .collect();
        let mut found = Vec::new();
        for taker in self.takers.iter().rev() {
            let key = (taker.sku_id.clone(), taker.location_id.clone());
            let Some(short) = remaining.get_mut(&key).filter(|s| **s > 0) else {
                continue;
            };
            let shortfall = (*short).min(taker.units);
            *short -= shortfall;
            if !recorded.insert((taker.order_id.clone(), taker.sku_id.clone())) {
                continue;
            }
            found.push((taker.event, taker.order_id.clone(), key, shortfall));
        }
        for (event, order_id, (sku_id, location_id), shortfall) in found.into_iter().rev() {
            oversell::Entity::insert(oversell::ActiveModel {
                id: Set(format!("ovs_{}", uuid::Uuid::now_v7().simple())),
                tenant_id: Set(self.tenant.clone()),
                order_id: Set(order_id.clone()),
                sku_id: Set(sku_id.clone()),
                location_id: Set(location_id.clone()),
                shortfall: Set(shortfall),
                policy: Set(policy.as_str().to_owned()),
                created_at: Set(now()),
            })
            .exec_without_returning(self.txn)
            .await?;
            if let Some(order) = self.orders.values_mut().find(|o| o.model.id == order_id) {
                order.model.oversold = true;
                if policy == OversellPolicy::Hold
                    && order.model.status == OrderStatus::Open.as_str()
                {
                    order.model.status = OrderStatus::OnHold.as_str().to_owned();
                }
                order.dirty = true;
            }
            tracing::warn!(order = %order_id, sku = %sku_id, shortfall, policy = policy.as_str(), "oversold");
            effects[event].oversells.push(Oversold {
                order_id: decode::id(&order_id)?,
                sku_id: decode::id(&sku_id)?,
                location_id: decode::id(&location_id)?,
                shortfall,
                policy,
            });
        }
        Ok(())
    }
}

impl Engine<'_> {
    /// Sales placed before a drop in the platform's figure that no known sale explained
    /// were counted by that drop already (it was applied as an edit): each such sale gives
    /// back what the drop took, up to the drop, so its units come off the ledger once.
    async fn explain_counted_sales(&mut self) -> Result<()> {
        let own: Vec<&Taker> = self.takers.iter().filter(|t| !t.kit_part).collect();
        if own.is_empty() {
            return Ok(());
        }
        let sku_ids: BTreeSet<&str> = own.iter().map(|t| t.sku_id.as_str()).collect();
        let mut drops: HashMap<String, (i64, DateTime<Utc>)> = self
            .scoped
            .select::<availability::Entity>()
            .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
            .filter(availability::Column::SkuId.is_in(sku_ids))
            .filter(availability::Column::Unexplained.gt(0))
            // Held until this run commits, so two runs never give the same drop back.
            .lock_exclusive()
            .all(self.txn)
            .await?
            .into_iter()
            .filter_map(|a| Some((a.sku_id, (a.unexplained, a.unexplained_at?))))
            .collect();
        if drops.is_empty() {
            return Ok(());
        }
        let placed: HashMap<&str, DateTime<Utc>> = self
            .orders
            .values()
            .map(|o| (o.model.id.as_str(), o.model.placed_at))
            .collect();
        let mut counted: Vec<(&Taker, DateTime<Utc>)> = own
            .into_iter()
            .filter_map(|t| placed.get(t.order_id.as_str()).map(|at| (t, *at)))
            .collect();
        counted.sort_by_key(|(_, at)| *at);
        let mut explained = Vec::new();
        for (taker, placed_at) in counted {
            let Some((left, drop_at)) = drops.get_mut(&taker.sku_id) else {
                continue;
            };
            let units = taker.units.min(*left);
            if placed_at > *drop_at || units == 0 {
                continue;
            }
            *left -= units;
            explained.push(PendingMovement {
                sku_id: taker.sku_id.clone(),
                location_id: taker.location_id.clone(),
                reason: MovementReason::Adjustment,
                delta: units,
                order_id: taker.order_id.clone(),
                stock_key: None,
                event_id: taker.event_id.clone(),
                occurred_at: placed_at,
                note: Some(format!(
                    "the platform's figure of {} already counted this sale",
                    drop_at.to_rfc3339()
                )),
            });
        }
        let given_back: BTreeSet<&str> = explained.iter().map(|m| m.sku_id.as_str()).collect();
        for (sku_id, (left, _)) in drops
            .iter()
            .filter(|(sku_id, _)| given_back.contains(sku_id.as_str()))
        {
            availability::Entity::update_many()
                .col_expr(availability::Column::Unexplained, Expr::value(*left))
                .filter(availability::Column::TenantId.eq(self.tenant.as_str()))
                .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
                .filter(availability::Column::SkuId.eq(sku_id.as_str()))
                .exec(self.txn)
                .await?;
        }
        self.movements.extend(explained);
        Ok(())
    }

    /// The platform sold these units itself, so its own stock figure dropped by them: the
    /// figure Concord expects it to show follows, as of the sale's time on the platform, so
    /// its stock reports from before (or at) that time are not mistaken for manual edits.
    /// A sale older than the figure Concord knows (a write that set the platform's figure, or
    /// a report that already counted the sale) changes nothing: that figure stands, and a
    /// write brings the platform to Concord's.
    async fn follow_platform_figures(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        deltas: &BTreeMap<(String, String), (i64, i64)>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut sellable: BTreeMap<&str, i64> = BTreeMap::new();
        for ((sku_id, _), (on_hand, committed)) in deltas {
            *sellable.entry(sku_id.as_str()).or_default() += on_hand - committed;
        }
        for (sku_id, change) in sellable.into_iter().filter(|(_, c)| *c != 0) {
            availability::Entity::update_many()
                .col_expr(
                    availability::Column::Reported,
                    sea_orm::sea_query::ExprTrait::add(
                        Expr::col(availability::Column::Reported),
                        change,
                    ),
                )
                .col_expr(availability::Column::ReportedAt, Expr::value(at))
                .filter(availability::Column::TenantId.eq(self.tenant.as_str()))
                .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
                .filter(availability::Column::SkuId.eq(sku_id))
                .filter(availability::Column::Reported.is_not_null())
                .filter(sea_orm::sea_query::ExprTrait::or(
                    availability::Column::ReportedAt.is_null(),
                    availability::Column::ReportedAt.lt(at),
                ))
                .exec(txn)
                .await?;
        }
        Ok(())
    }
}
