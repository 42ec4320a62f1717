//! The order deliveries arrived in, for judgements that depend on it: a platform's stock
//! figure means something only once the deliveries that reached Concord before it (the
//! sales that explain the figure among them) have been applied.

use concord_domain::ConnectionId;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{Store, entity::inbound_event, error::Result};

impl Store {
    /// How many deliveries to `connection` that arrived before delivery `id` still wait to
    /// be applied: due, deferred, or leased to a worker (also one that died holding the
    /// lease, until the lease runs out and another worker applies them). Deliveries waiting
    /// for a retry after a failure are not counted: a backoff can last hours.
    pub async fn earlier_deliveries_waiting(
        &self,
        connection: &ConnectionId,
        id: i64,
    ) -> Result<u64> {
        Ok(inbound_event::Entity::find()
            .filter(inbound_event::Column::ConnectionId.eq(connection.as_str()))
            .filter(inbound_event::Column::Id.lt(id))
            .filter(inbound_event::Column::Status.is_in(["pending", "processing"]))
            .count(&self.db)
            .await?)
    }
}
