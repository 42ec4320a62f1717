//! Bad input of every kind gets a 4xx in the error envelope, never a 500, and nothing
//! stored before is affected.

use actix_web::{
    http::{Method, StatusCode, header},
    test::TestRequest,
};
use serde_json::json;

use crate::harness::{PASSWORD, TestApp, str_at};

#[actix_web::test]
async fn malformed_bodies_unknown_routes_and_wrong_methods_get_enveloped_4xx() {
    let app = TestApp::spawn_with("api_body_limit = 1024").await;
    let owner = app.signup("keep@me.test", "Kept").await;
    let raw = |body: &'static str| {
        TestRequest::post()
            .uri("/api/v1/auth/signup")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body)
    };
    app.call(raw("{\"email\": "))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    app.call(raw("not json at all"))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    app.call(raw(
        "{\"email\": 42, \"password\": [], \"organization\": null}",
    ))
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.call(raw("{}"))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.call(raw("[1,2,3]"))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let big =
        json!({ "email": "big@me.test", "password": "x".repeat(4096), "organization": "Big" });
    app.post("/api/v1/auth/signup", big, None)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let form = TestRequest::post()
        .uri("/api/v1/auth/login")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload("email=a&password=b");
    app.call(form)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    app.get("/api/v1/no-such-thing", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/definitely/not/here", Some(&owner))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.send(Method::PUT, "/api/v1/auth/login", None, None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.send(
        Method::DELETE,
        &format!("/api/v1/tenants/{}", owner.tenant_id),
        None,
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.get("/api/v1/tenants/not-an-id", Some(&owner))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get(
        &format!("/api/v1/tenants/{}/members/usr_nope", owner.tenant_id),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.patch(
        &format!(
            "/api/v1/tenants/{}/members/{}",
            owner.tenant_id, owner.user_id
        ),
        json!({ "role": "emperor" }),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let garbage_auth = TestRequest::get()
        .uri("/api/v1/me")
        .insert_header((header::AUTHORIZATION, "Basic Zm9vOmJhcg=="));
    app.call(garbage_auth)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let unknown_token = TestRequest::get()
        .uri("/api/v1/me")
        .insert_header((header::AUTHORIZATION, "Bearer cnc_forged"));
    app.call(unknown_token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");

    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "keep@me.test", "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(
        login.status,
        StatusCode::OK,
        "the account made before is intact"
    );
    assert_eq!(login.body["memberships"][0]["tenant_name"], "Kept");
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM users")
            .await
            .expect("count"),
        1
    );
    app.cleanup().await;
}

/// Any bytes posted to a connection's webhook URL get a 2xx or a 4xx, never a 5xx. Amazon
/// signs nothing, so its deliveries are accepted as hints and nothing stops them before
/// storage; its event id comes from the body.
#[actix_web::test]
async fn random_bodies_to_the_intake_get_a_2xx_or_a_4xx() {
    let app = TestApp::spawn().await;
    let owner = app.signup("intake@random.test", "Random").await;
    let created = app
        .post(
            &format!("/api/v1/tenants/{}/connections", owner.tenant_id),
            json!({ "platform": "amazon", "name": "Marketplace" }),
            Some(&owner),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = str_at(&created.body, "/id");
    let deep = "[".repeat(100_000);
    let bodies: [&[u8]; 8] = [
        b"",
        b"\0",
        b"{\"a\": \"\0\"}",
        br#"{"NotificationMetadata": {"NotificationId": "\u0000"}}"#,
        br#"{"NotificationMetadata": {"NotificationId": "n-\u0000-1"}, "Payload": {}}"#,
        br#"{"NotificationMetadata": {"NotificationId": "n-1"}}"#,
        b"\xff\xfe{}",
        deep.as_bytes(),
    ];
    for body in bodies {
        let reply = app
            .call(
                TestRequest::post()
                    .uri(&format!("/webhooks/amazon/{id}"))
                    .insert_header((header::CONTENT_TYPE, "application/json"))
                    .set_payload(body.to_vec()),
            )
            .await;
        assert!(
            reply.status.is_success() || reply.status.is_client_error(),
            "{:?}: {} {}",
            String::from_utf8_lossy(body),
            reply.status,
            reply.text
        );
    }
    app.cleanup().await;
}
