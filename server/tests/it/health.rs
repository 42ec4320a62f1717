//! Health, readiness, metrics, request ids and the API document.

use actix_web::http::StatusCode;

use crate::harness::TestApp;

#[actix_web::test]
async fn liveness_and_readiness_report_their_dependencies() {
    let app = TestApp::spawn().await;
    let live = app.get("/healthz", None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body["status"], "ok");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["checks"]["database"], "ok");
    let expected_queue = if std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()) {
        "ok"
    } else {
        "embedded"
    };
    assert_eq!(ready.body["checks"]["queue"], expected_queue);
    app.cleanup().await;
}

#[actix_web::test]
async fn readiness_fails_with_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.store.clone().close().await.expect("close pool");
    let ready = app.get("/readyz", None).await;
    ready.assert_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    assert!(
        ready.body["error"]["details"]["database"]
            .as_str()
            .is_some_and(|s| s.starts_with("failing"))
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_responses_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let live = app.get("/healthz", None).await;
    let id = live
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id");
    assert!(!id.is_empty());
    app.get("/api/v1/tenants/tnt_x", None).await;
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.text.contains(
            r#"concord_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains(r#"route="/api/v1/tenants/{tenant_id}",status="401""#),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("concord_http_request_duration_seconds_bucket")
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn the_openapi_document_and_docs_ui_are_served() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(
        doc.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/tenants/{tenant_id}/members",
        "/readyz",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc.body["components"]["schemas"].get("ErrorBody").is_some());
    let redirect = app.get("/api/docs", None).await;
    assert_eq!(redirect.status, StatusCode::PERMANENT_REDIRECT);
    let ui = app.get("/api/docs/", None).await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(
        ui.text.contains("swagger"),
        "{}",
        &ui.text[..ui.text.len().min(300)]
    );
    app.cleanup().await;
}
