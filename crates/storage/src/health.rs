//! How a tenant's sync is doing: per connection (last sync, lag, failed writes) and for
//! the whole tenant (the portfolio overview), and disconnecting an account.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::ConnectionId;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Scoped, decode,
    entity::{availability, connection, inbound_event, job, order},
    error::{Result, StorageError},
};

/// One connection's sync health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionHealth {
    /// When Concord last wrote to the platform, applied a delivery from it, or finished a
    /// job on it.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// When the oldest delivery still waiting to be applied arrived.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// Offers whose last write failed for good.
    pub push_errors: i64,
}

/// A tenant at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantHealth {
    /// Connections in all.
    pub connections: i64,
    /// Active connections with no failed writes.
    pub connections_ok: i64,
    /// SKUs some channel shows differently.
    pub discrepancies: i64,
    /// Orders on hold.
    pub holds: i64,
    /// Deliveries given up on.
    pub dead_letters: i64,
    /// The latest sync of any connection.
    pub last_sync_at: Option<DateTime<Utc>>,
}

impl Scoped<'_> {
    /// Sync health per connection (connections with no activity are absent).
    pub async fn connection_health(&self) -> Result<HashMap<ConnectionId, ConnectionHealth>> {
        let txn = self.begin().await?;
        let mut health: HashMap<String, ConnectionHealth> = HashMap::new();
        let latest = |h: &mut ConnectionHealth, at: Option<DateTime<Utc>>| {
            h.last_sync_at = Ord::max(h.last_sync_at, at);
        };
        let pushed: Vec<(String, Option<DateTime<Utc>>, i64)> = self
            .select::<availability::Entity>()
            .select_only()
            .column(availability::Column::ConnectionId)
            .column_as(availability::Column::PushedAt.max(), "pushed_at")
            .column_as(
                Expr::cust("CAST(SUM(CASE WHEN push_error IS NULL THEN 0 ELSE 1 END) AS BIGINT)"),
                "errors",
            )
            .group_by(availability::Column::ConnectionId)
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, at, errors) in pushed {
            let h = health.entry(id).or_default();
            latest(h, at);
            h.push_errors = errors;
        }
        let applied: Vec<(String, Option<DateTime<Utc>>)> = self
            .select::<inbound_event::Entity>()
            .select_only()
            .column(inbound_event::Column::ConnectionId)
            .column_as(inbound_event::Column::ProcessedAt.max(), "processed_at")
            .group_by(inbound_event::Column::ConnectionId)
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, at) in applied {
            latest(health.entry(id).or_default(), at);
        }
        let waiting: Vec<(String, Option<DateTime<Utc>>)> = self
            .select::<inbound_event::Entity>()
            .select_only()
            .column(inbound_event::Column::ConnectionId)
            .column_as(inbound_event::Column::ReceivedAt.min(), "received_at")
            .filter(inbound_event::Column::Status.eq("pending"))
            .group_by(inbound_event::Column::ConnectionId)
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, at) in waiting {
            health.entry(id).or_default().oldest_pending_at = at;
        }
        let jobs: Vec<(String, Option<DateTime<Utc>>)> = self
            .select::<job::Entity>()
            .select_only()
            .column(job::Column::ConnectionId)
            .column_as(job::Column::FinishedAt.max(), "finished_at")
            .group_by(job::Column::ConnectionId)
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, at) in jobs {
            latest(health.entry(id).or_default(), at);
        }
        txn.commit().await?;
        health
            .into_iter()
            .map(|(id, h)| Ok((decode::id(&id)?, h)))
            .collect()
    }

    /// The tenant at a glance, for the portfolio overview.
    pub async fn tenant_health(&self) -> Result<TenantHealth> {
        let per_connection = self.connection_health().await?;
        let connections = self.connections().await?;
        let txn = self.begin().await?;
        let discrepancies = self
            .select::<availability::Entity>()
            .select_only()
            .column(availability::Column::SkuId)
            .filter(availability::Column::Reported.is_not_null())
            .filter(
                Expr::col(availability::Column::Reported)
                    .ne(Expr::col(availability::Column::Available)),
            )
            .distinct()
            .count(&txn)
            .await?;
        let holds = self
            .select::<order::Entity>()
            .filter(order::Column::Status.eq("on_hold"))
            .count(&txn)
            .await?;
        let dead_letters = self
            .select::<inbound_event::Entity>()
            .filter(inbound_event::Column::Status.is_in(["dead", "failed"]))
            .count(&txn)
            .await?;
        txn.commit().await?;
        let ok = connections
            .iter()
            .filter(|c| {
                c.status == "active" && per_connection.get(&c.id).is_none_or(|h| h.push_errors == 0)
            })
            .count();
        Ok(TenantHealth {
            connections: connections.len() as i64,
            connections_ok: ok as i64,
            discrepancies: discrepancies as i64,
            holds: holds as i64,
            dead_letters: dead_letters as i64,
            last_sync_at: per_connection.values().filter_map(|h| h.last_sync_at).max(),
        })
    }

    /// Disconnects an account: Concord forgets how to call it and its webhook secret (so
    /// its deliveries are refused), and stops reading and writing it. Its history stays.
    pub async fn disconnect(&self, connection_id: &ConnectionId) -> Result<()> {
        let txn = self.begin_write().await?;
        let done = connection::Entity::update_many()
            .col_expr(connection::Column::BaseUrl, Expr::value(None::<String>))
            .col_expr(connection::Column::Credentials, Expr::value(None::<String>))
            .col_expr(
                connection::Column::WebhookSecret,
                Expr::value(None::<String>),
            )
            .col_expr(connection::Column::Status, Expr::value("disconnected"))
            .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection::Column::Id.eq(connection_id.as_str()))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        txn.commit().await?;
        Ok(())
    }
}
