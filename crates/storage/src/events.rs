//! Applying normalized commerce events: orders merge into one model per channel order, their
//! lines hold stock according to their state, payments, refunds, returns and fulfilments
//! are recorded once each by their platform ids, and stock reports and manual platform
//! edits reach the ledger. Every event is applied in one transaction; applying it again
//! changes nothing, and events arriving out of order converge to the same state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, CustomerId, LocationId, OrderId, SkuId,
    availability::allocate,
    events::{CommerceEvent, CustomerSnapshot, InboundEvent, OrderSnapshot},
    ledger::{Bucket, MovementReason, StockLevel},
    orders::{LineStock, OrderStatus, OversellPolicy, normalize_email, normalize_phone},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    AvailabilityChange, Change, NewMovement, Scoped, decode,
    entity::{
        availability, connection, connection_location, customer, fulfilment, order, order_line,
        oversell, payment, refund, return_receipt, sku, stock_level, stock_movement, tenant,
    },
    error::{Result, StorageError},
    ledger, now,
};

/// What applying one event did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The order it concerned, if any.
    pub order_id: Option<OrderId>,
    /// Stock movements recorded.
    pub movements: usize,
    /// Offers that changed.
    pub availability: Vec<AvailabilityChange>,
    /// Units sold beyond stock, one per (order, SKU, location) newly found short.
    pub oversells: Vec<Oversold>,
    /// Why nothing was done, when the event carried nothing new or nothing Concord acts on.
    pub ignored: Option<String>,
}

/// An order line that could not be covered by stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversold {
    /// The losing order.
    pub order_id: OrderId,
    /// The SKU.
    pub sku_id: SkuId,
    /// Where.
    pub location_id: LocationId,
    /// Units short.
    pub shortfall: i64,
    /// What the tenant's policy did about it.
    pub policy: OversellPolicy,
}

impl Scoped<'_> {
    /// Applies one event from `connection_id` (see the module docs).
    pub async fn apply_event(
        &self,
        connection_id: &ConnectionId,
        event: &InboundEvent,
    ) -> Result<Applied> {
        let txn = self.begin_write().await?;
        self.select::<connection::Entity>()
            .filter(connection::Column::Id.eq(connection_id.as_str()))
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        let ctx = Ctx {
            scoped: self,
            txn: &txn,
            connection_id,
            event,
        };
        let applied = ctx.apply().await?;
        txn.commit().await?;
        Ok(applied)
    }

    /// The tenant's oversell policy.
    pub async fn oversell_policy(&self) -> Result<OversellPolicy> {
        let txn = self.begin().await?;
        let policy = load_policy(self, &txn).await?;
        txn.commit().await?;
        Ok(policy)
    }

    /// Sets the tenant's oversell policy.
    pub async fn set_oversell_policy(&self, policy: OversellPolicy) -> Result<()> {
        let txn = self.begin_write().await?;
        tenant::Entity::update_many()
            .col_expr(tenant::Column::OversellPolicy, Expr::value(policy.as_str()))
            .filter(tenant::Column::Id.eq(self.tenant_id().as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

async fn load_policy(scoped: &Scoped<'_>, db: &impl ConnectionTrait) -> Result<OversellPolicy> {
    let row = tenant::Entity::find_by_id(scoped.tenant_id().to_string())
        .one(db)
        .await?
        .ok_or(StorageError::NotFound)?;
    decode::parsed(&row.oversell_policy, str::parse)
}

struct Ctx<'a> {
    scoped: &'a Scoped<'a>,
    txn: &'a DatabaseTransaction,
    connection_id: &'a ConnectionId,
    event: &'a InboundEvent,
}

impl Ctx<'_> {
    fn tenant(&self) -> String {
        self.scoped.tenant_id().to_string()
    }

    fn actor(&self) -> String {
        self.connection_id.to_string()
    }

    async fn apply(&self) -> Result<Applied> {
        match &self.event.event {
            CommerceEvent::OrderPlaced(snapshot) | CommerceEvent::OrderUpdated(snapshot) => {
                let order = self.merge_order(snapshot).await?;
                self.settle_order(&order).await
            }
            CommerceEvent::OrderCancelled {
                order_id,
                updated_at,
            } => {
                let order = self.order_or_placeholder(order_id, "XXX").await?;
                if *updated_at >= order.source_updated_at {
                    self.set_status(&order.id, OrderStatus::Cancelled, *updated_at)
                        .await?;
                }
                self.settle_order(&order.id).await
            }
            CommerceEvent::PaymentCaptured(p) | CommerceEvent::PaymentFailed(p) => {
                let status = if matches!(self.event.event, CommerceEvent::PaymentCaptured(_)) {
                    "captured"
                } else {
                    "failed"
                };
                let order = self.order_or_placeholder(&p.order_id, &p.currency).await?;
                payment::Entity::insert(payment::ActiveModel {
                    id: Set(format!("pay_{}", uuid_simple())),
                    tenant_id: Set(self.tenant()),
                    order_id: Set(order.id.clone()),
                    external_id: Set(p.payment_id.clone()),
                    status: Set(status.to_owned()),
                    amount_minor: Set(p.amount_minor),
                    currency: Set(p.currency.to_uppercase()),
                    occurred_at: Set(self.event.occurred_at),
                })
                .on_conflict(
                    OnConflict::columns([payment::Column::OrderId, payment::Column::ExternalId])
                        .update_column(payment::Column::Status)
                        .to_owned(),
                )
                .exec_without_returning(self.txn)
                .await?;
                Ok(Applied {
                    order_id: Some(decode::id(&order.id)?),
                    ..Applied::default()
                })
            }
            CommerceEvent::RefundIssued(r) => {
                let order = self.order_or_placeholder(&r.order_id, &r.currency).await?;
                let inserted = refund::Entity::insert(refund::ActiveModel {
                    id: Set(format!("rfd_{}", uuid_simple())),
                    tenant_id: Set(self.tenant()),
                    order_id: Set(order.id.clone()),
                    external_id: Set(r.refund_id.clone()),
                    amount_minor: Set(r.amount_minor),
                    currency: Set(r.currency.to_uppercase()),
                    restocked: Set(!r.restock.is_empty()),
                    occurred_at: Set(self.event.occurred_at),
                })
                .on_conflict(
                    OnConflict::columns([refund::Column::OrderId, refund::Column::ExternalId])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(self.txn)
                .await?;
                let items: Vec<(String, i64)> = r
                    .restock
                    .iter()
                    .map(|i| (i.sku.clone(), i.quantity))
                    .collect();
                self.restock(
                    &order,
                    inserted,
                    &items,
                    MovementReason::RefundRestock,
                    &format!("refund:{}", r.refund_id),
                )
                .await
            }
            CommerceEvent::ReturnReceived(r) => {
                let order = self.order_or_placeholder(&r.order_id, "XXX").await?;
                let mut restocked = Vec::new();
                for line in &r.lines {
                    let inserted = return_receipt::Entity::insert(return_receipt::ActiveModel {
                        id: Set(format!("ret_{}", uuid_simple())),
                        tenant_id: Set(self.tenant()),
                        order_id: Set(order.id.clone()),
                        external_id: Set(r.return_id.clone()),
                        sku_code: Set(line.sku.clone()),
                        quantity: Set(line.quantity),
                        disposition: Set(format!("{:?}", line.disposition).to_lowercase()),
                        received_at: Set(self.event.occurred_at),
                    })
                    .on_conflict(
                        OnConflict::columns([
                            return_receipt::Column::OrderId,
                            return_receipt::Column::ExternalId,
                            return_receipt::Column::SkuCode,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(self.txn)
                    .await?;
                    if inserted > 0 && line.disposition.restocks() {
                        restocked.push((line.sku.clone(), line.quantity));
                    }
                }
                let any = u64::from(!restocked.is_empty());
                self.restock(
                    &order,
                    any,
                    &restocked,
                    MovementReason::Return,
                    &format!("return:{}", r.return_id),
                )
                .await
            }
            CommerceEvent::FulfilmentCreated(f) => {
                let order = self.order_or_placeholder(&f.order_id, "XXX").await?;
                let lines = serde_json::to_string(&f.lines)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
                let inserted = fulfilment::Entity::insert(fulfilment::ActiveModel {
                    id: Set(format!("ful_{}", uuid_simple())),
                    tenant_id: Set(self.tenant()),
                    order_id: Set(order.id.clone()),
                    external_id: Set(f.fulfilment_id.clone()),
                    lines: Set(lines),
                    carrier: Set(f.carrier.clone()),
                    tracking: Set(f.tracking.clone()),
                    created_at: Set(self.event.occurred_at),
                })
                .on_conflict(
                    OnConflict::columns([
                        fulfilment::Column::OrderId,
                        fulfilment::Column::ExternalId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(self.txn)
                .await?;
                if inserted > 0 {
                    for line in &f.lines {
                        order_line::Entity::update_many()
                            .col_expr(
                                order_line::Column::FulfilledByEvents,
                                Expr::col(order_line::Column::FulfilledByEvents).add(line.quantity),
                            )
                            .filter(order_line::Column::TenantId.eq(self.tenant()))
                            .filter(order_line::Column::OrderId.eq(order.id.as_str()))
                            .filter(order_line::Column::ExternalLineId.eq(line.line_id.as_str()))
                            .exec(self.txn)
                            .await?;
                    }
                }
                self.settle_order(&order.id).await
            }
            CommerceEvent::StockLevelReported { sku, quantity, .. } => {
                let Some(found) = self.sku_by_code(sku).await? else {
                    return Ok(ignored(format!("no SKU {sku} in the catalog")));
                };
                availability::Entity::update_many()
                    .col_expr(availability::Column::Reported, Expr::value(*quantity))
                    .filter(availability::Column::TenantId.eq(self.tenant()))
                    .filter(availability::Column::SkuId.eq(found.id.as_str()))
                    .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
                    .exec(self.txn)
                    .await?;
                Ok(Applied::default())
            }
            CommerceEvent::StockAdjusted {
                sku,
                location,
                delta,
                note,
            } => {
                let Some(found) = self.sku_by_code(sku).await? else {
                    return Ok(ignored(format!("no SKU {sku} in the catalog")));
                };
                let Some(location_id) = self.platform_location(location.as_deref()).await? else {
                    return Ok(ignored("the connection sells from no location".into()));
                };
                let recorded = ledger::record(
                    self.scoped,
                    self.txn,
                    vec![NewMovement {
                        sku_id: decode::id(&found.id)?,
                        location_id,
                        reason: MovementReason::Adjustment,
                        change: Change::Delta(*delta),
                        idempotency_key: Some(format!(
                            "evt:{}:{}",
                            self.connection_id, self.event.event_id
                        )),
                        source: Some((self.connection_id.clone(), self.event.event_id.clone())),
                        order_line: None,
                        actor: self.actor(),
                        note: note.clone(),
                        occurred_at: self.event.occurred_at,
                    }],
                )
                .await?;
                Ok(Applied {
                    movements: recorded.movements.len(),
                    availability: recorded.availability,
                    ..Applied::default()
                })
            }
            CommerceEvent::ProductUpserted(p) => Ok(ignored(format!(
                "product {} is matched to the catalog when listings are mapped; the catalog is Concord's",
                p.product_id
            ))),
        }
    }

    /// Merges a snapshot into the stored order: the newer of the two decides status, totals
    /// and customer; lines are added if new and updated only from a newer snapshot.
    async fn merge_order(&self, s: &OrderSnapshot) -> Result<String> {
        let stored = self.find_order(&s.order_id).await?;
        let newer = stored
            .as_ref()
            .is_none_or(|o| s.updated_at >= o.source_updated_at);
        let customer_id = match &s.customer {
            Some(c) if newer => self.merge_customer(c).await?,
            _ => stored.as_ref().and_then(|o| o.customer_id.clone()),
        };
        let location_id = self.mapped_location(s.location.as_deref()).await?;
        let id = match &stored {
            Some(o) => o.id.clone(),
            None => OrderId::generate().to_string(),
        };
        if newer {
            let at = now();
            // A hold placed by Concord (oversell policy) outlives the platform's "open".
            let held = stored
                .as_ref()
                .is_some_and(|o| o.status == OrderStatus::OnHold.as_str());
            let status = if held && s.status == OrderStatus::Open {
                OrderStatus::OnHold
            } else {
                s.status
            };
            order::Entity::insert(order::ActiveModel {
                id: Set(id.clone()),
                tenant_id: Set(self.tenant()),
                connection_id: Set(self.connection_id.to_string()),
                external_id: Set(s.order_id.clone()),
                status: Set(status.as_str().to_owned()),
                currency: Set(s.currency.to_uppercase()),
                total_minor: Set(s.total_minor),
                customer_id: Set(customer_id),
                location_id: Set(location_id.as_ref().map(ToString::to_string)),
                oversold: Set(stored.as_ref().is_some_and(|o| o.oversold)),
                placed_at: Set(s.placed_at),
                source_updated_at: Set(s.updated_at),
                created_at: Set(stored.as_ref().map_or(at, |o| o.created_at)),
                updated_at: Set(at),
            })
            .on_conflict(
                OnConflict::column(order::Column::Id)
                    .update_columns([
                        order::Column::Status,
                        order::Column::Currency,
                        order::Column::TotalMinor,
                        order::Column::CustomerId,
                        order::Column::LocationId,
                        order::Column::PlacedAt,
                        order::Column::SourceUpdatedAt,
                        order::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.txn)
            .await?;
        }
        for line in &s.lines {
            let sku_id = self.sku_by_code(&line.sku).await?.map(|k| k.id);
            let model = order_line::ActiveModel {
                id: Set(format!("oli_{}", uuid_simple())),
                tenant_id: Set(self.tenant()),
                order_id: Set(id.clone()),
                external_line_id: Set(line.line_id.clone()),
                sku_code: Set(line.sku.clone()),
                sku_id: Set(sku_id),
                location_id: Set(None),
                quantity: Set(Ord::max(line.quantity, 0)),
                fulfilled_quantity: Set(Ord::max(line.fulfilled_quantity, 0)),
                fulfilled_by_events: Set(0),
                unit_price_minor: Set(line.unit_price_minor),
            };
            // Fulfilled units only grow, so the largest figure any snapshot reported wins,
            // whatever order snapshots arrive in; quantities and prices follow the newest.
            let mut conflict = OnConflict::columns([
                order_line::Column::OrderId,
                order_line::Column::ExternalLineId,
            ]);
            conflict.value(
                order_line::Column::FulfilledQuantity,
                Expr::cust(
                    "CASE WHEN excluded.fulfilled_quantity > order_lines.fulfilled_quantity \
                     THEN excluded.fulfilled_quantity ELSE order_lines.fulfilled_quantity END",
                ),
            );
            if newer {
                conflict.update_columns([
                    order_line::Column::Quantity,
                    order_line::Column::UnitPriceMinor,
                ]);
            }
            let conflict = conflict.to_owned();
            order_line::Entity::insert(model)
                .on_conflict(conflict)
                .exec_without_returning(self.txn)
                .await?;
        }
        Ok(id)
    }

    /// Brings every line's stock effect in line with the order's stored state, allocating
    /// unallocated lines, and applies the oversell policy to lines that came up short.
    async fn settle_order(&self, order_id: &str) -> Result<Applied> {
        let order = self.order_by_id(order_id).await?;
        let status: OrderStatus = decode::parsed(&order.status, str::parse)?;
        let lines = self
            .scoped
            .select::<order_line::Entity>()
            .filter(order_line::Column::OrderId.eq(order_id))
            .all(self.txn)
            .await?;
        let applied = self.applied_by_line(order_id).await?;
        let mut moves = Vec::new();
        let mut placed = Vec::new();
        for line in &lines {
            let Some(sku_id) = &line.sku_id else { continue };
            let fulfilled = Ord::max(line.fulfilled_quantity, line.fulfilled_by_events);
            let desired = LineStock::desired(status, line.quantity, fulfilled);
            let done = applied
                .get(&line.external_line_id)
                .copied()
                .unwrap_or_default();
            let compensations = desired.compensations(done);
            if compensations.is_empty() {
                continue;
            }
            let location_id = match &line.location_id {
                Some(l) => decode::id(l)?,
                None => match self.allocate_line(&order, sku_id).await? {
                    Some(l) => {
                        order_line::Entity::update_many()
                            .col_expr(order_line::Column::LocationId, Expr::value(l.to_string()))
                            .filter(order_line::Column::Id.eq(line.id.as_str()))
                            .filter(order_line::Column::TenantId.eq(self.tenant()))
                            .exec(self.txn)
                            .await?;
                        l
                    }
                    None => continue,
                },
            };
            let sku_id: SkuId = decode::id(sku_id)?;
            if takes_stock(&compensations) {
                placed.push((sku_id.clone(), location_id.clone()));
            }
            for (reason, delta) in compensations {
                moves.push(NewMovement {
                    sku_id: sku_id.clone(),
                    location_id: location_id.clone(),
                    reason,
                    change: Change::Delta(delta),
                    idempotency_key: None,
                    source: Some((self.connection_id.clone(), self.event.event_id.clone())),
                    order_line: Some((decode::id(order_id)?, line.external_line_id.clone())),
                    actor: self.actor(),
                    note: None,
                    occurred_at: self.event.occurred_at,
                });
            }
        }
        let recorded = ledger::record(self.scoped, self.txn, moves).await?;
        let oversells = self.check_oversell(&order, &placed).await?;
        Ok(Applied {
            order_id: Some(decode::id(order_id)?),
            movements: recorded.movements.len(),
            availability: recorded.availability,
            oversells,
            ignored: None,
        })
    }

    /// Records and handles lines whose location is now promised beyond its stock.
    async fn check_oversell(
        &self,
        order: &order::Model,
        placed: &[(SkuId, LocationId)],
    ) -> Result<Vec<Oversold>> {
        let status: OrderStatus = decode::parsed(&order.status, str::parse)?;
        if status == OrderStatus::Cancelled {
            return Ok(Vec::new());
        }
        let policy = load_policy(self.scoped, self.txn).await?;
        let mut found = Vec::new();
        for (sku_id, location_id) in placed {
            let Some(level) =
                stock_level::Entity::find_by_id((sku_id.to_string(), location_id.to_string()))
                    .filter(stock_level::Column::TenantId.eq(self.tenant()))
                    .one(self.txn)
                    .await?
            else {
                continue;
            };
            let shortfall = StockLevel {
                on_hand: level.on_hand,
                committed: level.committed,
            }
            .shortfall();
            let already = self
                .scoped
                .select::<oversell::Entity>()
                .filter(oversell::Column::OrderId.eq(order.id.as_str()))
                .filter(oversell::Column::SkuId.eq(sku_id.as_str()))
                .one(self.txn)
                .await?
                .is_some();
            if shortfall == 0 || already {
                continue;
            }
            oversell::Entity::insert(oversell::ActiveModel {
                id: Set(format!("ovs_{}", uuid_simple())),
                tenant_id: Set(self.tenant()),
                order_id: Set(order.id.clone()),
                sku_id: Set(sku_id.to_string()),
                location_id: Set(location_id.to_string()),
                shortfall: Set(shortfall),
                policy: Set(policy.as_str().to_owned()),
                created_at: Set(now()),
            })
            .exec_without_returning(self.txn)
            .await?;
            let new_status = if policy == OversellPolicy::Hold {
                OrderStatus::OnHold
            } else {
                status
            };
            order::Entity::update_many()
                .col_expr(order::Column::Oversold, Expr::value(true))
                .col_expr(order::Column::Status, Expr::value(new_status.as_str()))
                .filter(order::Column::Id.eq(order.id.as_str()))
                .filter(order::Column::TenantId.eq(self.tenant()))
                .exec(self.txn)
                .await?;
            tracing::warn!(order = %order.id, sku = %sku_id, shortfall, policy = policy.as_str(), "oversold");
            found.push(Oversold {
                order_id: decode::id(&order.id)?,
                sku_id: sku_id.clone(),
                location_id: location_id.clone(),
                shortfall,
                policy,
            });
        }
        Ok(found)
    }

    /// Stock each line of the order already holds, from the ledger.
    async fn applied_by_line(&self, order_id: &str) -> Result<BTreeMap<String, LineStock>> {
        let rows = self
            .scoped
            .select::<stock_movement::Entity>()
            .filter(stock_movement::Column::OrderId.eq(order_id))
            .all(self.txn)
            .await?;
        let mut held: BTreeMap<String, LineStock> = BTreeMap::new();
        for m in rows {
            let Some(line) = m.order_line_id else {
                continue;
            };
            let reason: MovementReason = decode::parsed(&m.reason, str::parse)?;
            let entry = held.entry(line).or_default();
            match reason.bucket() {
                Bucket::Committed => entry.committed += m.delta,
                Bucket::OnHand if reason == MovementReason::Sale => entry.sold -= m.delta,
                Bucket::OnHand => {}
            }
        }
        Ok(held)
    }

    /// Puts units back on the shelf for a refund or return, at the order line's location.
    async fn restock(
        &self,
        order: &order::Model,
        inserted: u64,
        items: &[(String, i64)],
        reason: MovementReason,
        key: &str,
    ) -> Result<Applied> {
        let order_id = Some(decode::id(&order.id)?);
        if inserted == 0 || items.is_empty() {
            return Ok(Applied {
                order_id,
                ..Applied::default()
            });
        }
        let mut moves = Vec::new();
        for (code, quantity) in items {
            let Some(found) = self.sku_by_code(code).await? else {
                continue;
            };
            let line_location = self
                .scoped
                .select::<order_line::Entity>()
                .filter(order_line::Column::OrderId.eq(order.id.as_str()))
                .filter(order_line::Column::SkuId.eq(found.id.as_str()))
                .one(self.txn)
                .await?
                .and_then(|l| l.location_id);
            let location_id = match line_location {
                Some(l) => decode::id(&l)?,
                None => match self.platform_location(None).await? {
                    Some(l) => l,
                    None => continue,
                },
            };
            moves.push(NewMovement {
                sku_id: decode::id(&found.id)?,
                location_id,
                reason,
                change: Change::Delta(quantity.abs()),
                idempotency_key: Some(format!("{key}:{}:{code}", self.connection_id)),
                source: Some((self.connection_id.clone(), self.event.event_id.clone())),
                order_line: None,
                actor: self.actor(),
                note: None,
                occurred_at: self.event.occurred_at,
            });
        }
        let recorded = ledger::record(self.scoped, self.txn, moves).await?;
        Ok(Applied {
            order_id,
            movements: recorded.movements.len(),
            availability: recorded.availability,
            ..Applied::default()
        })
    }

    async fn find_order(&self, external_id: &str) -> Result<Option<order::Model>> {
        Ok(self
            .scoped
            .select::<order::Entity>()
            .filter(order::Column::ConnectionId.eq(self.connection_id.as_str()))
            .filter(order::Column::ExternalId.eq(external_id))
            .one(self.txn)
            .await?)
    }

    async fn order_by_id(&self, id: &str) -> Result<order::Model> {
        self.scoped
            .select::<order::Entity>()
            .filter(order::Column::Id.eq(id))
            .one(self.txn)
            .await?
            .ok_or(StorageError::NotFound)
    }

    /// The stored order, or an empty open one to attach records to until its snapshot
    /// arrives (its time is the epoch, so any snapshot supersedes it).
    async fn order_or_placeholder(
        &self,
        external_id: &str,
        currency: &str,
    ) -> Result<order::Model> {
        if let Some(found) = self.find_order(external_id).await? {
            return Ok(found);
        }
        let at = now();
        let model = order::Model {
            id: OrderId::generate().to_string(),
            tenant_id: self.tenant(),
            connection_id: self.connection_id.to_string(),
            external_id: external_id.to_owned(),
            status: OrderStatus::Open.as_str().to_owned(),
            currency: currency.to_uppercase(),
            total_minor: 0,
            customer_id: None,
            location_id: None,
            oversold: false,
            placed_at: self.event.occurred_at,
            source_updated_at: DateTime::<Utc>::UNIX_EPOCH,
            created_at: at,
            updated_at: at,
        };
        order::Entity::insert(order::ActiveModel {
            id: Set(model.id.clone()),
            tenant_id: Set(model.tenant_id.clone()),
            connection_id: Set(model.connection_id.clone()),
            external_id: Set(model.external_id.clone()),
            status: Set(model.status.clone()),
            currency: Set(model.currency.clone()),
            total_minor: Set(0),
            customer_id: Set(None),
            location_id: Set(None),
            oversold: Set(false),
            placed_at: Set(model.placed_at),
            source_updated_at: Set(model.source_updated_at),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .exec_without_returning(self.txn)
        .await?;
        Ok(model)
    }

    async fn set_status(
        &self,
        order_id: &str,
        status: OrderStatus,
        at: DateTime<Utc>,
    ) -> Result<()> {
        order::Entity::update_many()
            .col_expr(order::Column::Status, Expr::value(status.as_str()))
            .col_expr(order::Column::SourceUpdatedAt, Expr::value(at))
            .col_expr(order::Column::UpdatedAt, Expr::value(now()))
            .filter(order::Column::Id.eq(order_id))
            .filter(order::Column::TenantId.eq(self.tenant()))
            .exec(self.txn)
            .await?;
        Ok(())
    }

    /// The customer with the same normalized email or phone, or a new one.
    async fn merge_customer(&self, c: &CustomerSnapshot) -> Result<Option<String>> {
        let email = c.email.as_deref().and_then(normalize_email);
        let phone = c.phone.as_deref().and_then(normalize_phone);
        if email.is_none() && phone.is_none() {
            return Ok(None);
        }
        let mut any = sea_orm::Condition::any();
        if let Some(e) = &email {
            any = any.add(customer::Column::Email.eq(e.as_str()));
        }
        if let Some(p) = &phone {
            any = any.add(customer::Column::Phone.eq(p.as_str()));
        }
        if let Some(found) = self
            .scoped
            .select::<customer::Entity>()
            .filter(any)
            .one(self.txn)
            .await?
        {
            customer::Entity::update_many()
                .col_expr(customer::Column::Email, Expr::value(email.or(found.email)))
                .col_expr(customer::Column::Phone, Expr::value(phone.or(found.phone)))
                .col_expr(
                    customer::Column::Name,
                    Expr::value(c.name.clone().or(found.name)),
                )
                .filter(customer::Column::Id.eq(found.id.as_str()))
                .filter(customer::Column::TenantId.eq(self.tenant()))
                .exec(self.txn)
                .await?;
            return Ok(Some(found.id));
        }
        let id = CustomerId::generate().to_string();
        customer::Entity::insert(customer::ActiveModel {
            id: Set(id.clone()),
            tenant_id: Set(self.tenant()),
            email: Set(email),
            phone: Set(phone),
            name: Set(c.name.clone()),
            created_at: Set(now()),
        })
        .exec_without_returning(self.txn)
        .await?;
        Ok(Some(id))
    }

    async fn sku_by_code(&self, code: &str) -> Result<Option<sku::Model>> {
        Ok(self
            .scoped
            .select::<sku::Entity>()
            .filter(sku::Column::Code.eq(code.trim()))
            .one(self.txn)
            .await?)
    }

    /// The Concord location a platform location id is mapped to on this connection.
    async fn mapped_location(&self, external: Option<&str>) -> Result<Option<LocationId>> {
        let Some(external) = external else {
            return Ok(None);
        };
        self.scoped
            .select::<connection_location::Entity>()
            .filter(connection_location::Column::ConnectionId.eq(self.connection_id.as_str()))
            .filter(connection_location::Column::ExternalLocationId.eq(external))
            .one(self.txn)
            .await?
            .map(|l| decode::id(&l.location_id))
            .transpose()
    }

    /// The location a platform-side stock change applies to: the mapped one, else the
    /// connection's only (or first) sourcing location.
    async fn platform_location(&self, external: Option<&str>) -> Result<Option<LocationId>> {
        if let Some(mapped) = self.mapped_location(external).await? {
            return Ok(Some(mapped));
        }
        let sourcing = self.sourcing().await?;
        Ok(sourcing.into_iter().next())
    }

    async fn sourcing(&self) -> Result<Vec<LocationId>> {
        let mut links = self
            .scoped
            .select::<connection_location::Entity>()
            .filter(connection_location::Column::ConnectionId.eq(self.connection_id.as_str()))
            .all(self.txn)
            .await?;
        links.sort_by(|a, b| a.location_id.cmp(&b.location_id));
        links
            .into_iter()
            .map(|l| decode::id(&l.location_id))
            .collect()
    }

    /// The order's own location (POS), else the sourcing location with most free stock.
    async fn allocate_line(
        &self,
        order: &order::Model,
        sku_id: &str,
    ) -> Result<Option<LocationId>> {
        if let Some(l) = &order.location_id {
            return Ok(Some(decode::id(l)?));
        }
        let sourcing = self.sourcing().await?;
        let mut candidates = Vec::with_capacity(sourcing.len());
        for location in sourcing {
            let level = stock_level::Entity::find_by_id((sku_id.to_owned(), location.to_string()))
                .filter(stock_level::Column::TenantId.eq(self.tenant()))
                .one(self.txn)
                .await?
                .map(|l| StockLevel {
                    on_hand: l.on_hand,
                    committed: l.committed,
                })
                .unwrap_or_default();
            candidates.push((location, level));
        }
        Ok(allocate(candidates))
    }
}

/// Whether movements lower what is free to sell (a new reservation or an unreserved sale),
/// which is when a location can become oversold.
fn takes_stock(moves: &[(MovementReason, i64)]) -> bool {
    let sellable_change: i64 = moves
        .iter()
        .map(|(reason, delta)| match reason.bucket() {
            Bucket::Committed => -delta,
            Bucket::OnHand => *delta,
        })
        .sum();
    sellable_change < 0
}

fn ignored(reason: String) -> Applied {
    Applied {
        ignored: Some(reason),
        ..Applied::default()
    }
}

fn uuid_simple() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
