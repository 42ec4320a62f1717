//! Invitations, roles and membership rules.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::harness::{Account, PASSWORD, TestApp, str_at};

fn tenant_path(who: &Account, rest: &str) -> String {
    format!("/api/v1/tenants/{}{rest}", who.tenant_id)
}

#[actix_web::test]
async fn an_invited_person_signs_up_by_accepting_and_gets_the_role() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@shop.test", "Shop").await;
    let invited = app
        .post(
            &tenant_path(&owner, "/invitations"),
            json!({ "email": "Clerk@Shop.test", "role": "staff" }),
            Some(&owner),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    assert_eq!(invited.body["email"], "clerk@shop.test");
    let pending = app
        .get(&tenant_path(&owner, "/invitations"), Some(&owner))
        .await;
    assert_eq!(pending.body.as_array().map(Vec::len), Some(1));

    let token = str_at(&invited.body, "/accept_token");
    let accepted = app
        .post(
            "/api/v1/invitations/accept",
            json!({ "token": token, "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.body["role"], "staff");
    assert_eq!(accepted.body["tenant_id"], owner.tenant_id.as_str());

    let members = app
        .get(&tenant_path(&owner, "/members"), Some(&owner))
        .await;
    let roles: Vec<_> = members
        .body
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(roles, [json!("staff"), json!("owner")]);
    let pending = app
        .get(&tenant_path(&owner, "/invitations"), Some(&owner))
        .await;
    assert_eq!(pending.body.as_array().map(Vec::len), Some(0));
    let again = app
        .post(
            "/api/v1/invitations/accept",
            json!({ "token": token, "password": PASSWORD }),
            None,
        )
        .await;
    again.assert_error(StatusCode::NOT_FOUND, "not_found");
    app.cleanup().await;
}

#[actix_web::test]
async fn an_existing_account_accepts_with_its_password_or_while_signed_in() {
    let app = TestApp::spawn().await;
    let a = app.signup("a@agency.test", "Store A").await;
    let b = app.signup("b@agency.test", "Store B").await;
    let agency = app.signup("agent@agency.test", "Agency").await;

    let invite = |owner: Account| {
        let app = &app;
        async move {
            let reply = app
                .post(
                    &tenant_path(&owner, "/invitations"),
                    json!({ "email": "agent@agency.test", "role": "admin" }),
                    Some(&owner),
                )
                .await;
            str_at(&reply.body, "/accept_token")
        }
    };
    let token_a = invite(a.clone()).await;
    let wrong = app
        .post(
            "/api/v1/invitations/accept",
            json!({ "token": token_a, "password": "wrong password" }),
            None,
        )
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let ok = app
        .post(
            "/api/v1/invitations/accept",
            json!({ "token": token_a, "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);

    let token_b = invite(b.clone()).await;
    let someone_else = app
        .post(
            "/api/v1/invitations/accept",
            json!({ "token": token_b }),
            Some(&a),
        )
        .await;
    someone_else.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let signed_in = app
        .post(
            "/api/v1/invitations/accept",
            json!({ "token": token_b }),
            Some(&agency),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);

    let me = app.get("/api/v1/me", Some(&agency)).await;
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(3));
    app.cleanup().await;
}

#[actix_web::test]
async fn roles_limit_who_may_invite_rename_and_re_role() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@roles.test", "Roles").await;
    let admin = app.add_member(&owner, "admin@roles.test", "admin").await;
    let staff = app.add_member(&owner, "staff@roles.test", "staff").await;
    let officer = app
        .add_member(&owner, "officer@roles.test", "compliance_officer")
        .await;
    let viewer = app.add_member(&owner, "viewer@roles.test", "viewer").await;

    for who in [&staff, &officer, &viewer] {
        let invite = app
            .post(
                &tenant_path(&owner, "/invitations"),
                json!({ "email": "x@roles.test", "role": "viewer" }),
                Some(who),
            )
            .await;
        invite.assert_error(StatusCode::FORBIDDEN, "forbidden");
        let rename = app
            .patch(
                &tenant_path(&owner, ""),
                json!({ "name": "Hijacked" }),
                Some(who),
            )
            .await;
        rename.assert_error(StatusCode::FORBIDDEN, "forbidden");
        let re_role = app
            .patch(
                &tenant_path(&owner, &format!("/members/{}", viewer.user_id)),
                json!({ "role": "admin" }),
                Some(who),
            )
            .await;
        re_role.assert_error(StatusCode::FORBIDDEN, "forbidden");
        let read = app.get(&tenant_path(&owner, "/members"), Some(who)).await;
        assert_eq!(read.status, StatusCode::OK, "every member reads");
    }
    let owner_invite = app
        .post(
            &tenant_path(&owner, "/invitations"),
            json!({ "email": "x@roles.test", "role": "owner" }),
            Some(&admin),
        )
        .await;
    owner_invite.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let demote_owner = app
        .patch(
            &tenant_path(&owner, &format!("/members/{}", owner.user_id)),
            json!({ "role": "viewer" }),
            Some(&admin),
        )
        .await;
    demote_owner.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let promote = app
        .patch(
            &tenant_path(&owner, &format!("/members/{}", staff.user_id)),
            json!({ "role": "admin" }),
            Some(&admin),
        )
        .await;
    assert_eq!(promote.status, StatusCode::OK, "{}", promote.text);
    assert_eq!(promote.body["role"], "admin");
    let tenant = app.get(&tenant_path(&owner, ""), Some(&owner)).await;
    assert_eq!(tenant.body["name"], "Roles");
    app.cleanup().await;
}

#[actix_web::test]
async fn the_last_owner_cannot_leave_or_step_down_but_a_member_can_leave() {
    let app = TestApp::spawn().await;
    let owner = app.signup("solo@owner.test", "Solo").await;
    let viewer = app.add_member(&owner, "v@owner.test", "viewer").await;
    let me_path = tenant_path(&owner, &format!("/members/{}", owner.user_id));
    app.delete(&me_path, Some(&owner))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    app.patch(&me_path, json!({ "role": "admin" }), Some(&owner))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    let leave = app
        .delete(
            &tenant_path(&owner, &format!("/members/{}", viewer.user_id)),
            Some(&viewer),
        )
        .await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT);
    app.get(&tenant_path(&owner, ""), Some(&viewer))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let second = app.add_member(&owner, "second@owner.test", "owner").await;
    let step_down = app
        .patch(&me_path, json!({ "role": "admin" }), Some(&owner))
        .await;
    assert_eq!(step_down.status, StatusCode::OK, "{}", step_down.text);
    let members = app
        .get(&tenant_path(&owner, "/members"), Some(&second))
        .await;
    assert_eq!(members.body.as_array().map(Vec::len), Some(2));
    app.cleanup().await;
}

#[actix_web::test]
async fn inviting_a_member_conflicts_and_a_revoked_invitation_cannot_be_accepted() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@inv.test", "Inv").await;
    app.post(
        &tenant_path(&owner, "/invitations"),
        json!({ "email": "owner@inv.test", "role": "staff" }),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    let invited = app
        .post(
            &tenant_path(&owner, "/invitations"),
            json!({ "email": "late@inv.test", "role": "staff" }),
            Some(&owner),
        )
        .await;
    let id = str_at(&invited.body, "/id");
    let revoked = app
        .delete(
            &tenant_path(&owner, &format!("/invitations/{id}")),
            Some(&owner),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    app.post(
        "/api/v1/invitations/accept",
        json!({ "token": str_at(&invited.body, "/accept_token"), "password": PASSWORD }),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.cleanup().await;
}
