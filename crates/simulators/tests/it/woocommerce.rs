//! WooCommerce: consumer-key auth, page-numbered listings with WordPress headers, the
//! 100-item batch, variable products and their variations, signed webhooks that are never
//! retried, and hooks disabled after seven consecutive failures.

use std::{collections::HashSet, time::Duration};

use concord_connectors::Platform;
use concord_simulators::{RunningSim, SeedProduct, Simulator};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::common::{client, config, control, deliveries, read, sink, stats, stock, verify};

async fn get(sim: &RunningSim, path: &str) -> (StatusCode, HeaderMap, Value) {
    let cfg = sim.config();
    let response = client()
        .get(format!("{}{path}", sim.api_base()))
        .basic_auth(&cfg.client_id, Some(&cfg.client_secret))
        .send()
        .await
        .expect("get");
    read(response).await
}

async fn post(sim: &RunningSim, path: &str, body: &Value) -> (StatusCode, Value) {
    let cfg = sim.config();
    let response = client()
        .post(format!("{}{path}", sim.api_base()))
        .basic_auth(&cfg.client_id, Some(&cfg.client_secret))
        .json(body)
        .send()
        .await
        .expect("post");
    let (status, _, json) = read(response).await;
    (status, json)
}

#[tokio::test]
async fn consumer_keys_are_required() {
    let sim = Simulator::start(config(Platform::WooCommerce, 2)).expect("start");
    let url = format!("{}/products", sim.api_base());
    let (status, _, body) = read(client().get(&url).send().await.expect("call")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "woocommerce_rest_cannot_view");
    assert_eq!(body["data"]["status"], 401);
    let (status, _, body) = read(
        client()
            .get(&url)
            .basic_auth("ck_wrong", Some("cs_wrong"))
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    let cfg = sim.config();
    let (status, _, body) = read(
        client()
            .get(&url)
            .query(&[
                ("consumer_key", &cfg.client_id),
                ("consumer_secret", &cfg.client_secret),
            ])
            .send()
            .await
            .expect("call"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    sim.stop().await;
}

#[tokio::test]
async fn pages_carry_wordpress_headers() {
    let sim = Simulator::start(config(Platform::WooCommerce, 250)).expect("start");
    let mut skus = HashSet::new();
    let mut page = 1;
    loop {
        let (status, headers, body) = get(
            &sim,
            &format!("/products?per_page=100&page={page}&orderby=id&order=asc"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-wp-total"], "250");
        assert_eq!(headers["x-wp-totalpages"], "3");
        for product in body.as_array().expect("products") {
            assert_eq!(product["manage_stock"], true);
            assert_eq!(product["price"], "19.99");
            assert!(skus.insert(product["sku"].as_str().expect("sku").to_owned()));
        }
        let link = headers
            .get("link")
            .map(|l| l.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        if page < 3 {
            assert!(link.contains("rel=\"next\""), "{link}");
            assert!(link.contains(&format!("page={}", page + 1)));
        } else {
            assert!(!link.contains("rel=\"next\""));
            break;
        }
        page += 1;
    }
    assert_eq!(skus.len(), 250);
    let (status, _, body) = get(&sim, "/products?per_page=101").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "rest_invalid_param");
    let (_, _, body) = get(&sim, "/products?sku=DVD-0007").await;
    assert_eq!(body[0]["sku"], "DVD-0007");
    sim.stop().await;
}

#[tokio::test]
async fn batch_updates_stock_within_the_limit() {
    let sim = Simulator::start(config(Platform::WooCommerce, 3)).expect("start");
    let (_, _, products) = get(&sim, "/products?orderby=id&order=asc").await;
    let id = |i: usize| products[i]["id"].clone();
    let (status, body) = post(
        &sim,
        "/products/batch",
        &json!({"update": [
            {"id": id(0), "stock_quantity": 12, "manage_stock": true},
            {"id": id(1), "stock_quantity": "0"},
            {"id": 999_999, "stock_quantity": 1},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["update"][0]["stock_quantity"], 12);
    assert_eq!(body["update"][1]["stock_status"], "outofstock");
    assert_eq!(
        body["update"][2]["error"]["code"],
        "woocommerce_rest_product_invalid_id"
    );
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 12);
    assert_eq!(stock(sim.base_url(), "DVD-0002").await, 0);
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"id": id(0), "stock_quantity": 1}))
        .collect();
    let (status, body) = post(&sim, "/products/batch", &json!({"update": many})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "woocommerce_rest_request_entity_too_large");
    assert_eq!(stock(sim.base_url(), "DVD-0001").await, 12);
    let stats = stats(sim.base_url()).await;
    assert_eq!(stats["items_written"], 2);
    sim.stop().await;
}

#[tokio::test]
async fn a_sale_sends_signed_order_and_product_webhooks() {
    let receiver = sink();
    let mut cfg = config(Platform::WooCommerce, 2);
    cfg.webhook_url = Some(receiver.url());
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");
    let (status, sale) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "DVD-0002", "quantity": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    assert_eq!(sale["quantity_after"], 2);
    let created = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 1).await;
    assert_eq!(created.len(), 1);
    verify(Platform::WooCommerce, &created[0], &secret, &receiver.url());
    let order = created[0].json().expect("json");
    assert_eq!(
        order["id"].to_string(),
        sale["order_id"].as_str().expect("id")
    );
    assert_eq!(order["total"], "59.97");
    assert_eq!(order["line_items"][0]["price"], 19.99);
    assert_eq!(order["status"], "processing");
    assert_eq!(created[0].header("x-wc-webhook-resource"), Some("order"));
    assert_eq!(created[0].header("x-wc-webhook-event"), Some("created"));
    assert!(created[0].header("x-wc-webhook-delivery-id").is_some());
    assert!(
        created[0]
            .header("x-wc-webhook-source")
            .is_some_and(|s| s.ends_with('/'))
    );
    let product = deliveries(&receiver, "x-wc-webhook-topic", "product.updated", 1).await;
    verify(Platform::WooCommerce, &product[0], &secret, &receiver.url());
    assert_eq!(product[0].json().expect("json")["stock_quantity"], 2);
    // Slashes are escaped as PHP writes them.
    assert!(String::from_utf8_lossy(&product[0].body).contains("\\/"));

    // Refunds show on the order and under /refunds.
    let order_id = sale["order_id"].as_str().expect("id");
    let (status, _) = control(
        sim.base_url(),
        "/_sim/refund",
        &json!({"order_id": order_id, "quantity": 1, "restock": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, refunds) = get(&sim, &format!("/orders/{order_id}/refunds")).await;
    assert_eq!(refunds[0]["amount"], "19.99");
    assert_eq!(refunds[0]["line_items"][0]["quantity"], -1);
    assert_eq!(stock(sim.base_url(), "DVD-0002").await, 3);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_not_retried_and_the_seventh_disables_the_hook() {
    let receiver = sink();
    receiver.always(Some(500));
    let mut cfg = config(Platform::WooCommerce, 1);
    cfg.webhook_url = Some(receiver.url());
    cfg.allow_negative_stock = true;
    let sim = Simulator::start(cfg).expect("start");
    control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    let first = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 1).await;
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 1).await;
    assert_eq!(attempts.len(), 1, "WooCommerce never retries");

    // One sale at a time, each delivery awaited (or known lost) before the next.
    let created = |r: &concord_simulators::sink::Received| {
        r.header("x-wc-webhook-topic") == Some("order.created")
    };
    for sent in 2..=9 {
        control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
        receiver
            .wait_for(sent.min(7), Duration::from_secs(5), created)
            .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let attempts = receiver
        .received()
        .into_iter()
        .filter(|r| created(r))
        .count();
    assert_eq!(
        attempts, 7,
        "the hook is disabled after its 7th consecutive failure"
    );
    let (_, _, hooks) = get(&sim, "/webhooks").await;
    let hook = hooks
        .as_array()
        .and_then(|h| h.iter().find(|h| h["topic"] == "order.created"))
        .expect("hook");
    assert_eq!(hook["status"], "disabled");
    assert!(
        stats(sim.base_url()).await["webhooks_dropped"]
            .as_u64()
            .unwrap_or(0)
            >= 2
    );

    // Re-activating the hook resumes deliveries.
    receiver.always(None);
    let (status, _) = post(
        &sim,
        &format!("/webhooks/{}", hook["id"]),
        &json!({"status": "active"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    let attempts = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 8).await;
    assert_eq!(attempts.len(), 8);
    assert_eq!(attempts[7].answered, 200);
    sim.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn orders_filter_by_modified_after() {
    let sim = Simulator::start(config(Platform::WooCommerce, 2)).expect("start");
    control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0001"})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cut = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    control(sim.base_url(), "/_sim/sale", &json!({"sku": "DVD-0002"})).await;
    let (status, headers, body) =
        get(&sim, &format!("/orders?modified_after={cut}&per_page=10")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-wp-total"], "1");
    assert_eq!(body[0]["line_items"][0]["sku"], "DVD-0002");
    let (_, _, all) = get(&sim, "/orders?orderby=id&order=asc").await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let (status, _, _) = get(&sim, "/orders/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sim.stop().await;
}

/// One simple product and a variable product with a DVD and a Blu-ray variation.
fn variable_catalog() -> Vec<SeedProduct> {
    vec![
        SeedProduct::new("SOLO-1", "5000000000011", "Solo", 999, "USD", 4),
        SeedProduct::new(
            "MV-DVD",
            "5012345678900",
            "Midnight Velvet - DVD",
            1999,
            "USD",
            6,
        )
        .variant_of("Midnight Velvet", "DVD"),
        SeedProduct::new(
            "MV-BR",
            "5012345678917",
            "Midnight Velvet - Blu-ray",
            2499,
            "USD",
            3,
        )
        .variant_of("Midnight Velvet", "Blu-ray"),
    ]
}

#[tokio::test]
async fn variable_products_list_page_and_write_their_variations() {
    let receiver = sink();
    let mut cfg = config(Platform::WooCommerce, 0);
    cfg.seed = variable_catalog();
    cfg.webhook_url = Some(receiver.url());
    let secret = cfg.webhook_secret.clone();
    let sim = Simulator::start(cfg).expect("start");

    // The listing shows the simple product and the variable one, not the variations.
    let (status, headers, products) = get(&sim, "/products?orderby=id&order=asc").await;
    assert_eq!(status, StatusCode::OK, "{products}");
    assert_eq!(headers["x-wp-total"], "2");
    let listed = products.as_array().expect("products");
    assert_eq!(listed.len(), 2, "{products}");
    assert_eq!(listed[0]["type"], "simple");
    let variable = &listed[1];
    assert_eq!(variable["type"], "variable");
    assert_eq!(variable["name"], "Midnight Velvet");
    assert_eq!(variable["manage_stock"], false);
    assert_eq!(variable["stock_quantity"], Value::Null);
    assert_eq!(variable["price"], "19.99");
    let parent = variable["id"].as_u64().expect("id");
    let variation_ids: Vec<u64> = variable["variations"]
        .as_array()
        .expect("variations")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(variation_ids.len(), 2);

    // Variations page like every listing, each with its own SKU and stock.
    let (status, headers, first) =
        get(&sim, &format!("/products/{parent}/variations?per_page=1")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(headers["x-wp-totalpages"], "2");
    assert_eq!(first[0]["sku"], "MV-DVD");
    assert_eq!(first[0]["stock_quantity"], 6);
    assert_eq!(first[0]["manage_stock"], true);
    assert_eq!(first[0]["attributes"][0]["option"], "DVD");
    let (_, headers, second) = get(
        &sim,
        &format!("/products/{parent}/variations?per_page=1&page=2"),
    )
    .await;
    assert_eq!(headers["x-wp-total"], "2");
    assert_eq!(second[0]["sku"], "MV-BR");
    let blu_ray = second[0]["id"].as_u64().expect("id");
    let (_, _, simple) = get(&sim, &format!("/products/{}/variations", listed[0]["id"])).await;
    assert_eq!(simple, json!([]));
    // A variation read through the products endpoint names its variable product.
    let (_, _, alone) = get(&sim, &format!("/products/{blu_ray}")).await;
    assert_eq!(alone["type"], "variation");
    assert_eq!(alone["parent_id"], parent);

    // The variations batch writes their stock; ids of other products are refused.
    let (status, body) = post(
        &sim,
        &format!("/products/{parent}/variations/batch"),
        &json!({"update": [
            {"id": blu_ray, "stock_quantity": 9, "manage_stock": true},
            {"id": listed[0]["id"], "stock_quantity": 1},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["update"][0]["stock_quantity"], 9);
    assert_eq!(
        body["update"][1]["error"]["code"],
        "woocommerce_rest_product_variation_invalid_id"
    );
    assert_eq!(stock(sim.base_url(), "MV-BR").await, 9);
    assert_eq!(stock(sim.base_url(), "SOLO-1").await, 4);
    let (status, _) = post(
        &sim,
        &format!("/products/{}/variations/batch", listed[0]["id"]),
        &json!({"update": [{"id": blu_ray, "stock_quantity": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A sale of a variation: the order line names the product and the variation; the
    // stock webhook is the variation itself.
    receiver.clear();
    let (status, sale) = control(
        sim.base_url(),
        "/_sim/sale",
        &json!({"sku": "MV-BR", "quantity": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sale}");
    let created = deliveries(&receiver, "x-wc-webhook-topic", "order.created", 1).await;
    verify(Platform::WooCommerce, &created[0], &secret, &receiver.url());
    let line = &created[0].json().expect("json")["line_items"][0];
    assert_eq!(line["product_id"], parent);
    assert_eq!(line["variation_id"], blu_ray);
    assert_eq!(line["sku"], "MV-BR");
    assert_eq!(line["parent_name"], "Midnight Velvet");
    let updated = receiver
        .wait_for(1, Duration::from_secs(5), |r| {
            r.header("x-wc-webhook-topic") == Some("product.updated")
                && r.json()
                    .is_some_and(|b| b["id"] == blu_ray && b["stock_quantity"] == 7)
        })
        .await;
    let body = updated[0].json().expect("json");
    assert_eq!(body["type"], "variation");
    assert_eq!(body["parent_id"], parent);
    let (_, _, orders) = get(&sim, &format!("/orders?product={blu_ray}")).await;
    assert_eq!(orders.as_array().map(Vec::len), Some(1));
    sim.stop().await;
    receiver.stop().await;
}
