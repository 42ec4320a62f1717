//! The audit log over the API: audited changes appear in chain order with linked hashes,
//! paging works, and filters are validated.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    harness::{TestApp, str_at},
    inventory::Stocked,
};

#[actix_web::test]
async fn audited_changes_are_listed_in_chain_order() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@audit.test", "Audit Video").await;
    let staff = app.add_member(&owner, "staff@audit.test", "staff").await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let stock = Stocked::create(&app, &owner).await;
    let promoted = app
        .patch(
            &format!("{base}/members/{}", staff.user_id),
            json!({ "role": "admin" }),
            Some(&owner),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    let access = app
        .send(
            actix_web::http::Method::PUT,
            &format!("{base}/connections/{}/access", stock.connection_id),
            Some(json!({ "base_url": "http://127.0.0.1:9", "credentials": { "access_token": "t0k" } })),
            Some(&owner),
        )
        .await;
    assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);

    let log = app
        .get(&format!("{base}/audit?limit=500"), Some(&staff))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let items = log.body["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
    for wanted in [
        "stock.manual_change",
        "connection.created",
        "member.role_changed",
        "connection.access_changed",
    ] {
        assert!(
            actions.contains(&wanted),
            "{wanted} missing from {actions:?}"
        );
    }
    for (i, e) in items.iter().enumerate() {
        assert_eq!(e["seq"], json!(i + 1));
        if i > 0 {
            assert_eq!(e["prev_hash"], items[i - 1]["hash"]);
        }
    }
    let role = items
        .iter()
        .find(|e| e["action"] == "member.role_changed")
        .expect("role change");
    assert_eq!(role["actor"], owner.user_id.as_str());
    assert_eq!(role["subject"], staff.user_id.as_str());
    assert_eq!(
        role["details"],
        json!({ "before": "staff", "after": "admin" })
    );
    let secret_free = items
        .iter()
        .find(|e| e["action"] == "connection.access_changed")
        .expect("access change");
    assert!(!secret_free.to_string().contains("t0k"), "{secret_free}");

    let first = app
        .get(&format!("{base}/audit?limit=1"), Some(&owner))
        .await;
    let cursor = str_at(&first.body, "/next_cursor");
    let second = app
        .get(
            &format!("{base}/audit?limit=1&cursor={cursor}"),
            Some(&owner),
        )
        .await;
    assert_eq!(second.body["items"][0]["seq"], 2);
    let filtered = app
        .get(
            &format!("{base}/audit?action=member.role_changed"),
            Some(&owner),
        )
        .await;
    assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(1));
    app.get(&format!("{base}/audit?action=rule.deleted"), Some(&owner))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.get(&format!("{base}/audit?cursor=abc"), Some(&owner))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let viewer = app.add_member(&owner, "viewer@audit.test", "viewer").await;
    let seen: Value = app.get(&format!("{base}/audit"), Some(&viewer)).await.body;
    assert!(seen["items"].is_array());
    let removed = app
        .delete(&format!("{base}/members/{}", viewer.user_id), Some(&owner))
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let log = app
        .get(&format!("{base}/audit?action=member.removed"), Some(&owner))
        .await;
    assert_eq!(log.body["items"][0]["subject"], viewer.user_id.as_str());
    assert_eq!(log.body["items"][0]["details"], json!({ "role": "viewer" }));
    app.cleanup().await;
}
