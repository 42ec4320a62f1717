//! Redis-backed behaviour; run with `REDIS_URL=redis://…` (profile `services`).

use actix_web::http::StatusCode;
use concord_storage::test_support::TestDatabase;
use serde_json::json;

use crate::harness::{PASSWORD, TestApp, rand_suffix};

#[actix_web::test]
async fn sign_in_limits_are_shared_by_every_server_instance() {
    let redis = std::env::var("REDIS_URL").expect("these tests need REDIS_URL");
    let prefix = format!("concord-test-{}", rand_suffix());
    let toml = format!("redis_url = {redis:?}\nredis_prefix = {prefix:?}\nlogin_max_failures = 2");
    let first = TestApp::spawn_on(TestDatabase::create().await.expect("db"), &toml).await;
    let second = TestApp::spawn_on(TestDatabase::create().await.expect("db"), &toml).await;
    second.signup("shared@limit.test", "Shared").await;
    for _ in 0..2 {
        let reply = first
            .post(
                "/api/v1/auth/login",
                json!({ "email": "shared@limit.test", "password": "wrong wrong wrong" }),
                None,
            )
            .await;
        reply.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let limited = second
        .post(
            "/api/v1/auth/login",
            json!({ "email": "shared@limit.test", "password": PASSWORD }),
            None,
        )
        .await;
    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    first.cleanup().await;
    second.cleanup().await;
}

#[actix_web::test]
async fn live_updates_reach_streams_served_by_another_instance() {
    let redis = std::env::var("REDIS_URL").expect("these tests need REDIS_URL");
    let prefix = format!("concord-test-{}", rand_suffix());
    let toml = format!("redis_url = {redis:?}\nredis_prefix = {prefix:?}");
    let publisher = TestApp::spawn_on(TestDatabase::create().await.expect("db"), &toml).await;
    let server = TestApp::spawn_on(TestDatabase::create().await.expect("db"), &toml).await;
    let owner = server.signup("owner@fanout.test", "Fanout").await;
    let (_, mut stream) = server
        .open_stream(&format!("/api/v1/tenants/{}/live", owner.tenant_id), &owner)
        .await;
    publisher
        .state
        .live
        .publish(concord_server::live::LiveEvent {
            tenant_id: owner.tenant_id.clone(),
            kind: "order".into(),
            data: json!({ "order_id": "ord_from_elsewhere" }),
        })
        .await;
    let frame = crate::harness::next_chunk(&mut stream, std::time::Duration::from_secs(5)).await;
    let frame = frame.expect("the event crossed instances");
    assert!(frame.contains("ord_from_elsewhere"), "{frame}");
    publisher.cleanup().await;
    server.cleanup().await;
}
