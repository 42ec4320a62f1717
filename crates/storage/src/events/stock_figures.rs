//! A platform's own stock figures: stale, echo, expected, or a manual edit on the platform,
//! and the drops no known sale explained, which a later sale gives back.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};

use super::{Applied, Ctx, ignored};
use crate::{
    entity::availability,
    error::Result,
    now,
    stock_report::{StockReport, recent_writes},
};

impl Ctx<'_> {
    /// A platform's own stock figure for a SKU. A figure older than what Concord already
    /// knows of the channel (its own sales, a later report, a write) is stale. A figure
    /// Concord wrote there lately is an
    /// echo of that write (even when it arrives after later writes or the platform's own
    /// later sales, so it never overwrites the expected figure); the figure Concord expected
    /// (its last write, followed by the platform's own sales) changes nothing; any other
    /// figure is a manual edit on the platform, applied as the difference from the expected
    /// one. A first report only sets the baseline.
    pub(super) async fn stock_reported(
        &self,
        sku: &str,
        location: Option<&str>,
        quantity: i64,
    ) -> Result<Applied> {
        let Some(found) = self.sku_by_code(sku).await? else {
            return Ok(ignored(format!("no SKU {sku} in the catalog")));
        };
        let Some(offer) = self
            .scoped
            .select::<availability::Entity>()
            .filter(availability::Column::SkuId.eq(found.id.as_str()))
            .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
            .one(self.txn)
            .await?
        else {
            return Ok(ignored(format!("{sku} is not offered on this channel")));
        };
        let at = self.event.occurred_at;
        if offer.reported_at.is_some_and(|known| at <= known) {
            return Ok(ignored(format!(
                "{sku}: a figure from before what Concord already knows of this channel"
            )));
        }
        let written = recent_writes(offer.recent_pushes.as_deref(), now().timestamp());
        let judged = StockReport::judge(&written, offer.pushed, offer.reported, quantity);
        if judged != StockReport::Echo {
            availability::Entity::update_many()
                .col_expr(availability::Column::Reported, Expr::value(quantity))
                .col_expr(availability::Column::ReportedAt, Expr::value(at))
                .filter(availability::Column::TenantId.eq(self.tenant()))
                .filter(availability::Column::SkuId.eq(found.id.as_str()))
                .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
                .exec(self.txn)
                .await?;
        }
        match judged {
            StockReport::Echo => Ok(ignored(format!("{sku}: echo of the figure Concord wrote"))),
            // Recorded as the channel's figure; a difference shows as a discrepancy.
            StockReport::Baseline => Ok(Applied::default()),
            StockReport::Expected => Ok(ignored(format!("{sku}: the figure Concord expected"))),
            StockReport::Edited { .. } if found.is_kit => {
                // A kit's stock is its components': Concord writes its own figure back.
                availability::Entity::update_many()
                    .col_expr(availability::Column::PushDue, Expr::value(true))
                    .filter(availability::Column::TenantId.eq(self.tenant()))
                    .filter(availability::Column::SkuId.eq(found.id.as_str()))
                    .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
                    .exec(self.txn)
                    .await?;
                Ok(ignored(format!(
                    "{sku} is a kit: its stock is its components', so Concord's figure is written back"
                )))
            }
            StockReport::Edited { delta } => {
                if delta < 0 {
                    self.remember_unexplained_drop(&found.id, -delta, at)
                        .await?;
                }
                self.adjust(
                    &found.id,
                    location,
                    delta,
                    Some(format!(
                        "edited on the platform: {} → {quantity}",
                        quantity - delta
                    )),
                )
                .await
            }
        }
    }

    /// Remembers a drop of `units` in the platform's figure at `at` that no sale known yet
    /// explained: a sale from before `at` that arrives later was counted by it already.
    async fn remember_unexplained_drop(
        &self,
        sku_id: &str,
        units: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        availability::Entity::update_many()
            .col_expr(
                availability::Column::Unexplained,
                Expr::col(availability::Column::Unexplained).add(units),
            )
            .col_expr(availability::Column::UnexplainedAt, Expr::value(at))
            .filter(availability::Column::TenantId.eq(self.tenant()))
            .filter(availability::Column::SkuId.eq(sku_id))
            .filter(availability::Column::ConnectionId.eq(self.connection_id.as_str()))
            .exec(self.txn)
            .await?;
        Ok(())
    }
}
