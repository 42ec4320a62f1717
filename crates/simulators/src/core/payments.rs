//! Payments in the shop: an order paid, declined, or a payment made through an API before
//! any order exists (Stripe).

use super::*;

impl Core {
    /// A payment created through an API (Stripe PaymentIntent), not paid yet.
    pub fn create_payment(&mut self, spec: PaymentSpec, now: Time) -> (u64, Vec<Change>) {
        let id = self.first_order + self.orders.len() as u64;
        self.orders.push(Order {
            id,
            number: 1000 + id,
            location: 0,
            currency: spec.currency,
            lines: Vec::new(),
            total_minor: spec.amount_minor,
            status: OrderStatus::AwaitingPayment,
            created_at: now,
            updated_at: now,
            payment: None,
            refunds: Vec::new(),
            metadata: spec.metadata,
            payment_method: spec.payment_method,
            description: spec.description,
            failure: None,
            version: 1,
        });
        (id, vec![Change::OrderCreated { order: id }])
    }

    /// A payment of `amount_minor` with no lines (a card payment for an amount), paid at once.
    pub fn sell_amount(
        &mut self,
        amount_minor: i64,
        currency: &str,
        method: &str,
        now: Time,
    ) -> Result<(u64, Vec<Change>), CoreError> {
        if amount_minor <= 0 {
            return Err(CoreError::Invalid("the amount must be positive".into()));
        }
        let currency = Currency::parse(currency)
            .map_err(|e| CoreError::Invalid(e.message))?
            .to_string();
        let (id, mut changes) = self.create_payment(
            PaymentSpec {
                amount_minor,
                currency,
                payment_method: Some(method.to_owned()),
                ..PaymentSpec::default()
            },
            now,
        );
        changes.extend(self.pay(id, method, now)?);
        Ok((id, changes))
    }

    /// Settles an order awaiting payment.
    pub fn pay(&mut self, order: u64, method: &str, now: Time) -> Result<Vec<Change>, CoreError> {
        let payment_id = self.next_payment;
        let o = self
            .order_mut(order)
            .ok_or_else(|| CoreError::NotFound(format!("no order {order}")))?;
        if !matches!(o.status, OrderStatus::AwaitingPayment | OrderStatus::Failed) {
            return Err(CoreError::Conflict("the order is already paid".into()));
        }
        o.status = OrderStatus::Paid;
        o.failure = None;
        o.payment_method = Some(method.to_owned());
        o.payment = Some(Payment {
            id: payment_id,
            amount_minor: o.total_minor,
            created_at: now,
            method: method.to_owned(),
        });
        o.updated_at = now;
        o.version += 1;
        self.next_payment += 1;
        Ok(vec![Change::OrderPaid { order }])
    }

    /// Records a payment attempt with `method` declined for `reason`.
    pub fn decline(
        &mut self,
        order: u64,
        method: &str,
        reason: &str,
        now: Time,
    ) -> Result<Vec<Change>, CoreError> {
        let o = self
            .order_mut(order)
            .ok_or_else(|| CoreError::NotFound(format!("no order {order}")))?;
        o.status = OrderStatus::Failed;
        o.payment_method = Some(method.to_owned());
        o.failure = Some(reason.to_owned());
        o.updated_at = now;
        o.version += 1;
        Ok(vec![Change::PaymentFailed { order }])
    }
}
