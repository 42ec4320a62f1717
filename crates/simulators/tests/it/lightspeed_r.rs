//! Lightspeed R-Series: rotating OAuth tokens, cursor URLs in `@attributes`, string
//! numbers and single-child objects, stock through `PUT Item`, sales only by polling, and
//! the leaky bucket.

use std::{collections::HashSet, time::Duration};

use concord_connectors::Platform;
use concord_simulators::{RunningSim, Simulator};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::common::{client, config, control, read, sink, stock};

async fn get_url(url: &str, token: &str) -> (StatusCode, HeaderMap, Value) {
    read(
        client()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("get"),
    )
    .await
}

async fn get(sim: &RunningSim, path: &str) -> (StatusCode, HeaderMap, Value) {
    get_url(&format!("{}{path}", sim.api_base()), sim.access_token()).await
}

async fn put(sim: &RunningSim, path: &str, body: &Value) -> (StatusCode, HeaderMap, Value) {
    read(
        client()
            .put(format!("{}{path}", sim.api_base()))
            .bearer_auth(sim.access_token())
            .json(body)
            .send()
            .await
            .expect("put"),
    )
    .await
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

#[tokio::test]
async fn tokens_are_required_and_both_rotate_on_refresh() {
    let sim = Simulator::start(config(Platform::LightspeedR, 1)).expect("start");
    let (status, _, body) = get_url(&format!("{}/Item.json", sim.api_base()), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["httpCode"], "401");
    let cfg = sim.config().clone();
    let response = client()
        .get(format!("{}/auth/oauth/authorize", sim.base_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", cfg.client_id.as_str()),
            ("scope", "employee:inventory employee:register"),
            ("state", "s1"),
            ("redirect_uri", "https://concord.example/oauth/lightspeed"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = reqwest::Url::parse(response.headers()["location"].to_str().expect("location"))
        .expect("url");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let token = |form: Vec<(&'static str, String)>| {
        let url = format!("{}/auth/oauth/token", sim.base_url());
        async move { read(client().post(url).form(&form).send().await.expect("token")).await }
    };
    let (status, _, first) = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("client_id", cfg.client_id.clone()),
        ("client_secret", cfg.client_secret.clone()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["expires_in"], 3600);
    let refresh = |t: &str| {
        vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", t.to_owned()),
            ("client_id", cfg.client_id.clone()),
            ("client_secret", cfg.client_secret.clone()),
        ]
    };
    let first_refresh = first["refresh_token"].as_str().expect("refresh").to_owned();
    let (status, _, second) = token(refresh(&first_refresh)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let (status, _, body) = token(refresh(&first_refresh)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the used refresh token is dead"
    );
    assert_eq!(body["error"], "invalid_grant");
    let access = second["access_token"].as_str().expect("access");
    let (status, _, account) =
        get_url(&format!("{}/API/V3/Account.json", sim.base_url()), access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        account["Account"]["accountID"],
        sim.info()["platform_facts"]["account_id"]
    );
    sim.stop().await;
}

#[tokio::test]
async fn cursor_urls_walk_every_item_and_single_children_are_objects() {
    let sim = Simulator::start(config(Platform::LightspeedR, 250)).expect("start");
    let mut skus = HashSet::new();
    let (status, headers, mut page) = get(
        &sim,
        "/Item.json?limit=100&load_relations=%5B%22ItemShops%22%5D",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["x-ls-api-bucket-level"]
            .to_str()
            .expect("level")
            .ends_with("/90")
    );
    assert!(headers.contains_key("x-ls-api-drip-rate"));
    let mut pages = 1;
    loop {
        for item in as_list(&page["Item"]) {
            assert!(item["itemID"].is_string(), "numbers are strings");
            assert_eq!(item["Prices"]["ItemPrice"][0]["amount"], "19.99");
            let shops = as_list(&item["ItemShops"]["ItemShop"]);
            assert_eq!(shops.len(), 3, "two shops and the all-shops total");
            assert!(shops.iter().any(|s| s["shopID"] == "0" && s["qoh"] == "5"));
            assert!(skus.insert(item["customSku"].as_str().expect("sku").to_owned()));
        }
        let next = page["@attributes"]["next"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if next.is_empty() {
            break;
        }
        pages += 1;
        let (status, _, body) = get_url(&next, sim.access_token()).await;
        assert_eq!(status, StatusCode::OK);
        page = body;
    }
    assert_eq!((skus.len(), pages), (250, 3));
    let (_, _, one) = get(&sim, "/Item.json?customSku=DVD-0007").await;
    assert!(
        one["Item"].is_object(),
        "a single result is an object: {one}"
    );
    let (status, _, _) = get(&sim, "/Item.json?limit=101").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.stop().await;
}

#[tokio::test]
async fn put_item_sets_stock_and_changes_are_pollable() {
    let sim = Simulator::start(config(Platform::LightspeedR, 2)).expect("start");
    let before = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, headers, body) = put(
        &sim,
        "/Item/1.json",
        &json!({"ItemShops": {"ItemShop": [{"itemShopID": "1001", "qoh": "17"}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-ls-api-request-cost"], "10");
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 17);
    let shops = as_list(&body["Item"]["ItemShops"]["ItemShop"]);
    assert!(shops.iter().any(|s| s["shopID"] == "0" && s["qoh"] == "17"));
    // Only the changed levels show up when polling by timeStamp.
    let filter = format!(
        "/ItemShop.json?timeStamp=%3E%2C{}",
        urlencode(&before.to_rfc3339())
    );
    let (_, _, changed) = get(&sim, &filter).await;
    let changed = as_list(&changed["ItemShop"]);
    assert_eq!(changed.len(), 2, "shop 1 and the total: {changed:?}");
    let (status, _, body) = put(
        &sim,
        "/Item/1.json",
        &json!({"ItemShops": {"ItemShop": {"shopID": "0", "qoh": "1"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = put(&sim, "/Item/999.json", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sim.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn sales_and_returns_are_polled_not_pushed() {
    let receiver = sink();
    let mut cfg = config(Platform::LightspeedR, 2);
    cfg.webhook_url = Some(receiver.url());
    let sim = Simulator::start(cfg).expect("start");
    let since = urlencode(&(chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339());
    let (status, sale) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0002", "quantity": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sale["quantity_after"], 3);
    let path = format!(
        "/Sale.json?timeStamp=%3E%2C{since}&sort=timeStamp&load_relations=%5B%22SaleLines%22%5D"
    );
    let (_, _, body) = get(&sim, &path).await;
    let found = &body["Sale"];
    assert!(found.is_object(), "one sale is an object: {body}");
    assert_eq!(found["saleID"], sale["order_id"]);
    assert_eq!(found["calcTotal"], "39.98");
    assert_eq!(found["completed"], "true");
    assert_eq!(
        found["SaleLines"]["SaleLine"]["unitQuantity"], "2",
        "one line is an object"
    );
    assert_eq!(found["SaleLines"]["SaleLine"]["itemID"], "2");

    let (status, _) = control(
        sim.base_url(),
        "/_sim/refund",
        &json!({"order_id": sale["order_id"], "quantity": 1, "restock": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, body) = get(&sim, &path).await;
    let sales = as_list(&body["Sale"]);
    assert_eq!(sales.len(), 2);
    assert_eq!(
        sales[1]["SaleLines"]["SaleLine"]["unitQuantity"], "-1",
        "a return is a sale with negative quantities"
    );
    assert_eq!(sales[1]["calcTotal"], "-19.99");
    assert_eq!(stock(sim.base_url(), "DVD-0002").await, 4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        receiver.received().is_empty(),
        "Lightspeed R sends no webhooks"
    );
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn the_leaky_bucket_refuses_with_retry_after() {
    let sim = Simulator::start(config(Platform::LightspeedR, 1)).expect("start");
    let body = json!({"ItemShops": {"ItemShop": [{"itemShopID": "1001", "qoh": "3"}]}});
    for _ in 0..9 {
        let (status, _, _) = put(&sim, "/Item/1.json", &body).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, body) = put(&sim, "/Item/1.json", &body).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: f64 = headers["retry-after"]
        .to_str()
        .expect("retry")
        .parse()
        .expect("seconds");
    assert!(retry >= 1.0);
    assert!(headers.contains_key("x-ls-api-bucket-level"));
    assert_eq!(body["httpCode"], "429");
    sim.stop().await;
}
