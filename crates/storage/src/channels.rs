//! Locations (stores, warehouses) and connections (channels): each connection's sourcing
//! locations and the rules that turn their stock into its offer.

use chrono::{DateTime, Utc};
use concord_domain::{
    ConnectionId, LocationId,
    availability::{AllocationCap, ChannelRules},
    compliance::{ChannelKind, Jurisdiction},
    ledger::LocationKind,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{
    Scoped, decode,
    entity::{connection, connection_location, location},
    error::{Result, StorageError},
    ledger::recompute_all_availability,
    now,
};

/// A store or warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Its id.
    pub id: LocationId,
    /// Its name, unique in the tenant.
    pub name: String,
    /// Store or warehouse.
    pub kind: LocationKind,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A connected platform account: one sales channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Its id.
    pub id: ConnectionId,
    /// The platform (`shopify`, `square`, …).
    pub platform: String,
    /// A name the merchant chose.
    pub name: String,
    /// Lifecycle status (`pending` until onboarding completes).
    pub status: String,
    /// Buffer and cap.
    pub rules: ChannelRules,
    /// The locations whose stock this channel sells.
    pub sourcing: Vec<LocationId>,
    /// The platform API's address, once access is set.
    pub base_url: Option<String>,
    /// Where and how it sells, for the jurisdiction rules; `None` until set, and then its
    /// orders are recorded as not checked.
    pub compliance: Option<ChannelCompliance>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// Where a channel sells and how, as the jurisdiction rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCompliance {
    /// The jurisdiction its sales are judged in (unless an order names its ship-to region).
    pub jurisdiction: Jurisdiction,
    /// Online, phone, mail or over the counter.
    pub kind: ChannelKind,
}

impl Scoped<'_> {
    /// Adds a location.
    pub async fn create_location(&self, name: String, kind: LocationKind) -> Result<Location> {
        let txn = self.begin_write().await?;
        let created = Location {
            id: LocationId::generate(),
            name,
            kind,
            created_at: now(),
        };
        location::Entity::insert(location::ActiveModel {
            id: Set(created.id.to_string()),
            tenant_id: Set(self.tenant_id().to_string()),
            name: Set(created.name.clone()),
            kind: Set(created.kind.as_str().to_owned()),
            created_at: Set(created.created_at),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(|e| match StorageError::from(e) {
            StorageError::Conflict(_) => {
                StorageError::Conflict(format!("a location named {} exists", created.name))
            }
            other => other,
        })?;
        txn.commit().await?;
        Ok(created)
    }

    /// Every location, by name.
    pub async fn locations(&self) -> Result<Vec<Location>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<location::Entity>()
            .order_by_asc(location::Column::Name)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter()
            .map(|r| {
                Ok(Location {
                    id: decode::id(&r.id)?,
                    name: r.name,
                    kind: decode::parsed(&r.kind, str::parse)?,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// Adds a connection in `pending` status, sourcing from no location yet; audited as
    /// created by `actor`.
    pub async fn create_connection(
        &self,
        platform: String,
        name: String,
        actor: &str,
    ) -> Result<Connection> {
        let txn = self.begin_write().await?;
        let created = Connection {
            id: ConnectionId::generate(),
            platform,
            name,
            status: "pending".to_owned(),
            rules: ChannelRules::default(),
            sourcing: Vec::new(),
            base_url: None,
            compliance: None,
            created_at: now(),
        };
        connection::Entity::insert(connection::ActiveModel {
            id: Set(created.id.to_string()),
            tenant_id: Set(self.tenant_id().to_string()),
            platform: Set(created.platform.clone()),
            name: Set(created.name.clone()),
            status: Set(created.status.clone()),
            safety_buffer: Set(0),
            allocation_kind: Set(None),
            allocation_value: Set(None),
            webhook_secret: Set(None),
            credentials: Set(None),
            base_url: Set(None),
            jurisdiction: Set(None),
            channel_kind: Set(None),
            created_at: Set(created.created_at),
        })
        .exec_without_returning(&txn)
        .await?;
        crate::audit::append_in(
            self,
            &txn,
            crate::NewAuditEntry {
                actor: actor.to_owned(),
                action: concord_domain::audit::AuditAction::ConnectionCreated,
                subject: created.id.to_string(),
                details: serde_json::json!({ "platform": created.platform, "name": created.name }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Every connection, oldest first.
    pub async fn connections(&self) -> Result<Vec<Connection>> {
        let txn = self.begin().await?;
        let found = load_connections(self, &txn).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// One connection.
    pub async fn connection(&self, id: &ConnectionId) -> Result<Connection> {
        self.connections()
            .await?
            .into_iter()
            .find(|c| &c.id == id)
            .ok_or(StorageError::NotFound)
    }

    /// Sets a connection's buffer, cap and sourcing locations, and recomputes its offer for
    /// every SKU.
    pub async fn configure_connection(
        &self,
        id: &ConnectionId,
        rules: ChannelRules,
        sourcing: &[LocationId],
    ) -> Result<Connection> {
        let txn = self.begin_write().await?;
        let current = load_connections(self, &txn)
            .await?
            .into_iter()
            .find(|c| &c.id == id)
            .ok_or(StorageError::NotFound)?;
        let known: Vec<String> = self
            .select::<location::Entity>()
            .filter(location::Column::Id.is_in(sourcing.iter().map(LocationId::as_str)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect();
        if let Some(missing) = sourcing
            .iter()
            .find(|l| !known.iter().any(|k| k == l.as_str()))
        {
            return Err(StorageError::Conflict(format!(
                "location {missing} does not exist"
            )));
        }
        let (kind, value) = match rules.cap {
            None => (None, None),
            Some(AllocationCap::Percent(p)) => (Some("percent".to_owned()), Some(i64::from(p))),
            Some(AllocationCap::Units(u)) => (Some("units".to_owned()), Some(u)),
        };
        connection::Entity::update_many()
            .col_expr(connection::Column::SafetyBuffer, rules.safety_buffer.into())
            .col_expr(connection::Column::AllocationKind, kind.into())
            .col_expr(connection::Column::AllocationValue, value.into())
            .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await?;
        connection_location::Entity::delete_many()
            .filter(connection_location::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(connection_location::Column::ConnectionId.eq(id.as_str()))
            .exec(&txn)
            .await?;
        for location_id in sourcing {
            connection_location::Entity::insert(connection_location::ActiveModel {
                connection_id: Set(id.to_string()),
                location_id: Set(location_id.to_string()),
                tenant_id: Set(self.tenant_id().to_string()),
                external_location_id: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        recompute_all_availability(self, &txn).await?;
        txn.commit().await?;
        Ok(Connection {
            rules,
            sourcing: sourcing.to_vec(),
            ..current
        })
    }
}

/// Every connection of the tenant with its rules and sourcing.
pub(crate) async fn load_connections(
    scoped: &Scoped<'_>,
    db: &impl ConnectionTrait,
) -> Result<Vec<Connection>> {
    let rows = scoped
        .select::<connection::Entity>()
        .order_by_asc(connection::Column::Id)
        .all(db)
        .await?;
    let links = scoped
        .select::<connection_location::Entity>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let cap = match (r.allocation_kind.as_deref(), r.allocation_value) {
                (Some("percent"), Some(v)) => {
                    Some(AllocationCap::Percent(u8::try_from(v).unwrap_or(100)))
                }
                (Some("units"), Some(v)) => Some(AllocationCap::Units(v)),
                _ => None,
            };
            let sourcing = links
                .iter()
                .filter(|l| l.connection_id == r.id)
                .map(|l| decode::id(&l.location_id))
                .collect::<Result<Vec<_>>>()?;
            let compliance = match (r.jurisdiction.as_deref(), r.channel_kind.as_deref()) {
                (Some(j), Some(k)) => Some(ChannelCompliance {
                    jurisdiction: decode::parsed(j, Jurisdiction::parse)?,
                    kind: decode::parsed(k, str::parse)?,
                }),
                _ => None,
            };
            Ok(Connection {
                id: decode::id(&r.id)?,
                compliance,
                platform: r.platform,
                name: r.name,
                status: r.status,
                rules: ChannelRules {
                    safety_buffer: r.safety_buffer,
                    cap,
                },
                sourcing,
                base_url: r.base_url,
                created_at: r.created_at,
            })
        })
        .collect()
}
