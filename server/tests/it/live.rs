//! Live updates: a change reaches the tenant's event stream, and only that tenant's.

use std::time::Duration;

use actix_web::http::StatusCode;
use serde_json::json;

use crate::{
    harness::{TestApp, next_chunk},
    inventory::Stocked,
};

#[actix_web::test]
async fn a_stock_change_reaches_the_tenants_stream_and_no_other() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@live.test", "Live").await;
    let other = app.signup("owner@elsewhere.test", "Elsewhere").await;
    let s = Stocked::create(&app, &owner).await;
    let (status, mut mine) = app
        .open_stream(&format!("/api/v1/tenants/{}/live", owner.tenant_id), &owner)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mut theirs) = app
        .open_stream(&format!("/api/v1/tenants/{}/live", other.tenant_id), &other)
        .await;
    let received = app
        .post(
            &format!(
                "/api/v1/tenants/{}/skus/{}/adjustments",
                owner.tenant_id, s.sku_id
            ),
            json!({ "location_id": s.warehouse_id, "reason": "receive", "quantity": 5 }),
            Some(&owner),
        )
        .await;
    assert_eq!(received.status, StatusCode::CREATED);
    let frame = next_chunk(&mut mine, Duration::from_secs(5))
        .await
        .expect("an event");
    assert!(frame.starts_with("event: stock\n"), "{frame}");
    assert!(
        frame.contains(&format!(r#""sku_id":"{}""#, s.sku_id)),
        "{frame}"
    );
    assert!(frame.contains(r#""available":14"#), "{frame}");
    assert_eq!(
        next_chunk(&mut theirs, Duration::from_millis(300)).await,
        None,
        "other tenants see nothing"
    );
    app.cleanup().await;
}
