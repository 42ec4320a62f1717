//! The leaky bucket every platform's rate limit is a variant of: Shopify's cost points
//! (1000, restoring 100/s), Lightspeed's request units (90, draining 1/s), and plain
//! requests per second for the rest.

use std::time::Instant;

use crate::config::RateLimit;

/// A bucket that fills with the cost of each call and drains at a fixed rate; a call that
/// would overflow it is refused.
#[derive(Debug, Clone)]
pub(crate) struct LeakyBucket {
    capacity: f64,
    per_second: f64,
    level: f64,
    last: Instant,
}

impl LeakyBucket {
    /// An empty bucket.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            capacity: limit.capacity.max(1.0),
            per_second: limit.per_second.max(0.001),
            level: 0.0,
            last: Instant::now(),
        }
    }

    fn drain(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.level = (self.level - elapsed * self.per_second).max(0.0);
        self.last = now;
    }

    /// Adds `cost`; `Err` holds the seconds until it would fit.
    pub fn try_take(&mut self, cost: f64) -> Result<(), f64> {
        self.drain();
        if self.level + cost <= self.capacity {
            self.level += cost;
            Ok(())
        } else {
            let excess = self.level + cost - self.capacity;
            Err(excess / self.per_second)
        }
    }

    /// Gives back `amount` (Shopify refunds the difference between the requested and the
    /// actual cost of a query).
    pub fn give_back(&mut self, amount: f64) {
        self.drain();
        self.level = (self.level - amount).max(0.0);
    }

    /// Units in the bucket now.
    pub fn level(&mut self) -> f64 {
        self.drain();
        self.level
    }

    /// Room left now.
    pub fn available(&mut self) -> f64 {
        self.capacity - self.level()
    }

    /// The bucket size.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// Units drained per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_refuses_and_says_how_long_to_wait() {
        let mut bucket = LeakyBucket::new(RateLimit {
            capacity: 10.0,
            per_second: 2.0,
        });
        for _ in 0..10 {
            bucket.try_take(1.0).expect("room");
        }
        let wait = bucket.try_take(4.0).expect_err("full");
        assert!(wait > 1.5 && wait <= 2.0, "{wait}");
        bucket.give_back(5.0);
        assert!(bucket.available() >= 5.0);
    }
}
