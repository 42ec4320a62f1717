//! Locations and connections (channels): where stock is, and which locations each channel
//! sells from, with its safety buffer and allocation cap.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use concord_connectors::{Platform, api};
use concord_domain::{
    ConnectionId, LocationId, Permission, ValidationError,
    availability::{AllocationCap, ChannelRules},
    compliance::ChannelKind,
    ledger::LocationKind,
    validate::parse_label,
};
use concord_storage::{Connection, ConnectionHealth, Location};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    routes::path_id,
    state::AppState,
};

/// A new location.
#[derive(Deserialize, ToSchema)]
pub struct LocationIn {
    /// Its name, unique in the organization.
    pub name: String,
    /// Store or warehouse.
    pub kind: LocationKind,
}

/// A location.
#[derive(Serialize, ToSchema)]
pub struct LocationOut {
    /// `loc_…`
    #[schema(value_type = String)]
    pub id: LocationId,
    /// Name.
    pub name: String,
    /// Store or warehouse.
    pub kind: LocationKind,
    /// Added.
    pub created_at: DateTime<Utc>,
}

impl From<Location> for LocationOut {
    fn from(l: Location) -> Self {
        Self {
            id: l.id,
            name: l.name,
            kind: l.kind,
            created_at: l.created_at,
        }
    }
}

/// A new connection.
#[derive(Deserialize, ToSchema)]
pub struct ConnectionIn {
    /// The platform, e.g. `shopify`, `square`, `woocommerce`.
    pub platform: String,
    /// A name for this account, e.g. "Online store".
    pub name: String,
}

/// How a channel turns stock into its offer.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct ConnectionSettings {
    /// Units held back from the channel.
    #[serde(default)]
    pub safety_buffer: i64,
    /// Optional cap: `{"kind":"percent","value":50}` or `{"kind":"units","value":10}`.
    pub allocation_cap: Option<AllocationCap>,
    /// The locations whose stock this channel sells.
    #[schema(value_type = Vec<String>)]
    pub sourcing: Vec<String>,
}

/// A connection.
#[derive(Serialize, ToSchema)]
pub struct ConnectionOut {
    /// `con_…`
    #[schema(value_type = String)]
    pub id: ConnectionId,
    /// Platform.
    pub platform: String,
    /// Name.
    pub name: String,
    /// Lifecycle status.
    pub status: String,
    /// Offer settings.
    pub settings: ConnectionSettings,
    /// When Concord last wrote to the platform, applied a delivery from it or finished a
    /// job on it.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Seconds the oldest delivery not yet applied has waited; absent when none waits.
    pub lag_seconds: Option<i64>,
    /// The platform's rate limit as Concord's shared bucket sees it now.
    pub rate_headroom: Option<HeadroomOut>,
    /// Offers whose last write to the platform failed.
    pub push_errors: i64,
    /// The simulator behind the connection (`concord demo` only).
    pub simulator_url: Option<String>,
    /// The jurisdiction its sales are judged in; absent until set (its orders are then
    /// recorded as not checked).
    pub jurisdiction: Option<String>,
    /// Online, phone, mail or pos; absent until set.
    pub channel_kind: Option<ChannelKind>,
    /// Added.
    pub created_at: DateTime<Utc>,
}

/// Requests a platform's rate limit allows right now.
#[derive(Serialize, ToSchema)]
pub struct HeadroomOut {
    /// Calls available now.
    pub available: f64,
    /// The most it holds.
    pub burst: f64,
}

impl ConnectionOut {
    /// A connection with its sync health and rate-limit headroom.
    async fn with_health(
        state: &AppState,
        connection: Connection,
        health: Option<&ConnectionHealth>,
    ) -> Self {
        let headroom = match connection
            .platform
            .parse::<Platform>()
            .ok()
            .and_then(api::connector)
        {
            Some(connector) => {
                let limits = connector.limits();
                state
                    .gate
                    .headroom(connection.id.as_str(), limits)
                    .await
                    .map(|available| HeadroomOut {
                        available,
                        burst: limits.burst,
                    })
            }
            None => None,
        };
        let simulator_url = state
            .settings
            .demo
            .then(|| connection.base_url.clone())
            .flatten();
        let health = health.cloned().unwrap_or_default();
        Self {
            last_sync_at: health.last_sync_at,
            lag_seconds: health
                .oldest_pending_at
                .map(|at| (Utc::now() - at).num_seconds().max(0)),
            rate_headroom: headroom,
            push_errors: health.push_errors,
            simulator_url,
            ..connection.into()
        }
    }
}

impl From<Connection> for ConnectionOut {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            platform: c.platform,
            name: c.name,
            status: c.status,
            jurisdiction: c.compliance.as_ref().map(|x| x.jurisdiction.to_string()),
            channel_kind: c.compliance.as_ref().map(|x| x.kind),
            settings: ConnectionSettings {
                safety_buffer: c.rules.safety_buffer,
                allocation_cap: c.rules.cap,
                sourcing: c.sourcing.into_iter().map(String::from).collect(),
            },
            last_sync_at: None,
            lag_seconds: None,
            rate_headroom: None,
            push_errors: 0,
            simulator_url: None,
            created_at: c.created_at,
        }
    }
}

/// Every location.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/locations", tag = "inventory",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = Vec<LocationOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_locations(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<LocationOut>>> {
    Ok(web::Json(
        access
            .repos(&state)
            .locations()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Adds a location (owner, admin).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/locations", tag = "inventory", request_body = LocationIn,
    params(("tenant_id" = String, Path)),
    responses((status = 201, body = LocationOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_location(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<LocationIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let name = parse_label("name", &body.name, 120)?;
    let created = access
        .repos(&state)
        .create_location(name, body.kind)
        .await?;
    Ok(HttpResponse::Created().json(LocationOut::from(created)))
}

/// Every connection.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/connections", tag = "connections",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = Vec<ConnectionOut>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_connections(
    state: web::Data<AppState>,
    access: TenantAccess,
) -> ApiResult<web::Json<Vec<ConnectionOut>>> {
    let repos = access.repos(&state);
    let health = repos.connection_health().await?;
    let mut out = Vec::new();
    for c in repos.connections().await? {
        let h = health.get(&c.id);
        out.push(ConnectionOut::with_health(&state, c, h).await);
    }
    Ok(web::Json(out))
}

/// Adds a connection in `pending` status (owner, admin); onboarding completes it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant_id}/connections", tag = "connections", request_body = ConnectionIn,
    params(("tenant_id" = String, Path)),
    responses((status = 201, body = ConnectionOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_connection(
    state: web::Data<AppState>,
    access: TenantAccess,
    body: web::Json<ConnectionIn>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let platform: concord_connectors::Platform =
        body.platform
            .parse()
            .map_err(|e: concord_connectors::UnknownPlatform| ValidationError {
                field: "platform",
                message: e.to_string(),
            })?;
    let name = parse_label("name", &body.name, 120)?;
    let created = access
        .repos(&state)
        .create_connection(
            platform.slug().to_owned(),
            name,
            access.caller.user_id().as_str(),
        )
        .await?;
    Ok(HttpResponse::Created().json(ConnectionOut::from(created)))
}

/// One connection.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = ConnectionOut), (status = 404, body = ErrorBody)))]
pub async fn get_connection(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<ConnectionOut>> {
    let id: ConnectionId = path_id(&path.1)?;
    let repos = access.repos(&state);
    let connection = repos.connection(&id).await?;
    let health = repos.connection_health().await?;
    Ok(web::Json(
        ConnectionOut::with_health(&state, connection, health.get(&id)).await,
    ))
}

/// Disconnects an account (owner, admin): Concord forgets its credentials and webhook
/// secret, stops reading and writing it, and refuses its deliveries. History stays.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}", tag = "connections",
    params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn disconnect(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    access.repos(&state).disconnect(&id).await?;
    state.intake_targets.forget(&id);
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a connection's sourcing locations, buffer and cap, and recomputes its offers
/// (owner, admin).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant_id}/connections/{connection_id}/settings", tag = "connections",
    request_body = ConnectionSettings, params(("tenant_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = ConnectionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "An unknown location"), (status = 422, body = ErrorBody)))]
pub async fn configure_connection(
    state: web::Data<AppState>,
    access: TenantAccess,
    path: web::Path<(String, String)>,
    body: web::Json<ConnectionSettings>,
) -> ApiResult<web::Json<ConnectionOut>> {
    access.require(Permission::ManageTenant)?;
    let id: ConnectionId = path_id(&path.1)?;
    let rules = ChannelRules {
        safety_buffer: body.safety_buffer,
        cap: body.allocation_cap,
    }
    .validate()?;
    let sourcing = body
        .sourcing
        .iter()
        .map(|l| {
            LocationId::parse(l).map_err(|_| ValidationError {
                field: "sourcing",
                message: format!("`{l}` is not a location id"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let updated = access
        .repos(&state)
        .configure_connection(&id, rules, &sourcing)
        .await?;
    Ok(web::Json(updated.into()))
}
