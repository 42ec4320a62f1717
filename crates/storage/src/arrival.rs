//! The order deliveries arrived in, for judgements that depend on it: a platform's stock
//! figure means something only once the deliveries that explain it (the sales that reached
//! Concord before it, or shortly after) have been applied.

use chrono::{DateTime, Utc};
use concord_domain::ConnectionId;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{Store, entity::inbound_event, error::Result};

impl Store {
    /// How many deliveries to `connection` still wait to be applied among those that
    /// arrived before delivery `id` (due, deferred, or leased to a worker — also one that
    /// died holding the lease, until the lease runs out and another worker applies them) and
    /// those that arrived after it, up to `until`, and are leased to another worker than the
    /// caller, who holds `batch`. Deliveries waiting for a retry after a failure are not
    /// counted: a backoff can last hours. Later deliveries count only while another worker
    /// holds them, so two figures never wait for each other for good.
    pub async fn deliveries_waiting_around(
        &self,
        connection: &ConnectionId,
        id: i64,
        until: DateTime<Utc>,
        batch: &[i64],
    ) -> Result<u64> {
        let earlier = Condition::all()
            .add(inbound_event::Column::Id.lt(id))
            .add(inbound_event::Column::Status.is_in(["pending", "processing"]));
        let shortly_after = Condition::all()
            .add(inbound_event::Column::Id.gt(id))
            .add(inbound_event::Column::ReceivedAt.lte(until))
            .add(inbound_event::Column::Status.eq("processing"))
            .add(inbound_event::Column::Id.is_not_in(batch.iter().copied()));
        Ok(inbound_event::Entity::find()
            .filter(inbound_event::Column::ConnectionId.eq(connection.as_str()))
            .filter(Condition::any().add(earlier).add(shortly_after))
            .count(&self.db)
            .await?)
    }
}
