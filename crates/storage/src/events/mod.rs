//! Applying normalized commerce events: orders merge into one model per channel order, their
//! lines hold stock according to their state, payments, refunds, returns and fulfilments
//! are recorded once each by their platform ids, and stock reports and manual platform
//! edits reach the ledger. Every event is applied in one transaction; applying it again
//! changes nothing, and events arriving out of order converge to the same state.

mod stock_figures;

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, LocationId, OrderId, SkuId,
    events::{CommerceEvent, InboundEvent},
    ledger::MovementReason,
    orders::{OrderStatus, OversellPolicy},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    AvailabilityChange, Change, NewMovement, Scoped, decode,
    entity::{
        connection, connection_location, fulfilment, kit_component, order, order_line, payment,
        refund, return_receipt, sku, tenant,
    },
    error::{Result, StorageError},
    ledger, now,
    order_batch::{self, EventEffect, OrderOp, RunEvent},
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
        let mut applied = self
            .apply_events(connection_id, std::slice::from_ref(event))
            .await?;
        Ok(applied.pop().unwrap_or_default())
    }

    /// Applies events from `connection_id` in order, in one transaction: all of them or, on
    /// an error, none (the caller may then apply them one by one to isolate the bad one).
    /// Consecutive order events go through the order engine together, in a few set-based
    /// statements; each other event is applied on its own.
    pub async fn apply_events(
        &self,
        connection_id: &ConnectionId,
        events: &[InboundEvent],
    ) -> Result<Vec<Applied>> {
        let txn = self.begin_write().await?;
        let mut this_connection = self
            .select::<connection::Entity>()
            .filter(connection::Column::Id.eq(connection_id.as_str()));
        // One connection's events apply one transaction at a time: each compares an order's
        // state with what the ledger already holds, which two concurrent transactions would
        // both read before either wrote. (SQLite's write lock already serializes them.)
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            this_connection = this_connection.lock_exclusive();
        }
        this_connection
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        let mut out = Vec::with_capacity(events.len());
        let mut rest = events;
        while let Some(first) = rest.first() {
            let run_len = rest
                .iter()
                .take_while(|e| order_op(&e.event).is_ok())
                .count();
            if run_len == 0 {
                out.push(
                    Ctx {
                        scoped: self,
                        txn: &txn,
                        connection_id,
                        event: first,
                    }
                    .apply()
                    .await?,
                );
                rest = &rest[1..];
                continue;
            }
            let run = rest[..run_len]
                .iter()
                .map(|e| {
                    Ok(RunEvent {
                        event_id: &e.event_id,
                        occurred_at: e.occurred_at,
                        op: order_op(&e.event)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.extend(applied_from_run(
                order_batch::apply_run(self, &txn, connection_id, &run).await?,
            ));
            rest = &rest[run_len..];
        }
        txn.commit().await?;
        Ok(out)
    }

    /// Sets how often the tenant's connections are reconciled.
    pub async fn set_reconcile_schedule(&self, schedule: crate::ReconcileSchedule) -> Result<()> {
        let txn = self.begin_write().await?;
        tenant::Entity::update_many()
            .col_expr(
                tenant::Column::ReconcileEveryMinutes,
                Expr::value(schedule.incremental_minutes),
            )
            .col_expr(
                tenant::Column::FullReconcileEveryHours,
                Expr::value(schedule.full_hours),
            )
            .filter(tenant::Column::Id.eq(self.tenant_id().as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
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

pub(crate) async fn load_policy(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
) -> Result<OversellPolicy> {
    let row = tenant::Entity::find_by_id(scoped.tenant_id().to_string())
        .one(db)
        .await?
        .ok_or(StorageError::NotFound)?;
    decode::parsed(&row.oversell_policy, str::parse)
}

/// The order-engine operation for an order event; an error for any other event.
fn order_op(event: &CommerceEvent) -> Result<OrderOp<'_>> {
    match event {
        CommerceEvent::OrderPlaced(s) | CommerceEvent::OrderUpdated(s) => Ok(OrderOp::Snapshot(s)),
        CommerceEvent::OrderCancelled {
            order_id,
            updated_at,
        } => Ok(OrderOp::Cancel {
            order_id,
            updated_at: *updated_at,
        }),
        _ => Err(StorageError::Conflict("not an order event".into())),
    }
}

/// Turns the engine's effects into outcomes; the run's offer changes go with its last event.
fn applied_from_run(
    (effects, availability): (Vec<EventEffect>, Vec<AvailabilityChange>),
) -> Vec<Applied> {
    let last = effects.len().saturating_sub(1);
    let mut availability = Some(availability);
    effects
        .into_iter()
        .enumerate()
        .map(|(i, e)| Applied {
            order_id: e.order_id,
            movements: e.movements,
            availability: if i == last {
                availability.take().unwrap_or_default()
            } else {
                Vec::new()
            },
            oversells: e.oversells,
            ignored: None,
        })
        .collect()
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

    /// Runs order operations through the engine within this event's transaction.
    async fn run_orders(&self, run: &[RunEvent<'_>]) -> Result<Applied> {
        let outcome =
            order_batch::apply_run(self.scoped, self.txn, self.connection_id, run).await?;
        Ok(applied_from_run(outcome).pop().unwrap_or_default())
    }

    async fn apply(&self) -> Result<Applied> {
        match &self.event.event {
            CommerceEvent::OrderPlaced(_)
            | CommerceEvent::OrderUpdated(_)
            | CommerceEvent::OrderCancelled { .. } => {
                // Order events go through the order engine (see `Scoped::apply_events`).
                self.run_orders(&[RunEvent {
                    event_id: &self.event.event_id,
                    occurred_at: self.event.occurred_at,
                    op: order_op(&self.event.event)?,
                }])
                .await
            }
            CommerceEvent::PaymentCaptured(p) | CommerceEvent::PaymentFailed(p) => {
                let status = if matches!(self.event.event, CommerceEvent::PaymentCaptured(_)) {
                    "captured"
                } else {
                    "failed"
                };
                let order = match self.order_paid_for_elsewhere(&p.order_id).await? {
                    Some(order) => order,
                    None => self.order_or_placeholder(&p.order_id, &p.currency).await?,
                };
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
                let order = match (r.order_id.is_empty(), &r.payment_id) {
                    (true, Some(payment_id)) => self.order_of_payment(payment_id).await?,
                    _ => match self.order_paid_for_elsewhere(&r.order_id).await? {
                        Some(order) => order,
                        None => self.order_or_placeholder(&r.order_id, &r.currency).await?,
                    },
                };
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
                self.run_orders(&[RunEvent {
                    event_id: &self.event.event_id,
                    occurred_at: self.event.occurred_at,
                    op: OrderOp::Settle {
                        order_id: &f.order_id,
                    },
                }])
                .await
            }
            CommerceEvent::StockLevelReported {
                sku,
                location,
                quantity,
            } => {
                self.stock_reported(sku, location.as_deref(), *quantity)
                    .await
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
                self.adjust(&found.id, location.as_deref(), *delta, note.clone())
                    .await
            }
            CommerceEvent::ProductUpserted(p) => Ok(ignored(format!(
                "product {} is matched to the catalog when listings are mapped; the catalog is Concord's",
                p.product_id
            ))),
        }
    }

    /// Records a manual adjustment made on the platform at its location.
    async fn adjust(
        &self,
        sku_id: &str,
        location: Option<&str>,
        delta: i64,
        note: Option<String>,
    ) -> Result<Applied> {
        let Some(location_id) = self.platform_location(location).await? else {
            return Ok(ignored("the connection sells from no location".into()));
        };
        let recorded = ledger::record(
            self.scoped,
            self.txn,
            vec![NewMovement {
                sku_id: decode::id(sku_id)?,
                location_id,
                reason: MovementReason::Adjustment,
                change: Change::Delta(delta),
                idempotency_key: Some(format!(
                    "evt:{}:{}",
                    self.connection_id, self.event.event_id
                )),
                source: Some((self.connection_id.clone(), self.event.event_id.clone())),
                order_line: None,
                actor: self.actor(),
                note,
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
        for (item, (code, quantity)) in items.iter().enumerate() {
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
            // A kit has no stock of its own: its components go back on the shelf.
            let units: Vec<(String, i64)> = if found.is_kit {
                self.scoped
                    .select::<kit_component::Entity>()
                    .filter(kit_component::Column::KitSkuId.eq(found.id.as_str()))
                    .all(self.txn)
                    .await?
                    .into_iter()
                    .map(|c| (c.component_sku_id, c.quantity))
                    .collect()
            } else {
                vec![(found.id.clone(), 1)]
            };
            for (sku_id, per) in units {
                moves.push(NewMovement {
                    sku_id: decode::id(&sku_id)?,
                    location_id: location_id.clone(),
                    reason,
                    change: Change::Delta(quantity.saturating_abs().saturating_mul(per)),
                    idempotency_key: Some(format!(
                        "{key}:{}:{item}:{code}:{sku_id}",
                        self.connection_id
                    )),
                    source: Some((self.connection_id.clone(), self.event.event_id.clone())),
                    order_line: None,
                    actor: self.actor(),
                    note: None,
                    occurred_at: self.event.occurred_at,
                });
            }
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

    /// For a payment processor's connection (Stripe), the order on another channel that a
    /// payment or refund names (by its metadata), when exactly one of the tenant's orders
    /// has that id and this connection has none of its own.
    async fn order_paid_for_elsewhere(&self, external_id: &str) -> Result<Option<order::Model>> {
        let this = self
            .scoped
            .select::<connection::Entity>()
            .filter(connection::Column::Id.eq(self.connection_id.as_str()))
            .one(self.txn)
            .await?
            .ok_or(StorageError::NotFound)?;
        if !PAYMENT_PROCESSORS.contains(&this.platform.as_str())
            || self.find_order(external_id).await?.is_some()
        {
            return Ok(None);
        }
        let mut found = self
            .scoped
            .select::<order::Entity>()
            .filter(order::Column::ExternalId.eq(external_id))
            .filter(order::Column::ConnectionId.ne(self.connection_id.as_str()))
            .limit(2)
            .all(self.txn)
            .await?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    /// The order a payment was recorded on (a processor's refund names only its payment);
    /// a conflict until that payment has arrived, so the refund is retried.
    async fn order_of_payment(&self, payment_id: &str) -> Result<order::Model> {
        let paid = self
            .scoped
            .select::<payment::Entity>()
            .filter(payment::Column::ExternalId.eq(payment_id))
            .one(self.txn)
            .await?
            .ok_or_else(|| {
                StorageError::Conflict(format!(
                    "the payment {payment_id} this refund returns has not arrived yet"
                ))
            })?;
        self.scoped
            .select::<order::Entity>()
            .filter(order::Column::Id.eq(paid.order_id.as_str()))
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

/// Platforms that take payments for orders placed on other channels.
const PAYMENT_PROCESSORS: [&str; 1] = ["stripe"];
