//! Faults on every simulator: rate-limit storms, injected server errors and latency switch
//! on and off at run time, each answered in the platform's own shape; lost webhooks are
//! never sent.

use std::time::{Duration, Instant};

use concord_connectors::Platform;
use concord_simulators::{RunningSim, Simulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, config, control, read, sink, stats};

/// One cheap authenticated call, as the platform's connector would make it.
async fn probe(sim: &RunningSim) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let base = sim.api_base();
    let token = sim.access_token();
    let cfg = sim.config();
    let request = match sim.platform() {
        Platform::Shopify => client()
            .post(format!("{base}/graphql.json"))
            .header("X-Shopify-Access-Token", token)
            .json(&json!({"query": "{ shop { name } }"})),
        Platform::Square => client().get(format!("{base}/locations")).bearer_auth(token),
        Platform::WooCommerce => client()
            .get(format!("{base}/products"))
            .basic_auth(&cfg.client_id, Some(&cfg.client_secret)),
        Platform::LightspeedR => client().get(format!("{base}/Shop.json")).bearer_auth(token),
        _ => client().get(format!("{base}/events")).bearer_auth(token),
    };
    read(request.send().await.expect("probe")).await
}

/// Where each platform puts its error code in a body.
fn shaped(platform: Platform, body: &Value) -> bool {
    match platform {
        Platform::Shopify => !body["errors"].is_null(),
        Platform::Square => body["errors"][0]["category"].is_string(),
        Platform::WooCommerce => body["code"].is_string() && body["data"]["status"].is_number(),
        Platform::LightspeedR => body["httpCode"].is_string(),
        _ => body["error"]["type"].is_string(),
    }
}

#[tokio::test]
async fn storms_errors_and_latency_switch_at_run_time_on_every_platform() {
    for platform in concord_simulators::SIMULATED {
        let sim = Simulator::start(config(platform, 1)).expect("start");
        let base = sim.base_url().to_owned();
        let (status, _, body) = probe(&sim).await;
        assert!(status.is_success(), "{platform}: {status} {body}");

        control(&base, "/_sim/faults", &json!({"storm_429": true})).await;
        let (status, headers, body) = probe(&sim).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{platform}");
        assert!(headers.contains_key("retry-after"), "{platform}");
        assert!(shaped(platform, &body), "{platform}: {body}");

        control(
            &base,
            "/_sim/faults",
            &json!({"reset": true, "error_rate": 1.0}),
        )
        .await;
        let (status, _, body) = probe(&sim).await;
        assert!(status.is_server_error(), "{platform}: {status}");
        assert!(shaped(platform, &body), "{platform}: {body}");

        control(
            &base,
            "/_sim/faults",
            &json!({"reset": true, "latency_ms": 150}),
        )
        .await;
        let started = Instant::now();
        let (status, _, _) = probe(&sim).await;
        assert!(status.is_success(), "{platform}");
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{platform}"
        );

        control(&base, "/_sim/faults", &json!({"reset": true})).await;
        let stats = stats(&base).await;
        assert_eq!(stats["api_calls"], 4, "{platform}: {stats}");
        assert_eq!(stats["throttled"], 1, "{platform}");
        assert_eq!(stats["errors_injected"], 1, "{platform}");
        sim.stop().await;
    }
}

#[tokio::test]
async fn dropped_webhooks_are_never_sent() {
    let receiver = sink();
    let mut cfg = config(Platform::Square, 1);
    cfg.webhook_url = Some(receiver.url());
    let sim = Simulator::start(cfg).expect("start");
    control(
        sim.base_url(),
        "/_sim/faults",
        &json!({"drop_webhooks": true}),
    )
    .await;
    control(
        sim.base_url(),
        "/_sim/adjust",
        &json!({"sku": "DVD-0001", "quantity": 9}),
    )
    .await;
    control(
        sim.base_url(),
        "/_sim/faults",
        &json!({"drop_webhooks": false}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty());
    assert_eq!(stats(sim.base_url()).await["webhooks_dropped"], 1);
    control(
        sim.base_url(),
        "/_sim/adjust",
        &json!({"sku": "DVD-0001", "quantity": 8}),
    )
    .await;
    let delivered = receiver.wait_for(1, Duration::from_secs(5), |_| true).await;
    assert_eq!(delivered.len(), 1);
    sim.stop().await;
    receiver.stop().await;
}
