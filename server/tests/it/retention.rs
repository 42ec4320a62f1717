//! Retention: configurable per tenant by compliance roles, purged by the worker's daily
//! schedule, never touching orders or the stock ledger, and proven by the deletion log.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    harness::{TestApp, str_at},
    inventory::Stocked,
};

#[actix_web::test]
async fn the_schedule_purges_expired_age_evidence_and_keeps_financial_records() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@retention.test", "Retention Video").await;
    let officer = app
        .add_member(&owner, "co@retention.test", "compliance_officer")
        .await;
    let staff = app
        .add_member(&owner, "staff@retention.test", "staff")
        .await;
    let stock = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);

    let defaults = app
        .get(&format!("{base}/compliance/retention"), Some(&staff))
        .await;
    assert_eq!(
        defaults.body["policy"]["sale_evidence_days"], 1096,
        "{}",
        defaults.text
    );
    assert_eq!(defaults.body["last_run"], Value::Null);
    let policy =
        json!({ "sale_evidence_days": 1096, "age_check_failure_days": 365, "refusal_days": 1096 });
    app.send(
        Method::PUT,
        &format!("{base}/compliance/retention"),
        Some(policy.clone()),
        Some(&staff),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.send(
        Method::PUT,
        &format!("{base}/compliance/retention"),
        Some(
            json!({ "sale_evidence_days": 0, "age_check_failure_days": 365, "refusal_days": 1096 }),
        ),
        Some(&officer),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let set = app
        .send(
            Method::PUT,
            &format!("{base}/compliance/retention"),
            Some(policy),
            Some(&officer),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);

    let placed = app
        .post(&format!("{base}/connections/{}/events", stock.connection_id),
              json!({ "events": [{ "event_id": "r-1", "occurred_at": "2026-11-28T09:00:00Z", "type": "order_placed",
                  "order_id": "R-1", "status": "completed", "currency": "GBP", "total_minor": 1999, "customer": null,
                  "location": null, "lines": [{ "line_id": "1", "sku": "MV-DVD", "quantity": 1, "fulfilled_quantity": 1,
                  "unit_price_minor": 1999 }], "placed_at": "2026-11-28T09:00:00Z", "updated_at": "2026-11-28T09:00:00Z" }] }),
              Some(&owner))
        .await;
    let order = str_at(&placed.body, "/results/0/order_id");
    for checked_at in ["2022-06-01T10:00:00Z", "2026-11-28T09:05:00Z"] {
        let recorded = app
            .post(&format!("{base}/orders/{order}/evidence"),
                  json!({ "check_type": "in_person_id_sighted", "method": "driving_licence", "result": "pass",
                          "verifier": staff.user_id, "checked_at": checked_at }),
                  Some(&staff))
            .await;
        assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.text);
    }
    for at in ["2025-06-01T10:00:00Z", "2026-11-01T10:00:00Z"] {
        let logged = app
            .post(&format!("{base}/compliance/age-check-failures"),
                  json!({ "at": at, "provider": "av-co", "result": "fail", "title_category": "BBFC 18" }), Some(&staff))
            .await;
        assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    }
    let refused = app
        .post(&format!("{base}/compliance/refusals"),
              json!({ "at": "2021-01-01T00:00:00Z", "reason": "no_id", "title_category": "BBFC R18" }), Some(&staff))
        .await;
    assert_eq!(refused.status, StatusCode::CREATED, "{}", refused.text);
    let ledger_before = app
        .get(
            &format!("{base}/skus/{}/movements", stock.sku_id),
            Some(&owner),
        )
        .await
        .body;

    concord_server::worker::housekeeping(&app.state).await;

    let evidence = app
        .get(&format!("{base}/orders/{order}/compliance"), Some(&owner))
        .await;
    let kept = evidence.body["evidence"].as_array().expect("evidence");
    assert_eq!(kept.len(), 1, "{}", evidence.text);
    assert_eq!(kept[0]["checked_at"], "2026-11-28T09:05:00Z");
    let failures = app
        .get(
            &format!("{base}/compliance/age-check-failures"),
            Some(&owner),
        )
        .await;
    assert_eq!(
        failures.body.as_array().map(Vec::len),
        Some(1),
        "the 365-day period applies"
    );
    let refusals = app
        .get(&format!("{base}/compliance/refusals"), Some(&owner))
        .await;
    assert_eq!(refusals.body.as_array().map(Vec::len), Some(0));
    // Financial records are untouched: the order, its lines and the ledger.
    let kept_order = app
        .get(&format!("{base}/orders/{order}"), Some(&owner))
        .await;
    assert_eq!(kept_order.status, StatusCode::OK);
    assert_eq!(kept_order.body["lines"].as_array().map(Vec::len), Some(1));
    let ledger_after = app
        .get(
            &format!("{base}/skus/{}/movements", stock.sku_id),
            Some(&owner),
        )
        .await
        .body;
    assert_eq!(ledger_before, ledger_after);

    let log = app
        .get(&format!("{base}/compliance/deletions"), Some(&staff))
        .await;
    let entries = log.body.as_array().expect("deletion log");
    assert_eq!(entries.len(), 3, "{}", log.text);
    let of = |kind: &str| {
        entries
            .iter()
            .find(|e| e["kind"] == kind)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(of("sale_evidence")["deleted"], 1);
    assert_eq!(
        of("sale_evidence")["oldest_deleted"],
        "2022-06-01T10:00:00Z"
    );
    assert_eq!(of("age_check_failures")["deleted"], 1);
    assert_eq!(of("age_check_failures")["period_days"], 365);
    assert_eq!(of("refusals")["deleted"], 1);
    assert!(entries.iter().all(|e| e["actor"] == "system"));
    let purged = app
        .get(
            &format!("{base}/audit?action=retention.purged"),
            Some(&owner),
        )
        .await;
    assert_eq!(purged.body["items"].as_array().map(Vec::len), Some(1));
    let status = app
        .get(&format!("{base}/compliance/retention"), Some(&owner))
        .await;
    assert!(status.body["last_run"].is_string());

    // The schedule is daily: a second pass the same day does nothing.
    concord_server::worker::housekeeping(&app.state).await;
    let log = app
        .get(&format!("{base}/compliance/deletions"), Some(&owner))
        .await;
    assert_eq!(log.body.as_array().map(Vec::len), Some(3));
    // An operator may run it now; staff may not.
    app.post(
        &format!("{base}/compliance/retention/run"),
        json!({}),
        Some(&staff),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let manual = app
        .post(
            &format!("{base}/compliance/retention/run"),
            json!({}),
            Some(&officer),
        )
        .await;
    assert_eq!(manual.status, StatusCode::OK, "{}", manual.text);
    assert!(
        manual
            .body
            .as_array()
            .is_some_and(|d| d.iter().all(|e| e["deleted"] == 0))
    );
    let changes = app
        .get(
            &format!("{base}/audit?action=retention.changed"),
            Some(&owner),
        )
        .await;
    assert_eq!(
        changes.body["items"][0]["details"]["after"]["age_check_failure_days"],
        365
    );
    app.cleanup().await;
}
