//! Square: Bearer auth, OAuth code flow and PKCE, catalog and inventory pagination,
//! idempotent batch inventory changes applied by `occurred_at`, order search, signed
//! webhooks, rate limiting.

use std::collections::HashSet;

use concord_connectors::Platform;
use concord_simulators::{RateLimit, RunningSim, Simulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, config, control, read, sink, stats, stock, verify};

async fn call(
    sim: &RunningSim,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", sim.api_base());
    let mut request = match method {
        "GET" => client().get(url),
        _ => client().post(url),
    };
    request = request
        .bearer_auth(token)
        .header("Square-Version", "2025-08-20");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, _, json) = read(request.send().await.expect("square call")).await;
    (status, json)
}

async fn ids(sim: &RunningSim) -> (String, String) {
    let token = sim.access_token();
    let (_, locations) = call(sim, token, "GET", "/locations", None).await;
    let location = locations["locations"][0]["id"]
        .as_str()
        .expect("location")
        .to_owned();
    let (_, catalog) = call(
        sim,
        token,
        "GET",
        "/catalog/list?types=ITEM_VARIATION",
        None,
    )
    .await;
    let variation = catalog["objects"][0]["id"]
        .as_str()
        .expect("variation")
        .to_owned();
    (location, variation)
}

#[tokio::test]
async fn calls_need_a_bearer_token() {
    let sim = Simulator::start(config(Platform::Square, 2)).expect("start");
    let (status, body) = call(&sim, "", "GET", "/locations", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["category"], "AUTHENTICATION_ERROR");
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    let (status, body) = call(&sim, sim.access_token(), "GET", "/locations", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["locations"].as_array().map(Vec::len), Some(2));
    let response = client()
        .get(format!("{}/locations", sim.api_base()))
        .bearer_auth(sim.access_token())
        .header("Square-Version", "yesterday")
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    sim.stop().await;
}

async fn authorize(sim: &RunningSim, extra: &[(&str, &str)]) -> String {
    let cfg = sim.config();
    let mut query = vec![
        ("client_id", cfg.client_id.as_str()),
        ("scope", "ITEMS_READ INVENTORY_WRITE ORDERS_READ"),
        ("session", "false"),
        ("state", "st-9"),
        ("redirect_uri", "https://concord.example/oauth/square"),
    ];
    query.extend_from_slice(extra);
    let response = client()
        .get(format!("{}/oauth2/authorize", sim.base_url()))
        .query(&query)
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let url = reqwest::Url::parse(&location).expect("url");
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(params.contains(&("state".into(), "st-9".into())));
    params
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .expect("code")
}

async fn token(sim: &RunningSim, body: Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/oauth2/token", sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("token");
    let (status, _, json) = read(response).await;
    (status, json)
}

#[tokio::test]
async fn oauth_code_flow_and_pkce() {
    let sim = Simulator::start(config(Platform::Square, 1)).expect("start");
    let cfg = sim.config().clone();
    let code = authorize(&sim, &[]).await;
    let exchange = json!({
        "client_id": cfg.client_id, "client_secret": cfg.client_secret,
        "code": code, "grant_type": "authorization_code"
    });
    let (status, issued) = token(&sim, exchange.clone()).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert!(issued["expires_at"].as_str().is_some());
    assert!(issued["merchant_id"].as_str().is_some());
    let access = issued["access_token"].as_str().expect("access").to_owned();
    let refresh = issued["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(
        call(&sim, &access, "GET", "/locations", None).await.0,
        StatusCode::OK
    );
    // Codes are single use.
    assert_eq!(token(&sim, exchange).await.0, StatusCode::UNAUTHORIZED);
    // The code flow's refresh token comes back unchanged and keeps working.
    for _ in 0..2 {
        let (status, again) = token(
            &sim,
            json!({
                "client_id": cfg.client_id, "client_secret": cfg.client_secret,
                "grant_type": "refresh_token", "refresh_token": refresh
            }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["refresh_token"], refresh.as_str());
    }

    // PKCE: no secret, single-use refresh tokens.
    let verifier = "a-long-random-verifier-with-enough-entropy-0123456789";
    let challenge = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        <sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()),
    );
    let code = authorize(
        &sim,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (status, issued) = token(
        &sim,
        json!({
            "client_id": cfg.client_id, "code": code, "grant_type": "authorization_code",
            "code_verifier": verifier
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let first = issued["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let refresh = |t: &str| json!({"client_id": cfg.client_id, "grant_type": "refresh_token", "refresh_token": t});
    let (status, next) = token(&sim, refresh(&first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(next["refresh_token"], first.as_str());
    assert_eq!(
        token(&sim, refresh(&first)).await.0,
        StatusCode::UNAUTHORIZED
    );
    sim.stop().await;
}

#[tokio::test]
async fn catalog_and_counts_paginate() {
    let sim = Simulator::start(config(Platform::Square, 250)).expect("start");
    let token = sim.access_token().to_owned();
    let mut skus = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/catalog/list?types=ITEM_VARIATION&cursor={c}"),
            None => "/catalog/list?types=ITEM_VARIATION".into(),
        };
        let (status, body) = call(&sim, &token, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        for object in body["objects"].as_array().expect("objects") {
            assert_eq!(object["type"], "ITEM_VARIATION");
            assert_eq!(
                object["item_variation_data"]["price_money"],
                json!({"amount": 1999, "currency": "USD"})
            );
            assert!(
                skus.insert(
                    object["item_variation_data"]["sku"]
                        .as_str()
                        .expect("sku")
                        .to_owned()
                )
            );
        }
        match body["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!((skus.len(), pages), (250, 3));

    // Counts: 250 variations × 2 locations, 200 a page.
    let mut counts = 0;
    let mut cursor = Value::Null;
    loop {
        let (status, body) = call(
            &sim,
            &token,
            "POST",
            "/inventory/counts/batch-retrieve",
            Some(json!({"limit": 200, "cursor": cursor})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        counts += body["counts"].as_array().map_or(0, Vec::len);
        if body["cursor"].is_null() {
            break;
        }
        cursor = body["cursor"].clone();
    }
    assert_eq!(counts, 500);

    // Search by SKU with the item alongside.
    let (_, found) = call(
        &sim,
        &token,
        "POST",
        "/catalog/search",
        Some(json!({
            "object_types": ["ITEM_VARIATION"], "include_related_objects": true,
            "query": {"exact_query": {"attribute_name": "sku", "attribute_value": "DVD-0042"}}
        })),
    )
    .await;
    assert_eq!(found["objects"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        found["related_objects"][0]["item_data"]["name"],
        "Film number 42"
    );
    sim.stop().await;
}

#[tokio::test]
async fn batch_changes_are_idempotent_limited_and_ordered_by_occurred_at() {
    let sim = Simulator::start(config(Platform::Square, 1)).expect("start");
    let token = sim.access_token().to_owned();
    let (location, variation) = ids(&sim).await;
    let count = |quantity: &str, occurred_at: &str| {
        json!({"type": "PHYSICAL_COUNT", "physical_count": {
            "catalog_object_id": variation, "location_id": location, "state": "IN_STOCK",
            "quantity": quantity, "occurred_at": occurred_at
        }})
    };
    let now = chrono::Utc::now();
    let stamp = |offset: i64| (now + chrono::Duration::seconds(offset)).to_rfc3339();

    let (status, body) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(json!({"changes": [count("8", &stamp(0))]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "MISSING_REQUIRED_PARAMETER");
    assert_eq!(body["errors"][0]["field"], "idempotency_key");

    let request = json!({"idempotency_key": "k-1", "changes": [count("8", &stamp(-10))]});
    let (status, first) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["counts"][0]["quantity"], "8");
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 8);
    // A sale after that count.
    control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0001", "quantity": 2}),
    )
    .await;
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 6);
    // Replaying the request changes nothing and answers the same.
    let (status, replay) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(request),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay, first);
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 6);
    // The same key with other data is refused.
    let (status, body) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(json!({"idempotency_key": "k-1", "changes": [count("1", &stamp(0))]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "IDEMPOTENCY_KEY_REUSED");
    // A count taken before the sale sets the base; the later sale still applies.
    let (_, body) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(json!({"idempotency_key": "k-2", "changes": [count("10", &stamp(-5))]})),
    )
    .await;
    assert_eq!(body["counts"][0]["quantity"], "8", "{body}");
    // A count older than the last count is superseded.
    let (_, body) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(json!({"idempotency_key": "k-2b", "changes": [count("40", &stamp(-7))]})),
    )
    .await;
    assert_eq!(body["counts"][0]["quantity"], "8", "{body}");
    // An adjustment moves units out of stock.
    let (_, body) = call(&sim, &token, "POST", "/inventory/changes/batch-create", Some(json!({"idempotency_key": "k-3", "changes": [{
        "type": "ADJUSTMENT", "adjustment": {"catalog_object_id": variation, "location_id": location,
        "from_state": "IN_STOCK", "to_state": "WASTE", "quantity": "3", "occurred_at": stamp(1)}
    }]}))).await;
    assert_eq!(body["counts"][0]["quantity"], "5");
    // At most 100 changes.
    let many: Vec<Value> = (0..101).map(|_| count("1", &stamp(2))).collect();
    let (status, body) = call(
        &sim,
        &token,
        "POST",
        "/inventory/changes/batch-create",
        Some(json!({"idempotency_key": "k-4", "changes": many})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "ARRAY_LENGTH_TOO_LONG");
    // An unknown variation refuses the whole batch.
    let (status, _) = call(&sim, &token, "POST", "/inventory/changes/batch-create", Some(json!({"idempotency_key": "k-5", "changes": [
        count("7", &stamp(3)),
        {"type": "PHYSICAL_COUNT", "physical_count": {"catalog_object_id": "VNOPE", "location_id": location, "state": "IN_STOCK", "quantity": "1", "occurred_at": stamp(3)}}
    ]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 5);
    sim.stop().await;
}

#[tokio::test]
async fn a_sale_sends_signed_webhooks_in_squares_envelope() {
    let receiver = sink();
    let mut cfg = config(Platform::Square, 1);
    cfg.webhook_url = Some(receiver.url());
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");
    let (status, sale) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0001", "quantity": 1, "location": "Warehouse"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the warehouse has none: {sale}"
    );
    let (status, sale) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0001", "quantity": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sale["quantity_after"], 4);

    let parse = |r: &concord_simulators::sink::Received| r.json().expect("json");
    let all = receiver
        .wait_for(5, std::time::Duration::from_secs(10), |_| true)
        .await;
    let types: Vec<String> = all
        .iter()
        .map(|r| parse(r)["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    for wanted in [
        "order.created",
        "payment.created",
        "payment.updated",
        "order.updated",
        "inventory.count.updated",
    ] {
        assert!(
            types.iter().any(|t| t == wanted),
            "{wanted} missing from {types:?}"
        );
    }
    for delivery in &all {
        verify(Platform::Square, delivery, &secret, &receiver.url());
        assert!(delivery.header("x-square-hmacsha256-signature").is_some());
    }
    let created = all
        .iter()
        .map(parse)
        .find(|b| b["type"] == "order.created")
        .expect("order.created");
    assert_eq!(
        created["data"]["object"]["order_created"]["order_id"],
        sale["order_id"]
    );
    assert!(created["event_id"].is_string());
    let count = all
        .iter()
        .map(parse)
        .find(|b| b["type"] == "inventory.count.updated")
        .expect("count");
    assert_eq!(
        count["data"]["object"]["inventory_counts"][0]["quantity"],
        "4"
    );
    let payment = all
        .iter()
        .map(parse)
        .find(|b| b["type"] == "payment.updated")
        .expect("payment");
    assert_eq!(
        payment["data"]["object"]["payment"]["amount_money"],
        json!({"amount": 1999, "currency": "USD"})
    );

    // The order is there to fetch, and a refund sends refund.created.
    let order_id = sale["order_id"].as_str().expect("order id");
    let (status, order) = call(
        &sim,
        sim.access_token(),
        "GET",
        &format!("/orders/{order_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["order"]["line_items"][0]["quantity"], "1");
    let (status, _) = control(
        sim.base_url(),
        "/_sim/refund",
        &json!({"order_id": order_id, "restock": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let refunds = receiver
        .wait_for(1, std::time::Duration::from_secs(5), |r| {
            r.json().is_some_and(|b| b["type"] == "refund.created")
        })
        .await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 5);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn orders_search_by_updated_at_with_a_cursor() {
    let sim = Simulator::start(config(Platform::Square, 3)).expect("start");
    let start = (chrono::Utc::now() - chrono::Duration::seconds(2)).to_rfc3339();
    for sku in ["DVD-0001", "DVD-0002", "DVD-0003"] {
        control(sim.base_url(), "/_sim/sale", &json!({"sku": sku})).await;
    }
    let (location, _) = ids(&sim).await;
    let query = |cursor: Value| {
        json!({
            "location_ids": [location], "limit": 2, "cursor": cursor,
            "query": {"filter": {"date_time_filter": {"updated_at": {"start_at": start}}},
                      "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}
        })
    };
    let (status, first) = call(
        &sim,
        sim.access_token(),
        "POST",
        "/orders/search",
        Some(query(Value::Null)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["orders"].as_array().map(Vec::len), Some(2));
    let (_, second) = call(
        &sim,
        sim.access_token(),
        "POST",
        "/orders/search",
        Some(query(first["cursor"].clone())),
    )
    .await;
    assert_eq!(second["orders"].as_array().map(Vec::len), Some(1));
    assert!(second["cursor"].is_null());
    // The sort field must match the date filter.
    let (status, body) = call(
        &sim,
        sim.access_token(),
        "POST",
        "/orders/search",
        Some(json!({
            "location_ids": [location],
            "query": {"filter": {"date_time_filter": {"updated_at": {"start_at": start}}}}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    sim.stop().await;
}

#[tokio::test]
async fn rate_limit_answers_rate_limited() {
    let mut cfg = config(Platform::Square, 1);
    cfg.rate_limit = Some(RateLimit {
        capacity: 3.0,
        per_second: 0.5,
    });
    let sim = Simulator::start(cfg).expect("start");
    for _ in 0..3 {
        assert_eq!(
            call(&sim, sim.access_token(), "GET", "/locations", None)
                .await
                .0,
            StatusCode::OK
        );
    }
    let (status, body) = call(&sim, sim.access_token(), "GET", "/locations", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["errors"][0]["code"], "RATE_LIMITED");
    assert_eq!(body["errors"][0]["category"], "RATE_LIMIT_ERROR");
    assert_eq!(stats(sim.base_url()).await["throttled"], 1);
    sim.stop().await;
}
