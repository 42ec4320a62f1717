//! What the dashboard stands on: the bundle served at `/` and the app's paths, the
//! portfolio, connection health, disconnecting, and sales analytics.

use actix_web::{
    http::{Method, StatusCode},
    test::TestRequest,
};
use serde_json::{Value, json};

use crate::{
    harness::{TestApp, rand_suffix, str_at},
    inventory::Stocked,
};

#[actix_web::test]
async fn the_bundle_is_served_gzipped_and_the_apps_paths_get_its_page() {
    let dir = std::env::temp_dir().join(format!("concord-dist-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Concord</title>",
    )
    .expect("write");
    std::fs::write(dir.join("dashboard.js"), "export default 1;").expect("write");
    std::fs::write(dir.join("dashboard.js.gz"), b"\x1f\x8bpretend").expect("write");
    let app = TestApp::spawn_with(&format!("dashboard_dir = {dir:?}\n")).await;
    for path in [
        "/",
        "/inventory",
        "/connections/con_1?connected=1",
        "/settings",
    ] {
        let page = app.call(TestRequest::get().uri(path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.text.contains("<title>Concord</title>"),
            "{path}: {}",
            page.text
        );
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    }
    let plain = app.call(TestRequest::get().uri("/dashboard.js")).await;
    assert_eq!(plain.text, "export default 1;");
    assert_eq!(
        header(&plain, "content-type"),
        "text/javascript; charset=utf-8"
    );
    let zipped = app
        .call(
            TestRequest::get()
                .uri("/dashboard.js")
                .insert_header(("accept-encoding", "gzip, br")),
        )
        .await;
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    let missing = app.call(TestRequest::get().uri("/style.css")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(TestRequest::get().uri("/not-a-page")).await.status,
        StatusCode::NOT_FOUND
    );
    app.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn without_a_built_bundle_the_site_says_how_to_build_it() {
    let app = TestApp::spawn_with("dashboard_dir = \"/nonexistent/dist\"\n").await;
    let page = app.call(TestRequest::get().uri("/")).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text.contains("-p xtask"), "{}", page.text);
    app.cleanup().await;
}

#[actix_web::test]
async fn the_portfolio_shows_each_of_ones_organizations_and_no_other() {
    let app = TestApp::spawn().await;
    let agency = app.signup("agency@portfolio.test", "First Shop").await;
    let stocked = Stocked::create(&app, &agency).await;
    let second = app
        .post(
            "/api/v1/tenants",
            json!({ "name": "Second Shop" }),
            Some(&agency),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let other = app.signup("other@portfolio.test", "Someone Else").await;
    Stocked::create(&app, &other).await;

    let portfolio = app.get("/api/v1/portfolio", Some(&agency)).await;
    assert_eq!(portfolio.status, StatusCode::OK, "{}", portfolio.text);
    let rows = portfolio.body.as_array().expect("rows");
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["tenant_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{}", portfolio.text);
    assert!(ids.contains(&agency.tenant_id.as_str()));
    assert!(ids.contains(&str_at(&second.body, "/id").as_str()));
    assert!(!ids.contains(&other.tenant_id.as_str()));
    let first = rows
        .iter()
        .find(|r| r["tenant_id"] == agency.tenant_id.as_str())
        .expect("first");
    // The connection sells but has no access yet: it is not OK.
    assert_eq!(first["connections"], 1);
    assert_eq!(first["connections_ok"], 0);
    assert_eq!(first["holds"], 0);
    assert_eq!(first["dead_letters"], 0);

    // An API token sees its own organization only.
    let token = app.token_for(&agency, None).await;
    let seen = app.get("/api/v1/portfolio", Some(&token)).await;
    assert_eq!(seen.body.as_array().map(Vec::len), Some(1));
    assert_eq!(seen.body[0]["tenant_id"], agency.tenant_id.as_str());
    assert_eq!(
        app.get("/api/v1/portfolio", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let _ = stocked;
    app.cleanup().await;
}

#[actix_web::test]
async fn connections_show_their_health_and_disconnecting_stops_them() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@health.test", "Health Video").await;
    let stocked = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let connection = format!("{base}/connections/{}", stocked.connection_id);
    let shown = app.get(&connection, Some(&owner)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(shown.body["push_errors"], 0);
    assert_eq!(shown.body["lag_seconds"], Value::Null);
    assert_eq!(
        shown.body["simulator_url"],
        Value::Null,
        "only the demo names simulators"
    );
    // Shopify's bucket is untouched: all of its burst is available.
    let headroom = &shown.body["rate_headroom"];
    assert!(
        headroom["burst"].as_f64().is_some_and(|b| b > 0.0),
        "{}",
        shown.text
    );
    assert_eq!(headroom["available"], headroom["burst"]);

    let access = app
        .send(
            Method::PUT,
            &format!("{connection}/access"),
            Some(
                json!({ "base_url": "http://127.0.0.1:9", "credentials": { "access_token": "t" },
                          "webhook_secret": "hook-secret" }),
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(access.status, StatusCode::NO_CONTENT, "{}", access.text);
    assert_eq!(
        app.get(&connection, Some(&owner)).await.body["status"],
        "active"
    );

    let staff = app.add_member(&owner, "staff@health.test", "staff").await;
    app.delete(&connection, Some(&staff))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let gone = app.delete(&connection, Some(&owner)).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let after = app.get(&connection, Some(&owner)).await;
    assert_eq!(after.body["status"], "disconnected");
    // Its deliveries are refused now that Concord holds no secret for it.
    let delivery = app
        .call(
            TestRequest::post()
                .uri(&format!("/webhooks/shopify/{}", stocked.connection_id))
                .insert_header(("x-shopify-hmac-sha256", "AAAA"))
                .insert_header(("x-shopify-topic", "orders/create"))
                .set_payload("{}"),
        )
        .await;
    assert!(delivery.status.is_client_error(), "{}", delivery.text);
    app.cleanup().await;
}

#[actix_web::test]
async fn sales_are_summed_per_channel_per_day_and_store_against_online() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@analytics.test", "Analytics Video").await;
    let stocked = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let till = app
        .post(
            &format!("{base}/connections"),
            json!({ "platform": "square", "name": "Till" }),
            Some(&owner),
        )
        .await;
    let till_id = str_at(&till.body, "/id");
    let configured = app
        .send(
            Method::PUT,
            &format!("{base}/connections/{till_id}/settings"),
            Some(json!({ "safety_buffer": 0, "allocation_cap": null, "sourcing": [stocked.warehouse_id] })),
            Some(&owner),
        )
        .await;
    assert_eq!(configured.status, StatusCode::OK, "{}", configured.text);
    let now = chrono::Utc::now().to_rfc3339();
    let order = |id: &str, qty: i64| {
        json!({ "event_id": id, "occurred_at": now, "type": "order_placed", "order_id": id, "status": "open",
                "currency": "GBP", "total_minor": 1999 * qty,
                "lines": [{ "line_id": "l1", "sku": "MV-DVD", "quantity": qty, "fulfilled_quantity": 0, "unit_price_minor": 1999 }],
                "customer": null, "location": null, "placed_at": now, "updated_at": now })
    };
    for (connection, events) in [
        (
            &stocked.connection_id,
            vec![order("web-1", 2), order("web-2", 1)],
        ),
        (&till_id, vec![order("till-1", 3)]),
    ] {
        let sent = app
            .post(
                &format!("{base}/connections/{connection}/events"),
                json!({ "events": events }),
                Some(&owner),
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    }
    let sales = app
        .get(&format!("{base}/analytics/sales?days=7"), Some(&owner))
        .await;
    assert_eq!(sales.status, StatusCode::OK, "{}", sales.text);
    let channel = |id: &str| {
        sales.body["by_channel"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["connection_id"] == id).cloned())
            .expect("channel")
    };
    let web = channel(&stocked.connection_id);
    assert_eq!(
        (
            web["orders"].clone(),
            web["units"].clone(),
            web["revenue_minor"].clone()
        ),
        (json!(2), json!(3), json!(5997))
    );
    let store = channel(&till_id);
    assert_eq!(
        (
            store["orders"].clone(),
            store["units"].clone(),
            store["revenue_minor"].clone()
        ),
        (json!(1), json!(3), json!(5997))
    );
    let days = sales.body["by_day"].as_array().expect("days");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["orders"], 3);
    assert_eq!(days[0]["revenue_minor"], 11994);
    let kinds: Vec<(Value, Value)> = sales.body["by_kind"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| (k["kind"].clone(), k["orders"].clone()))
        .collect();
    assert!(kinds.contains(&(json!("store"), json!(1))), "{kinds:?}");
    assert!(kinds.contains(&(json!("online"), json!(2))), "{kinds:?}");
    app.cleanup().await;
}

fn header(reply: &crate::harness::Reply, name: &str) -> String {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
