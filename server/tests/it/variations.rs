//! WooCommerce variable products: each variation is a listing of its own, matched to a SKU,
//! read, written through its product's variations batch, and named by the order lines that
//! sell it — here a variation whose SKU code differs from Concord's, matched by barcode, so
//! only its `product:variation` id ties it to the SKU.

use actix_web::http::{Method, StatusCode};
use concord_simulators::{Platform, RunningSim, SeedProduct, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::{
    harness::str_at,
    platforms::{DEADLINE, confirmed, eventually, order_detail, stock_of},
    sync::Live,
};

/// The DVD (MV-DVD's barcode under WooCommerce's own code) and the Blu-ray (unknown to
/// Concord) of one variable product.
fn variable_catalog() -> Vec<SeedProduct> {
    vec![
        SeedProduct::new(
            "MV-VELVET-DVD",
            "5012345678900",
            "Midnight Velvet - DVD",
            1999,
            "USD",
            3,
        )
        .variant_of("Midnight Velvet", "DVD"),
        SeedProduct::new(
            "MV-VELVET-BR",
            "5012345678917",
            "Midnight Velvet - Blu-ray",
            2499,
            "USD",
            5,
        )
        .variant_of("Midnight Velvet", "Blu-ray"),
    ]
}

/// A WooCommerce API read with the store's consumer keys.
async fn woo_get(live: &Live, woo: &RunningSim, path: &str) -> Value {
    let config = woo.config();
    live.http
        .get(format!("{}{path}", woo.api_base()))
        .basic_auth(&config.client_id, Some(&config.client_secret))
        .send()
        .await
        .expect("woo")
        .json()
        .await
        .expect("json")
}

/// Waits until `sim` shows `expected` units of `sku`.
async fn shows(live: &Live, sim: &RunningSim, sku: &str, expected: i64) {
    eventually(&format!("{sku} at {expected}"), DEADLINE, || async {
        match stock_of(live, sim, sku).await {
            shown if shown == expected => Ok(()),
            shown => Err(shown.to_string()),
        }
    })
    .await;
}

#[actix_web::test]
async fn a_variation_sold_on_woocommerce_lowers_stock_elsewhere_and_sales_elsewhere_reach_it() {
    let live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 10).await;
    confirmed(&live, &shopify_id).await;
    let mut config = SimConfig::new(Platform::WooCommerce);
    config.seed = variable_catalog();
    config.time_scale = 0.001;
    let woo = Simulator::start(config).expect("simulator");
    let woo_id = live
        .new_connection(Platform::WooCommerce, "WooCommerce shop", true)
        .await;
    let access = live
        .app
        .send(
            Method::PUT,
            &format!("{}/connections/{woo_id}/access", live.base),
            Some(json!({ "base_url": woo.base_url(),
                         "credentials": { "api_key": woo.config().client_id,
                                          "api_secret": woo.config().client_secret } })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);

    // The store lists one variable product; Concord lists its two variations.
    let products = woo_get(&live, &woo, "/products").await;
    let parent = products[0]["id"].as_u64().expect("the variable product");
    assert_eq!(products[0]["type"], "variable", "{products}");
    let variations = woo_get(&live, &woo, &format!("/products/{parent}/variations")).await;
    let dvd = variations
        .as_array()
        .and_then(|all| all.iter().find(|v| v["sku"] == "MV-VELVET-DVD"))
        .and_then(|v| v["id"].as_u64())
        .expect("the DVD variation");
    let report = live
        .app
        .post(
            &format!("{}/connections/{woo_id}/listings/sync", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.body["listed"], 2, "{}", report.text);
    assert_eq!(report.body["matched_by_barcode"], 1, "{}", report.text);
    assert_eq!(report.body["unmatched"][0]["sku_code"], "MV-VELVET-BR");
    let listings = live
        .app
        .get(
            &format!("{}/connections/{woo_id}/listings", live.base),
            Some(&live.owner),
        )
        .await;
    let matched = listings
        .body
        .as_array()
        .and_then(|all| all.iter().find(|l| l["sku_id"] == live.sku_id.as_str()))
        .cloned()
        .expect("the matched listing");
    assert_eq!(matched["external_item_id"], format!("{parent}:{dvd}"));
    assert_eq!(matched["title"], "Midnight Velvet – DVD");
    let hooks = live
        .app
        .post(
            &format!("{}/connections/{woo_id}/webhooks", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(hooks.status, StatusCode::CREATED, "{}", hooks.text);

    // Concord's figure is written to the variation; the unmatched Blu-ray is left alone.
    shows(&live, &woo, "MV-VELVET-DVD", 10).await;
    live.settle(&[&shopify], 10).await;

    // Two DVDs sold on WooCommerce: the order names the variation, Concord takes the units
    // and Shopify shows eight.
    let sale = live
        .post_sim(
            &woo,
            "/_sim/sale",
            json!({ "sku": "MV-VELVET-DVD", "quantity": 2 }),
        )
        .await;
    assert_eq!(sale["quantity_after"], 8, "{sale}");
    live.settle(&[&shopify], 8).await;
    let order = eventually("the WooCommerce order stored", DEADLINE, || async {
        order_detail(&live, &woo_id, &str_at(&sale, "/order_id")).await
    })
    .await;
    assert_eq!(order["lines"][0]["sku_code"], "MV-DVD", "{order}");
    assert_eq!(order["lines"][0]["quantity"], 2, "{order}");

    // One sold on Shopify: written to the variation, through its product's variations batch.
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 1 }),
    )
    .await;
    shows(&live, &woo, "MV-VELVET-DVD", 7).await;
    live.settle(&[&shopify], 7).await;
    assert_eq!(stock_of(&live, &woo, "MV-VELVET-BR").await, 5);
    let requests: Value = live
        .http
        .get(format!("{}/_sim/requests", woo.base_url()))
        .send()
        .await
        .expect("requests")
        .json()
        .await
        .expect("json");
    let batch = format!("/wp-json/wc/v3/products/{parent}/variations/batch");
    assert!(
        requests["requests"].as_array().is_some_and(|all| all
            .iter()
            .any(|r| r["method"] == "POST" && r["path"] == batch.as_str())),
        "{requests}"
    );
    live.finish().await;
}
