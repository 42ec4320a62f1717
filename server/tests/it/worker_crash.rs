//! A real `concord worker` process killed with `SIGKILL` while it applies deliveries: once
//! restarted, every delivery is applied exactly once. The long version, with the server,
//! Redis, PostgreSQL and the platforms failing too, is `concord-bench chaos`.

use std::{
    process::{Child, Command},
    time::{Duration, Instant},
};

use actix_web::http::StatusCode;
use serde_json::json;

use crate::{
    harness::TestApp,
    inventory::Stocked,
    webhooks::{custom_connection, deliver},
};

/// Deliveries sent, one unit sold each.
const DELIVERIES: i64 = 150;

fn worker(app: &TestApp, data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_concord"))
        .arg("worker")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("CONCORD_DATABASE_URL", app.url_for_another_process())
        .env("CONCORD_DATA_DIR", data_dir)
        .env("CONCORD_LOG_LEVEL", "warn")
        // A killed worker's deliveries are taken over after a second, not a minute.
        .env("CONCORD_DELIVERY_LEASE_SECS", "1")
        .env(
            "CONCORD_SESSION_KEY",
            "dGVzdC1zZXNzaW9uLWtleS10ZXN0LXNlc3Npb24ta2V5LTEyMw==",
        )
        .env(
            "CONCORD_TOKEN_ENCRYPTION_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        )
        .spawn()
        .expect("run concord worker")
}

async fn processed(app: &TestApp) -> i64 {
    app.db
        .count("SELECT count(*) FROM inbound_events WHERE status = 'processed'")
        .await
        .expect("count")
}

#[actix_web::test]
async fn a_worker_killed_while_applying_deliveries_loses_none_and_doubles_none() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@kill.test", "Kill").await;
    let s = Stocked::create(&app, &owner).await;
    let received = app
        .post(
            &format!(
                "/api/v1/tenants/{}/skus/{}/adjustments",
                owner.tenant_id, s.sku_id
            ),
            json!({ "location_id": s.warehouse_id, "reason": "receive", "quantity": 1000 }),
            Some(&owner),
        )
        .await;
    assert_eq!(received.status, StatusCode::CREATED, "{}", received.text);
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    for n in 0..DELIVERIES {
        let body = json!({ "events": [{ "event_id": format!("kill-{n}"), "occurred_at": "2026-11-28T09:00:00Z",
            "type": "stock_adjusted", "sku": "MV-DVD", "location": null, "delta": -1, "note": "sold" }] });
        let reply = deliver(
            &app,
            &c,
            &format!("msg_kill_{n}"),
            body.to_string().as_bytes(),
            &c.secret,
            now,
        )
        .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    }
    let data_dir =
        std::env::temp_dir().join(format!("concord-kill-{}", crate::harness::rand_suffix()));

    let mut first = worker(&app, &data_dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    while processed(&app).await == 0 {
        assert!(Instant::now() < deadline, "the worker applied nothing");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    let at_kill = processed(&app).await;
    assert!(
        at_kill < DELIVERIES,
        "killed before it had applied them all"
    );

    let mut second = worker(&app, &data_dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    while processed(&app).await < DELIVERIES {
        assert!(
            Instant::now() < deadline,
            "the restarted worker did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.kill().expect("stop");
    second.wait().expect("reaped");

    let movements = app
        .db
        .count("SELECT count(*) FROM stock_movements WHERE source_event_id LIKE 'kill-%'")
        .await
        .expect("count");
    let on_hand = app
        .db
        .count("SELECT CAST(sum(on_hand) AS BIGINT) FROM stock_levels")
        .await
        .expect("sum");
    assert_eq!(movements, DELIVERIES, "one movement per sale");
    assert_eq!(
        on_hand,
        1010 - DELIVERIES,
        "10 + 1000 received, each sale once"
    );
    let _ = std::fs::remove_dir_all(data_dir);
    app.cleanup().await;
}
