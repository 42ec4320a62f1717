//! The order engine: applies a run of order events (placed, updated, cancelled, or a
//! re-settle after a fulfilment) for one connection in a handful of set-based statements.
//!
//! It loads the orders, lines, ledger effects, SKUs, customers and stock levels the run
//! touches, replays the events in memory with the same rules one event at a time would
//! follow, then writes orders, lines, movements and levels in bulk. Levels are added to
//! atomically and read back (`RETURNING`), so oversells are judged on the true figures even
//! when other writers ran concurrently: the shortfall goes to the latest orders that took
//! the stock.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, CustomerId, OrderId,
    availability::{allocate, kits_sellable},
    events::{CustomerSnapshot, OrderSnapshot},
    ledger::{Bucket, MovementReason, StockLevel},
    orders::{LineStock, OrderStatus, normalize_email, normalize_phone},
};
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, QueryFilter};

mod flush;
mod judge;

use crate::{
    AvailabilityChange, Scoped, decode,
    entity::{
        connection_location, customer, kit_component, order, order_line, sku, stock_movement,
    },
    error::Result,
    events::Oversold,
    ledger, now,
};

/// Rows per multi-row statement (well under every backend's bind-parameter limit).
const CHUNK: usize = 400;

/// What the engine did for one event of the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventEffect {
    /// The order concerned.
    pub order_id: Option<OrderId>,
    /// Movements recorded for it.
    pub movements: usize,
    /// Oversells it caused.
    pub oversells: Vec<Oversold>,
}

/// An order operation in a run.
pub(crate) enum OrderOp<'e> {
    /// A snapshot from `order_placed` / `order_updated`.
    Snapshot(&'e OrderSnapshot),
    /// A cancellation at the platform's time.
    Cancel {
        order_id: &'e str,
        updated_at: DateTime<Utc>,
    },
    /// Re-derive the stock effect of an order whose fulfilments changed.
    Settle { order_id: &'e str },
}

impl OrderOp<'_> {
    fn external_id(&self) -> &str {
        match self {
            OrderOp::Snapshot(s) => &s.order_id,
            OrderOp::Cancel { order_id, .. } | OrderOp::Settle { order_id } => order_id,
        }
    }
}

/// One event of a run: its id, time and operation.
pub(crate) struct RunEvent<'e> {
    /// The platform event id (recorded on movements).
    pub event_id: &'e str,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What to do.
    pub op: OrderOp<'e>,
}

#[derive(Clone)]
struct OrderRow {
    model: order::Model,
    dirty: bool,
}

#[derive(Clone)]
struct LineRow {
    model: order_line::Model,
    dirty: bool,
}

struct PendingMovement {
    sku_id: String,
    location_id: String,
    reason: MovementReason,
    delta: i64,
    order_id: String,
    /// The order line (or kit component of it) whose stock this is; none for a correction.
    stock_key: Option<String>,
    event_id: String,
    occurred_at: DateTime<Utc>,
    note: Option<String>,
}

/// A stock-taking movement, for assigning shortfalls and telling sales a platform's figure
/// already counted.
struct Taker {
    event: usize,
    event_id: String,
    order_id: String,
    sku_id: String,
    location_id: String,
    units: i64,
    /// The units are a kit's components, which the platform does not count itself.
    kit_part: bool,
}

struct Engine<'a> {
    scoped: &'a Scoped<'a>,
    txn: &'a DatabaseTransaction,
    connection_id: &'a ConnectionId,
    tenant: String,
    sourcing: Vec<String>,
    mapped: HashMap<String, String>,
    skus: HashMap<String, sku::Model>,
    kits: HashMap<String, Vec<(String, i64)>>,
    orders: HashMap<String, OrderRow>,
    lines: BTreeMap<(String, String), LineRow>,
    applied: HashMap<(String, String), LineStock>,
    levels: HashMap<(String, String), StockLevel>,
    customers: Vec<customer::Model>,
    new_customers: BTreeSet<String>,
    changed_customers: BTreeSet<String>,
    movements: Vec<PendingMovement>,
    takers: Vec<Taker>,
    /// Orders snapshots touched, with the ship-to jurisdiction the newest one gave.
    to_judge: BTreeMap<String, Option<String>>,
}

/// Applies a run of order events in one go; returns one effect per event, in order, and
/// the availability changes of the whole run.
pub(crate) async fn apply_run(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    connection_id: &ConnectionId,
    run: &[RunEvent<'_>],
) -> Result<(Vec<EventEffect>, Vec<AvailabilityChange>)> {
    let mut engine = Engine::load(scoped, txn, connection_id, run).await?;
    let mut effects: Vec<EventEffect> = Vec::with_capacity(run.len());
    for (index, event) in run.iter().enumerate() {
        let order_id = match &event.op {
            OrderOp::Snapshot(s) => engine.merge(s),
            OrderOp::Cancel {
                order_id,
                updated_at,
            } => engine.cancel(order_id, *updated_at, event.occurred_at),
            OrderOp::Settle { order_id } => engine.order_key(order_id, event.occurred_at),
        };
        let before = engine.movements.len();
        engine.settle(index, &order_id, event);
        effects.push(EventEffect {
            order_id: Some(decode::id(&engine.orders[&order_id].model.id)?),
            movements: engine.movements.len() - before,
            oversells: Vec::new(),
        });
    }
    engine.judge_compliance().await?;
    engine.flush(&mut effects).await
}

impl<'a> Engine<'a> {
    async fn load(
        scoped: &'a Scoped<'a>,
        txn: &'a DatabaseTransaction,
        connection_id: &'a ConnectionId,
        run: &[RunEvent<'_>],
    ) -> Result<Self> {
        let tenant = scoped.tenant_id().to_string();
        let externals: BTreeSet<&str> = run.iter().map(|e| e.op.external_id()).collect();
        let orders: HashMap<String, OrderRow> = scoped
            .select::<order::Entity>()
            .filter(order::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(order::Column::ExternalId.is_in(externals.iter().copied()))
            .all(txn)
            .await?
            .into_iter()
            .map(|m| {
                (
                    m.external_id.clone(),
                    OrderRow {
                        model: m,
                        dirty: false,
                    },
                )
            })
            .collect();
        let order_ids: Vec<String> = orders.values().map(|o| o.model.id.clone()).collect();
        let line_rows = scoped
            .select::<order_line::Entity>()
            .filter(order_line::Column::OrderId.is_in(order_ids.iter().map(String::as_str)))
            .all(txn)
            .await?;
        let mut applied: HashMap<(String, String), LineStock> = HashMap::new();
        for m in scoped
            .select::<stock_movement::Entity>()
            .filter(stock_movement::Column::OrderId.is_in(order_ids.iter().map(String::as_str)))
            .all(txn)
            .await?
        {
            let (Some(order_id), Some(key)) = (m.order_id, m.order_line_id) else {
                continue;
            };
            let reason: MovementReason = decode::parsed(&m.reason, str::parse)?;
            let held = applied.entry((order_id, key)).or_default();
            match reason.bucket() {
                Bucket::Committed => held.committed += m.delta,
                Bucket::OnHand if reason == MovementReason::Sale => held.sold -= m.delta,
                Bucket::OnHand => {}
            }
        }
        let mut codes: BTreeSet<String> = line_rows.iter().map(|l| l.sku_code.clone()).collect();
        let mut emails = BTreeSet::new();
        let mut phones = BTreeSet::new();
        for event in run {
            if let OrderOp::Snapshot(s) = &event.op {
                codes.extend(s.lines.iter().map(|l| l.sku.trim().to_owned()));
                if let Some(c) = &s.customer {
                    emails.extend(c.email.as_deref().and_then(normalize_email));
                    phones.extend(c.phone.as_deref().and_then(normalize_phone));
                }
            }
        }
        let skus: HashMap<String, sku::Model> = scoped
            .select::<sku::Entity>()
            .filter(sku::Column::Code.is_in(codes.iter().map(String::as_str)))
            .all(txn)
            .await?
            .into_iter()
            .map(|s| (s.code.clone(), s))
            .collect();
        let kit_ids: Vec<&str> = skus
            .values()
            .filter(|s| s.is_kit)
            .map(|s| s.id.as_str())
            .collect();
        let mut kits: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for c in scoped
            .select::<kit_component::Entity>()
            .filter(kit_component::Column::KitSkuId.is_in(kit_ids))
            .all(txn)
            .await?
        {
            kits.entry(c.kit_sku_id)
                .or_default()
                .push((c.component_sku_id, c.quantity));
        }
        let links = scoped
            .select::<connection_location::Entity>()
            .filter(connection_location::Column::ConnectionId.eq(connection_id.as_str()))
            .all(txn)
            .await?;
        let mut sourcing: Vec<String> = links.iter().map(|l| l.location_id.clone()).collect();
        sourcing.sort();
        let mapped = links
            .iter()
            .filter_map(|l| {
                l.external_location_id
                    .clone()
                    .map(|e| (e, l.location_id.clone()))
            })
            .collect();
        let stocked: BTreeSet<&str> = skus
            .values()
            .filter(|s| !s.is_kit)
            .map(|s| s.id.as_str())
            .chain(kits.values().flatten().map(|(c, _)| c.as_str()))
            .collect();
        let levels = ledger::levels_of(scoped, txn, stocked).await?;
        let customers = if emails.is_empty() && phones.is_empty() {
            Vec::new()
        } else {
            scoped
                .select::<customer::Entity>()
                .filter(
                    Condition::any()
                        .add(customer::Column::Email.is_in(emails.iter().map(String::as_str)))
                        .add(customer::Column::Phone.is_in(phones.iter().map(String::as_str))),
                )
                .all(txn)
                .await?
        };
        Ok(Self {
            scoped,
            txn,
            connection_id,
            tenant,
            sourcing,
            mapped,
            skus,
            kits,
            orders,
            lines: line_rows
                .into_iter()
                .map(|m| {
                    (
                        (m.order_id.clone(), m.external_line_id.clone()),
                        LineRow {
                            model: m,
                            dirty: false,
                        },
                    )
                })
                .collect(),
            applied,
            levels,
            customers,
            new_customers: BTreeSet::new(),
            changed_customers: BTreeSet::new(),
            movements: Vec::new(),
            takers: Vec::new(),
            to_judge: BTreeMap::new(),
        })
    }

    /// The order's key (its external id), creating an empty open placeholder (at the
    /// epoch, so any snapshot supersedes it) if it is not known yet.
    fn order_key(&mut self, external: &str, occurred_at: DateTime<Utc>) -> String {
        if !self.orders.contains_key(external) {
            let at = now();
            let model = order::Model {
                id: OrderId::generate().to_string(),
                tenant_id: self.tenant.clone(),
                connection_id: self.connection_id.to_string(),
                external_id: external.to_owned(),
                status: OrderStatus::Open.as_str().to_owned(),
                currency: "XXX".into(),
                total_minor: 0,
                customer_id: None,
                location_id: None,
                oversold: false,
                placed_at: occurred_at,
                source_updated_at: DateTime::<Utc>::UNIX_EPOCH,
                created_at: at,
                updated_at: at,
            };
            self.orders
                .insert(external.to_owned(), OrderRow { model, dirty: true });
        }
        external.to_owned()
    }

    /// Merges a snapshot: the newer of stored and incoming decides status, totals and
    /// customer (a Concord hold outlives the platform's "open"); lines are added when new,
    /// take quantities and prices from a newer snapshot, and keep the largest fulfilled
    /// figure any snapshot reported, so arrival order does not matter.
    fn merge(&mut self, s: &OrderSnapshot) -> String {
        let key = self.order_key(&s.order_id, s.placed_at);
        let newer = s.updated_at >= self.orders[&key].model.source_updated_at;
        let ship_to = self.to_judge.entry(key.clone()).or_default();
        if newer || ship_to.is_none() {
            *ship_to = s.ship_to.clone().or(ship_to.take());
        }
        if newer {
            let customer_id = match &s.customer {
                Some(c) => self.customer_for(c),
                None => None,
            };
            let location_id = s
                .location
                .as_deref()
                .and_then(|l| self.mapped.get(l).cloned());
            let row = self.orders.get_mut(&key).map(|o| &mut o.model);
            if let Some(o) = row {
                let held =
                    o.status == OrderStatus::OnHold.as_str() && s.status == OrderStatus::Open;
                o.status = if held { OrderStatus::OnHold } else { s.status }
                    .as_str()
                    .to_owned();
                o.currency = s.currency.to_uppercase();
                o.total_minor = s.total_minor;
                o.customer_id = customer_id.or(o.customer_id.take());
                o.location_id = location_id.or(o.location_id.take());
                o.placed_at = s.placed_at;
                o.source_updated_at = s.updated_at;
                o.updated_at = now();
            }
            if let Some(o) = self.orders.get_mut(&key) {
                o.dirty = true;
            }
        }
        let order_id = self.orders[&key].model.id.clone();
        for l in &s.lines {
            let code = l.sku.trim().to_owned();
            let entry = self
                .lines
                .entry((order_id.clone(), l.line_id.clone()))
                .or_insert_with(|| LineRow {
                    model: order_line::Model {
                        id: format!("oli_{}", uuid::Uuid::now_v7().simple()),
                        tenant_id: self.tenant.clone(),
                        order_id: order_id.clone(),
                        external_line_id: l.line_id.clone(),
                        sku_code: code.clone(),
                        sku_id: self.skus.get(&code).map(|s| s.id.clone()),
                        location_id: None,
                        quantity: Ord::max(l.quantity, 0),
                        fulfilled_quantity: 0,
                        fulfilled_by_events: 0,
                        unit_price_minor: l.unit_price_minor,
                    },
                    dirty: true,
                });
            if entry.model.sku_id.is_none() {
                // The SKU may have been added to the catalog since the line was first seen.
                entry.model.sku_id = self.skus.get(&code).map(|s| s.id.clone());
            }
            if newer {
                entry.model.quantity = Ord::max(l.quantity, 0);
                entry.model.unit_price_minor = l.unit_price_minor;
            }
            entry.model.fulfilled_quantity = Ord::max(
                entry.model.fulfilled_quantity,
                Ord::max(l.fulfilled_quantity, 0),
            );
            entry.dirty = true;
        }
        key
    }

    fn cancel(
        &mut self,
        external: &str,
        updated_at: DateTime<Utc>,
        occurred_at: DateTime<Utc>,
    ) -> String {
        let key = self.order_key(external, occurred_at);
        if let Some(o) = self.orders.get_mut(&key)
            && updated_at >= o.model.source_updated_at
        {
            o.model.status = OrderStatus::Cancelled.as_str().to_owned();
            o.model.source_updated_at = updated_at;
            o.model.updated_at = now();
            o.dirty = true;
        }
        key
    }

    /// The customer matching the snapshot's normalized email or phone, updated with what
    /// it adds, or a new one.
    fn customer_for(&mut self, c: &CustomerSnapshot) -> Option<String> {
        let email = c.email.as_deref().and_then(normalize_email);
        let phone = c.phone.as_deref().and_then(normalize_phone);
        if email.is_none() && phone.is_none() {
            return None;
        }
        let found = self.customers.iter_mut().find(|k| {
            (email.is_some() && k.email == email) || (phone.is_some() && k.phone == phone)
        });
        if let Some(k) = found {
            k.email = email.or(k.email.take());
            k.phone = phone.or(k.phone.take());
            k.name = c.name.clone().or(k.name.take());
            self.changed_customers.insert(k.id.clone());
            return Some(k.id.clone());
        }
        let id = CustomerId::generate().to_string();
        self.customers.push(customer::Model {
            id: id.clone(),
            tenant_id: self.tenant.clone(),
            email,
            phone,
            name: c.name.clone(),
            created_at: now(),
        });
        self.new_customers.insert(id.clone());
        Some(id)
    }

    /// Brings every line of the order to the stock effect its state calls for.
    fn settle(&mut self, event: usize, key: &str, source: &RunEvent<'_>) {
        let order = self.orders[key].model.clone();
        let Ok(status) = order.status.parse::<OrderStatus>() else {
            return;
        };
        let line_keys: Vec<(String, String)> = self
            .lines
            .range((order.id.clone(), String::new())..)
            .take_while(|((o, _), _)| *o == order.id)
            .map(|(k, _)| k.clone())
            .collect();
        for line_key in line_keys {
            let line = self.lines[&line_key].model.clone();
            let Some(sku_id) = line.sku_id.clone() else {
                continue;
            };
            let fulfilled = Ord::max(line.fulfilled_quantity, line.fulfilled_by_events);
            let desired = LineStock::desired(status, line.quantity, fulfilled);
            let units: Vec<(String, String, i64)> = match self.kits.get(&sku_id) {
                Some(parts) => parts
                    .iter()
                    .map(|(c, q)| (c.clone(), format!("{}#{c}", line.external_line_id), *q))
                    .collect(),
                None => vec![(sku_id.clone(), line.external_line_id.clone(), 1)],
            };
            let needs_stock = units.iter().any(|(stock_sku, stock_key, per)| {
                let done = self
                    .applied
                    .get(&(order.id.clone(), stock_key.clone()))
                    .copied()
                    .unwrap_or_default();
                let _ = stock_sku;
                !scaled(desired, *per).compensations(done).is_empty()
            });
            if !needs_stock {
                continue;
            }
            let location = match &line.location_id {
                Some(l) => l.clone(),
                None => match order.location_id.clone().or_else(|| self.allocate(&units)) {
                    Some(l) => {
                        if let Some(row) = self.lines.get_mut(&line_key) {
                            row.model.location_id = Some(l.clone());
                            row.dirty = true;
                        }
                        l
                    }
                    None => continue,
                },
            };
            for (stock_sku, stock_key, per) in units {
                let applied_key = (order.id.clone(), stock_key.clone());
                let done = self.applied.get(&applied_key).copied().unwrap_or_default();
                let moves = scaled(desired, per).compensations(done);
                let mut held = done;
                let level = self
                    .levels
                    .entry((stock_sku.clone(), location.clone()))
                    .or_default();
                let mut sellable_change = 0;
                for (reason, delta) in moves {
                    *level = level.apply(reason, delta);
                    match reason.bucket() {
                        Bucket::Committed => {
                            held.committed += delta;
                            sellable_change -= delta;
                        }
                        Bucket::OnHand => {
                            held.sold -= delta;
                            sellable_change += delta;
                        }
                    }
                    self.movements.push(PendingMovement {
                        sku_id: stock_sku.clone(),
                        location_id: location.clone(),
                        reason,
                        delta,
                        order_id: order.id.clone(),
                        stock_key: Some(stock_key.clone()),
                        event_id: source.event_id.to_owned(),
                        occurred_at: source.occurred_at,
                        note: None,
                    });
                }
                self.applied.insert(applied_key, held);
                if sellable_change < 0 && status != OrderStatus::Cancelled {
                    self.takers.push(Taker {
                        event,
                        event_id: source.event_id.to_owned(),
                        order_id: order.id.clone(),
                        kit_part: stock_sku != sku_id,
                        sku_id: stock_sku,
                        location_id: location.clone(),
                        units: -sellable_change,
                    });
                }
            }
        }
    }

    /// The sourcing location with the most free stock for these units (whole kits for a kit).
    fn allocate(&self, units: &[(String, String, i64)]) -> Option<String> {
        let candidates = self.sourcing.iter().map(|loc| {
            let level = |sku: &str| {
                self.levels
                    .get(&(sku.to_owned(), loc.clone()))
                    .copied()
                    .unwrap_or_default()
            };
            let free = if units.len() == 1 && units[0].2 == 1 {
                level(&units[0].0)
            } else {
                let kits = kits_sellable(units.iter().map(|(s, _, q)| (level(s), *q)));
                StockLevel {
                    on_hand: kits,
                    committed: 0,
                }
            };
            (loc.clone(), free)
        });
        allocate(candidates)
    }
}

/// The stock effect of `per` units per ordered unit (kit components).
fn scaled(stock: LineStock, per: i64) -> LineStock {
    LineStock {
        committed: stock.committed * per,
        sold: stock.sold * per,
    }
}
