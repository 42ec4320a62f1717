//! Analytics: store and online sales merged, by channel, by day and by kind of channel.

use actix_web::web;
use chrono::{Duration, Utc};
use concord_connectors::Platform;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::TenantAccess,
    error::{ApiResult, ErrorBody},
    state::AppState,
};

/// The period.
#[derive(Deserialize, IntoParams)]
pub struct SalesParams {
    /// The last this many days (UTC), 1–366; default 30.
    pub days: Option<u32>,
}

/// One channel's sales.
#[derive(Serialize, ToSchema)]
pub struct ChannelSalesOut {
    /// The channel.
    pub connection_id: String,
    /// ISO currency.
    pub currency: String,
    /// Orders (cancelled ones excluded).
    pub orders: i64,
    /// Units sold.
    pub units: i64,
    /// Revenue in minor units.
    pub revenue_minor: i64,
    /// Refunded in minor units.
    pub refunded_minor: i64,
}

/// One day's sales.
#[derive(Serialize, ToSchema)]
pub struct DaySalesOut {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// ISO currency.
    pub currency: String,
    /// Orders.
    pub orders: i64,
    /// Revenue in minor units.
    pub revenue_minor: i64,
}

/// Store (point-of-sale) or online sales.
#[derive(Serialize, ToSchema)]
pub struct KindSalesOut {
    /// `store` or `online`.
    pub kind: &'static str,
    /// ISO currency.
    pub currency: String,
    /// Orders.
    pub orders: i64,
    /// Revenue in minor units.
    pub revenue_minor: i64,
}

/// Sales over the period.
#[derive(Serialize, ToSchema)]
pub struct SalesOut {
    /// Per channel and currency.
    pub by_channel: Vec<ChannelSalesOut>,
    /// Per day and currency, oldest first.
    pub by_day: Vec<DaySalesOut>,
    /// Store vs online, per currency.
    pub by_kind: Vec<KindSalesOut>,
}

/// Sales of every channel over the last `days` days, merged across store and online.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant_id}/analytics/sales", tag = "analytics",
    params(("tenant_id" = String, Path), SalesParams),
    responses((status = 200, body = SalesOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn sales(
    state: web::Data<AppState>,
    access: TenantAccess,
    params: web::Query<SalesParams>,
) -> ApiResult<web::Json<SalesOut>> {
    let days = params.days.unwrap_or(30).clamp(1, 366);
    let repos = access.repos(&state);
    let since = Utc::now() - Duration::days(i64::from(days));
    let sales = repos.sales_since(since).await?;
    let platforms: std::collections::HashMap<String, String> = repos
        .connections()
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.platform))
        .collect();
    let mut by_kind: Vec<KindSalesOut> = Vec::new();
    for c in &sales.by_channel {
        let store = platforms
            .get(&c.connection_id)
            .and_then(|p| p.parse::<Platform>().ok())
            .is_some_and(Platform::is_point_of_sale);
        let kind = if store { "store" } else { "online" };
        match by_kind
            .iter_mut()
            .find(|k| k.kind == kind && k.currency == c.currency)
        {
            Some(k) => {
                k.orders += c.orders;
                k.revenue_minor += c.revenue_minor;
            }
            None => by_kind.push(KindSalesOut {
                kind,
                currency: c.currency.clone(),
                orders: c.orders,
                revenue_minor: c.revenue_minor,
            }),
        }
    }
    Ok(web::Json(SalesOut {
        by_channel: sales
            .by_channel
            .into_iter()
            .map(|c| ChannelSalesOut {
                connection_id: c.connection_id,
                currency: c.currency,
                orders: c.orders,
                units: c.units,
                revenue_minor: c.revenue_minor,
                refunded_minor: c.refunded_minor,
            })
            .collect(),
        by_day: sales
            .by_day
            .into_iter()
            .map(|d| DaySalesOut {
                day: d.day,
                currency: d.currency,
                orders: d.orders,
                revenue_minor: d.revenue_minor,
            })
            .collect(),
        by_kind,
    }))
}
