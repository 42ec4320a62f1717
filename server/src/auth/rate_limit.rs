//! Sign-in rate limiting: failed attempts are counted per email and per client address in
//! a fixed window. Counters live in Redis when configured, so every server instance shares
//! them; otherwise in this process.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use redis::aio::ConnectionManager;

use crate::error::ApiError;

/// How many more failures a client address may have than one email: offices share addresses.
const PER_ADDRESS_FACTOR: u32 = 5;

/// Counts failed sign-ins and refuses attempts past the limit.
#[derive(Clone)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    counters: Counters,
}

#[derive(Clone)]
enum Counters {
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
    Memory(Arc<Mutex<HashMap<String, (u32, Instant)>>>),
}

impl LoginLimiter {
    /// A limiter sharing its counters through Redis under `prefix`.
    pub fn redis(
        conn: ConnectionManager,
        prefix: &str,
        max_failures: u32,
        window: Duration,
    ) -> Self {
        let counters = Counters::Redis {
            conn,
            prefix: format!("{prefix}:login"),
        };
        Self {
            max_failures,
            window,
            counters,
        }
    }

    /// A limiter counting in this process only.
    pub fn in_memory(max_failures: u32, window: Duration) -> Self {
        let counters = Counters::Memory(Arc::default());
        Self {
            max_failures,
            window,
            counters,
        }
    }

    /// Counts a sign-in attempt for `email` and `address` before the password is checked,
    /// and refuses with 429 once either is over its limit. Counting first means parallel
    /// guesses cannot all slip in before their failures are recorded; a successful sign-in
    /// then [`reset`](Self::reset)s the email's count.
    pub async fn attempt(&self, email: &str, address: &str) -> Result<(), ApiError> {
        for (key, limit) in self.keys(email, address) {
            let (count, retry_after) = self.increment(&key).await?;
            if count > limit {
                return Err(ApiError::rate_limited(retry_after.max(1)));
            }
        }
        Ok(())
    }

    /// Forgets the email's failures after a successful sign-in.
    pub async fn reset(&self, email: &str) -> Result<(), ApiError> {
        let key = format!("email:{email}");
        match &self.counters {
            Counters::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::cmd("DEL")
                    .arg(format!("{prefix}:{key}"))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(ApiError::internal)
            }
            Counters::Memory(map) => {
                lock(map).remove(&key);
                Ok(())
            }
        }
    }

    /// The counters an attempt touches, the address first: an address over its limit is
    /// refused without using up the email's allowance.
    fn keys(&self, email: &str, address: &str) -> [(String, u32); 2] {
        [
            (
                format!("addr:{address}"),
                self.max_failures.saturating_mul(PER_ADDRESS_FACTOR),
            ),
            (format!("email:{email}"), self.max_failures),
        ]
    }

    /// Adds one to `key`'s count; returns the count and the seconds until its window ends.
    async fn increment(&self, key: &str) -> Result<(u32, u64), ApiError> {
        match &self.counters {
            Counters::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let full = format!("{prefix}:{key}");
                let (count, ttl): (u32, i64) = redis::pipe()
                    .cmd("INCR")
                    .arg(&full)
                    .cmd("EXPIRE")
                    .arg(&full)
                    .arg(self.window.as_secs())
                    .arg("NX")
                    .ignore()
                    .cmd("TTL")
                    .arg(&full)
                    .query_async(&mut conn)
                    .await
                    .map_err(ApiError::internal)?;
                Ok((count, u64::try_from(ttl).unwrap_or(0)))
            }
            Counters::Memory(map) => {
                let now = Instant::now();
                let mut map = lock(map);
                map.retain(|_, (_, ends)| *ends > now);
                let entry = map.entry(key.to_owned()).or_insert((0, now + self.window));
                entry.0 += 1;
                Ok((entry.0, (entry.1 - now).as_secs()))
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn attempts_past_the_limit_are_refused_until_reset() {
        let limiter = LoginLimiter::in_memory(2, Duration::from_secs(60));
        limiter.attempt("a@x.io", "1.2.3.4").await.expect("first");
        limiter.attempt("a@x.io", "1.2.3.4").await.expect("second");
        let refused = limiter
            .attempt("a@x.io", "1.2.3.4")
            .await
            .expect_err("limited");
        assert_eq!(refused.code(), "rate_limited");
        limiter
            .attempt("b@x.io", "1.2.3.4")
            .await
            .expect("other email still allowed");
        limiter.reset("a@x.io").await.expect("reset");
        limiter
            .attempt("a@x.io", "1.2.3.4")
            .await
            .expect("allowed after reset");
    }

    #[tokio::test]
    async fn one_address_trying_many_emails_is_limited_too() {
        let limiter = LoginLimiter::in_memory(1, Duration::from_secs(60));
        for i in 0..PER_ADDRESS_FACTOR {
            limiter
                .attempt(&format!("u{i}@x.io"), "5.6.7.8")
                .await
                .expect("under the address limit");
        }
        assert!(limiter.attempt("fresh@x.io", "5.6.7.8").await.is_err());
        assert!(limiter.attempt("fresh@x.io", "9.9.9.9").await.is_ok());
    }
}
