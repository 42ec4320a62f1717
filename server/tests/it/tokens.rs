//! Personal API tokens: scoped to one tenant, capped by role, revocable.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, str_at};

#[actix_web::test]
async fn a_token_opens_only_its_tenant_and_dies_when_revoked() {
    let app = TestApp::spawn().await;
    let agency = app.signup("ops@agency.test", "Store One").await;
    let second = app
        .post(
            "/api/v1/tenants",
            json!({ "name": "Store Two" }),
            Some(&agency),
        )
        .await;
    let second_id = str_at(&second.body, "/id");
    let token = app.token_for(&agency, None).await;

    let tenant = app
        .get(
            &format!("/api/v1/tenants/{}", agency.tenant_id),
            Some(&token),
        )
        .await;
    assert_eq!(tenant.status, StatusCode::OK);
    assert_eq!(tenant.body["name"], "Store One");
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(1));
    assert!(me.body["csrf_token"].is_null());
    app.get(&format!("/api/v1/tenants/{second_id}"), Some(&token))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(
        "/api/v1/tenants",
        json!({ "name": "Via token" }),
        Some(&token),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let renamed = app
        .patch(
            &format!("/api/v1/tenants/{}", agency.tenant_id),
            json!({ "name": "Renamed by script" }),
            Some(&token),
        )
        .await;
    assert_eq!(
        renamed.status,
        StatusCode::OK,
        "token writes need no CSRF header"
    );

    let listed = app
        .get(
            &format!("/api/v1/tenants/{}/api-tokens", agency.tenant_id),
            Some(&agency),
        )
        .await;
    let entry = &listed.body[0];
    assert!(entry.get("secret").is_none(), "secrets are shown once");
    assert!(
        entry["prefix"]
            .as_str()
            .is_some_and(|p| p.starts_with("cnc_"))
    );
    assert!(entry["last_used_at"].is_string());
    let id = str_at(entry, "/id");
    let revoked = app
        .delete(
            &format!("/api/v1/tenants/{}/api-tokens/{id}", agency.tenant_id),
            Some(&agency),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/me", Some(&token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.cleanup().await;
}

#[actix_web::test]
async fn tokens_cannot_exceed_their_owners_role() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@tok.test", "Tok").await;
    let staff = app.add_member(&owner, "staff@tok.test", "staff").await;
    app.post(
        &format!("/api/v1/tenants/{}/api-tokens", owner.tenant_id),
        json!({ "name": "x", "role": "admin" }),
        Some(&staff),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let read_only = app.token_for(&owner, Some("viewer")).await;
    app.patch(
        &format!("/api/v1/tenants/{}", owner.tenant_id),
        json!({ "name": "No" }),
        Some(&read_only),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let staff_token = app.token_for(&staff, None).await;
    let demoted = app
        .patch(
            &format!(
                "/api/v1/tenants/{}/members/{}",
                owner.tenant_id, staff.user_id
            ),
            json!({ "role": "viewer" }),
            Some(&owner),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK);
    let me = app.get("/api/v1/me", Some(&staff_token)).await;
    assert_eq!(
        me.body["memberships"][0]["role"], "viewer",
        "a token follows its owner's demotion"
    );

    let removed = app
        .delete(
            &format!(
                "/api/v1/tenants/{}/members/{}",
                owner.tenant_id, staff.user_id
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/me", Some(&staff_token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.cleanup().await;
}

#[actix_web::test]
async fn members_see_their_own_tokens_and_admins_see_all() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@list.test", "List").await;
    let staff = app.add_member(&owner, "staff@list.test", "staff").await;
    app.token_for(&owner, None).await;
    app.token_for(&staff, None).await;
    let path = format!("/api/v1/tenants/{}/api-tokens", owner.tenant_id);
    assert_eq!(
        app.get(&path, Some(&owner))
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let own = app.get(&path, Some(&staff)).await;
    assert_eq!(own.body.as_array().map(Vec::len), Some(1));
    assert_eq!(own.body[0]["user_id"], staff.user_id.as_str());
    let owners_token = app
        .get(&path, Some(&owner))
        .await
        .body
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["user_id"] == owner.user_id.as_str())
        .map(|t| str_at(t, "/id"))
        .expect("owner's token");
    app.delete(&format!("{path}/{owners_token}"), Some(&staff))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(
        &path,
        json!({ "name": "bad", "expires_in_days": 0 }),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.cleanup().await;
}

#[actix_web::test]
async fn a_token_cannot_remove_its_owner_from_the_tenant() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@leave.test", "Leave").await;
    let viewer = app.add_member(&owner, "viewer@leave.test", "viewer").await;
    let token = app.token_for(&viewer, None).await;
    app.delete(
        &format!(
            "/api/v1/tenants/{}/members/{}",
            owner.tenant_id, viewer.user_id
        ),
        Some(&token),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::OK
    );
    app.cleanup().await;
}
