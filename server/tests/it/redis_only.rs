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

/// A Redis of this test's own on a free port, so it can be stopped without touching the
/// shared one.
struct PrivateRedis {
    child: std::process::Child,
    port: u16,
}

impl PrivateRedis {
    fn start(port: u16) -> Self {
        let mut child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, port };
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the private Redis did not start");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[actix_web::test]
async fn deliveries_are_accepted_and_applied_while_redis_is_down() {
    use crate::{
        inventory::Stocked,
        webhooks::{custom_connection, deliver, sale},
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut redis = PrivateRedis::start(port);
    let toml = format!(
        "redis_url = \"redis://127.0.0.1:{}\"\nredis_prefix = \"down-{}\"",
        redis.port,
        rand_suffix()
    );
    let app = TestApp::spawn_on(TestDatabase::create().await.expect("db"), &toml).await;
    let owner = app.signup("owner@down.test", "Down").await;
    let s = Stocked::create(&app, &owner).await;
    let c = custom_connection(&app, &owner, &s).await;
    let now = chrono::Utc::now().timestamp();
    let first = deliver(&app, &c, "msg_down_1", &sale("down-1"), &c.secret, now).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    redis.stop();
    // Redis is gone: the intake does not need it, the worker applies and only the live
    // update is lost.
    let second = deliver(&app, &c, "msg_down_2", &sale("down-2"), &c.secret, now).await;
    assert_eq!(second.status, StatusCode::ACCEPTED, "{}", second.text);
    let handled = concord_server::worker::process_inbound(&app.state).await;
    assert_eq!(handled, 2);
    let level = app
        .get(
            &format!("/api/v1/tenants/{}/skus/{}", owner.tenant_id, s.sku_id),
            Some(&owner),
        )
        .await;
    assert_eq!(
        level.body["levels"][0]["on_hand"], 2,
        "10 received, 4 sold twice"
    );
    let _redis = PrivateRedis::start(port);
    let third = deliver(&app, &c, "msg_down_3", &sale("down-3"), &c.secret, now).await;
    assert_eq!(third.status, StatusCode::ACCEPTED);
    app.cleanup().await;
}
