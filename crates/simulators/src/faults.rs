//! Faults a test switches on at run time, and the counters it reads back.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Misbehaviour applied to the platform API (not to the `/_sim` control API) and to
/// webhook deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Added to every API call before it is answered.
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of API calls (0 to 1) answered with a 5xx in the platform's error shape.
    #[serde(default)]
    pub error_rate: f64,
    /// Every API call is refused with 429 and `Retry-After`, as during a rate-limit storm.
    #[serde(default)]
    pub storm_429: bool,
    /// Webhooks are lost: the platform never sends the ones raised while this is on.
    #[serde(default)]
    pub drop_webhooks: bool,
}

/// A partial update of [`Faults`]: fields left out keep their value; `reset` clears all
/// first.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct FaultsPatch {
    #[serde(default)]
    pub reset: bool,
    pub latency_ms: Option<u64>,
    pub error_rate: Option<f64>,
    pub storm_429: Option<bool>,
    pub drop_webhooks: Option<bool>,
}

impl FaultsPatch {
    /// `current` with this patch applied; an error rate outside 0..=1 is refused.
    pub fn apply(self, current: Faults) -> Result<Faults, String> {
        let mut next = if self.reset {
            Faults::default()
        } else {
            current
        };
        if let Some(rate) = self.error_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("error_rate must be between 0 and 1, not {rate}"));
            }
            next.error_rate = rate;
        }
        if let Some(ms) = self.latency_ms {
            next.latency_ms = ms;
        }
        if let Some(on) = self.storm_429 {
            next.storm_429 = on;
        }
        if let Some(on) = self.drop_webhooks {
            next.drop_webhooks = on;
        }
        Ok(next)
    }
}

/// What a simulator has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Platform API calls received (the control API is not counted).
    pub api_calls: u64,
    /// API calls that wrote something.
    pub writes: u64,
    /// Items (stock levels, products) those writes changed or set.
    pub items_written: u64,
    /// Calls refused for rate limiting (HTTP 429, or Shopify's `THROTTLED`).
    pub throttled: u64,
    /// Calls answered with an injected 5xx.
    pub errors_injected: u64,
    /// Webhook deliveries the receiver accepted.
    pub webhooks_sent: u64,
    /// Webhook delivery attempts that failed (error status, timeout, refused connection).
    pub webhooks_failed: u64,
    /// Webhooks lost to `drop_webhooks` or to a disabled subscription.
    pub webhooks_dropped: u64,
    /// Webhooks still waiting for a first attempt or a retry.
    pub webhooks_pending: u64,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub api_calls: AtomicU64,
    pub writes: AtomicU64,
    pub items_written: AtomicU64,
    pub throttled: AtomicU64,
    pub errors_injected: AtomicU64,
    pub webhooks_sent: AtomicU64,
    pub webhooks_failed: AtomicU64,
    pub webhooks_dropped: AtomicU64,
    pub webhooks_pending: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one write call that touched `items` items.
    pub fn write(&self, items: usize) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.items_written
            .fetch_add(items as u64, Ordering::Relaxed);
    }

    /// A snapshot.
    pub fn snapshot(&self) -> Stats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            api_calls: read(&self.api_calls),
            writes: read(&self.writes),
            items_written: read(&self.items_written),
            throttled: read(&self.throttled),
            errors_injected: read(&self.errors_injected),
            webhooks_sent: read(&self.webhooks_sent),
            webhooks_failed: read(&self.webhooks_failed),
            webhooks_dropped: read(&self.webhooks_dropped),
            webhooks_pending: read(&self.webhooks_pending),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_keep_what_they_do_not_name() {
        let start = Faults {
            latency_ms: 5,
            ..Faults::default()
        };
        let patch: FaultsPatch = serde_json::from_str(r#"{"storm_429": true}"#).expect("json");
        let next = patch.apply(start).expect("valid");
        assert_eq!(next.latency_ms, 5);
        assert!(next.storm_429);
        let reset: FaultsPatch = serde_json::from_str(r#"{"reset": true}"#).expect("json");
        assert_eq!(reset.apply(next).expect("valid"), Faults::default());
        let bad: FaultsPatch = serde_json::from_str(r#"{"error_rate": 2}"#).expect("json");
        assert!(bad.apply(start).is_err());
    }
}
