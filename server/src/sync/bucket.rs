//! Per-connection token buckets: every worker draws from the same bucket before calling a
//! platform, so together they stay under its rate limit. In Redis (a Lua script, so the
//! check and the take are one step, timed by Redis's clock) when configured; in this
//! process otherwise. A platform's `Retry-After` pauses the bucket for everyone.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use concord_connectors::api::Limits;
use redis::{Script, aio::ConnectionManager};

/// Takes a token from `KEYS[1]` unless `KEYS[2]` (a pause) is set; returns 0 when taken,
/// otherwise the milliseconds to wait. ARGV: burst, tokens per second.
const TAKE: &str = r"
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
";

/// Reads `KEYS[1]` without taking: the tokens available now, in thousandths (0 while
/// `KEYS[2]` pauses it). ARGV: burst, tokens per second.
const PEEK: &str = r"
if redis.call('PTTL', KEYS[2]) > 0 then return 0 end
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
return math.floor(math.min(burst, tokens + math.max(0, now - at) * rate / 1000) * 1000)
";

/// The shared request budget of every connection.
#[derive(Clone)]
pub enum RateGate {
    /// Shared by every worker through Redis, keys under the prefix.
    Redis {
        /// The connection.
        conn: ConnectionManager,
        /// Key prefix.
        prefix: String,
    },
    /// This process only.
    Memory(Arc<Mutex<HashMap<String, Bucket>>>),
}

/// One bucket in memory.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
    paused_until: Option<Instant>,
}

impl RateGate {
    /// A gate in Redis under `prefix`.
    pub fn redis(conn: ConnectionManager, prefix: &str) -> Self {
        Self::Redis {
            conn,
            prefix: format!("{prefix}:bucket"),
        }
    }

    /// A gate in this process.
    pub fn in_memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// Takes one request from `key`'s bucket, or says how long to wait (nothing taken).
    /// When Redis is unreachable the caller waits a second rather than risk an overrun.
    pub async fn take(&self, key: &str, limits: Limits) -> Result<(), Duration> {
        match self {
            Self::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let wait: Result<u64, _> = Script::new(TAKE)
                    .key(format!("{prefix}:{key}"))
                    .key(format!("{prefix}:{key}:pause"))
                    .arg(limits.burst)
                    .arg(limits.per_second)
                    .invoke_async(&mut conn)
                    .await;
                match wait {
                    Ok(0) => Ok(()),
                    Ok(ms) => Err(Duration::from_millis(ms)),
                    Err(e) => {
                        tracing::warn!(error = %e, "rate bucket unreachable; holding writes");
                        Err(Duration::from_secs(1))
                    }
                }
            }
            Self::Memory(buckets) => {
                let now = Instant::now();
                let mut buckets = buckets.lock().unwrap_or_else(|p| p.into_inner());
                let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
                    tokens: limits.burst,
                    at: now,
                    paused_until: None,
                });
                if let Some(until) = bucket.paused_until.filter(|u| *u > now) {
                    return Err(until - now);
                }
                let elapsed = now.duration_since(bucket.at).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * limits.per_second).min(limits.burst);
                bucket.at = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    Ok(())
                } else {
                    Err(Duration::from_secs_f64(
                        (1.0 - bucket.tokens) / limits.per_second.max(f64::MIN_POSITIVE),
                    ))
                }
            }
        }
    }

    /// The requests `key`'s bucket would allow right now, without taking any (0 while
    /// paused; `None` when Redis cannot be asked).
    pub async fn headroom(&self, key: &str, limits: Limits) -> Option<f64> {
        match self {
            Self::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let thousandths: u64 = Script::new(PEEK)
                    .key(format!("{prefix}:{key}"))
                    .key(format!("{prefix}:{key}:pause"))
                    .arg(limits.burst)
                    .arg(limits.per_second)
                    .invoke_async(&mut conn)
                    .await
                    .ok()?;
                Some(thousandths as f64 / 1000.0)
            }
            Self::Memory(buckets) => {
                let now = Instant::now();
                let buckets = buckets.lock().unwrap_or_else(|p| p.into_inner());
                let Some(bucket) = buckets.get(key) else {
                    return Some(limits.burst);
                };
                if bucket.paused_until.is_some_and(|u| u > now) {
                    return Some(0.0);
                }
                let elapsed = now.duration_since(bucket.at).as_secs_f64();
                Some((bucket.tokens + elapsed * limits.per_second).min(limits.burst))
            }
        }
    }

    /// Nobody calls `key`'s platform for `wait` (its `Retry-After`).
    pub async fn pause(&self, key: &str, wait: Duration) {
        let millis = wait.as_millis().clamp(1, u128::from(u32::MAX)) as u64;
        match self {
            Self::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let set: Result<(), _> = redis::cmd("SET")
                    .arg(format!("{prefix}:{key}:pause"))
                    .arg(1)
                    .arg("PX")
                    .arg(millis)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = set {
                    tracing::warn!(error = %e, "cannot record the platform's pause");
                }
            }
            Self::Memory(buckets) => {
                let mut buckets = buckets.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
                    tokens: 0.0,
                    at: now,
                    paused_until: None,
                });
                bucket.tokens = 0.0;
                bucket.at = now;
                bucket.paused_until = Some(now + Duration::from_millis(millis));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        batch: 10,
        burst: 3.0,
        per_second: 10.0,
    };

    #[tokio::test]
    async fn the_memory_bucket_allows_the_burst_then_paces_and_pauses() {
        let gate = RateGate::in_memory();
        for _ in 0..3 {
            assert_eq!(gate.take("c1", LIMITS).await, Ok(()));
        }
        let wait = gate.take("c1", LIMITS).await.expect_err("empty");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert_eq!(gate.take("c2", LIMITS).await, Ok(()), "buckets are per key");
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(gate.take("c1", LIMITS).await, Ok(()));
        gate.pause("c2", Duration::from_secs(30)).await;
        let paused = gate.take("c2", LIMITS).await.expect_err("paused");
        assert!(paused > Duration::from_secs(29), "{paused:?}");
    }
}
