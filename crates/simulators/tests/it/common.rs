//! Shared helpers: a seeded configuration, an HTTP client, JSON calls and signature checks.

use std::time::Duration;

use concord_connectors::{Delivery, Keys, Platform};
use concord_simulators::{
    SeedProduct, SimConfig,
    sink::{Received, WebhookSink},
};
use reqwest::{Client, Response, StatusCode, header::HeaderMap};
use serde_json::Value;

/// `count` DVD titles with 5 units each.
pub fn catalog(count: usize) -> Vec<SeedProduct> {
    (1..=count)
        .map(|i| {
            SeedProduct::new(
                format!("DVD-{i:04}"),
                format!("50{i:011}"),
                format!("Film number {i}"),
                1999,
                "USD",
                5,
            )
        })
        .collect()
}

/// A configuration for `platform` with `products` titles, two locations and compressed
/// time (Shopify's 4-hour retry schedule takes about a second and a half).
pub fn config(platform: Platform, products: usize) -> SimConfig {
    let mut config = SimConfig::new(platform);
    config.seed = catalog(products);
    config.locations = vec!["Soho".into(), "Warehouse".into()];
    config.time_scale = 0.0001;
    config
}

/// An HTTP client that does not follow redirects.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// Status, headers and JSON body of a response.
pub async fn read(response: Response) -> (StatusCode, HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, json)
}

/// `POST {base}{path}` with a JSON body to the control API.
pub async fn control(base: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .expect("control call");
    let (status, _, json) = read(response).await;
    (status, json)
}

/// `GET {base}/_sim/stock?sku=…` → the quantity at the first location.
pub async fn stock(base: &str, sku: &str) -> i64 {
    let response = client()
        .get(format!("{base}/_sim/stock"))
        .query(&[("sku", sku)])
        .send()
        .await
        .expect("stock call");
    let (status, _, json) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["quantity"].as_i64().expect("quantity")
}

/// `GET {base}/_sim/stats`.
pub async fn stats(base: &str) -> Value {
    let response = client()
        .get(format!("{base}/_sim/stats"))
        .send()
        .await
        .expect("stats call");
    read(response).await.2
}

/// Checks a received delivery with `concord_connectors::verify`.
pub fn verify(platform: Platform, received: &Received, secret: &str, url: &str) {
    let delivery = Delivery {
        body: &received.body,
        headers: &received.headers,
        url: Some(url),
    };
    let keys = Keys {
        secret: Some(secret),
        ..Keys::default()
    };
    let now = chrono::Utc::now().timestamp();
    concord_connectors::verify(platform, &delivery, &keys, now)
        .unwrap_or_else(|e| panic!("{platform} delivery does not verify: {e}"));
}

/// Starts a webhook receiver.
pub fn sink() -> WebhookSink {
    WebhookSink::start().expect("sink")
}

/// Waits for `count` deliveries with topic header `header` = `topic`.
pub async fn deliveries(
    sink: &WebhookSink,
    header: &str,
    topic: &str,
    count: usize,
) -> Vec<Received> {
    sink.wait_for(count, Duration::from_secs(10), |r| {
        r.header(header) == Some(topic)
    })
    .await
}
