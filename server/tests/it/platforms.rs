//! More of the data path against the platforms' simulators over real HTTP (see `sync.rs`
//! for the `Live` rig): refunds that restock or only give money back, Lightspeed R-Series
//! reached by polling alone, Stripe payments delivered by signed webhooks, and listings
//! whose codes collide.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use concord_simulators::{Platform, RunningSim, SeedProduct, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::{harness::str_at, sync::Live};

/// How long an outcome may take to show before a test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// Polls `probe` until it answers `Some`, or fails with `what` and the last answer seen.
pub(crate) async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match probe().await {
            Ok(found) => return found,
            Err(last) if tokio::time::Instant::now() >= until => {
                panic!("{what}: not so after {deadline:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// MV-DVD as a platform lists it.
pub(crate) fn mv_dvd(quantity: i64) -> SeedProduct {
    SeedProduct::new(
        "MV-DVD",
        "5012345678900",
        "Midnight Velvet",
        1999,
        "USD",
        quantity,
    )
}

/// A simulator of `platform` with `seed`, connected by key through the API (settings,
/// access, webhooks pointed at Concord) but with its listings not read yet.
async fn attach(live: &Live, platform: Platform, seed: Vec<SeedProduct>) -> (RunningSim, String) {
    let mut config = SimConfig::new(platform);
    config.seed = seed;
    config.time_scale = 0.001;
    let sim = Simulator::start(config).expect("simulator");
    let id = live
        .new_connection(
            platform,
            &format!("{platform} shop"),
            platform != Platform::Stripe,
        )
        .await;
    let access = live
        .app
        .send(
            Method::PUT,
            &format!("{}/connections/{id}/access", live.base),
            Some(json!({ "base_url": sim.base_url(),
                         "credentials": { "access_token": sim.access_token() },
                         "webhook_secret": sim.config().webhook_secret })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);
    sim.set_webhook_url(Some(format!(
        "http://127.0.0.1:{}/webhooks/{}/{id}",
        live.port,
        platform.slug()
    )));
    (sim, id)
}

/// Stock of `sku` as the simulator shows it.
pub(crate) async fn stock_of(live: &Live, sim: &RunningSim, sku: &str) -> i64 {
    let found: Value = live
        .http
        .get(format!("{}/_sim/stock?sku={sku}", sim.base_url()))
        .send()
        .await
        .expect("stock")
        .json()
        .await
        .expect("json");
    found["quantity"].as_i64().expect("quantity")
}

/// MV-DVD's row in Concord's inventory: on hand, committed, and each connection's offer.
pub(crate) async fn ledger(live: &Live) -> Value {
    let rows = live
        .app
        .get(
            &format!("{}/inventory?q=MV-DVD", live.base),
            Some(&live.owner),
        )
        .await;
    assert_eq!(rows.status, StatusCode::OK, "{}", rows.text);
    rows.body["items"][0].clone()
}

/// The offer Concord computed for `connection`.
pub(crate) fn offer(row: &Value, connection: &str) -> Option<i64> {
    row["availability"]
        .as_array()?
        .iter()
        .find(|a| a["connection_id"] == connection)?["available"]
        .as_i64()
}

/// Waits until Concord has written its first offer to `connection` (so no initial write
/// races the sales that follow).
pub(crate) async fn confirmed(live: &Live, connection: &str) {
    eventually("the first offer confirmed", DEADLINE, || async {
        let row = ledger(live).await;
        let confirmed = row["availability"].as_array().is_some_and(|all| {
            all.iter().any(|a| {
                a["connection_id"] == connection
                    && a["reported"].is_i64()
                    && a["reported"] == a["available"]
            })
        });
        if confirmed {
            Ok(())
        } else {
            Err(row.to_string())
        }
    })
    .await;
}

/// The order of `connection` whose platform id is `external_id`, with its detail.
pub(crate) async fn order_detail(
    live: &Live,
    connection: &str,
    external_id: &str,
) -> Result<Value, String> {
    let page = live
        .app
        .get(
            &format!("{}/orders?channel={connection}&limit=500", live.base),
            Some(&live.owner),
        )
        .await;
    let Some(summary) = page.body["items"]
        .as_array()
        .and_then(|all| all.iter().find(|o| o["external_id"] == external_id))
    else {
        return Err(format!("no order {external_id}: {}", page.text));
    };
    let detail = live
        .app
        .get(
            &format!("{}/orders/{}", live.base, str_at(summary, "/id")),
            Some(&live.owner),
        )
        .await;
    if detail.status != StatusCode::OK {
        return Err(detail.text);
    }
    Ok(detail.body)
}

/// Every delivery stored for `connection`.
pub(crate) async fn deliveries(live: &Live, connection: &str) -> Vec<Value> {
    let found = live
        .app
        .get(&format!("{}/inbound-events", live.base), Some(&live.owner))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    found
        .body
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["connection_id"] == connection)
        .cloned()
        .collect()
}

/// Waits until `connection` has stored at least `at_least` deliveries and every one of them
/// is processed.
pub(crate) async fn all_processed(live: &Live, connection: &str, at_least: usize) -> Vec<Value> {
    eventually("every delivery processed", DEADLINE, || async {
        let found = deliveries(live, connection).await;
        if found.len() >= at_least && found.iter().all(|d| d["status"] == "processed") {
            Ok(found)
        } else {
            Err(serde_json::to_string(&found).unwrap_or_default())
        }
    })
    .await
}

#[actix_web::test]
async fn refunds_that_restock_bring_units_back_everywhere_and_others_only_return_money() {
    let live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 10).await;
    let (square, _) = live.connect(Platform::Square, 7).await;
    let (woo, _) = live.connect(Platform::WooCommerce, 3).await;
    let all = [&shopify, &square, &woo];
    live.settle(&all, 10).await;

    // Two sold on Shopify, then refunded with the units put back on the shelf.
    let sale = live
        .post_sim(
            &shopify,
            "/_sim/sale",
            json!({ "sku": "MV-DVD", "quantity": 2 }),
        )
        .await;
    let first = str_at(&sale, "/order_id");
    live.settle(&all, 8).await;
    let refund = live
        .post_sim(
            &shopify,
            "/_sim/refund",
            json!({ "order_id": first, "restock": true, "reason": "changed mind" }),
        )
        .await;
    assert_eq!(refund["stock_after"]["MV-DVD"], 10, "{refund}");
    assert_eq!(refund["amount_minor"], 2 * 1999, "{refund}");
    live.settle(&all, 10).await;
    let refunded = eventually("the restocking refund recorded", DEADLINE, || async {
        let order = order_detail(&live, &shopify_id, &first).await?;
        match order["refunds"].as_array().map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            _ => Err(order.to_string()),
        }
    })
    .await;
    assert_eq!(refunded["external_id"], str_at(&refund, "/refund_id"));
    assert_eq!(refunded["amount_minor"], 2 * 1999, "{refunded}");
    assert_eq!(refunded["restocked"], true, "{refunded}");
    // The units are back in the ledger: nothing left the warehouse, and every channel's
    // offer is the full ten again.
    let row = ledger(&live).await;
    assert_eq!(
        row["on_hand"].as_i64().expect("on hand") - row["committed"].as_i64().expect("committed"),
        10,
        "{row}"
    );
    assert_eq!(offer(&row, &shopify_id), Some(10), "{row}");
    let restocks = live
        .app
        .get(
            &format!("{}/skus/{}/movements", live.base, live.sku_id),
            Some(&live.owner),
        )
        .await;
    assert!(
        restocks.body["items"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["reason"] == "refund_restock")),
        "the refund's units came back as a restock movement: {}",
        restocks.text
    );

    // Three more sold, then refunded in money only: the customer keeps the discs.
    let sale = live
        .post_sim(
            &shopify,
            "/_sim/sale",
            json!({ "sku": "MV-DVD", "quantity": 3 }),
        )
        .await;
    let second = str_at(&sale, "/order_id");
    live.settle(&all, 7).await;
    let on_hand_before = live.on_hand().await;
    let refund = live
        .post_sim(
            &shopify,
            "/_sim/refund",
            json!({ "order_id": second, "restock": false }),
        )
        .await;
    assert_eq!(refund["stock_after"]["MV-DVD"], 7, "{refund}");
    let refunded = eventually("the money-only refund recorded", DEADLINE, || async {
        let order = order_detail(&live, &shopify_id, &second).await?;
        match order["refunds"].as_array().map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            _ => Err(order.to_string()),
        }
    })
    .await;
    assert_eq!(refunded["amount_minor"], 3 * 1999, "{refunded}");
    assert_eq!(refunded["restocked"], false, "{refunded}");
    // Every delivery the refund caused is applied; the figures have not moved.
    all_processed(&live, &shopify_id, 1).await;
    live.settle(&all, 7).await;
    let row = ledger(&live).await;
    assert_eq!(offer(&row, &shopify_id), Some(7), "{row}");
    assert_eq!(
        row["on_hand"].as_i64().expect("on hand") - row["committed"].as_i64().expect("committed"),
        7,
        "{row}"
    );
    assert!(
        live.on_hand().await <= on_hand_before,
        "a refund without restock adds nothing to stock: {row}"
    );
    live.finish().await;
}

#[actix_web::test]
async fn lightspeed_r_sales_are_found_by_polling_and_shopify_sales_are_written_to_its_shops() {
    let live = Live::start().await;
    let (shopify, _) = live.connect(Platform::Shopify, 12).await;
    let mut config = SimConfig::new(Platform::LightspeedR);
    config.seed = vec![mv_dvd(4)];
    config.time_scale = 0.001;
    let lightspeed = Simulator::start(config).expect("simulator");
    let lightspeed_id = live.connect_by_oauth(&lightspeed).await;
    let report = live.sync_listings(&lightspeed_id).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.body["matched_by_sku"], 1, "{}", report.text);
    live.settle(&[&shopify, &lightspeed], 10).await;

    // R-Series sends no webhooks: only Concord's order polling can see this sale.
    assert!(
        lightspeed.info()["webhook_url"].is_null(),
        "R-Series has no webhooks"
    );
    let sale = live
        .post_sim(
            &lightspeed,
            "/_sim/sale",
            json!({ "sku": "MV-DVD", "quantity": 2 }),
        )
        .await;
    assert_eq!(sale["quantity_after"], 8, "{sale}");
    live.settle(&[&shopify, &lightspeed], 8).await;
    let order = eventually("the polled sale stored as an order", DEADLINE, || async {
        order_detail(&live, &lightspeed_id, &str_at(&sale, "/order_id")).await
    })
    .await;
    assert_eq!(order["lines"][0]["sku_code"], "MV-DVD", "{order}");
    assert_eq!(order["lines"][0]["quantity"], 2, "{order}");

    // A sale on Shopify is written to the Lightspeed shop's quantity on hand.
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 1 }),
    )
    .await;
    live.settle(&[&shopify, &lightspeed], 7).await;
    let row = ledger(&live).await;
    assert_eq!(offer(&row, &lightspeed_id), Some(7), "{row}");
    live.finish().await;
}

/// Every order named `external_id` on any connection, in detail.
pub(crate) async fn orders_named(live: &Live, external_id: &str) -> Vec<Value> {
    let page = live
        .app
        .get(
            &format!("{}/orders?limit=500", live.base),
            Some(&live.owner),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let mut found = Vec::new();
    for summary in page.body["items"].as_array().into_iter().flatten() {
        if summary["external_id"] == external_id {
            let detail = live
                .app
                .get(
                    &format!("{}/orders/{}", live.base, str_at(summary, "/id")),
                    Some(&live.owner),
                )
                .await;
            assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
            found.push(detail.body);
        }
    }
    found
}

/// Whether `order` holds `intent` as a captured payment.
pub(crate) fn captured(order: &Value, intent: &str) -> bool {
    order["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["external_id"] == intent && p["status"] == "captured")
}

/// A Stripe call with the account's secret key, form-encoded as Stripe takes it.
pub(crate) async fn stripe_post(
    live: &Live,
    stripe: &RunningSim,
    path: &str,
    form: &[(&str, &str)],
) -> Value {
    let reply = live
        .http
        .post(format!("{}/v1{path}", stripe.base_url()))
        .bearer_auth(stripe.access_token())
        .form(form)
        .send()
        .await
        .expect("stripe");
    assert!(reply.status().is_success(), "{path}: {}", reply.status());
    reply.json().await.expect("json")
}

/// Shopify and Stripe connected; one disc sold on Shopify, then a PaymentIntent for it
/// created on Stripe with the Shopify order's id in `metadata[order_id]` (not confirmed).
/// Returns the rig, both connection ids, the Shopify order id and the intent id.
async fn stripe_rig() -> (Live, RunningSim, RunningSim, String, String, String, String) {
    let live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 10).await;
    live.settle(&[&shopify], 10).await;
    let (stripe, stripe_id) = attach(&live, Platform::Stripe, Vec::new()).await;
    let sale = live
        .post_sim(
            &shopify,
            "/_sim/sale",
            json!({ "sku": "MV-DVD", "quantity": 1 }),
        )
        .await;
    let order_id = str_at(&sale, "/order_id");
    eventually("the Shopify order stored", DEADLINE, || async {
        order_detail(&live, &shopify_id, &order_id).await
    })
    .await;
    let created = stripe_post(
        &live,
        &stripe,
        "/payment_intents",
        &[
            ("amount", "1999"),
            ("currency", "usd"),
            ("metadata[order_id]", order_id.as_str()),
        ],
    )
    .await;
    assert_eq!(created["status"], "requires_payment_method", "{created}");
    let intent = str_at(&created, "/id");
    (
        live, shopify, stripe, shopify_id, stripe_id, order_id, intent,
    )
}

#[actix_web::test]
async fn stripe_payments_reach_concord_by_signed_webhooks_and_forgeries_are_refused() {
    let (live, _shopify, stripe, _, stripe_id, order_id, intent) = stripe_rig().await;
    // payment_intent.created: verified, stored, processed, and no captured payment, for
    // an intent still waiting for a payment method is not one.
    let stored = all_processed(&live, &stripe_id, 1).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    for order in orders_named(&live, &order_id).await {
        assert!(
            !captured(&order, &intent),
            "an intent awaiting a payment method was recorded as a captured payment: {order}"
        );
    }
    let confirmed = stripe_post(
        &live,
        &stripe,
        &format!("/payment_intents/{intent}/confirm"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");

    // payment_intent.succeeded and charge.succeeded: verified, stored, processed; the
    // payment is recorded once, captured, under the order id its metadata names.
    let stored = all_processed(&live, &stripe_id, 3).await;
    let events: Value = live
        .http
        .get(format!("{}/v1/events?limit=100", stripe.base_url()))
        .bearer_auth(stripe.access_token())
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("json");
    let succeeded = events["data"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["type"] == "payment_intent.succeeded"))
        .unwrap_or_else(|| panic!("no payment_intent.succeeded: {events}"));
    assert!(
        stored.iter().any(|d| d["external_id"] == succeeded["id"]),
        "the succeeded event was stored: {stored:?}"
    );
    let paid = eventually("the captured payment recorded", DEADLINE, || async {
        let found = orders_named(&live, &order_id).await;
        match found.iter().find(|o| captured(o, &intent)) {
            Some(order) => Ok(order.clone()),
            None => Err(serde_json::to_string(&found).unwrap_or_default()),
        }
    })
    .await;
    let payments = paid["payments"].as_array().expect("payments");
    assert_eq!(
        payments.len(),
        1,
        "one payment, however many events: {paid}"
    );
    assert_eq!(payments[0]["amount_minor"], 1999, "{paid}");
    assert_eq!(payments[0]["currency"], "USD", "{paid}");

    // A delivery signed with another key is refused and not stored.
    let forged = json!({ "id": "evt_forged", "object": "event", "type": "payment_intent.succeeded",
                         "created": chrono::Utc::now().timestamp(),
                         "data": { "object": { "id": "pi_forged", "object": "payment_intent", "amount": 100,
                                               "currency": "usd", "status": "succeeded",
                                               "metadata": { "order_id": order_id } } } })
    .to_string();
    let refused = live
        .http
        .post(format!(
            "http://127.0.0.1:{}/webhooks/stripe/{stripe_id}",
            live.port
        ))
        .header("Content-Type", "application/json")
        .header(
            "Stripe-Signature",
            format!("t={},v1={}", chrono::Utc::now().timestamp(), "0".repeat(64)),
        )
        .body(forged)
        .send()
        .await
        .expect("forged");
    assert_eq!(refused.status().as_u16(), 401);
    assert!(
        !deliveries(&live, &stripe_id)
            .await
            .iter()
            .any(|d| d["external_id"] == "evt_forged"),
        "a refused delivery is not stored"
    );
    live.finish().await;
}

#[actix_web::test]
async fn a_stripe_payment_is_recorded_on_the_shopify_order_its_metadata_names() {
    let (live, _shopify, stripe, shopify_id, stripe_id, order_id, intent) = stripe_rig().await;
    stripe_post(
        &live,
        &stripe,
        &format!("/payment_intents/{intent}/confirm"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    all_processed(&live, &stripe_id, 3).await;
    let orders = orders_named(&live, &order_id).await;
    let shopify_order = orders
        .iter()
        .find(|o| o["connection_id"] == shopify_id.as_str())
        .expect("the Shopify order");
    assert!(
        captured(shopify_order, &intent),
        "the Stripe payment is filed on the Shopify order {order_id} its metadata names, \
         not on an empty order of the Stripe connection: {orders:?}"
    );
    assert_eq!(
        orders.len(),
        1,
        "no second, empty order for the same id: {orders:?}"
    );
    // A Stripe refund names its payment intent, not the order: it lands on the same order.
    stripe_post(
        &live,
        &stripe,
        "/refunds",
        &[("payment_intent", intent.as_str()), ("amount", "500")],
    )
    .await;
    let refunded = eventually(
        "the refund on the Shopify order",
        Duration::from_secs(10),
        || async {
            let orders = orders_named(&live, &order_id).await;
            let refunds: Vec<Value> = orders
                .iter()
                .filter(|o| o["connection_id"] == shopify_id.as_str())
                .flat_map(|o| o["refunds"].as_array().cloned().unwrap_or_default())
                .collect();
            match refunds.as_slice() {
                [one] => Ok(one.clone()),
                other => Err(format!("refunds so far: {other:?}; orders: {orders:?}")),
            }
        },
    )
    .await;
    assert_eq!(refunded["amount_minor"], 500, "{refunded}");
    assert_eq!(
        orders_named(&live, &order_id).await.len(),
        1,
        "still one order"
    );
    live.finish().await;
}

#[actix_web::test]
async fn listings_sharing_a_code_are_reported_matched_by_neither_and_mapped_by_hand() {
    let live = Live::start().await;
    // Two listings carrying MV-DVD's barcode under SKU codes Concord does not know.
    let (shopify, id) = attach(
        &live,
        Platform::Shopify,
        vec![
            SeedProduct::new(
                "MV-DVD-A",
                "5012345678900",
                "Midnight Velvet",
                1999,
                "USD",
                4,
            ),
            SeedProduct::new(
                "MV-DVD-B",
                "5012345678900",
                "Midnight Velvet (sleeve)",
                1999,
                "USD",
                3,
            ),
        ],
    )
    .await;
    let report = live
        .app
        .post(
            &format!("{}/connections/{id}/listings/sync", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.body["listed"], 2, "{}", report.text);
    assert_eq!(report.body["matched_by_sku"], 0, "{}", report.text);
    assert_eq!(report.body["matched_by_barcode"], 0, "{}", report.text);
    assert_eq!(
        report.body["unmatched"].as_array().map(Vec::len),
        Some(2),
        "{}",
        report.text
    );
    let collisions = report.body["collisions"].as_array().expect("collisions");
    assert_eq!(collisions.len(), 1, "{}", report.text);
    assert_eq!(collisions[0]["code"], "barcode 5012345678900");
    assert_eq!(
        collisions[0]["external_item_ids"].as_array().map(Vec::len),
        Some(2),
        "{}",
        report.text
    );
    let listings = live
        .app
        .get(
            &format!("{}/connections/{id}/listings", live.base),
            Some(&live.owner),
        )
        .await;
    let listings = listings.body.as_array().expect("listings").clone();
    assert_eq!(listings.len(), 2);
    assert!(
        listings.iter().all(|l| l["sku_id"].is_null()),
        "{listings:?}"
    );
    let a = listings
        .iter()
        .find(|l| l["sku_code"] == "MV-DVD-A")
        .expect("listing A");

    // The merchant says A is the disc Concord stocks: its offer is written, B is left alone.
    let mapped = live
        .app
        .send(
            Method::PUT,
            &format!("{}/connections/{id}/listings/{}", live.base, a["id"]),
            Some(json!({ "sku_id": live.sku_id })),
            Some(&live.owner),
        )
        .await;
    assert_eq!(mapped.status, StatusCode::NO_CONTENT, "{}", mapped.text);
    eventually(
        "listing A written with Concord's figure",
        DEADLINE,
        || async {
            match stock_of(&live, &shopify, "MV-DVD-A").await {
                10 => Ok(()),
                other => Err(other.to_string()),
            }
        },
    )
    .await;
    assert_eq!(stock_of(&live, &shopify, "MV-DVD-B").await, 3);
    let row = ledger(&live).await;
    assert_eq!(offer(&row, &id), Some(10), "{row}");

    // Reading the listings again keeps the hand-made match and still reports the collision.
    let again = live
        .app
        .post(
            &format!("{}/connections/{id}/listings/sync", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(again.body["already_matched"], 1, "{}", again.text);
    assert_eq!(again.body["matched_by_barcode"], 0, "{}", again.text);
    assert_eq!(
        again.body["collisions"].as_array().map(Vec::len),
        Some(1),
        "{}",
        again.text
    );
    let unmatched = again.body["unmatched"].as_array().expect("unmatched");
    assert_eq!(unmatched.len(), 1, "{}", again.text);
    assert_eq!(unmatched[0]["sku_code"], "MV-DVD-B");
    live.finish().await;
}
