//! Traffic at a human pace, so the dashboard moves: customers buying in the stores and
//! online, refunds with and without restock, and staff editing stock on a platform — all
//! through the simulators' control API, as the platforms would see them.

use std::{collections::VecDeque, time::Duration};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::PACE;

/// Makes events on `simulators` (their base URLs) over the SKU `codes` until `stop`.
pub async fn run(simulators: Vec<String>, codes: Vec<String>, stop: CancellationToken) {
    let http = reqwest::Client::new();
    let mut dice = StdRng::from_os_rng();
    let mut recent: VecDeque<(String, String)> = VecDeque::new();
    while !simulators.is_empty() && !codes.is_empty() {
        let pause = PACE + Duration::from_millis(dice.random_range(0..2 * PACE.as_millis() as u64));
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        let sim = &simulators[dice.random_range(0..simulators.len())];
        let sku = &codes[dice.random_range(0..codes.len())];
        let roll = dice.random_range(0..100);
        let (path, body) = if roll < 75 || recent.is_empty() && roll < 90 {
            (
                "sale",
                json!({ "sku": sku, "quantity": 1 + dice.random_range(0..10) / 8 }),
            )
        } else if roll < 90 {
            let Some((at, order)) = recent.pop_front() else {
                continue;
            };
            let restock = dice.random_range(0..2) == 0;
            post(
                &http,
                &at,
                "refund",
                json!({ "order_id": order, "restock": restock }),
            )
            .await;
            continue;
        } else {
            let delta = if dice.random_range(0..3) == 0 {
                -1
            } else {
                2 + dice.random_range(0..4) as i64
            };
            ("adjust", json!({ "sku": sku, "delta": delta }))
        };
        let done = post(&http, sim, path, body).await;
        if let Some(order) = done.as_ref().and_then(|d| d["order_id"].as_str()) {
            recent.push_back((sim.clone(), order.to_owned()));
            if recent.len() > 20 {
                recent.pop_front();
            }
        }
    }
}

/// `POST {sim}/_sim/{path}`; a refusal (sold out, say) is only logged.
async fn post(http: &reqwest::Client, sim: &str, path: &str, body: Value) -> Option<Value> {
    let response = http
        .post(format!("{sim}/_sim/{path}"))
        .json(&body)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        tracing::debug!(sim, path, status = %response.status(), "demo event refused");
        return None;
    }
    response.json().await.ok()
}
