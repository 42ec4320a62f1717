//! Live updates: stock, order and job events per tenant, streamed to browsers as
//! server-sent events. With Redis every event goes through one pub/sub channel that every
//! server instance subscribes to, so any instance can serve any browser; without Redis they
//! stay in this process.

use std::{convert::Infallible, sync::Arc, time::Duration};

use actix_web::{HttpResponse, web::Bytes};
use concord_storage::{Applied, AvailabilityChange};
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// Events buffered per subscriber before a slow one skips ahead.
const CAPACITY: usize = 1024;
/// How often an idle stream sends a comment so proxies keep it open.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// One live event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveEvent {
    /// The tenant it belongs to; only that tenant's streams see it.
    pub tenant_id: String,
    /// `stock`, `order`, …
    pub kind: String,
    /// The payload.
    pub data: Value,
}

/// Publishes live events and hands out subscriptions.
#[derive(Clone)]
pub struct LiveHub {
    local: broadcast::Sender<Arc<LiveEvent>>,
    redis: Option<(ConnectionManager, String)>,
}

impl LiveHub {
    /// A hub for this process only.
    pub fn local() -> Self {
        Self {
            local: broadcast::channel(CAPACITY).0,
            redis: None,
        }
    }

    /// A hub fanned out through Redis channel `{prefix}:live`. Subscribes before returning
    /// (so no event published afterwards is missed), then relays every event to this
    /// process's streams in the background, resubscribing if the connection drops.
    pub async fn redis(
        client: redis::Client,
        conn: ConnectionManager,
        prefix: &str,
    ) -> redis::RedisResult<Self> {
        let channel = format!("{prefix}:live");
        let hub = Self {
            local: broadcast::channel(CAPACITY).0,
            redis: Some((conn, channel.clone())),
        };
        let local = hub.local.clone();
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        tokio::spawn(async move {
            loop {
                if let Err(e) = relay(pubsub, &local).await {
                    tracing::warn!(error = %e, "live updates lost their Redis subscription; reconnecting");
                }
                pubsub = loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match subscribe(&client, &channel).await {
                        Ok(p) => break p,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot resubscribe to live updates yet")
                        }
                    }
                };
            }
        });
        Ok(hub)
    }

    /// Sends an event to every stream of its tenant, on every instance. Failures are logged:
    /// live updates are a convenience, never a reason to fail the change they report.
    pub async fn publish(&self, event: LiveEvent) {
        match &self.redis {
            Some((conn, channel)) => {
                let mut conn = conn.clone();
                let payload = serde_json::to_string(&event).unwrap_or_default();
                let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "cannot publish a live update");
                }
            }
            None => {
                // No subscriber is not an error.
                let _ = self.local.send(Arc::new(event));
            }
        }
    }

    /// Publishes the offers that changed.
    pub async fn stock_changed(&self, tenant_id: &str, changes: &[AvailabilityChange]) {
        if changes.is_empty() {
            return;
        }
        let data: Vec<Value> = changes
            .iter()
            .map(|c| json!({ "sku_id": c.sku_id, "connection_id": c.connection_id, "available": c.after }))
            .collect();
        self.publish(LiveEvent {
            tenant_id: tenant_id.to_owned(),
            kind: "stock".into(),
            data: json!(data),
        })
        .await;
    }

    /// Publishes a sync job's progress or end.
    pub async fn job(&self, tenant_id: &str, data: Value) {
        self.publish(LiveEvent {
            tenant_id: tenant_id.to_owned(),
            kind: "job".into(),
            data,
        })
        .await;
    }

    /// Publishes what applying events changed: offers and orders.
    pub async fn applied(&self, tenant_id: &str, applied: &[Applied]) {
        for a in applied {
            self.stock_changed(tenant_id, &a.availability).await;
            if let Some(order_id) = &a.order_id {
                let data = json!({ "order_id": order_id, "oversold": !a.oversells.is_empty() });
                self.publish(LiveEvent {
                    tenant_id: tenant_id.to_owned(),
                    kind: "order".into(),
                    data,
                })
                .await;
            }
        }
    }

    /// A server-sent-events response streaming `tenant_id`'s events from now on.
    pub fn stream(&self, tenant_id: String) -> HttpResponse {
        let rx = self.local.subscribe();
        let events = futures_util::stream::unfold((rx, tenant_id), |(mut rx, tenant)| async move {
            loop {
                let frame = match tokio::time::timeout(KEEPALIVE, rx.recv()).await {
                    Err(_) => ": keep-alive\n\n".to_owned(),
                    Ok(Ok(event)) if event.tenant_id == tenant => {
                        format!("event: {}\ndata: {}\n\n", event.kind, event.data)
                    }
                    Ok(Ok(_)) => continue,
                    Ok(Err(broadcast::error::RecvError::Lagged(skipped))) => {
                        format!("event: lagged\ndata: {{\"skipped\":{skipped}}}\n\n")
                    }
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                };
                return Some((Ok::<_, Infallible>(Bytes::from(frame)), (rx, tenant)));
            }
        });
        HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(("cache-control", "no-cache"))
            .streaming(events.boxed_local())
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Forwards messages until the subscription ends.
async fn relay(
    mut pubsub: redis::aio::PubSub,
    local: &broadcast::Sender<Arc<LiveEvent>>,
) -> redis::RedisResult<()> {
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let payload: String = message.get_payload()?;
        match serde_json::from_str::<LiveEvent>(&payload) {
            Ok(event) => {
                let _ = local.send(Arc::new(event));
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed live update"),
        }
    }
    Ok(())
}
