//! Orders and events: stock follows order state, events are idempotent and converge in any
//! order, the last unit goes to exactly one channel, refunds and returns restock by their
//! disposition, customers merge across channels.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    harness::{Account, TestApp, str_at},
    inventory::Stocked,
};

fn order_event(
    event_id: &str,
    kind: &str,
    order_id: &str,
    status: &str,
    qty: i64,
    fulfilled: i64,
    updated: &str,
) -> Value {
    json!({
        "event_id": event_id, "occurred_at": updated, "type": kind,
        "order_id": order_id, "status": status, "currency": "GBP", "total_minor": 1999 * qty,
        "lines": [{ "line_id": "l1", "sku": "MV-DVD", "quantity": qty, "fulfilled_quantity": fulfilled, "unit_price_minor": 1999 }],
        "customer": { "customer_id": "c-1", "email": "Buyer@Example.com", "phone": "+44 20 7946 0018", "name": "Sam Buyer" },
        "location": null, "placed_at": "2026-11-28T09:00:00Z", "updated_at": updated
    })
}

/// Places an open order for 2 units of the stocked SKU; returns its Concord id.
pub async fn place_one(app: &TestApp, who: &Account, connection_id: &str) -> String {
    let results = send(
        app,
        who,
        connection_id,
        vec![order_event(
            "v1",
            "order_placed",
            "V-1",
            "open",
            2,
            0,
            "2026-11-28T09:00:00Z",
        )],
    )
    .await;
    str_at(&results[0], "/order_id")
}

async fn send(app: &TestApp, who: &Account, connection_id: &str, events: Vec<Value>) -> Value {
    let reply = app
        .post(
            &format!(
                "/api/v1/tenants/{}/connections/{connection_id}/events",
                who.tenant_id
            ),
            json!({ "events": events }),
            Some(who),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["results"].clone()
}

async fn level(app: &TestApp, who: &Account, s: &Stocked) -> (i64, i64, i64) {
    let sku = app
        .get(
            &format!("/api/v1/tenants/{}/skus/{}", who.tenant_id, s.sku_id),
            Some(who),
        )
        .await;
    let l = &sku.body["levels"][0];
    let offer = sku.body["availability"][0]["available"]
        .as_i64()
        .unwrap_or(-1);
    (
        l["on_hand"].as_i64().unwrap_or(-1),
        l["committed"].as_i64().unwrap_or(-1),
        offer,
    )
}

#[actix_web::test]
async fn an_online_order_reserves_then_sells_and_replays_change_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@orders.test", "Orders").await;
    let s = Stocked::create(&app, &owner).await;
    let placed = order_event(
        "e1",
        "order_placed",
        "1001",
        "open",
        2,
        0,
        "2026-11-28T09:00:00Z",
    );
    let first = send(&app, &owner, &s.connection_id, vec![placed.clone()]).await;
    assert_eq!(first[0]["status"], "applied");
    assert_eq!(first[0]["movements"], 1);
    assert_eq!(level(&app, &owner, &s).await, (10, 2, 7));
    let replay = send(&app, &owner, &s.connection_id, vec![placed]).await;
    assert_eq!(
        replay[0]["movements"], 0,
        "the same event twice changes nothing"
    );
    let shipped = order_event(
        "e2",
        "order_updated",
        "1001",
        "completed",
        2,
        2,
        "2026-11-28T10:00:00Z",
    );
    send(&app, &owner, &s.connection_id, vec![shipped]).await;
    assert_eq!(level(&app, &owner, &s).await, (8, 0, 7));

    let ledger = app
        .get(
            &format!(
                "/api/v1/tenants/{}/skus/{}/movements",
                owner.tenant_id, s.sku_id
            ),
            Some(&owner),
        )
        .await;
    let reasons: Vec<_> = ledger.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(reasons, ["receive", "reservation", "release", "sale"]);
    assert_eq!(ledger.body["items"][1]["source_event_id"], "e1");
    assert_eq!(ledger.body["items"][1]["actor"], s.connection_id.as_str());

    let orders = app
        .get(
            &format!("/api/v1/tenants/{}/orders", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(orders.body["items"].as_array().map(Vec::len), Some(1));
    let order = &orders.body["items"][0];
    assert_eq!(order["status"], "completed");
    assert_eq!(order["total_minor"], 3998);
    assert_eq!(order["customer"]["email"], "buyer@example.com");
    app.cleanup().await;
}

#[actix_web::test]
async fn events_in_any_order_converge_to_the_same_state() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@converge.test", "Converge").await;
    let s = Stocked::create(&app, &owner).await;
    // An update (fulfilled) arrives before its create.
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![order_event(
            "u",
            "order_updated",
            "2001",
            "completed",
            1,
            1,
            "2026-11-28T10:00:00Z",
        )],
    )
    .await;
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![order_event(
            "p",
            "order_placed",
            "2001",
            "open",
            1,
            0,
            "2026-11-28T09:00:00Z",
        )],
    )
    .await;
    assert_eq!(level(&app, &owner, &s).await, (9, 0, 8));
    // A cancellation arrives before its create.
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![json!({ "event_id": "c", "occurred_at": "2026-11-28T11:00:00Z", "type": "order_cancelled",
                     "order_id": "2002", "updated_at": "2026-11-28T11:00:00Z" })],
    )
    .await;
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![order_event(
            "p2",
            "order_placed",
            "2002",
            "open",
            3,
            0,
            "2026-11-28T09:30:00Z",
        )],
    )
    .await;
    assert_eq!(
        level(&app, &owner, &s).await,
        (9, 0, 8),
        "a cancelled order holds nothing"
    );
    let cancelled = app
        .get(
            &format!(
                "/api/v1/tenants/{}/orders?status=cancelled",
                owner.tenant_id
            ),
            Some(&owner),
        )
        .await;
    let id = str_at(&cancelled.body, "/items/0/id");
    let detail = app
        .get(
            &format!("/api/v1/tenants/{}/orders/{id}", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(
        detail.body["lines"][0]["quantity"], 3,
        "the late create still fills in the lines"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn the_last_unit_goes_to_exactly_one_channel_and_the_other_is_held() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@race.test", "Race").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    app.post(
        &format!("{base}/skus/{}/adjustments", s.sku_id),
        json!({ "location_id": s.warehouse_id, "reason": "count", "quantity": 1 }),
        Some(&owner),
    )
    .await;
    let second = app
        .post(
            &format!("{base}/connections"),
            json!({ "platform": "woocommerce", "name": "Web 2" }),
            Some(&owner),
        )
        .await;
    let second_id = str_at(&second.body, "/id");
    app.send(
        actix_web::http::Method::PUT,
        &format!("{base}/connections/{second_id}/settings"),
        Some(json!({ "sourcing": [s.warehouse_id] })),
        Some(&owner),
    )
    .await;
    let a = order_event(
        "a1",
        "order_placed",
        "A-1",
        "open",
        1,
        0,
        "2026-11-28T09:00:00Z",
    );
    let b = order_event(
        "b1",
        "order_placed",
        "B-1",
        "open",
        1,
        0,
        "2026-11-28T09:00:00Z",
    );
    let path_a = format!("{base}/connections/{}/events", s.connection_id);
    let path_b = format!("{base}/connections/{second_id}/events");
    let (ra, rb) = tokio::join!(
        app.post(&path_a, json!({ "events": [a] }), Some(&owner)),
        app.post(&path_b, json!({ "events": [b] }), Some(&owner)),
    );
    let replies = [&ra, &rb];
    let oversold: Vec<_> = replies
        .iter()
        .filter(|r| {
            r.body["results"][0]["oversells"]
                .as_array()
                .is_some_and(|o| !o.is_empty())
        })
        .collect();
    assert_eq!(
        oversold.len(),
        1,
        "exactly one order loses: {} / {}",
        ra.text,
        rb.text
    );
    assert_eq!(
        oversold[0].body["results"][0]["oversells"][0]["policy"],
        "hold"
    );
    let held = app
        .get(&format!("{base}/orders?oversold=true"), Some(&owner))
        .await;
    assert_eq!(held.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(held.body["items"][0]["status"], "on_hold");
    let alerts = app.get(&format!("{base}/oversells"), Some(&owner)).await;
    assert_eq!(alerts.body.as_array().map(Vec::len), Some(1));
    assert_eq!(alerts.body[0]["shortfall"], 1);
    let sku = app
        .get(&format!("{base}/skus/{}", s.sku_id), Some(&owner))
        .await;
    for offer in sku.body["availability"].as_array().expect("offers") {
        assert_eq!(offer["available"], 0, "availability never goes negative");
    }
    app.cleanup().await;
}

#[actix_web::test]
async fn refunds_and_returns_restock_only_when_they_say_so_and_only_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@refund.test", "Refund").await;
    let s = Stocked::create(&app, &owner).await;
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![order_event(
            "p",
            "order_placed",
            "3001",
            "completed",
            3,
            3,
            "2026-11-28T09:00:00Z",
        )],
    )
    .await;
    assert_eq!(level(&app, &owner, &s).await, (7, 0, 6));
    let refund = json!({ "event_id": "r1", "occurred_at": "2026-11-28T12:00:00Z", "type": "refund_issued",
        "order_id": "3001", "refund_id": "RF-1", "amount_minor": 1999, "currency": "gbp",
        "restock": [{ "sku": "MV-DVD", "quantity": 1 }] });
    send(&app, &owner, &s.connection_id, vec![refund.clone(), refund]).await;
    assert_eq!(
        level(&app, &owner, &s).await,
        (8, 0, 7),
        "one restock despite the replay"
    );
    let money_only = json!({ "event_id": "r2", "occurred_at": "2026-11-28T12:30:00Z", "type": "refund_issued",
        "order_id": "3001", "refund_id": "RF-2", "amount_minor": 500, "currency": "GBP" });
    let returned = json!({ "event_id": "rt", "occurred_at": "2026-11-28T13:00:00Z", "type": "return_received",
        "order_id": "3001", "return_id": "RT-1", "lines": [
            { "sku": "MV-DVD", "quantity": 1, "disposition": "damaged" }] });
    let restocked = json!({ "event_id": "rt2", "occurred_at": "2026-11-28T13:10:00Z", "type": "return_received",
        "order_id": "3001", "return_id": "RT-2", "lines": [
            { "sku": "MV-DVD", "quantity": 1, "disposition": "restock" }] });
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![money_only, returned, restocked.clone(), restocked],
    )
    .await;
    assert_eq!(
        level(&app, &owner, &s).await,
        (9, 0, 8),
        "only the restock disposition adds stock"
    );
    let orders = app
        .get(
            &format!("/api/v1/tenants/{}/orders", owner.tenant_id),
            Some(&owner),
        )
        .await;
    let id = str_at(&orders.body, "/items/0/id");
    let detail = app
        .get(
            &format!("/api/v1/tenants/{}/orders/{id}", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(detail.body["refunds"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail.body["refunds"][0]["restocked"], true);
    assert_eq!(detail.body["refunds"][1]["restocked"], false);
    assert_eq!(detail.body["returns"].as_array().map(Vec::len), Some(2));
    app.cleanup().await;
}

#[actix_web::test]
async fn payments_before_orders_attach_and_customers_merge_across_channels() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@merge.test", "Merge").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let pos = app
        .post(
            &format!("{base}/connections"),
            json!({ "platform": "square", "name": "Till" }),
            Some(&owner),
        )
        .await;
    let pos_id = str_at(&pos.body, "/id");
    let paid = json!({ "event_id": "pay", "occurred_at": "2026-11-28T09:00:01Z", "type": "payment_captured",
        "order_id": "4001", "payment_id": "P-1", "amount_minor": 1999, "currency": "GBP" });
    send(&app, &owner, &s.connection_id, vec![paid]).await;
    send(
        &app,
        &owner,
        &s.connection_id,
        vec![order_event(
            "o",
            "order_placed",
            "4001",
            "open",
            1,
            0,
            "2026-11-28T09:00:00Z",
        )],
    )
    .await;
    let mut in_store = order_event(
        "s",
        "order_placed",
        "T-77",
        "completed",
        1,
        1,
        "2026-11-28T15:00:00Z",
    );
    in_store["customer"] = json!({ "email": null, "phone": "0044 20 7946 0018", "name": null });
    in_store["placed_at"] = json!("2026-11-28T15:00:00Z");
    send(&app, &owner, &pos_id, vec![in_store]).await;

    let online = app
        .get(
            &format!("{base}/orders?channel={}", s.connection_id),
            Some(&owner),
        )
        .await;
    assert_eq!(online.body["items"].as_array().map(Vec::len), Some(1));
    let online_id = str_at(&online.body, "/items/0/id");
    let detail = app
        .get(&format!("{base}/orders/{online_id}"), Some(&owner))
        .await;
    assert_eq!(detail.body["payments"][0]["status"], "captured");
    assert_eq!(detail.body["lines"][0]["sku_code"], "MV-DVD");
    let store = app
        .get(&format!("{base}/orders?channel={pos_id}"), Some(&owner))
        .await;
    assert_eq!(
        store.body["items"][0]["customer"]["id"], online.body["items"][0]["customer"]["id"],
        "the same phone number is the same customer"
    );
    let today = app
        .get(
            &format!("{base}/orders?from=2026-11-28T12:00:00Z"),
            Some(&owner),
        )
        .await;
    assert_eq!(today.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(today.body["items"][0]["external_id"], "T-77");
    app.cleanup().await;
}

#[actix_web::test]
async fn platform_stock_edits_and_reports_reach_the_ledger_and_discrepancy_flags() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@edit.test", "Edit").await;
    let s = Stocked::create(&app, &owner).await;
    let edit = json!({ "event_id": "adj-1", "occurred_at": "2026-11-28T09:00:00Z", "type": "stock_adjusted",
        "sku": "MV-DVD", "location": null, "delta": -3, "note": "shrinkage" });
    let results = send(&app, &owner, &s.connection_id, vec![edit.clone(), edit]).await;
    assert_eq!(results[0]["movements"], 1);
    assert_eq!(results[1]["movements"], 0);
    assert_eq!(level(&app, &owner, &s).await, (7, 0, 6));
    let report = json!({ "event_id": "rep-1", "occurred_at": "2026-11-28T09:05:00Z", "type": "stock_level_reported",
        "sku": "MV-DVD", "location": null, "quantity": 4 });
    let garbage = json!({ "event_id": "bad", "type": "order_placed" });
    let unknown = json!({ "event_id": "u", "occurred_at": "2026-11-28T09:05:00Z", "type": "stock_adjusted",
        "sku": "NOPE", "location": null, "delta": 1, "note": null });
    let results = send(
        &app,
        &owner,
        &s.connection_id,
        vec![report, garbage, unknown],
    )
    .await;
    assert_eq!(results[0]["status"], "applied");
    assert_eq!(results[1]["status"], "invalid");
    assert_eq!(results[2]["status"], "ignored");
    let flagged = app
        .get(
            &format!(
                "/api/v1/tenants/{}/inventory?discrepancies=true",
                owner.tenant_id
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(flagged.body["items"][0]["code"], "MV-DVD");
    assert_eq!(flagged.body["items"][0]["availability"][0]["reported"], 4);
    assert_eq!(flagged.body["items"][0]["discrepancy"], true);
    app.cleanup().await;
}

#[actix_web::test]
async fn the_oversell_policy_is_a_tenant_setting() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@policy.test", "Policy").await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let before = app.get(&base, Some(&owner)).await;
    assert_eq!(before.body["oversell_policy"], "hold");
    let changed = app
        .patch(
            &base,
            json!({ "oversell_policy": "backorder" }),
            Some(&owner),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["oversell_policy"], "backorder");
    assert_eq!(changed.body["name"], "Policy");
    app.patch(&base, json!({ "oversell_policy": "shrug" }), Some(&owner))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.cleanup().await;
}

#[actix_web::test]
async fn a_refused_event_is_named_and_the_others_still_land() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@refused.test", "Refused").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let kit = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": s.product_id, "code": "MV-PAIR", "components": [{ "sku_id": s.sku_id, "quantity": 2 }] }),
            Some(&owner),
        )
        .await;
    assert_eq!(kit.status, StatusCode::CREATED, "{}", kit.text);
    let adjust = |id: &str, sku: &str| {
        json!({ "event_id": id, "occurred_at": "2026-11-28T09:00:00Z", "type": "stock_adjusted",
                "sku": sku, "location": null, "delta": -1, "note": null })
    };
    let results = send(
        &app,
        &owner,
        &s.connection_id,
        vec![adjust("ok", "MV-DVD"), adjust("kit", "MV-PAIR")],
    )
    .await;
    assert_eq!(results[0]["status"], "applied");
    assert_eq!(results[0]["movements"], 1);
    assert_eq!(results[1]["status"], "rejected");
    assert!(
        results[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("kit")),
        "{results}"
    );
    assert_eq!(level(&app, &owner, &s).await, (9, 0, 8));
    app.cleanup().await;
}

#[actix_web::test]
async fn a_kit_sold_and_refunded_moves_its_components() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@kitsale.test", "Kit sale").await;
    let s = Stocked::create(&app, &owner).await;
    let kit = app
        .post(
            &format!("/api/v1/tenants/{}/skus", owner.tenant_id),
            json!({ "product_id": s.product_id, "code": "MV-PAIR", "components": [{ "sku_id": s.sku_id, "quantity": 2 }] }),
            Some(&owner),
        )
        .await;
    assert_eq!(kit.status, StatusCode::CREATED, "{}", kit.text);
    let mut sold = order_event(
        "k1",
        "order_placed",
        "K-1",
        "completed",
        1,
        1,
        "2026-11-28T09:00:00Z",
    );
    sold["lines"][0]["sku"] = json!("MV-PAIR");
    send(&app, &owner, &s.connection_id, vec![sold]).await;
    assert_eq!(
        level(&app, &owner, &s).await,
        (8, 0, 7),
        "one pair takes two discs"
    );
    let refund = json!({ "event_id": "kr", "occurred_at": "2026-11-28T12:00:00Z", "type": "refund_issued",
        "order_id": "K-1", "refund_id": "KR-1", "amount_minor": 1999, "currency": "GBP",
        "restock": [{ "sku": "MV-PAIR", "quantity": 1 }] });
    let results = send(&app, &owner, &s.connection_id, vec![refund.clone(), refund]).await;
    assert_eq!(results[0]["status"], "applied", "{results}");
    assert_eq!(
        level(&app, &owner, &s).await,
        (10, 0, 9),
        "both discs back, once"
    );
    app.cleanup().await;
}
