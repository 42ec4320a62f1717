//! The run's orders before the compliance rules: every order a snapshot touched is judged
//! (`compliance::orders`), and one newly held while open goes on hold, keeping its
//! reservation, until a person or the missing checks release it.

use concord_domain::{compliance::OrderState, orders::OrderStatus};

use super::Engine;
use crate::{
    compliance::{SaleToJudge, judge_sales},
    error::Result,
};

impl Engine<'_> {
    /// Judges the orders snapshots touched in this run and holds those the rules hold.
    pub(super) async fn judge_compliance(&mut self) -> Result<()> {
        let touched = std::mem::take(&mut self.to_judge);
        let mut sales = Vec::with_capacity(touched.len());
        for (key, ship_to) in touched {
            let Some(order) = self.orders.get(&key).map(|o| &o.model) else {
                continue;
            };
            if order.status == OrderStatus::Cancelled.as_str() {
                continue;
            }
            let lines = self
                .lines
                .range((order.id.clone(), String::new())..)
                .take_while(|((order_id, _), _)| *order_id == order.id)
                .map(|(_, l)| {
                    let code = l.model.sku_code.clone();
                    let product = self.skus.get(&code).map(|s| s.product_id.clone());
                    (code, product)
                })
                .collect();
            sales.push(SaleToJudge {
                order_id: order.id.clone(),
                placed_at: order.placed_at,
                ship_to,
                lines,
            });
        }
        let judged = judge_sales(self.scoped, self.txn, self.connection_id, sales).await?;
        for held in judged.into_iter().filter(|j| j.state == OrderState::Held) {
            if let Some(o) = self
                .orders
                .values_mut()
                .find(|o| o.model.id == held.order_id)
                && o.model.status == OrderStatus::Open.as_str()
            {
                o.model.status = OrderStatus::OnHold.as_str().to_owned();
                o.dirty = true;
            }
        }
        Ok(())
    }
}
