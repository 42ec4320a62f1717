//! Sign-up, sign-in, sessions, CSRF and the sign-in rate limit.

use actix_web::{
    cookie::SameSite,
    http::{StatusCode, header},
    test::TestRequest,
};
use serde_json::json;

use crate::harness::{Account, Credential, PASSWORD, TestApp, str_at};

#[actix_web::test]
async fn signup_creates_an_organization_its_owner_and_a_session() {
    let app = TestApp::spawn().await;
    let reply = app
        .post(
            "/api/v1/auth/signup",
            json!({ "email": " Owner@Example.COM ", "password": PASSWORD, "organization": "Velvet Video" }),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["user"]["email"], "owner@example.com");
    assert_eq!(reply.body["tenant"]["name"], "Velvet Video");
    assert_eq!(reply.body["tenant"]["role"], "owner");
    let cookie = reply
        .cookies
        .iter()
        .find(|c| c.name() == "concord_session")
        .expect("cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_ne!(
        cookie.secure(),
        Some(true),
        "plain-HTTP localhost keeps the cookie usable"
    );

    let owner = Account {
        email: "owner@example.com".into(),
        user_id: str_at(&reply.body, "/user/id"),
        tenant_id: str_at(&reply.body, "/tenant/id"),
        credential: reply.session(),
    };
    let me = app.get("/api/v1/me", Some(&owner)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["id"], owner.user_id.as_str());
    assert_eq!(
        me.body["memberships"][0]["tenant_id"],
        owner.tenant_id.as_str()
    );
    assert_eq!(me.body["memberships"][0]["tenant_name"], "Velvet Video");
    assert_eq!(me.body["memberships"][0]["role"], "owner");
    assert!(me.body["csrf_token"].is_string());
    app.cleanup().await;
}

#[actix_web::test]
async fn session_cookies_are_secure_when_not_on_localhost() {
    let app = TestApp::spawn().await;
    let req = TestRequest::post()
        .uri("/api/v1/auth/signup")
        .insert_header((header::HOST, "concord.example.com"))
        .set_json(json!({ "email": "a@example.com", "password": PASSWORD, "organization": "A" }));
    let reply = app.call(req).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let cookie = reply
        .cookies
        .iter()
        .find(|c| c.name() == "concord_session")
        .expect("cookie");
    assert_eq!(cookie.secure(), Some(true));
    app.cleanup().await;
}

#[actix_web::test]
async fn a_second_signup_with_the_same_email_conflicts_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signup("dup@example.com", "First").await;
    let again = app
        .post(
            "/api/v1/auth/signup",
            json!({ "email": "DUP@example.com", "password": "another password", "organization": "Second" }),
            None,
        )
        .await;
    again.assert_error(StatusCode::CONFLICT, "conflict");
    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "dup@example.com", "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["memberships"].as_array().map(Vec::len), Some(1));
    assert_eq!(login.body["memberships"][0]["tenant_name"], "First");
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM tenants")
            .await
            .expect("count"),
        1
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn invalid_signup_fields_are_named() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (
            json!({ "email": "not-an-email", "password": PASSWORD, "organization": "A" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short", "organization": "A" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "organization": "  " }),
            "organization",
        ),
    ] {
        let reply = app.post("/api/v1/auth/signup", body, None).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(reply.body["error"]["details"]["field"], field);
    }
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM users")
            .await
            .expect("count"),
        0
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn login_then_logout_ends_the_session() {
    let app = TestApp::spawn().await;
    app.signup("in-out@example.com", "Shop").await;
    let login = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "In-Out@example.com", "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let who = Account {
        email: "in-out@example.com".into(),
        user_id: str_at(&login.body, "/user/id"),
        tenant_id: str_at(&login.body, "/memberships/0/tenant_id"),
        credential: login.session(),
    };
    assert_eq!(
        app.get("/api/v1/me", Some(&who)).await.status,
        StatusCode::OK
    );
    let out = app.post("/api/v1/auth/logout", json!({}), Some(&who)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let removal = out
        .cookies
        .iter()
        .find(|c| c.name() == "concord_session")
        .expect("removal cookie");
    assert_eq!(removal.value(), "");
    app.get("/api/v1/me", Some(&who))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.cleanup().await;
}

#[actix_web::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.signup("known@example.com", "Shop").await;
    let wrong = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "known@example.com", "password": "not the password" }),
            None,
        )
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "nobody@example.com", "password": PASSWORD }),
            None,
        )
        .await;
    unknown.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(
        wrong.body["error"]["message"],
        unknown.body["error"]["message"]
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn repeated_failed_logins_are_rate_limited_even_with_the_right_password() {
    let app = TestApp::spawn_with("login_max_failures = 3").await;
    app.signup("target@example.com", "Shop").await;
    for _ in 0..3 {
        let reply = app
            .post(
                "/api/v1/auth/login",
                json!({ "email": "target@example.com", "password": "guess guess guess" }),
                None,
            )
            .await;
        reply.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let limited = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": "target@example.com", "password": PASSWORD }),
            None,
        )
        .await;
    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = limited
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let other = app.signup("other@example.com", "Other").await;
    let fine = app
        .post(
            "/api/v1/auth/login",
            json!({ "email": other.email, "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(fine.status, StatusCode::OK, "other accounts are unaffected");
    app.cleanup().await;
}

#[actix_web::test]
async fn cookie_writes_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("csrf@example.com", "Before").await;
    let Credential::Session { cookie, .. } = &owner.credential else {
        unreachable!()
    };
    for csrf in [None, Some("forged-token")] {
        let who = Account {
            credential: Credential::Session {
                cookie: cookie.clone(),
                csrf: csrf.unwrap_or_default().into(),
            },
            ..owner.clone()
        };
        let reply = app
            .patch(
                &format!("/api/v1/tenants/{}", owner.tenant_id),
                json!({ "name": "After" }),
                Some(&who),
            )
            .await;
        reply.assert_error(StatusCode::FORBIDDEN, "csrf_failed");
    }
    let tenant = app
        .get(
            &format!("/api/v1/tenants/{}", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(tenant.body["name"], "Before");
    let renamed = app
        .patch(
            &format!("/api/v1/tenants/{}", owner.tenant_id),
            json!({ "name": "After" }),
            Some(&owner),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.body["name"], "After");
    app.cleanup().await;
}

#[actix_web::test]
async fn an_agency_user_creates_and_lists_several_organizations() {
    let app = TestApp::spawn().await;
    let agency = app.signup("agency@example.com", "Agency Home").await;
    for name in ["Store Two", "Store Three"] {
        let created = app
            .post("/api/v1/tenants", json!({ "name": name }), Some(&agency))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["role"], "owner");
    }
    let me = app.get("/api/v1/me", Some(&agency)).await;
    let names: Vec<_> = me.body["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .map(|m| m["tenant_name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["Agency Home", "Store Three", "Store Two"]);
    app.cleanup().await;
}
