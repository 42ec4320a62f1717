//! The stock ledger: append-only movements and the levels they add up to, written in one
//! transaction, plus the availability each change implies for every channel.
//!
//! Writes come first in every transaction here (a level upsert before any read of it), so
//! SQLite takes its write lock at once and concurrent writers queue instead of failing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, LocationId, OrderId, SkuId,
    availability::kits_sellable,
    ledger::{Bucket, MovementReason, StockLevel},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, OnConflict},
};

use crate::{
    Page, Scoped,
    catalog::page_cursor,
    channels::load_connections,
    decode,
    entity::{availability, kit_component, sku, stock_level, stock_movement},
    error::{Result, StorageError},
    now,
};

/// How a movement changes the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Add this many units (negative to remove).
    Delta(i64),
    /// A count: set on-hand to this figure; the movement records the difference.
    CountTo(i64),
}

/// A movement to record.
#[derive(Debug, Clone)]
pub struct NewMovement {
    /// The SKU.
    pub sku_id: SkuId,
    /// Where.
    pub location_id: LocationId,
    /// Why.
    pub reason: MovementReason,
    /// By how much.
    pub change: Change,
    /// Makes recording idempotent: a second movement with the same key is ignored.
    pub idempotency_key: Option<String>,
    /// The connection and platform event that caused it, if any.
    pub source: Option<(ConnectionId, String)>,
    /// The order line it belongs to, if any.
    pub order_line: Option<(OrderId, String)>,
    /// Who: a user id, a connection id, or `system`.
    pub actor: String,
    /// A person's explanation.
    pub note: Option<String>,
    /// When it happened (the platform's time for events).
    pub occurred_at: DateTime<Utc>,
}

/// A recorded movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Ledger sequence number.
    pub id: i64,
    /// The SKU.
    pub sku_id: SkuId,
    /// Where.
    pub location_id: LocationId,
    /// Why.
    pub reason: MovementReason,
    /// Units added (negative: removed).
    pub delta: i64,
    /// The connection that caused it, if any.
    pub source_connection_id: Option<String>,
    /// The platform event that caused it, if any.
    pub source_event_id: Option<String>,
    /// Who.
    pub actor: String,
    /// A person's explanation.
    pub note: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When Concord recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// A channel's offer for a SKU that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityChange {
    /// The SKU.
    pub sku_id: SkuId,
    /// The channel.
    pub connection_id: ConnectionId,
    /// The offer before (`None`: never computed).
    pub before: Option<i64>,
    /// The offer now.
    pub after: i64,
}

/// What recording produced.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// Movements written.
    pub movements: Vec<Movement>,
    /// Movements skipped because their idempotency key was already recorded.
    pub duplicates: usize,
    /// Offers that changed as a result.
    pub availability: Vec<AvailabilityChange>,
}

/// A SKU's level at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationLevel {
    /// Where.
    pub location_id: LocationId,
    /// The figures.
    pub level: StockLevel,
}

/// A SKU's offer on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelAvailability {
    /// The channel.
    pub connection_id: ConnectionId,
    /// What Concord computes the channel may offer.
    pub available: i64,
    /// What the platform last reported showing, if known.
    pub reported: Option<i64>,
    /// Why writing the offer to the platform failed, until it is written.
    pub push_error: Option<String>,
}

impl ChannelAvailability {
    /// Whether the platform shows something other than what Concord computes.
    pub fn discrepancy(&self) -> bool {
        self.reported.is_some_and(|r| r != self.available)
    }
}

impl Scoped<'_> {
    /// Records movements and their levels atomically, then recomputes the availability of
    /// the SKUs they touch (and the kits containing them).
    pub async fn record_movements(&self, moves: Vec<NewMovement>) -> Result<Recorded> {
        let txn = self.begin_write().await?;
        let recorded = record(self, &txn, moves).await?;
        txn.commit().await?;
        Ok(recorded)
    }

    /// Records manual stock changes (adjustments, counts, receipts, transfers) like
    /// [`Scoped::record_movements`], and appends one audit entry per movement recorded, in the
    /// same transaction. A replay whose idempotency key was already recorded adds nothing.
    pub async fn record_manual_movements(&self, moves: Vec<NewMovement>) -> Result<Recorded> {
        let txn = self.begin_write().await?;
        let recorded = record(self, &txn, moves).await?;
        for m in &recorded.movements {
            crate::audit::append_in(
                self,
                &txn,
                crate::NewAuditEntry {
                    actor: m.actor.clone(),
                    action: concord_domain::audit::AuditAction::StockManualChange,
                    subject: m.sku_id.to_string(),
                    details: serde_json::json!({
                        "movement": m.id,
                        "location_id": m.location_id,
                        "reason": m.reason,
                        "delta": m.delta,
                        "note": m.note,
                    }),
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(recorded)
    }

    /// A SKU's level at every location that has one.
    pub async fn levels(&self, sku_id: &SkuId) -> Result<Vec<LocationLevel>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<stock_level::Entity>()
            .filter(stock_level::Column::SkuId.eq(sku_id.as_str()))
            .order_by_asc(stock_level::Column::LocationId)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(LocationLevel {
                    location_id: decode::id(&r.location_id)?,
                    level: StockLevel {
                        on_hand: r.on_hand,
                        committed: r.committed,
                    },
                })
            })
            .collect()
    }

    /// A SKU's movements, oldest first, after the ledger sequence number `after`.
    pub async fn movements(
        &self,
        sku_id: &SkuId,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Page<Movement>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<stock_movement::Entity>()
            .filter(stock_movement::Column::SkuId.eq(sku_id.as_str()))
            .order_by_asc(stock_movement::Column::Id)
            .limit(limit + 1);
        if let Some(after) = after {
            query = query.filter(stock_movement::Column::Id.gt(after));
        }
        let rows = query.all(&txn).await?;
        txn.commit().await?;
        let mut items = rows
            .into_iter()
            .map(to_movement)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = page_cursor(&mut items, limit, |m| m.id.to_string());
        Ok(Page { items, next_cursor })
    }

    /// A SKU's offer on every channel.
    pub async fn availability_of(&self, sku_id: &SkuId) -> Result<Vec<ChannelAvailability>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<availability::Entity>()
            .filter(availability::Column::SkuId.eq(sku_id.as_str()))
            .order_by_asc(availability::Column::ConnectionId)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(to_channel_availability).collect()
    }
}

pub(crate) fn to_channel_availability(r: availability::Model) -> Result<ChannelAvailability> {
    Ok(ChannelAvailability {
        connection_id: decode::id(&r.connection_id)?,
        available: r.available,
        reported: r.reported,
        push_error: r.push_error,
    })
}

/// Records `moves` inside `txn` (see [`Scoped::record_movements`]).
pub(crate) async fn record(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    moves: Vec<NewMovement>,
) -> Result<Recorded> {
    let tenant = scoped.tenant_id().to_string();
    let mut recorded = Recorded::default();
    let mut touched = BTreeSet::new();
    for m in moves {
        ensure_sku(scoped, txn, &m.sku_id).await?;
        let delta = match m.change {
            Change::Delta(d) => d,
            Change::CountTo(counted) => {
                // Take the row's lock before reading it, so the difference is exact.
                add_to_level(txn, &tenant, &m.sku_id, &m.location_id, m.reason, 0).await?;
                counted
                    - read_level(txn, &tenant, &m.sku_id, &m.location_id)
                        .await?
                        .on_hand
            }
        };
        let recorded_at = now();
        let inserted = stock_movement::Entity::insert(stock_movement::ActiveModel {
            id: Default::default(),
            tenant_id: Set(tenant.clone()),
            sku_id: Set(m.sku_id.to_string()),
            location_id: Set(m.location_id.to_string()),
            reason: Set(m.reason.as_str().to_owned()),
            delta: Set(delta),
            idempotency_key: Set(m.idempotency_key.clone()),
            source_connection_id: Set(m.source.as_ref().map(|(c, _)| c.to_string())),
            source_event_id: Set(m.source.as_ref().map(|(_, e)| e.clone())),
            order_id: Set(m.order_line.as_ref().map(|(o, _)| o.to_string())),
            order_line_id: Set(m.order_line.as_ref().map(|(_, l)| l.clone())),
            actor: Set(m.actor.clone()),
            note: Set(m.note.clone()),
            occurred_at: Set(m.occurred_at),
            recorded_at: Set(recorded_at),
        })
        .on_conflict(
            OnConflict::columns([
                stock_movement::Column::TenantId,
                stock_movement::Column::IdempotencyKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec(txn)
        .await;
        let id = match inserted {
            Ok(done) => done.last_insert_id,
            Err(DbErr::RecordNotInserted) => {
                recorded.duplicates += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        add_to_level(txn, &tenant, &m.sku_id, &m.location_id, m.reason, delta).await?;
        recorded.movements.push(Movement {
            id,
            sku_id: m.sku_id.clone(),
            location_id: m.location_id,
            reason: m.reason,
            delta,
            source_connection_id: m.source.as_ref().map(|(c, _)| c.to_string()),
            source_event_id: m.source.map(|(_, e)| e),
            actor: m.actor,
            note: m.note,
            occurred_at: m.occurred_at,
            recorded_at,
        });
        touched.insert(m.sku_id);
    }
    let touched: Vec<SkuId> = touched.into_iter().collect();
    recorded.availability = recompute_availability(scoped, txn, &touched).await?;
    Ok(recorded)
}

async fn ensure_sku(scoped: &Scoped<'_>, txn: &DatabaseTransaction, id: &SkuId) -> Result<()> {
    let row = crate::catalog::find_sku_row(scoped, txn, id).await?;
    if row.is_kit {
        return Err(StorageError::Conflict(format!(
            "{} is a kit; record stock on its components",
            row.code
        )));
    }
    Ok(())
}

/// Adds `delta` to the level's bucket for `reason`, creating the row at zero.
async fn add_to_level(
    txn: &DatabaseTransaction,
    tenant: &str,
    sku_id: &SkuId,
    location_id: &LocationId,
    reason: MovementReason,
    delta: i64,
) -> Result<()> {
    let (on_hand, committed) = match reason.bucket() {
        Bucket::OnHand => (delta, 0),
        Bucket::Committed => (0, delta),
    };
    stock_level::Entity::insert(stock_level::ActiveModel {
        sku_id: Set(sku_id.to_string()),
        location_id: Set(location_id.to_string()),
        tenant_id: Set(tenant.to_owned()),
        on_hand: Set(on_hand),
        committed: Set(committed),
        updated_at: Set(now()),
    })
    .on_conflict(add_to_levels())
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The upsert clause that adds an inserted level row's figures to the stored ones.
pub(crate) fn add_to_levels() -> OnConflict {
    OnConflict::columns([stock_level::Column::SkuId, stock_level::Column::LocationId])
        .value(
            stock_level::Column::OnHand,
            Expr::cust("stock_levels.on_hand + excluded.on_hand"),
        )
        .value(
            stock_level::Column::Committed,
            Expr::cust("stock_levels.committed + excluded.committed"),
        )
        .value(
            stock_level::Column::UpdatedAt,
            Expr::cust("excluded.updated_at"),
        )
        .to_owned()
}

/// The stored levels of `skus` at every location, keyed by (SKU id, location id).
pub(crate) async fn levels_of<'s>(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
    skus: impl IntoIterator<Item = &'s str>,
) -> Result<HashMap<(String, String), StockLevel>> {
    Ok(scoped
        .select::<stock_level::Entity>()
        .filter(stock_level::Column::SkuId.is_in(skus))
        .all(db)
        .await?
        .into_iter()
        .map(|l| {
            (
                (l.sku_id, l.location_id),
                StockLevel {
                    on_hand: l.on_hand,
                    committed: l.committed,
                },
            )
        })
        .collect())
}

async fn read_level(
    txn: &DatabaseTransaction,
    tenant: &str,
    sku_id: &SkuId,
    location_id: &LocationId,
) -> Result<StockLevel> {
    let row = stock_level::Entity::find_by_id((sku_id.to_string(), location_id.to_string()))
        .filter(stock_level::Column::TenantId.eq(tenant))
        .one(txn)
        .await?
        .ok_or(StorageError::NotFound)?;
    Ok(StockLevel {
        on_hand: row.on_hand,
        committed: row.committed,
    })
}

/// Reads a stored movement.
pub(crate) fn to_movement(r: stock_movement::Model) -> Result<Movement> {
    Ok(Movement {
        id: r.id,
        sku_id: decode::id(&r.sku_id)?,
        location_id: decode::id(&r.location_id)?,
        reason: decode::parsed(&r.reason, str::parse)?,
        delta: r.delta,
        source_connection_id: r.source_connection_id,
        source_event_id: r.source_event_id,
        actor: r.actor,
        note: r.note,
        occurred_at: r.occurred_at,
        recorded_at: r.recorded_at,
    })
}

/// Recomputes every channel's offer for `skus` and the kits containing them; stores and
/// returns the offers that changed.
pub(crate) async fn recompute_availability(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
    skus: &[SkuId],
) -> Result<Vec<AvailabilityChange>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = scoped.tenant_id().as_str();
    let ids: Vec<&str> = skus.iter().map(SkuId::as_str).collect();
    let parent_kits = scoped
        .select::<kit_component::Entity>()
        .filter(kit_component::Column::ComponentSkuId.is_in(ids.clone()))
        .all(txn)
        .await?;
    let mut affected: BTreeSet<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    affected.extend(parent_kits.into_iter().map(|k| k.kit_sku_id));
    let rows = scoped
        .select::<sku::Entity>()
        .filter(sku::Column::Id.is_in(affected.iter().map(String::as_str)))
        .all(txn)
        .await?;
    let kit_ids: Vec<&str> = rows
        .iter()
        .filter(|r| r.is_kit)
        .map(|r| r.id.as_str())
        .collect();
    let components = scoped
        .select::<kit_component::Entity>()
        .filter(kit_component::Column::KitSkuId.is_in(kit_ids.clone()))
        .all(txn)
        .await?;
    let mut stocked: BTreeSet<&str> = rows
        .iter()
        .filter(|r| !r.is_kit)
        .map(|r| r.id.as_str())
        .collect();
    stocked.extend(components.iter().map(|c| c.component_sku_id.as_str()));
    let levels = levels_of(scoped, txn, stocked.iter().copied()).await?;
    let existing: BTreeMap<(String, String), i64> = scoped
        .select::<availability::Entity>()
        .filter(availability::Column::SkuId.is_in(affected.iter().map(String::as_str)))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| ((a.sku_id, a.connection_id), a.available))
        .collect();
    let level_at = |sku: &str, loc: &LocationId| {
        levels
            .get(&(sku.to_owned(), loc.to_string()))
            .copied()
            .unwrap_or_default()
    };
    let mut changes = Vec::new();
    let mut rows_out = Vec::new();
    let computed_at = now();
    let connections = load_connections(scoped, txn).await?;
    let forbidden = crate::compliance::forbidden_offers(scoped, txn, &connections, &rows).await?;
    let mut withheld = Vec::new();
    for connection in &connections {
        for row in &rows {
            let per_location = connection.sourcing.iter().map(|loc| {
                if row.is_kit {
                    kits_sellable(
                        components
                            .iter()
                            .filter(|c| c.kit_sku_id == row.id)
                            .map(|c| (level_at(&c.component_sku_id, loc), c.quantity)),
                    )
                } else {
                    level_at(&row.id, loc).sellable()
                }
            });
            let offer = connection.rules.offer(per_location);
            let key = (row.id.clone(), connection.id.to_string());
            let before = existing.get(&key).copied();
            let after = match forbidden.get(&key) {
                Some(why) => {
                    if offer > 0 && before != Some(0) {
                        withheld.push((row, connection, why));
                    }
                    0
                }
                None => offer,
            };
            if before == Some(after) {
                continue;
            }
            rows_out.push(availability::ActiveModel {
                sku_id: Set(row.id.clone()),
                connection_id: Set(connection.id.to_string()),
                tenant_id: Set(tenant.to_owned()),
                available: Set(after),
                computed_at: Set(computed_at),
                push_due: Set(true),
                ..Default::default()
            });
            changes.push(AvailabilityChange {
                sku_id: decode::id(&row.id)?,
                connection_id: connection.id.clone(),
                before,
                after,
            });
        }
    }
    crate::compliance::register_withheld(scoped, txn, withheld).await?;
    for chunk in rows_out.chunks(AVAILABILITY_CHUNK) {
        availability::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    availability::Column::SkuId,
                    availability::Column::ConnectionId,
                ])
                .update_columns([
                    availability::Column::Available,
                    availability::Column::ComputedAt,
                    availability::Column::PushDue,
                ])
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(changes)
}

/// SKUs recomputed per batch when every offer may change.
const RECOMPUTE_BATCH: u64 = 500;

/// Recomputes every offer of the tenant, SKU batch by SKU batch (after a channel's
/// settings or the rules that apply to it change).
pub(crate) async fn recompute_all_availability(
    scoped: &Scoped<'_>,
    txn: &DatabaseTransaction,
) -> Result<()> {
    let mut after: Option<String> = None;
    loop {
        let mut query = scoped
            .select::<sku::Entity>()
            .order_by_asc(sku::Column::Id)
            .limit(RECOMPUTE_BATCH);
        if let Some(last) = &after {
            query = query.filter(sku::Column::Id.gt(last.as_str()));
        }
        let ids: Vec<String> = query.all(txn).await?.into_iter().map(|s| s.id).collect();
        let Some(last) = ids.last().cloned() else {
            return Ok(());
        };
        let batch = ids
            .iter()
            .map(|i| decode::id(i))
            .collect::<Result<Vec<_>>>()?;
        recompute_availability(scoped, txn, &batch).await?;
        after = Some(last);
    }
}

/// Offers written per statement.
const AVAILABILITY_CHUNK: usize = 500;
