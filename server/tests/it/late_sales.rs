//! A platform's stock figure against sales that reach Concord late: held by a worker that
//! died, or polled after Concord has written over them. Neither may count twice or hide a
//! write the platform still needs.

use std::time::Duration;

use actix_web::http::StatusCode;
use concord_simulators::{Platform, SimConfig, Simulator};
use serde_json::json;

use crate::sync::Live;

#[actix_web::test]
async fn a_stock_figure_waits_for_the_sale_a_dead_worker_was_holding() {
    let mut live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 10).await;
    live.settle(&[&shopify], 10).await;
    live.stop_worker();
    // Platforms stamp figures to the second: sell in a later second than the last write.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let waiting = format!(
        "SELECT count(*) FROM inbound_events WHERE connection_id = '{shopify_id}' AND status = 'pending'"
    );
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 2 }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while live.app.db.count(&waiting).await.expect("count") < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no deliveries");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A worker leases the order and dies; the platform's new figure (8) stays due.
    let leased = live
        .app
        .state
        .store
        .claim_inbound(10, chrono::Duration::seconds(4))
        .await
        .expect("claim");
    assert_eq!(leased.len(), 2);
    assert_eq!(
        leased
            .iter()
            .filter(|d| d.body.contains("line_items"))
            .count(),
        1,
        "one order"
    );
    let released = live
        .app
        .db
        .execute(
            "UPDATE inbound_events SET status = 'pending', next_attempt_at = received_at \
             WHERE status = 'processing' AND body NOT LIKE '%line_items%'",
        )
        .await
        .expect("release");
    assert_eq!(released, 1, "the figure is free");
    // Once the figure's own settle delay has passed, another worker judges it: the sale is
    // still held by the dead worker, so the figure waits rather than count as an edit.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    live.start_worker();
    live.settle(&[&shopify], 8).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    live.settle(&[&shopify], 8).await;
    let edits = live
        .app
        .db
        .count("SELECT count(*) FROM stock_movements WHERE reason = 'adjustment'")
        .await
        .expect("count");
    assert_eq!(edits, 0, "the sale was not counted again as an edit");
    assert_eq!(
        live.app
            .db
            .count("SELECT count(*) FROM inbound_events WHERE status <> 'processed'")
            .await
            .expect("count"),
        0
    );
    live.finish().await;
}

#[actix_web::test]
async fn a_polled_sale_older_than_a_write_does_not_hide_the_next_write() {
    let live = Live::start().await;
    let (shopify, _) = live.connect(Platform::Shopify, 10).await;
    let mut config = SimConfig::new(Platform::LightspeedR);
    config.seed = vec![crate::platforms::mv_dvd(10)];
    let lightspeed = Simulator::start(config).expect("simulator");
    let id = live.connect_by_oauth(&lightspeed).await;
    let synced = live.sync_listings(&id).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    live.settle(&[&shopify, &lightspeed], 10).await;
    // Lightspeed sells one, which Concord learns of only at its next poll; before that, a
    // sale on Shopify makes Concord write 8 over Lightspeed's 9. The polled sale then takes
    // Concord to 7, and Lightspeed, still showing the 8 written, must be written again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    live.post_sim(
        &lightspeed,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 1 }),
    )
    .await;
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 2 }),
    )
    .await;
    live.settle(&[&shopify, &lightspeed], 7).await;
    live.finish().await;
}

/// Units sellable, all locations (on hand less committed).
async fn sellable(live: &Live) -> i64 {
    let item = crate::platforms::ledger(live).await;
    item["on_hand"].as_i64().expect("on hand") - item["committed"].as_i64().expect("committed")
}

#[actix_web::test]
async fn a_sale_arriving_after_the_figure_it_explains_is_not_counted_twice() {
    let mut live = Live::start().await;
    let (shopify, shopify_id) = live.connect(Platform::Shopify, 12).await;
    // Concord writes its 10 over the platform's 12: the figure it expects from now on.
    live.settle(&[&shopify], 10).await;
    live.stop_worker();
    // Shopify's API fails for a while, so polling cannot find the sale either.
    live.post_sim(&shopify, "/_sim/faults", json!({ "error_rate": 1.0 }))
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 2 }),
    )
    .await;
    let pending = format!(
        "SELECT count(*) FROM inbound_events WHERE connection_id = '{shopify_id}' AND status = 'pending'"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while live.app.db.count(&pending).await.expect("count") < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no deliveries");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The order's delivery is set aside (a dead letter): the platform's figure of 8 is
    // judged without it, as an edit of -2.
    // (`count` reads the first column of the first row: here, the delivery's id.)
    let order_delivery = live
        .app
        .db
        .count(&format!(
            "SELECT id FROM inbound_events WHERE connection_id = '{shopify_id}' \
             AND body LIKE '%line_items%'"
        ))
        .await
        .expect("order delivery");
    let set_aside = live
        .app
        .db
        .execute(&format!(
            "UPDATE inbound_events SET status = 'dead' WHERE id = {order_delivery}"
        ))
        .await
        .expect("set aside");
    assert_eq!(set_aside, 1);
    live.start_worker();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while sellable(&live).await != 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the figure was not taken"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The API recovers and polling finds the sale the figure already counted.
    live.post_sim(&shopify, "/_sim/faults", json!({ "reset": true }))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while live
        .app
        .db
        .count("SELECT count(*) FROM stock_movements WHERE reason = 'reservation'")
        .await
        .expect("count")
        == 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sale was not polled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sellable(&live).await, 8, "the two units are counted once");
    // The operator replays the order's delivery: it is the sale already recorded.
    let replayed = live
        .app
        .post(
            &format!("{}/inbound-events/{order_delivery}/replay", live.base),
            json!({}),
            Some(&live.owner),
        )
        .await;
    assert_eq!(replayed.status, StatusCode::ACCEPTED, "{}", replayed.text);
    let open = "SELECT count(*) FROM inbound_events WHERE status <> 'processed'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while live.app.db.count(open).await.expect("count") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery was not applied"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sellable(&live).await, 8, "the replay changed nothing");
    live.settle(&[&shopify], 8).await;
    // A real edit on the platform (one found damaged), then a later sale: both count.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    live.post_sim(
        &shopify,
        "/_sim/adjust",
        json!({ "sku": "MV-DVD", "quantity": 7 }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while sellable(&live).await != 7 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the edit was not taken"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    live.post_sim(
        &shopify,
        "/_sim/sale",
        json!({ "sku": "MV-DVD", "quantity": 1 }),
    )
    .await;
    live.settle(&[&shopify], 6).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sellable(&live).await, 6, "a sale after the edit is its own");
    live.finish().await;
}
