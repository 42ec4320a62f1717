//! Webhook delivery with each platform's habits: an optional asynchronous delay, a timeout,
//! what counts as success, and the retry schedule (Shopify: 8 attempts with exponential
//! backoff; Square: backoff over a day; Stripe test mode: 3 retries; WooCommerce: none).
//! Every attempt is signed afresh with `concord_connectors::sign`, exactly as the platform
//! signs (Stripe's signature carries the attempt's timestamp).

use std::{sync::Arc, time::Duration};

use concord_connectors::Keys;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::{
    core::Time,
    faults::Counters,
    platform::{Body, Outgoing},
    server::Inner,
};

/// A webhook, the address it goes to (fixed when the event fired) and the key it is
/// signed with.
#[derive(Debug)]
pub(crate) struct Queued {
    pub out: Outgoing,
    pub url: String,
    /// `None`: the simulator's `webhook_secret`.
    pub secret: Option<String>,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Delivered,
    Failed,
    /// Never sent (`drop_webhooks`, or the subscription is disabled).
    Dropped,
}

/// One line of `GET /_sim/deliveries`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeliveryRecord {
    pub at: Time,
    pub topic: String,
    pub event_id: String,
    /// 1 for the first attempt.
    pub attempt: usize,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub outcome: Outcome,
}

impl DeliveryRecord {
    /// A webhook that was never sent.
    pub fn dropped(out: &Outgoing) -> Self {
        Self {
            at: chrono::Utc::now(),
            topic: out.topic.clone(),
            event_id: out.event_id.clone(),
            attempt: 0,
            status: None,
            error: None,
            outcome: Outcome::Dropped,
        }
    }
}

/// Takes webhooks off the queue and delivers each in its own task until the simulator
/// stops.
pub(crate) async fn run(inner: Arc<Inner>, mut queue: UnboundedReceiver<Queued>) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(2))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are off");
            return;
        }
    };
    while let Some(job) = queue.recv().await {
        actix_web::rt::spawn(deliver(inner.clone(), client.clone(), job));
    }
}

async fn deliver(inner: Arc<Inner>, client: reqwest::Client, job: Queued) {
    let Queued { out, url, secret } = job;
    let policy = inner.platform.delivery_policy();
    let first_delay = inner.scaled(policy.first_delay);
    if !first_delay.is_zero() {
        actix_web::rt::time::sleep(first_delay).await;
    }
    if let Some(key) = &out.dedup_key {
        inner.release_key(key);
    }
    let attempts = policy.retries.len() + 1;
    for attempt in 0..attempts {
        if !inner.platform.accepts(&out) {
            Counters::bump(&inner.stats.webhooks_dropped);
            inner.record_delivery(DeliveryRecord::dropped(&out));
            break;
        }
        let body = match &out.body {
            Body::Ready(bytes) => bytes.clone(),
            Body::AtDelivery(resource) => {
                let rendered = inner.platform.render_at_delivery(&inner.core(), *resource);
                match rendered {
                    Some(bytes) => bytes,
                    None => break,
                }
            }
        };
        let mut headers = out.headers.clone();
        headers.extend(inner.platform.attempt_headers(&out, attempt));
        let keys = Keys {
            secret: Some(secret.as_deref().unwrap_or(&inner.config.webhook_secret)),
            public_key_pem: None,
            client_id: Some(&inner.config.client_id),
        };
        let now = chrono::Utc::now().timestamp();
        match concord_connectors::sign(inner.config.platform, &body, &keys, Some(&url), now) {
            Ok(signature) => headers.extend(signature),
            Err(e) => tracing::warn!(
                platform = %inner.config.platform,
                error = %e,
                "cannot sign the delivery; sending it unsigned"
            ),
        }
        let mut request = client.post(&url).timeout(policy.timeout).body(body);
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let (status, error) = match request.send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let ok = status.is_some_and(|s| (200..=policy.success_up_to).contains(&s));
        inner.platform.delivery_outcome(&out, ok);
        inner.record_delivery(DeliveryRecord {
            at: chrono::Utc::now(),
            topic: out.topic.clone(),
            event_id: out.event_id.clone(),
            attempt: attempt + 1,
            status,
            error,
            outcome: if ok {
                Outcome::Delivered
            } else {
                Outcome::Failed
            },
        });
        if ok {
            Counters::bump(&inner.stats.webhooks_sent);
            break;
        }
        Counters::bump(&inner.stats.webhooks_failed);
        if let Some(wait) = policy.retries.get(attempt) {
            actix_web::rt::time::sleep(inner.scaled(*wait)).await;
        }
    }
    inner
        .stats
        .webhooks_pending
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// Exponential backoff: `first`, doubling, `count` waits.
pub(crate) fn doubling(first: Duration, count: usize) -> Vec<Duration> {
    (0..count)
        .map(|i| first.saturating_mul(1 << i.min(20)))
        .collect()
}

/// Doubling waits from `first` until the attempts span `window`; the last wait is cut to
/// end at the window.
pub(crate) fn doubling_within(first: Duration, window: Duration) -> Vec<Duration> {
    let mut waits = Vec::new();
    let mut spent = Duration::ZERO;
    let mut next = first;
    while spent < window {
        let wait = next.min(window - spent);
        waits.push(wait);
        spent += wait;
        next = next.saturating_mul(2);
    }
    waits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let shopify = doubling(Duration::from_secs(120), 7);
        assert_eq!(shopify.len(), 7);
        assert_eq!(
            shopify.iter().sum::<Duration>(),
            Duration::from_secs(120 * 127)
        );
        let square = doubling_within(Duration::from_secs(60), Duration::from_secs(86_400));
        assert_eq!(square.iter().sum::<Duration>(), Duration::from_secs(86_400));
        assert!(square.len() > 8);
    }
}
