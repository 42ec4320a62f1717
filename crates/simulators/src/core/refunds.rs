//! Refunds in the shop: money back, and units back on the shelf when restocked.

use super::*;

impl Core {
    /// Gives money (and units) back on a paid order.
    pub fn refund(
        &mut self,
        order: u64,
        spec: &RefundSpec,
        now: Time,
    ) -> Result<(u64, Vec<Change>), CoreError> {
        let track_stock = self.track_stock;
        let refund_id = self.next_refund;
        let o = self
            .order_mut(order)
            .ok_or_else(|| CoreError::NotFound(format!("no order {order}")))?;
        match o.status {
            OrderStatus::Paid | OrderStatus::PartiallyRefunded => {}
            OrderStatus::Refunded => {
                return Err(CoreError::Conflict(
                    "the order is already fully refunded".into(),
                ));
            }
            OrderStatus::AwaitingPayment | OrderStatus::Failed => {
                return Err(CoreError::Conflict("the order has not been paid".into()));
            }
        }
        let money_left = o.total_minor - o.refunded_minor();
        let mut refund_lines = Vec::new();
        let mut amount = 0;
        if o.lines.is_empty() || (spec.amount_minor.is_some() && spec.sku.is_none()) {
            amount = spec.amount_minor.unwrap_or(money_left);
        } else {
            let chosen: Vec<usize> = match &spec.sku {
                Some(sku) => {
                    let found: Vec<usize> = o
                        .lines
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| &l.sku == sku)
                        .map(|(i, _)| i)
                        .collect();
                    if found.is_empty() {
                        return Err(CoreError::NotFound(format!(
                            "the order has no line for `{sku}`"
                        )));
                    }
                    found
                }
                None => (0..o.lines.len())
                    .filter(|&i| o.lines[i].quantity > o.lines[i].refunded)
                    .collect(),
            };
            if spec.quantity.is_some() && chosen.len() > 1 && spec.sku.is_none() {
                return Err(CoreError::Invalid(
                    "the order has several lines: name the `sku` the quantity is for".into(),
                ));
            }
            for index in chosen {
                let line = &mut o.lines[index];
                let left = line.quantity - line.refunded;
                if left <= 0 {
                    continue;
                }
                let quantity = match spec.quantity {
                    Some(q) if q <= 0 => {
                        return Err(CoreError::Invalid("the quantity must be at least 1".into()));
                    }
                    Some(q) if q > left => {
                        return Err(CoreError::Conflict(format!(
                            "only {left} of `{}` left to refund",
                            line.sku
                        )));
                    }
                    Some(q) => q,
                    None => left,
                };
                line.refunded += quantity;
                amount += quantity * line.unit_price_minor;
                refund_lines.push(RefundLine {
                    line: line.id,
                    quantity,
                });
                if spec.quantity.is_some() {
                    break;
                }
            }
            if refund_lines.is_empty() {
                return Err(CoreError::Conflict("nothing left to refund".into()));
            }
            if let Some(asked) = spec.amount_minor {
                amount = asked;
            }
        }
        if amount <= 0 || amount > money_left {
            // Undo the line bookkeeping done above before refusing.
            for rl in &refund_lines {
                if let Some(line) = o.lines.iter_mut().find(|l| l.id == rl.line) {
                    line.refunded -= rl.quantity;
                }
            }
            return Err(CoreError::Conflict(format!(
                "refund of {amount} is outside what is left to refund ({money_left})"
            )));
        }
        o.refunds.push(Refund {
            id: refund_id,
            created_at: now,
            amount_minor: amount,
            lines: refund_lines.clone(),
            restock: spec.restock && track_stock,
            reason: spec.reason.clone(),
        });
        o.status = if o.refunded_minor() >= o.total_minor {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        };
        o.updated_at = now;
        o.version += 1;
        let location = o.location;
        let restocks: Vec<(u64, i64)> = refund_lines
            .iter()
            .filter_map(|rl| o.line(rl.line).map(|l| (l.product, rl.quantity)))
            .collect();
        self.next_refund += 1;
        let mut changes = vec![Change::RefundCreated {
            order,
            refund: refund_id,
        }];
        if spec.restock && track_stock {
            for (product, quantity) in restocks {
                changes.extend(self.move_stock(
                    product,
                    location,
                    quantity,
                    Cause::Refund {
                        order,
                        refund: refund_id,
                    },
                    now,
                )?);
            }
        }
        Ok((refund_id, changes))
    }
}
