//! Pushes: each channel's offer (the `availability` row per SKU and connection) doubles as
//! its push state. A changed offer is marked due; a push worker writes the latest value of
//! each due row through the platform's batch endpoint and records what it wrote. Many
//! changes to one SKU between two passes become one write of the latest value, and a crash
//! between the write and the record only writes the same value again.

use chrono::{DateTime, Utc};
use concord_domain::{ConnectionId, Role, SkuId};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
    sea_query::{BinOper, Expr, ExprTrait, Func},
};

use crate::{
    Scoped, Store, TenantScope, decode,
    entity::{availability, connection, connection_location, listing, sku},
    error::Result,
    now,
    stock_report::{StockReport, recent_writes},
};

/// Most SKUs settled per statement.
const SETTLE_CHUNK: usize = 500;

/// Longest write log kept per offer (recent `value:time,` entries, newest first).
const WRITE_LOG_CHARS: i32 = 200;

/// A connection with offers waiting to be written.
#[derive(Debug, Clone)]
pub struct DueConnection {
    /// Its tenant.
    pub scope: TenantScope,
    /// The connection.
    pub connection_id: ConnectionId,
    /// Its platform slug.
    pub platform: String,
}

/// One offer to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePush {
    /// The SKU.
    pub sku_id: SkuId,
    /// Its code.
    pub sku_code: String,
    /// The platform's item to write.
    pub external_item_id: String,
    /// The offer now.
    pub available: i64,
    /// The figure the platform showed last, as far as Concord knows.
    pub reported: Option<i64>,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// How writing one offer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The platform now shows `value` (written, or already showing it).
    Written(i64),
    /// Try again at `at`.
    Retry {
        /// What went wrong.
        error: String,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// It cannot succeed; kept as a discrepancy until the offer changes again.
    Failed {
        /// Why.
        error: String,
    },
}

impl Store {
    /// Connections that have offers due, with their tenants.
    pub async fn due_push_connections(&self) -> Result<Vec<DueConnection>> {
        let backend = self.db.get_database_backend();
        let placeholder = match backend {
            sea_orm::DbBackend::Postgres => "$1",
            _ => "?",
        };
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT DISTINCT a.tenant_id, a.connection_id, c.platform \
                     FROM availability a JOIN connections c ON c.id = a.connection_id \
                     JOIN listings l ON l.connection_id = a.connection_id AND l.sku_id = a.sku_id \
                     WHERE a.push_due AND c.base_url IS NOT NULL \
                       AND (a.push_after IS NULL OR a.push_after <= {placeholder})"
                ),
                [now().into()],
            ))
            .await?;
        rows.into_iter()
            .map(|row| {
                let tenant: String = row.try_get("", "tenant_id")?;
                let connection: String = row.try_get("", "connection_id")?;
                Ok(DueConnection {
                    scope: TenantScope::new(decode::id(&tenant)?, Role::Staff),
                    connection_id: decode::id(&connection)?,
                    platform: row.try_get("", "platform")?,
                })
            })
            .collect()
    }
}

impl Scoped<'_> {
    /// Up to `limit` due offers of a connection's listed SKUs, oldest change first. (An
    /// offer of a SKU the platform does not list stays due until it is listed.)
    pub async fn due_pushes(
        &self,
        connection_id: &ConnectionId,
        limit: u64,
    ) -> Result<Vec<DuePush>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<availability::Entity>()
            .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(availability::Column::PushDue.eq(true))
            .filter(
                availability::Column::PushAfter
                    .is_null()
                    .or(availability::Column::PushAfter.lte(now())),
            )
            .filter(
                availability::Column::SkuId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(listing::Column::SkuId)
                        .from(listing::Entity)
                        .and_where(listing::Column::ConnectionId.eq(connection_id.as_str()))
                        .and_where(listing::Column::SkuId.is_not_null())
                        .to_owned(),
                ),
            )
            .order_by_asc(availability::Column::ComputedAt)
            .limit(limit)
            .all(&txn)
            .await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.sku_id.as_str()).collect();
        let codes: std::collections::HashMap<String, String> = self
            .select::<sku::Entity>()
            .filter(sku::Column::Id.is_in(ids.clone()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.id, s.code))
            .collect();
        let items: std::collections::HashMap<String, String> = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(listing::Column::SkuId.is_in(ids))
            .all(&txn)
            .await?
            .into_iter()
            .filter_map(|l| Some((l.sku_id?, l.external_item_id)))
            .collect();
        rows.into_iter()
            .filter_map(|r| Some((items.get(&r.sku_id)?.clone(), r)))
            .map(|(external_item_id, r)| {
                Ok(DuePush {
                    sku_code: codes.get(&r.sku_id).cloned().unwrap_or_default(),
                    external_item_id,
                    sku_id: decode::id(&r.sku_id)?,
                    available: r.available,
                    reported: r.reported,
                    attempts: r.push_attempts,
                })
            })
            .collect()
    }

    /// Records how each push ended. A row stays due when its offer changed meanwhile.
    pub async fn settle_pushes(
        &self,
        connection_id: &ConnectionId,
        outcomes: Vec<(SkuId, PushOutcome)>,
    ) -> Result<()> {
        // SKUs with the same outcome (often the same figure) are settled in one statement.
        let mut alike: Vec<(PushOutcome, Vec<String>)> = Vec::new();
        for (sku_id, outcome) in outcomes {
            match alike.iter_mut().find(|(o, _)| *o == outcome) {
                Some((_, skus)) => skus.push(sku_id.to_string()),
                None => alike.push((outcome, vec![sku_id.to_string()])),
            }
        }
        let txn = self.begin_write().await?;
        let at = now();
        for (outcome, skus) in alike {
            for chunk in skus.chunks(SETTLE_CHUNK) {
                let update = availability::Entity::update_many()
                    .filter(availability::Column::TenantId.eq(self.tenant_id().as_str()))
                    .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
                    .filter(availability::Column::SkuId.is_in(chunk.iter().map(String::as_str)));
                let update = match outcome.clone() {
                    PushOutcome::Written(value) => update
                        .col_expr(
                            availability::Column::RecentPushes,
                            Func::cust("substr")
                                .arg(Expr::val(format!("{value}:{},", at.timestamp())).binary(
                                    BinOper::Custom("||"),
                                    Func::coalesce([
                                        Expr::col(availability::Column::RecentPushes),
                                        Expr::val(""),
                                    ]),
                                ))
                                .arg(1)
                                .arg(WRITE_LOG_CHARS)
                                .into(),
                        )
                        .col_expr(availability::Column::Pushed, Expr::value(value))
                        .col_expr(availability::Column::PushedAt, Expr::value(at))
                        .col_expr(availability::Column::Reported, Expr::value(value))
                        .col_expr(availability::Column::ReportedAt, Expr::value(at))
                        .col_expr(
                            availability::Column::PushDue,
                            Expr::col(availability::Column::Available).ne(value),
                        )
                        .col_expr(availability::Column::PushAttempts, Expr::value(0))
                        .col_expr(
                            availability::Column::PushAfter,
                            Expr::value(Option::<DateTime<Utc>>::None),
                        )
                        .col_expr(
                            availability::Column::PushError,
                            Expr::value(Option::<String>::None),
                        ),
                    PushOutcome::Retry { error, at } => update
                        .col_expr(
                            availability::Column::PushAttempts,
                            Expr::col(availability::Column::PushAttempts).add(1),
                        )
                        .col_expr(availability::Column::PushAfter, Expr::value(at))
                        .col_expr(availability::Column::PushError, Expr::value(error)),
                    PushOutcome::Failed { error } => update
                        .col_expr(availability::Column::PushDue, Expr::value(false))
                        .col_expr(
                            availability::Column::PushAttempts,
                            Expr::col(availability::Column::PushAttempts).add(1),
                        )
                        .col_expr(availability::Column::PushError, Expr::value(error)),
                };
                update.exec(&txn).await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }
}

/// What a worker needs to call a connection's platform.
#[derive(Debug, Clone)]
pub struct ConnectionAccess {
    /// Its tenant.
    pub scope: TenantScope,
    /// The connection.
    pub connection_id: ConnectionId,
    /// Its platform slug.
    pub platform: String,
    /// The API's base URL.
    pub base_url: String,
    /// Its credentials, sealed.
    pub sealed_credentials: Option<String>,
    /// The platform location its offer is written to, where one is mapped.
    pub external_location_id: Option<String>,
}

impl Store {
    /// Every connection Concord can call (it has an API address), with what calling needs.
    pub async fn callable_connections(&self) -> Result<Vec<ConnectionAccess>> {
        self.callable(None).await
    }

    /// One connection, if Concord can call it.
    pub async fn callable_connection(&self, id: &ConnectionId) -> Result<Option<ConnectionAccess>> {
        Ok(self.callable(Some(id)).await?.pop())
    }

    async fn callable(&self, only: Option<&ConnectionId>) -> Result<Vec<ConnectionAccess>> {
        let mut query =
            connection::Entity::find().filter(connection::Column::BaseUrl.is_not_null());
        if let Some(id) = only {
            query = query.filter(connection::Column::Id.eq(id.as_str()));
        }
        let found = query
            .order_by_asc(connection::Column::Id)
            .all(&self.db)
            .await?;
        let mapped: std::collections::HashMap<String, String> = connection_location::Entity::find()
            .filter(connection_location::Column::ExternalLocationId.is_not_null())
            .order_by_asc(connection_location::Column::LocationId)
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|l| Some((l.connection_id, l.external_location_id?)))
            .rev()
            .collect();
        found
            .into_iter()
            .map(|c| {
                Ok(ConnectionAccess {
                    scope: TenantScope::new(decode::id(&c.tenant_id)?, Role::Staff),
                    connection_id: decode::id(&c.id)?,
                    external_location_id: mapped.get(&c.id).cloned(),
                    platform: c.platform,
                    base_url: c.base_url.unwrap_or_default(),
                    sealed_credentials: c.credentials,
                })
            })
            .collect()
    }
}

impl Scoped<'_> {
    /// Stores how to call a connection's platform: its API address and sealed credentials
    /// (and, where given, its sealed webhook secret); the connection becomes active. Audited
    /// as an access change by `actor` (never with the secrets themselves).
    pub async fn set_connection_access(
        &self,
        connection_id: &ConnectionId,
        base_url: String,
        sealed_credentials: String,
        sealed_webhook_secret: Option<String>,
        actor: &str,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let mut changed = vec!["base_url", "credentials"];
        if sealed_webhook_secret.is_some() {
            changed.push("webhook_secret");
        }
        let details = serde_json::json!({ "base_url": base_url, "changed": changed });
        let mut update = connection::Entity::update_many()
            .col_expr(connection::Column::BaseUrl, Expr::value(base_url))
            .col_expr(
                connection::Column::Credentials,
                Expr::value(sealed_credentials),
            )
            .col_expr(connection::Column::Status, Expr::value("active"))
            .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection::Column::Id.eq(connection_id.as_str()));
        if let Some(secret) = sealed_webhook_secret {
            update = update.col_expr(connection::Column::WebhookSecret, Expr::value(secret));
        }
        if update.exec(&txn).await?.rows_affected == 0 {
            return Err(crate::StorageError::NotFound);
        }
        crate::audit::append_in(
            self,
            &txn,
            crate::NewAuditEntry {
                actor: actor.to_owned(),
                action: concord_domain::audit::AuditAction::ConnectionAccessChanged,
                subject: connection_id.to_string(),
                details,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Replaces a connection's sealed credentials (after a token refresh).
    pub async fn set_credentials(
        &self,
        connection_id: &ConnectionId,
        sealed: String,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        connection::Entity::update_many()
            .col_expr(connection::Column::Credentials, Expr::value(sealed))
            .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection::Column::Id.eq(connection_id.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}

/// A channel's offer of a listed item, as reconcile compares it with the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedOffer {
    /// The SKU.
    pub sku_id: SkuId,
    /// Its code.
    pub sku_code: String,
    /// The offer now.
    pub available: i64,
    /// What Concord last wrote.
    pub pushed: Option<i64>,
    /// The platform's figure as last recorded.
    reported: Option<i64>,
    /// The figures written lately, newest first (for telling echoes apart).
    written: Vec<i64>,
}

impl ListedOffer {
    /// Whether the platform showing `figure` is news to Concord: neither the echo of a
    /// write nor the figure already recorded. Only news needs applying to the ledger; a
    /// figure that is not news still counts as a discrepancy when it differs from the offer.
    pub fn is_news(&self, figure: i64) -> bool {
        !matches!(
            StockReport::judge(&self.written, self.pushed, self.reported, figure),
            StockReport::Echo | StockReport::Expected
        )
    }
}

impl Scoped<'_> {
    /// The offers of the matched listings among `external_item_ids`, by item id.
    pub async fn offers_of_items(
        &self,
        connection_id: &ConnectionId,
        external_item_ids: &[String],
    ) -> Result<std::collections::HashMap<String, ListedOffer>> {
        let txn = self.begin().await?;
        let listings = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(
                listing::Column::ExternalItemId.is_in(external_item_ids.iter().map(String::as_str)),
            )
            .filter(listing::Column::SkuId.is_not_null())
            .all(&txn)
            .await?;
        let sku_ids: Vec<&str> = listings
            .iter()
            .filter_map(|l| l.sku_id.as_deref())
            .collect();
        let codes: std::collections::HashMap<String, String> = self
            .select::<sku::Entity>()
            .filter(sku::Column::Id.is_in(sku_ids.clone()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.id, s.code))
            .collect();
        let offers: std::collections::HashMap<String, availability::Model> = self
            .select::<availability::Entity>()
            .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(availability::Column::SkuId.is_in(sku_ids))
            .all(&txn)
            .await?
            .into_iter()
            .map(|a| (a.sku_id.clone(), a))
            .collect();
        let at = now().timestamp();
        let mut out = std::collections::HashMap::new();
        for l in listings {
            let Some(sku_id) = l.sku_id else { continue };
            let (Some(code), Some(offer)) = (codes.get(&sku_id), offers.get(&sku_id)) else {
                continue;
            };
            out.insert(
                l.external_item_id,
                ListedOffer {
                    sku_id: decode::id(&sku_id)?,
                    sku_code: code.clone(),
                    available: offer.available,
                    pushed: offer.pushed,
                    reported: offer.reported,
                    written: recent_writes(offer.recent_pushes.as_deref(), at),
                },
            );
        }
        Ok(out)
    }

    /// Records the figures a platform really shows for these SKUs (read by a reconcile)
    /// and marks their offers to be written again.
    pub async fn repair_offers(
        &self,
        connection_id: &ConnectionId,
        shown: &[(SkuId, i64)],
    ) -> Result<()> {
        if shown.is_empty() {
            return Ok(());
        }
        let txn = self.begin_write().await?;
        let at = now();
        for (sku_id, figure) in shown {
            availability::Entity::update_many()
                .col_expr(availability::Column::Reported, Expr::value(*figure))
                .col_expr(availability::Column::ReportedAt, Expr::value(at))
                .col_expr(availability::Column::PushDue, Expr::value(true))
                .col_expr(availability::Column::PushAttempts, Expr::value(0))
                .col_expr(
                    availability::Column::PushAfter,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(availability::Column::TenantId.eq(self.tenant_id().as_str()))
                .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
                .filter(availability::Column::SkuId.eq(sku_id.as_str()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Offers the platform has not confirmed (never written, written with another value, or
    /// failed) are written again; returns how many.
    pub async fn reopen_unconfirmed(&self, connection_id: &ConnectionId) -> Result<u64> {
        let txn = self.begin_write().await?;
        let done = availability::Entity::update_many()
            .col_expr(availability::Column::PushDue, Expr::value(true))
            .col_expr(availability::Column::PushAttempts, Expr::value(0))
            .col_expr(
                availability::Column::PushAfter,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(availability::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(availability::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(availability::Column::PushDue.eq(false))
            .filter(
                availability::Column::Pushed
                    .is_null()
                    .or(Expr::col(availability::Column::Pushed)
                        .ne(Expr::col(availability::Column::Available)))
                    .or(availability::Column::PushError.is_not_null()),
            )
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(done.rows_affected)
    }

    /// How many of the connection's listings are matched to SKUs.
    pub async fn matched_listing_count(&self, connection_id: &ConnectionId) -> Result<i64> {
        let txn = self.begin().await?;
        let n = self
            .select::<listing::Entity>()
            .filter(listing::Column::ConnectionId.eq(connection_id.as_str()))
            .filter(listing::Column::SkuId.is_not_null())
            .count(&txn)
            .await?;
        Ok(n as i64)
    }
}
