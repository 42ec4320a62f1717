//! Stripe: secret-key auth, form-encoded PaymentIntents with test cards, idempotency keys,
//! refunds, the event list, signed and retried webhooks, and no stock.

use std::{collections::HashSet, time::Duration};

use concord_connectors::Platform;
use concord_simulators::{RunningSim, Simulator};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::common::{client, config, control, read, sink, verify};

async fn post(
    sim: &RunningSim,
    path: &str,
    form: &[(&str, &str)],
    key: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = client()
        .post(format!("{}{path}", sim.api_base()))
        .bearer_auth(sim.access_token())
        .form(form);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    read(request.send().await.expect("post")).await
}

async fn get(sim: &RunningSim, path: &str) -> (StatusCode, Value) {
    let response = client()
        .get(format!("{}{path}", sim.api_base()))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .expect("get");
    let (status, _, body) = read(response).await;
    (status, body)
}

#[tokio::test]
async fn a_secret_key_is_required() {
    let sim = Simulator::start(config(Platform::Stripe, 1)).expect("start");
    let url = format!("{}/payment_intents", sim.api_base());
    let (status, _, body) = read(client().get(&url).send().await.expect("call")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, _, body) = read(
        client()
            .get(&url)
            .bearer_auth("sk_test_wrong1234")
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"]["message"],
        "Invalid API Key provided: sk_test_****1234"
    );
    let (status, body) = get(&sim, "/payment_intents").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["object"], "list");
    sim.stop().await;
}

#[tokio::test]
async fn payment_intents_confirm_decline_and_replay_idempotently() {
    let receiver = sink();
    let mut cfg = config(Platform::Stripe, 1);
    cfg.webhook_url = Some(receiver.url());
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");
    let create = [
        ("amount", "2599"),
        ("currency", "usd"),
        ("metadata[order_id]", "web-77"),
        ("payment_method", "pm_card_visa"),
    ];
    let (status, headers, intent) = post(&sim, "/payment_intents", &create, Some("key-1")).await;
    assert_eq!(status, StatusCode::OK, "{intent}");
    assert!(headers.contains_key("request-id"));
    assert_eq!(intent["status"], "requires_confirmation");
    assert_eq!(intent["metadata"]["order_id"], "web-77");
    let (_, headers, again) = post(&sim, "/payment_intents", &create, Some("key-1")).await;
    assert_eq!(again, intent);
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, _, body) = post(
        &sim,
        "/payment_intents",
        &[("amount", "100"), ("currency", "usd")],
        Some("key-1"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "idempotency_error");

    let id = intent["id"].as_str().expect("id");
    let (status, _, paid) = post(&sim, &format!("/payment_intents/{id}/confirm"), &[], None).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["amount_received"], 2599);
    let succeeded = receiver
        .wait_for(1, Duration::from_secs(5), |r| {
            r.json()
                .is_some_and(|b| b["type"] == "payment_intent.succeeded")
        })
        .await;
    assert_eq!(succeeded.len(), 1);
    verify(Platform::Stripe, &succeeded[0], &secret, &receiver.url());
    assert!(
        succeeded[0]
            .header("stripe-signature")
            .is_some_and(|s| s.starts_with("t="))
    );
    assert_eq!(
        succeeded[0].json().expect("json")["data"]["object"]["id"],
        id
    );

    // A declining test card.
    let (_, _, declining) = post(
        &sim,
        "/payment_intents",
        &[
            ("amount", "900"),
            ("currency", "usd"),
            ("payment_method", "pm_card_chargeDeclined"),
            ("confirm", "true"),
        ],
        None,
    )
    .await;
    assert_eq!(declining["error"]["code"], "card_declined", "{declining}");
    assert_eq!(
        declining["error"]["payment_intent"]["status"],
        "requires_payment_method"
    );
    let failed = receiver
        .wait_for(1, Duration::from_secs(5), |r| {
            r.json()
                .is_some_and(|b| b["type"] == "payment_intent.payment_failed")
        })
        .await;
    assert_eq!(failed.len(), 1);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn refunds_are_limited_to_what_was_paid() {
    let receiver = sink();
    let mut cfg = config(Platform::Stripe, 2);
    cfg.webhook_url = Some(receiver.url());
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");
    let (status, sale) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0001", "quantity": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    assert!(sale["quantity_after"].is_null(), "Stripe keeps no stock");
    let pi = sale["order_id"].as_str().expect("pi");
    assert!(pi.starts_with("pi_"));
    let (_, intent) = get(&sim, &format!("/payment_intents/{pi}")).await;
    assert_eq!(intent["amount"], 3998);
    assert_eq!(intent["metadata"]["skus"], "DVD-0001x2");
    let (status, _, refund) = post(
        &sim,
        "/refunds",
        &[("payment_intent", pi), ("amount", "1000")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refund}");
    assert_eq!(refund["object"], "refund");
    assert_eq!(refund["status"], "succeeded");
    let (status, _, body) = post(
        &sim,
        "/refunds",
        &[("payment_intent", pi), ("amount", "5000")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "amount_too_large");
    let (status, _, _) = post(&sim, "/refunds", &[("payment_intent", pi)], None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = post(&sim, "/refunds", &[("payment_intent", pi)], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "charge_already_refunded");
    let refunded = receiver
        .wait_for(2, Duration::from_secs(5), |r| {
            r.json().is_some_and(|b| b["type"] == "charge.refunded")
        })
        .await;
    assert_eq!(refunded.len(), 2);
    verify(Platform::Stripe, &refunded[0], &secret, &receiver.url());
    assert_eq!(
        refunded[1].json().expect("json")["data"]["object"]["refunded"],
        true
    );

    // No stock here.
    let (status, body) = get(&sim, "/inventory_items").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Unrecognized request URL"))
    );
    let response = client()
        .get(format!("{}/_sim/stock?sku=DVD-0001", sim.base_url()))
        .send()
        .await
        .expect("stock");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn events_page_newest_first() {
    let sim = Simulator::start(config(Platform::Stripe, 1)).expect("start");
    let start = chrono::Utc::now().timestamp() - 1;
    for amount in [1000, 1100, 1200] {
        let (status, _) = control(
            sim.base_url(),
            "/_sim/sale",
            &json!({"amount": amount, "currency": "usd"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    // Each payment: payment_intent.created, payment_intent.succeeded, charge.succeeded.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(id) => format!("/events?limit=4&created[gte]={start}&starting_after={id}"),
            None => format!("/events?limit=4&created[gte]={start}"),
        };
        let (status, page) = get(&sim, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let data = page["data"].as_array().expect("data");
        seen.extend(
            data.iter()
                .map(|e| e["id"].as_str().unwrap_or_default().to_owned()),
        );
        if page["has_more"] != json!(true) {
            break;
        }
        after = data
            .last()
            .and_then(|e| e["id"].as_str())
            .map(str::to_owned);
    }
    assert_eq!(seen.len(), 9);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 9);
    let (_, newest) = get(&sim, "/events?limit=1").await;
    assert_eq!(newest["data"][0]["type"], "charge.succeeded");
    let (_, filtered) = get(&sim, "/events?type=payment_intent.succeeded&limit=10").await;
    assert_eq!(filtered["data"].as_array().map(Vec::len), Some(3));
    let (status, _) = get(&sim, "/events?limit=101").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_a_fresh_signature() {
    let receiver = sink();
    let mut cfg = config(Platform::Stripe, 1);
    cfg.webhook_url = Some(receiver.url());
    cfg.time_scale = 0.0005;
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");
    receiver.script(&[500]);
    let (status, _) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"amount": 500, "currency": "usd"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Three events were sent; the first answered 500 and came again after its backoff.
    let all = receiver
        .wait_for(4, Duration::from_secs(10), |_| true)
        .await;
    assert_eq!(
        all.len(),
        4,
        "{:?}",
        all.iter().map(|r| r.answered).collect::<Vec<_>>()
    );
    let failed = all
        .iter()
        .find(|r| r.answered == 500)
        .expect("the failed attempt");
    let retried: Vec<_> = all
        .iter()
        .filter(|r| r.json().map(|b| b["id"].clone()) == failed.json().map(|b| b["id"].clone()))
        .collect();
    assert_eq!(retried.len(), 2, "the same event came again");
    for delivery in &all {
        verify(Platform::Stripe, delivery, &secret, &receiver.url());
    }
    sim.stop().await;
    receiver.stop().await;
}
