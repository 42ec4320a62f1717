//! Webhook intake for `standard-webhooks` connections: verified on the raw bytes, stored once, answered
//! at once, applied by the worker; bad deliveries refused and nothing stored.

use actix_web::{
    http::{StatusCode, header},
    test::TestRequest,
};
use base64::Engine;
use concord_connectors::standard_webhooks;
use concord_server::worker;
use serde_json::{Value, json};

use crate::{
    harness::{Account, Reply, TestApp, str_at},
    inventory::Stocked,
};

pub(crate) struct Custom {
    pub(crate) connection_id: String,
    pub(crate) secret: String,
}

pub(crate) async fn custom_connection(app: &TestApp, owner: &Account, s: &Stocked) -> Custom {
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let created = app
        .post(
            &format!("{base}/connections"),
            json!({ "platform": "standard-webhooks", "name": "Back office" }),
            Some(owner),
        )
        .await;
    let connection_id = str_at(&created.body, "/id");
    app.send(
        actix_web::http::Method::PUT,
        &format!("{base}/connections/{connection_id}/settings"),
        Some(json!({ "sourcing": [s.warehouse_id] })),
        Some(owner),
    )
    .await;
    let issued = app
        .post(
            &format!("{base}/connections/{connection_id}/webhook-secret"),
            json!({}),
            Some(owner),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    assert!(
        str_at(&issued.body, "/url")
            .ends_with(&format!("/webhooks/standard-webhooks/{connection_id}"))
    );
    Custom {
        connection_id,
        secret: str_at(&issued.body, "/secret"),
    }
}

pub(crate) fn sale(event_id: &str) -> Vec<u8> {
    json!({ "events": [{ "event_id": event_id, "occurred_at": "2026-11-28T09:00:00Z", "type": "stock_adjusted",
                         "sku": "MV-DVD", "location": null, "delta": -4, "note": "sold at the fair" }] })
    .to_string()
    .into_bytes()
}

pub(crate) async fn deliver(
    app: &TestApp,
    c: &Custom,
    id: &str,
    body: &[u8],
    secret: &str,
    timestamp: i64,
) -> Reply {
    let ts = timestamp.to_string();
    let signature = standard_webhooks::signature(secret, id, &ts, body).expect("sign");
    let req = TestRequest::post()
        .uri(&format!("/webhooks/standard-webhooks/{}", c.connection_id))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header(("webhook-id", id))
        .insert_header(("webhook-timestamp", ts))
        .insert_header(("webhook-signature", format!("v1,{signature}")))
        .set_payload(body.to_vec());
    app.call(req).await
}

async fn on_hand(app: &TestApp, owner: &Account, s: &Stocked) -> Value {
    app.get(
        &format!("/api/v1/tenants/{}/skus/{}", owner.tenant_id, s.sku_id),
        Some(owner),
    )
    .await
    .body["levels"][0]["on_hand"]
        .clone()
}

#[actix_web::test]
async fn a_signed_delivery_is_stored_once_and_applied_by_the_worker() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@hooks.test", "Hooks").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    let first = deliver(&app, &c, "msg_1", &sale("e-1"), &c.secret, now).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    assert_eq!(
        on_hand(&app, &owner, &s).await,
        10,
        "answered before applying"
    );
    let again = deliver(&app, &c, "msg_1", &sale("e-1"), &c.secret, now).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["duplicate"], true);

    assert_eq!(concord_server::worker::process_inbound(&app.state).await, 1);
    assert_eq!(on_hand(&app, &owner, &s).await, 6);
    assert_eq!(
        concord_server::worker::process_inbound(&app.state).await,
        0,
        "nothing left, nothing applied twice"
    );
    let log = app
        .get(
            &format!("/api/v1/tenants/{}/inbound-events", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(log.body.as_array().map(Vec::len), Some(1));
    assert_eq!(log.body[0]["status"], "processed");
    let metrics = app.get("/metrics", None).await;
    assert!(
        metrics.text.contains(
            r#"concord_webhook_deliveries_total{kind="duplicate",platform="standard-webhooks"} 1"#
        ),
        "{}",
        metrics.text
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn forged_stale_oversized_and_misaddressed_deliveries_are_refused_and_not_stored() {
    let app = TestApp::spawn_with("webhook_body_limit = 2048").await;
    let owner = app.signup("owner@forged.test", "Forged").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    deliver(
        &app,
        &c,
        "msg_f",
        &sale("f"),
        "whsec_c2VjcmV0c2VjcmV0c2VjcmV0",
        now,
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "invalid_signature");
    deliver(&app, &c, "msg_s", &sale("s"), &c.secret, now - 3600)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_signature");
    let big = format!("{{\"events\":[],\"pad\":\"{}\"}}", "x".repeat(4096));
    deliver(&app, &c, "msg_b", big.as_bytes(), &c.secret, now)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let unsigned = TestRequest::post()
        .uri(&format!("/webhooks/standard-webhooks/{}", c.connection_id))
        .set_payload(sale("u"));
    app.call(unsigned)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_signature");
    let elsewhere = Custom {
        connection_id: "con_00000000000000000000000000000000".into(),
        secret: c.secret.clone(),
    };
    deliver(&app, &elsewhere, "msg_x", &sale("x"), &c.secret, now)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let wrong_platform = TestRequest::post()
        .uri(&format!("/webhooks/shopify/{}", c.connection_id))
        .set_payload(sale("w"));
    app.call(wrong_platform)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let log = app
        .get(
            &format!("/api/v1/tenants/{}/inbound-events", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(
        log.body.as_array().map(Vec::len),
        Some(0),
        "nothing refused was stored"
    );
    assert_eq!(on_hand(&app, &owner, &s).await, 10);
    app.cleanup().await;
}

#[actix_web::test]
async fn a_delivery_that_cannot_apply_becomes_a_dead_letter_and_can_be_replayed() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@dead.test", "Dead").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    let garbage = br#"{"not":"events"}"#;
    assert_eq!(
        deliver(&app, &c, "msg_g", garbage, &c.secret, now)
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let kit = app
        .post(
            &format!("/api/v1/tenants/{}/skus", owner.tenant_id),
            json!({ "product_id": s.product_id, "code": "MV-TWO", "components": [{ "sku_id": s.sku_id, "quantity": 2 }] }),
            Some(&owner),
        )
        .await;
    assert_eq!(kit.status, StatusCode::CREATED);
    let on_kit = json!({ "events": [{ "event_id": "k", "occurred_at": "2026-11-28T09:00:00Z", "type": "stock_adjusted",
                                      "sku": "MV-TWO", "location": null, "delta": 1, "note": null }] })
    .to_string();
    assert_eq!(
        deliver(&app, &c, "msg_k", on_kit.as_bytes(), &c.secret, now)
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(concord_server::worker::process_inbound(&app.state).await, 2);
    let dead = app
        .get(
            &format!(
                "/api/v1/tenants/{}/inbound-events?status=dead",
                owner.tenant_id
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(
        dead.body.as_array().map(Vec::len),
        Some(1),
        "an unreadable body cannot succeed: {}",
        dead.text
    );
    assert!(
        dead.body[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("not a batch"))
    );
    let failed = app
        .get(
            &format!(
                "/api/v1/tenants/{}/inbound-events?status=failed",
                owner.tenant_id
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(
        failed.body.as_array().map(Vec::len),
        Some(1),
        "a refused event is retried later: {}",
        failed.text
    );
    assert!(
        failed.body[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("kit"))
    );
    assert_eq!(
        concord_server::worker::process_inbound(&app.state).await,
        0,
        "not due again yet"
    );
    let id = dead.body[0]["id"].as_i64().expect("id");
    let replayed = app
        .post(
            &format!(
                "/api/v1/tenants/{}/inbound-events/{id}/replay",
                owner.tenant_id
            ),
            json!({}),
            Some(&owner),
        )
        .await;
    assert_eq!(replayed.status, StatusCode::ACCEPTED);
    assert_eq!(
        concord_server::worker::process_inbound(&app.state).await,
        1,
        "the replayed one is tried again"
    );
    let viewer = app.add_member(&owner, "viewer@dead.test", "viewer").await;
    app.post(
        &format!(
            "/api/v1/tenants/{}/inbound-events/{id}/replay",
            owner.tenant_id
        ),
        json!({}),
        Some(&viewer),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.cleanup().await;
}

#[actix_web::test]
async fn signing_secrets_are_stored_encrypted_and_only_for_custom_connections() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@sealed.test", "Sealed").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let key = c.secret.trim_start_matches("whsec_").to_owned();
    let plain = app
        .db
        .count(&format!(
            "SELECT count(*) FROM connections WHERE webhook_secret LIKE '%{key}%'"
        ))
        .await
        .expect("count");
    assert_eq!(plain, 0, "the secret is not stored in clear");
    let sealed = app
        .db
        .count("SELECT count(*) FROM connections WHERE webhook_secret LIKE 'v1.%'")
        .await
        .expect("count");
    assert_eq!(sealed, 1);
    app.post(
        &format!(
            "/api/v1/tenants/{}/connections/{}/webhook-secret",
            owner.tenant_id, s.connection_id
        ),
        json!({}),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    app.cleanup().await;
}

#[actix_web::test]
async fn a_delivery_taken_by_a_worker_that_dies_is_taken_again_and_applied_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@crash.test", "Crash").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    let accepted = deliver(&app, &c, "msg_crash", &sale("crash-1"), &c.secret, now).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    // A worker leases it and dies before recording anything.
    let leased = app
        .state
        .store
        .claim_inbound(10, chrono::Duration::milliseconds(200))
        .await
        .expect("claim");
    assert_eq!(leased.len(), 1);
    assert_eq!(
        worker::process_inbound(&app.state).await,
        0,
        "leased to the dead worker"
    );
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    // Another worker takes it over once the lease runs out, applies it, dies before
    // settling; the third applies nothing new: the ledger keys the event.
    let again = app
        .state
        .store
        .claim_inbound(10, chrono::Duration::milliseconds(200))
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    let events = vec![serde_json::from_value::<concord_domain::events::InboundEvent>(
        json!({ "event_id": "crash-1", "occurred_at": "2026-11-28T09:00:00Z", "type": "stock_adjusted",
                "sku": "MV-DVD", "location": null, "delta": -4, "note": "sold at the fair" }),
    )
    .expect("event")];
    app.state
        .store
        .scoped(&again[0].scope)
        .apply_events(&again[0].connection_id, &events)
        .await
        .expect("applied");
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert_eq!(worker::process_inbound(&app.state).await, 1);
    assert_eq!(
        on_hand(&app, &owner, &s).await,
        6,
        "10 received, 4 sold once"
    );
    let listed = app
        .get(
            &format!("/api/v1/tenants/{}/inbound-events", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(listed.body[0]["status"], "processed");
    app.cleanup().await;
}

#[actix_web::test]
async fn deliveries_arriving_together_are_each_stored_once_and_applied_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@burst.test", "Burst").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    let bodies: Vec<(String, Vec<u8>)> = (0..8)
        .map(|n| {
            let body = json!({ "events": [{ "event_id": format!("burst-{n}"), "occurred_at": "2026-11-28T09:00:00Z",
                "type": "stock_adjusted", "sku": "MV-DVD", "location": null, "delta": -1, "note": null }] });
            (format!("msg_burst_{n}"), body.to_string().into_bytes())
        })
        .collect();
    // Every delivery twice, all at once: some copies land in the same commit.
    let replies = futures_util::future::join_all(
        bodies
            .iter()
            .chain(bodies.iter())
            .map(|(id, body)| deliver(&app, &c, id, body, &c.secret, now)),
    )
    .await;
    let accepted = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    let duplicates = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK && r.body["duplicate"] == true)
        .count();
    assert_eq!((accepted, duplicates), (8, 8), "one copy of each is new");
    while worker::process_inbound(&app.state).await > 0 {}
    assert_eq!(
        on_hand(&app, &owner, &s).await,
        2,
        "10 received, 8 sold once"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn rotating_the_encryption_key_reseals_stored_secrets() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@rotate.test", "Rotate").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    // The same database, now with a new key and the old one listed as previous.
    let new_key = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleSE=";
    let old_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let settings = concord_server::config::Settings::from_toml(&format!(
        "data_dir = {:?}\nsession_key = \"dGVzdC1zZXNzaW9uLWtleS10ZXN0LXNlc3Npb24ta2V5LTEyMw==\"\n\
         token_encryption_key = \"{new_key}\"\nprevious_token_encryption_keys = \"{old_key}\"\n",
        std::env::temp_dir().display().to_string()
    ))
    .expect("settings");
    let rotated = concord_server::state::AppState::build(settings, app.state.store.clone())
        .await
        .expect("state");
    assert_eq!(
        concord_server::rotate_key::reseal_all(&rotated)
            .await
            .expect("resealed"),
        1
    );
    let sealed = app
        .state
        .store
        .sealed_secrets()
        .await
        .expect("secrets")
        .remove(0)
        .webhook_secret
        .expect("a webhook secret");
    let key = base64::engine::general_purpose::STANDARD
        .decode(new_key)
        .expect("key");
    let new_only = concord_server::secret_box::SecretBox::new(&key).expect("box");
    assert_eq!(
        new_only
            .open(&sealed)
            .expect("opens with the new key alone"),
        c.secret
    );
    assert!(
        app.state.secrets.open(&sealed).is_err(),
        "the old key no longer opens it"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn a_changed_signing_secret_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@rekey.test", "Rekey").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    let first = deliver(&app, &c, "msg_a", &sale("a"), &c.secret, now).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    // A new secret issued here: the old one stops at once, the new one works at once.
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let reissued = app
        .post(
            &format!("{base}/connections/{}/webhook-secret", c.connection_id),
            json!({}),
            Some(&owner),
        )
        .await;
    let second = str_at(&reissued.body, "/secret");
    deliver(&app, &c, "msg_b", &sale("b"), &c.secret, now)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_signature");
    let by_new = deliver(&app, &c, "msg_c", &sale("c"), &second, now).await;
    assert_eq!(by_new.status, StatusCode::ACCEPTED, "{}", by_new.text);
    // A secret changed by another server process: the first delivery signed with it reads
    // the connection again instead of being refused.
    let third = format!(
        "{}{}",
        standard_webhooks::SECRET_PREFIX,
        base64::engine::general_purpose::STANDARD.encode([7u8; 24])
    );
    let sealed = app.state.secrets.seal(&third).expect("seal");
    let changed = app
        .db
        .execute(&format!(
            "UPDATE connections SET webhook_secret = '{sealed}' WHERE id = '{}'",
            c.connection_id
        ))
        .await
        .expect("update");
    assert_eq!(changed, 1);
    let by_third = deliver(&app, &c, "msg_d", &sale("d"), &third, now).await;
    assert_eq!(by_third.status, StatusCode::ACCEPTED, "{}", by_third.text);
    // Disconnected: refused at once.
    let gone = app
        .send(
            actix_web::http::Method::DELETE,
            &format!("{base}/connections/{}", c.connection_id),
            None,
            Some(&owner),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    deliver(&app, &c, "msg_e", &sale("e"), &third, now)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_signature");
    app.cleanup().await;
}
