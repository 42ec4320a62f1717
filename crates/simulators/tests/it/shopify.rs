//! Shopify: Admin GraphQL, OAuth with rotating refresh tokens, cost-based throttling,
//! idempotent compare-and-set inventory writes, signed and retried webhooks.

use std::collections::HashSet;

use concord_connectors::Platform;
use concord_simulators::{RateLimit, RunningSim, Simulator};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, config, control, deliveries, read, sink, stats, stock, verify};

const VARIANTS: &str = r#"query ProductVariants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    nodes { id sku barcode title price inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const SET: &str = r#"mutation InventorySet($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"#;

async fn graphql(
    sim: &RunningSim,
    token: &str,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{}/graphql.json", sim.api_base()))
        .header("X-Shopify-Access-Token", token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("graphql call");
    let (status, _, body) = read(response).await;
    (status, body)
}

async fn first_ids(sim: &RunningSim) -> (String, String) {
    let (_, body) = graphql(
        sim,
        sim.access_token(),
        "query { locations(first: 5) { nodes { id name } } productVariants(first: 1) { nodes { sku inventoryItem { id } } } }",
        json!({}),
    )
    .await;
    let location = body["data"]["locations"]["nodes"][0]["id"]
        .as_str()
        .expect("location id")
        .to_owned();
    let item = body["data"]["productVariants"]["nodes"][0]["inventoryItem"]["id"]
        .as_str()
        .expect("item id")
        .to_owned();
    (location, item)
}

#[tokio::test]
async fn calls_without_a_valid_token_are_refused() {
    let sim = Simulator::start(config(Platform::Shopify, 3)).expect("start");
    let (status, body) = graphql(&sim, "", VARIANTS, json!({"first": 1})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["errors"]
            .as_str()
            .is_some_and(|e| e.contains("Invalid API key or access token"))
    );
    let (status, _) = graphql(&sim, "shpat_wrong", VARIANTS, json!({"first": 1})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = graphql(&sim, sim.access_token(), VARIANTS, json!({"first": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sim.stop().await;
}

#[tokio::test]
async fn oauth_code_token_and_rotating_refresh() {
    let sim = Simulator::start(config(Platform::Shopify, 1)).expect("start");
    let cfg = sim.config().clone();
    let response = client()
        .get(format!("{}/admin/oauth/authorize", sim.base_url()))
        .query(&[
            ("client_id", cfg.client_id.as_str()),
            ("scope", "read_products,write_inventory"),
            ("redirect_uri", "https://concord.example/oauth/shopify"),
            ("state", "nonce-1"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let url = reqwest::Url::parse(&location).expect("redirect url");
    assert!(location.starts_with("https://concord.example/oauth/shopify?"));
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .expect(name)
    };
    assert_eq!(get("state"), "nonce-1");
    assert_eq!(get("shop"), "concord-sim.myshopify.com");
    // The hmac covers the other parameters, sorted, with the client secret.
    let mut rest: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "hmac")
        .cloned()
        .collect();
    rest.sort();
    let message = rest
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let expected = hex::encode(concord_connectors::schemes::hmac_sha256(
        cfg.client_secret.as_bytes(),
        &[message.as_bytes()],
    ));
    assert_eq!(get("hmac"), expected);

    let base = sim.base_url().to_owned();
    let form = |extra: Value| {
        let mut form = json!({"client_id": cfg.client_id, "client_secret": cfg.client_secret});
        if let (Some(map), Value::Object(more)) = (form.as_object_mut(), extra) {
            map.extend(more);
        }
        form
    };
    let (status, issued) = token(&base, form(json!({"code": get("code")}))).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued["expires_in"], 3600);
    let access = issued["access_token"].as_str().expect("access").to_owned();
    let first_refresh = issued["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let (status, _) = graphql(&sim, &access, "{ shop { name } }", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // The code is single use.
    let (status, _) = token(&base, form(json!({"code": get("code")}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let refresh = |refresh_token: &str| {
        form(json!({"grant_type": "refresh_token", "refresh_token": refresh_token}))
    };
    let (status, second) = token(&base, refresh(&first_refresh)).await;
    assert_eq!(status, StatusCode::OK);
    let second_refresh = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(second_refresh, first_refresh);
    // The old refresh token stays valid until the new one is used...
    let (status, third) = token(&base, refresh(&first_refresh)).await;
    assert_eq!(status, StatusCode::OK);
    let third_refresh = third["refresh_token"].as_str().expect("refresh").to_owned();
    let (status, _) = token(&base, refresh(&third_refresh)).await;
    assert_eq!(status, StatusCode::OK);
    // ...and is rejected after that.
    let (status, _) = token(&base, refresh(&first_refresh)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Expired access tokens are refused.
    let (status, _) = control(sim.base_url(), "/_sim/expire_tokens", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = graphql(&sim, &access, "{ shop { name } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    sim.stop().await;
}

async fn token(base: &str, form: Value) -> (StatusCode, Value) {
    let response = client()
        .post(format!("{base}/admin/oauth/access_token"))
        .json(&form)
        .send()
        .await
        .expect("token call");
    let (status, _, body) = read(response).await;
    (status, body)
}

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn pagination_walks_every_variant_and_reports_cost() {
    let sim = Simulator::start(config(Platform::Shopify, 260)).expect("start");
    let mut seen = HashSet::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let (status, body) = graphql(
            &sim,
            sim.access_token(),
            VARIANTS,
            json!({"first": 100, "after": after}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        let cost = &body["extensions"]["cost"];
        assert_eq!(cost["requestedQueryCost"], 202, "{cost}");
        assert!(cost["throttleStatus"]["maximumAvailable"].as_f64() == Some(1000.0));
        let connection = &body["data"]["productVariants"];
        for node in connection["nodes"].as_array().expect("nodes") {
            assert!(
                node["id"]
                    .as_str()
                    .expect("id")
                    .starts_with("gid://shopify/ProductVariant/")
            );
            assert_eq!(node["price"], "19.99");
            assert!(
                node.get("displayName").is_none(),
                "only selected fields come back"
            );
            assert!(seen.insert(node["sku"].as_str().expect("sku").to_owned()));
        }
        if connection["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 260);
    assert_eq!(pages, 3);
    let (_, body) = graphql(&sim, sim.access_token(), VARIANTS, json!({"first": 251})).await;
    assert!(body["errors"].is_array(), "{body}");
    sim.stop().await;
}

#[tokio::test]
async fn inventory_set_is_idempotent_and_compare_and_set() {
    let sim = Simulator::start(config(Platform::Shopify, 2)).expect("start");
    let (location, item) = first_ids(&sim).await;
    let input = |quantity: i64, from: Value| {
        json!({"name": "available", "reason": "correction", "quantities": [
            {"inventoryItemId": item, "locationId": location, "quantity": quantity, "changeFromQuantity": from}
        ]})
    };
    let token = sim.access_token().to_owned();

    let (_, body) = graphql(&sim, &token, SET, json!({"input": input(9, json!(5))})).await;
    assert!(body["data"]["inventorySetQuantities"].is_null(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("@idempotent"))
    );

    let (_, body) = graphql(
        &sim,
        &token,
        SET,
        json!({"input": input(9, json!(5)), "idempotencyKey": "k-1"}),
    )
    .await;
    let payload = &body["data"]["inventorySetQuantities"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    assert_eq!(
        payload["inventoryAdjustmentGroup"]["changes"][0]["delta"],
        4
    );
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 9);

    // The same key replays the first result and writes nothing.
    let (_, replay) = graphql(
        &sim,
        &token,
        SET,
        json!({"input": input(1, json!(9)), "idempotencyKey": "k-1"}),
    )
    .await;
    assert_eq!(replay["data"], body["data"]);
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 9);

    // A stale compare value is refused and changes nothing.
    let (_, stale) = graphql(
        &sim,
        &token,
        SET,
        json!({"input": input(1, json!(5)), "idempotencyKey": "k-2"}),
    )
    .await;
    let errors = &stale["data"]["inventorySetQuantities"]["userErrors"];
    assert_eq!(errors[0]["code"], "CHANGE_FROM_QUANTITY_STALE", "{stale}");
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 9);

    // null skips the check.
    let (_, body) = graphql(
        &sim,
        &token,
        SET,
        json!({"input": input(2, Value::Null), "idempotencyKey": "k-3"}),
    )
    .await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([])
    );
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 2);

    // At most 250 quantities.
    let many: Vec<Value> = (0..251)
        .map(|_| json!({"inventoryItemId": item, "locationId": location, "quantity": 1, "changeFromQuantity": null}))
        .collect();
    let (_, body) = graphql(
        &sim,
        &token,
        SET,
        json!({
            "input": {"name": "available", "reason": "correction", "quantities": many},
            "idempotencyKey": "k-4"
        }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "MAX_INPUT_SIZE_EXCEEDED",
        "{body}"
    );
    let stats = stats(sim.base_url()).await;
    assert_eq!(stats["writes"], 2);

    // The figure as a location's inventory levels show it.
    let (_, body) = graphql(
        &sim,
        &token,
        r#"query Levels($id: ID!) { location(id: $id) { name inventoryLevels(first: 10) {
            nodes { quantities(names: ["available", "on_hand"]) { name quantity } item { sku } } } } }"#,
        json!({"id": location}),
    )
    .await;
    let first = &body["data"]["location"]["inventoryLevels"]["nodes"][0];
    assert_eq!(first["item"]["sku"], "DVD-0001", "{body}");
    assert_eq!(
        first["quantities"][0],
        json!({"name": "available", "quantity": 2})
    );
    assert_eq!(
        first["quantities"][1],
        json!({"name": "on_hand", "quantity": 2})
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_sale_takes_stock_and_sends_signed_webhooks() {
    let receiver = sink();
    let mut cfg = config(Platform::Shopify, 2);
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
    assert_eq!(sale["quantity_after"], 3);
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 3);

    let created = deliveries(&receiver, "x-shopify-topic", "orders/create", 1).await;
    assert_eq!(created.len(), 1);
    verify(Platform::Shopify, &created[0], &secret, &receiver.url());
    let order = created[0].json().expect("json");
    assert_eq!(
        order["id"].to_string(),
        sale["order_id"].as_str().expect("id")
    );
    assert_eq!(order["total_price"], "39.98");
    assert_eq!(order["line_items"][0]["sku"], "DVD-0001");
    assert_eq!(order["line_items"][0]["quantity"], 2);
    assert_eq!(
        created[0].header("x-shopify-shop-domain"),
        Some("concord-sim.myshopify.com")
    );
    assert!(created[0].header("x-shopify-event-id").is_some());
    assert!(created[0].header("x-shopify-triggered-at").is_some());
    let levels = deliveries(&receiver, "x-shopify-topic", "inventory_levels/update", 1).await;
    assert_eq!(levels[0].json().expect("json")["available"], 3);
    deliveries(&receiver, "x-shopify-topic", "orders/paid", 1).await;

    // Out of stock is refused.
    let (status, body) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0001", "quantity": 4}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());

    // A refund with restock puts the units back and sends refunds/create.
    let (status, refund) = control(
        sim.base_url(),
        "/_sim/refund",
        &json!({
            "order_id": sale["order_id"], "sku": "DVD-0001", "quantity": 1, "restock": true
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refund}");
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 4);
    let refunds = deliveries(&receiver, "x-shopify-topic", "refunds/create", 1).await;
    let body = refunds[0].json().expect("json");
    assert_eq!(body["refund_line_items"][0]["restock_type"], "return");
    assert_eq!(body["transactions"][0]["amount"], "19.99");

    // A merchant's edit in the admin sends inventory_levels/update.
    let (status, _) = control(
        sim.base_url(),
        "/_sim/adjust",
        &json!({"sku": "DVD-0002", "quantity": 11}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let levels = receiver
        .wait_for(1, std::time::Duration::from_secs(5), |r| {
            r.json().is_some_and(|b| b["available"] == 11)
        })
        .await;
    assert_eq!(levels.len(), 1);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_event_id() {
    let receiver = sink();
    let mut cfg = config(Platform::Shopify, 1);
    cfg.webhook_url = Some(receiver.url());
    let sim = Simulator::start(cfg).expect("start");
    receiver.script(&[500, 503]);
    let (status, _) = control(
        sim.base_url(),
        "/_sim/adjust",
        &json!({"sku": "DVD-0001", "delta": -1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let attempts = deliveries(&receiver, "x-shopify-topic", "inventory_levels/update", 3).await;
    assert_eq!(attempts.len(), 3);
    let ids: HashSet<_> = attempts
        .iter()
        .map(|a| a.header("x-shopify-event-id"))
        .collect();
    assert_eq!(ids.len(), 1, "retries keep the event id");
    assert_eq!(attempts[2].answered, 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stats = stats(sim.base_url()).await;
    assert_eq!(stats["webhooks_failed"], 2);
    assert_eq!(stats["webhooks_sent"], 1);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn exhausting_the_bucket_is_throttled() {
    let mut cfg = config(Platform::Shopify, 300);
    cfg.rate_limit = Some(RateLimit {
        capacity: 500.0,
        per_second: 1.0,
    });
    let sim = Simulator::start(cfg).expect("start");
    let token = sim.access_token().to_owned();
    for _ in 0..2 {
        let (_, body) = graphql(&sim, &token, VARIANTS, json!({"first": 100})).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let (status, body) = graphql(&sim, &token, VARIANTS, json!({"first": 100})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "THROTTLED",
        "{body}"
    );
    let throttle = &body["extensions"]["cost"]["throttleStatus"];
    assert_eq!(throttle["maximumAvailable"], 500.0);
    assert!(throttle["currentlyAvailable"].as_i64().expect("available") < 202);
    assert_eq!(stats(sim.base_url()).await["throttled"], 1);
    sim.stop().await;
}

#[tokio::test]
async fn faults_switch_at_run_time() {
    let sim = Simulator::start(config(Platform::Shopify, 1)).expect("start");
    let token = sim.access_token().to_owned();
    let (status, _) = control(sim.base_url(), "/_sim/faults", &json!({"storm_429": true})).await;
    assert_eq!(status, StatusCode::OK);
    let response = client()
        .post(format!("{}/graphql.json", sim.api_base()))
        .header("X-Shopify-Access-Token", &token)
        .json(&json!({"query": "{ shop { name } }"}))
        .send()
        .await
        .expect("call");
    let (status, headers, _) = read(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    control(
        sim.base_url(),
        "/_sim/faults",
        &json!({"reset": true, "error_rate": 1.0}),
    )
    .await;
    let (status, body) = graphql(&sim, &token, "{ shop { name } }", json!({})).await;
    assert!(status.is_server_error(), "{status}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    control(sim.base_url(), "/_sim/faults", &json!({"reset": true})).await;
    let (status, body) = graphql(&sim, &token, "{ shop { name } }", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["shop"]["name"], "Concord Simulator");
    let stats = stats(sim.base_url()).await;
    assert_eq!(stats["api_calls"], 3);
    assert_eq!(stats["throttled"], 1);
    assert_eq!(stats["errors_injected"], 1);
    sim.stop().await;
}

#[tokio::test]
async fn orders_are_found_by_updated_at() {
    let sim = Simulator::start(config(Platform::Shopify, 2)).expect("start");
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    for sku in ["DVD-0001", "DVD-0002"] {
        let (status, _) = control(sim.base_url(), "/_sim/sale", &json!({"sku": sku})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let query = r#"query Orders($first: Int!, $after: String, $query: String) {
      orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
        nodes { id name updatedAt displayFinancialStatus totalPriceSet { shopMoney { amount currencyCode } }
                lineItems(first: 10) { nodes { sku quantity } } }
        pageInfo { hasNextPage endCursor }
      }
    }"#;
    let filter = format!("updated_at:>'{}'", before.to_rfc3339());
    let (_, body) = graphql(
        &sim,
        sim.access_token(),
        query,
        json!({"first": 1, "query": filter}),
    )
    .await;
    let page = &body["data"]["orders"];
    assert_eq!(
        page["nodes"][0]["lineItems"]["nodes"][0]["sku"], "DVD-0001",
        "{body}"
    );
    assert_eq!(
        page["nodes"][0]["totalPriceSet"]["shopMoney"]["amount"],
        "19.99"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let (_, body) = graphql(
        &sim,
        sim.access_token(),
        query,
        json!({
            "first": 1, "query": filter, "after": page["pageInfo"]["endCursor"]
        }),
    )
    .await;
    assert_eq!(body["data"]["orders"]["nodes"][0]["name"], "#1002");
    let future = format!(
        "updated_at:>'{}'",
        (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
    );
    let (_, body) = graphql(
        &sim,
        sim.access_token(),
        query,
        json!({"first": 5, "query": future}),
    )
    .await;
    assert_eq!(body["data"]["orders"]["nodes"], json!([]));
    sim.stop().await;
}
