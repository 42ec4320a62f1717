//! The inbound event store: verified webhook deliveries kept as received (unique per
//! connection and delivery id, so a redelivery is recognized), drained by workers with a
//! lease, retried with backoff, and set aside as dead letters when they cannot succeed.

use chrono::{DateTime, Duration, Utc};
use concord_domain::{ConnectionId, Role};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use crate::{
    Scoped, Store, TenantScope, decode,
    entity::{connection, inbound_event},
    error::{Result, StorageError},
    now,
};

/// Where a delivery for a connection goes.
#[derive(Debug, Clone)]
pub struct IntakeTarget {
    /// The connection's tenant, for storing the delivery.
    pub scope: TenantScope,
    /// The connection's platform.
    pub platform: String,
    /// Its signing secret, sealed; `None` until one is issued.
    pub sealed_secret: Option<String>,
}

/// A delivery to keep.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    /// The connection it came to.
    pub connection_id: &'a ConnectionId,
    /// The platform's id for it (or a hash of the body); unique per connection.
    pub external_id: &'a str,
    /// The body as received.
    pub body: String,
    /// The headers that matter for reading it, as a JSON array of `[name, value]` pairs.
    pub headers: String,
    /// Whether its signature was checked.
    pub verified: bool,
}

/// A delivery a worker has leased.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Its id.
    pub id: i64,
    /// The tenant it belongs to.
    pub scope: TenantScope,
    /// The connection it came from.
    pub connection_id: ConnectionId,
    /// The platform's id for it (or a hash of the body).
    pub external_id: String,
    /// The body as received.
    pub body: String,
    /// Its headers, a JSON array of `[name, value]` pairs.
    pub headers: Option<String>,
    /// Whether its signature was checked.
    pub verified: bool,
    /// Earlier attempts.
    pub attempts: i32,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// How processing a delivery ended.
#[derive(Debug, Clone)]
pub enum InboundOutcome {
    /// Applied.
    Processed,
    /// A passing failure: try again at `at`.
    Retry {
        /// What went wrong.
        error: String,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// Not yet: look at it again at `at` (not a failed attempt).
    Defer {
        /// When.
        at: DateTime<Utc>,
    },
    /// It cannot succeed (or retries ran out): keep it as a dead letter for replay.
    Dead {
        /// Why.
        error: String,
    },
}

/// A stored delivery, as listed to operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    /// Its id.
    pub id: i64,
    /// The connection it came from.
    pub connection_id: String,
    /// The platform's delivery id.
    pub external_id: String,
    /// `pending`, `processing`, `processed`, `failed` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

impl Store {
    /// The tenant, platform and sealed secret of a connection, looked up by id alone: the
    /// delivery's signature, not a user, authenticates a webhook.
    pub async fn intake_target(&self, connection_id: &ConnectionId) -> Result<IntakeTarget> {
        let found = connection::Entity::find_by_id(connection_id.to_string())
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?;
        Ok(IntakeTarget {
            scope: TenantScope::new(decode::id(&found.tenant_id)?, Role::Staff),
            platform: found.platform,
            sealed_secret: found.webhook_secret,
        })
    }

    /// Leases up to `limit` due deliveries (pending, failed and due, or whose lease ran out)
    /// for `lease`; concurrent workers never lease the same one.
    pub async fn claim_inbound(&self, limit: u64, lease: Duration) -> Result<Vec<Claimed>> {
        let backend = self.db.get_database_backend();
        let at = now();
        let (sql, skip_locked) = match backend {
            DbBackend::Postgres => ("$1", " FOR UPDATE SKIP LOCKED"),
            _ => ("?", ""),
        };
        let p = |n: usize| {
            if sql == "$1" {
                format!("${n}")
            } else {
                "?".to_owned()
            }
        };
        let statement = format!(
            "UPDATE inbound_events SET status = 'processing', next_attempt_at = {} \
             WHERE id IN (SELECT id FROM inbound_events \
               WHERE status IN ('pending', 'failed', 'processing') AND next_attempt_at <= {} \
               ORDER BY id LIMIT {}{skip_locked}) \
             RETURNING id, tenant_id, connection_id, external_id, body, headers, verified, attempts, received_at",
            p(1),
            p(2),
            p(3)
        );
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                statement,
                [(at + lease).into(), at.into(), (limit as i64).into()],
            ))
            .await?;
        txn.commit().await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let tenant: String = row.try_get("", "tenant_id")?;
            let connection: String = row.try_get("", "connection_id")?;
            claimed.push(Claimed {
                id: row.try_get("", "id")?,
                scope: TenantScope::new(decode::id(&tenant)?, Role::Staff),
                connection_id: decode::id(&connection)?,
                external_id: row.try_get("", "external_id")?,
                body: row.try_get("", "body")?,
                headers: row.try_get("", "headers")?,
                verified: row.try_get("", "verified")?,
                attempts: row.try_get("", "attempts")?,
                received_at: row.try_get("", "received_at")?,
            });
        }
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Records how processing a leased delivery ended.
    pub async fn settle_inbound(&self, id: i64, outcome: InboundOutcome) -> Result<()> {
        if let InboundOutcome::Defer { at } = outcome {
            inbound_event::Entity::update_many()
                .col_expr(inbound_event::Column::Status, Expr::value("pending"))
                .col_expr(inbound_event::Column::NextAttemptAt, Expr::value(at))
                .filter(inbound_event::Column::Id.eq(id))
                .exec(&self.db)
                .await?;
            return Ok(());
        }
        let update = inbound_event::Entity::update_many()
            .col_expr(
                inbound_event::Column::Attempts,
                Expr::col(inbound_event::Column::Attempts).add(1),
            )
            .filter(inbound_event::Column::Id.eq(id));
        let update = match outcome {
            InboundOutcome::Processed => update
                .col_expr(inbound_event::Column::Status, Expr::value("processed"))
                .col_expr(inbound_event::Column::ProcessedAt, Expr::value(now()))
                .col_expr(
                    inbound_event::Column::LastError,
                    Expr::value(Option::<String>::None),
                ),
            InboundOutcome::Retry { error, at } => update
                .col_expr(inbound_event::Column::Status, Expr::value("failed"))
                .col_expr(inbound_event::Column::NextAttemptAt, Expr::value(at))
                .col_expr(inbound_event::Column::LastError, Expr::value(error)),
            InboundOutcome::Defer { .. } => return Ok(()),
            InboundOutcome::Dead { error } => update
                .col_expr(inbound_event::Column::Status, Expr::value("dead"))
                .col_expr(inbound_event::Column::LastError, Expr::value(error)),
        };
        update.exec(&self.db).await?;
        Ok(())
    }
}

impl Scoped<'_> {
    /// Stores a connection's sealed signing secret; audited as an access change by `actor`.
    pub async fn set_webhook_secret(
        &self,
        connection_id: &ConnectionId,
        sealed: String,
        actor: &str,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let done = connection::Entity::update_many()
            .col_expr(connection::Column::WebhookSecret, Expr::value(sealed))
            .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection::Column::Id.eq(connection_id.as_str()))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        crate::audit::append_in(
            self,
            &txn,
            crate::NewAuditEntry {
                actor: actor.to_owned(),
                action: concord_domain::audit::AuditAction::ConnectionAccessChanged,
                subject: connection_id.to_string(),
                details: serde_json::json!({ "changed": ["webhook_secret"] }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Keeps deliveries for processing, in one transaction (one commit for all: the intake
    /// groups the deliveries arriving together); for each, in order, whether it is new
    /// (`false`: this delivery id was already received, or comes twice in `deliveries` — a
    /// redelivery, acknowledged and not processed again). An unverified delivery (from a
    /// platform that does not sign) is only a hint: the worker fetches what it names.
    pub async fn store_inbound_many(&self, deliveries: Vec<NewInbound<'_>>) -> Result<Vec<bool>> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<(String, String)> = deliveries
            .iter()
            .map(|d| (d.connection_id.to_string(), d.external_id.to_owned()))
            .collect();
        let at = now();
        let rows = deliveries.into_iter().map(|d| inbound_event::ActiveModel {
            id: Default::default(),
            tenant_id: Set(self.tenant_id().to_string()),
            connection_id: Set(d.connection_id.to_string()),
            external_id: Set(d.external_id.to_owned()),
            body: Set(d.body),
            headers: Set(Some(d.headers)),
            verified: Set(d.verified),
            status: Set("pending".to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(at),
            last_error: Set(None),
            received_at: Set(at),
            processed_at: Set(None),
        });
        // Only the keys come back: the bodies are large and the caller has them.
        let mut insert = inbound_event::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    inbound_event::Column::ConnectionId,
                    inbound_event::Column::ExternalId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .into_query();
        insert.returning(Query::returning().columns([
            inbound_event::Column::ConnectionId,
            inbound_event::Column::ExternalId,
        ]));
        let txn = self.begin_write().await?;
        let statement = txn.get_database_backend().build(&insert);
        let inserted = txn.query_all_raw(statement).await?;
        txn.commit().await?;
        let mut fresh = std::collections::HashSet::with_capacity(inserted.len());
        for row in inserted {
            fresh.insert((
                row.try_get::<String>("", "connection_id")?,
                row.try_get::<String>("", "external_id")?,
            ));
        }
        // The first copy of a key is the one stored; any later copy is a redelivery.
        Ok(keys.into_iter().map(|key| fresh.remove(&key)).collect())
    }

    /// Stored deliveries, newest first, optionally only those in `status`.
    pub async fn inbound_events(
        &self,
        status: Option<&str>,
        limit: u64,
    ) -> Result<Vec<InboundRecord>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<inbound_event::Entity>()
            .order_by_desc(inbound_event::Column::Id)
            .limit(limit);
        if let Some(status) = status {
            query = query.filter(inbound_event::Column::Status.eq(status));
        }
        let rows = query.all(&txn).await?;
        txn.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| InboundRecord {
                id: r.id,
                connection_id: r.connection_id,
                external_id: r.external_id,
                status: r.status,
                attempts: r.attempts,
                last_error: r.last_error,
                received_at: r.received_at,
            })
            .collect())
    }

    /// Puts a dead or failed delivery back in line to be processed now.
    pub async fn replay_inbound(&self, id: i64) -> Result<()> {
        let txn = self.begin_write().await?;
        let done = inbound_event::Entity::update_many()
            .col_expr(inbound_event::Column::Status, Expr::value("pending"))
            .col_expr(inbound_event::Column::NextAttemptAt, Expr::value(now()))
            .filter(inbound_event::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(inbound_event::Column::Id.eq(id))
            .filter(inbound_event::Column::Status.is_in(["dead", "failed"]))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        txn.commit().await?;
        Ok(())
    }
}
