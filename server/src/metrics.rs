//! Prometheus metrics, served at `/metrics`: request counts and latencies by route pattern
//! (never by raw path, which would explode cardinality with ids).

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use tracing_actix_web::RequestId;

use crate::state::AppState;

/// The process's metrics registry and instruments.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    deliveries: IntCounterVec,
    pushes: IntCounterVec,
}

impl Metrics {
    /// Registers Concord's instruments in a fresh registry.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("concord".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            &["method", "route"],
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook deliveries accepted, by platform and whether new or a redelivery",
            ),
            &["platform", "kind"],
        )?;
        let pushes = IntCounterVec::new(
            Opts::new(
                "stock_pushes_total",
                "Offers written to platforms, and writes the platforms throttled, by platform",
            ),
            &["platform", "result"],
        )?;
        registry.register(Box::new(pushes.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            pushes,
            deliveries,
            registry,
            requests,
            latency,
        })
    }

    /// Counts an accepted delivery: new, or a redelivery acknowledged without processing.
    pub fn count_delivery(&self, platform: &str, fresh: bool) {
        let kind = if fresh { "new" } else { "duplicate" };
        self.deliveries.with_label_values(&[platform, kind]).inc();
    }

    /// Counts offers written to a platform (`written`) or refused by its rate limit
    /// (`throttled`).
    pub fn count_push(&self, platform: &str, result: &str, offers: usize) {
        self.pushes
            .with_label_values(&[platform, result])
            .inc_by(offers as u64);
    }

    /// Everything in Prometheus text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for well-formed families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Middleware: counts and times each request and returns its id as `X-Request-Id`.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = metrics {
        let status = res.status().as_u16().to_string();
        metrics
            .requests
            .with_label_values(&[&method, &route, &status])
            .inc();
        metrics
            .latency
            .with_label_values(&[&method, &route])
            .observe(started.elapsed().as_secs_f64());
    }
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}
