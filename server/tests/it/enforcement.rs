//! Enforcement: a title is never offered where the rules forbid the offer; imported orders
//! are judged and held with their reasons; a hold ends by an audited release (not by staff
//! or viewers) or when the checks it waits for are recorded; refusals and age-check
//! failures are registered without any customer identity.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    harness::{Account, TestApp, str_at},
    inventory::Stocked,
};

/// An owner, a compliance officer, staff and a viewer on a stocked R18 DVD sold through a
/// UK online store.
struct Shop {
    owner: Account,
    officer: Account,
    staff: Account,
    viewer: Account,
    stock: Stocked,
    base: String,
}

impl Shop {
    async fn open(app: &TestApp, name: &str) -> Self {
        let owner = app.signup(&format!("owner@{name}.test"), name).await;
        let officer = app
            .add_member(&owner, &format!("co@{name}.test"), "compliance_officer")
            .await;
        let staff = app
            .add_member(&owner, &format!("staff@{name}.test"), "staff")
            .await;
        let viewer = app
            .add_member(&owner, &format!("viewer@{name}.test"), "viewer")
            .await;
        let stock = Stocked::create(app, &owner).await;
        let base = format!("/api/v1/tenants/{}", owner.tenant_id);
        Self {
            owner,
            officer,
            staff,
            viewer,
            stock,
            base,
        }
    }

    /// Records a compliance version (the first valid from 2026, later ones from now).
    async fn classify(&self, app: &TestApp, bbfc: &str) {
        let path = format!(
            "{}/products/{}/compliance",
            self.base, self.stock.product_id
        );
        let first = app
            .get(&path, Some(&self.owner))
            .await
            .body
            .as_array()
            .is_none_or(Vec::is_empty);
        let valid_from = first.then_some("2026-01-01T00:00:00Z");
        let reply = app
            .send(
                Method::PUT,
                &path,
                Some(json!({ "fields": {
                    "uk_bbfc_category": bbfc, "uk_bbfc_cert_no": "AFF-1", "uk_label_ok": true,
                    "explicit_content": false, "cover_art_explicit": false },
                    "valid_from": valid_from })),
                Some(&self.owner),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }

    async fn sell_in(&self, app: &TestApp, jurisdiction: Option<&str>, kind: &str) {
        let reply = app
            .send(
                Method::PUT,
                &format!(
                    "{}/connections/{}/compliance",
                    self.base, self.stock.connection_id
                ),
                Some(json!({ "jurisdiction": jurisdiction, "channel_kind": kind })),
                Some(&self.officer),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    }

    async fn offer(&self, app: &TestApp) -> i64 {
        let sku = app
            .get(
                &format!("{}/skus/{}", self.base, self.stock.sku_id),
                Some(&self.owner),
            )
            .await;
        sku.body["availability"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|x| x["connection_id"] == self.stock.connection_id.as_str())
            })
            .and_then(|x| x["available"].as_i64())
            .unwrap_or_else(|| panic!("no offer in {}", sku.text))
    }

    /// Places an open order for one unit; returns its id.
    async fn order(&self, app: &TestApp, external: &str, ship_to: Option<&str>) -> String {
        let reply = app
            .post(
                &format!("{}/connections/{}/events", self.base, self.stock.connection_id),
                json!({ "events": [{
                    "event_id": format!("e-{external}"), "occurred_at": "2026-11-28T09:00:00Z",
                    "type": "order_placed", "order_id": external, "status": "open", "currency": "GBP",
                    "total_minor": 1999, "customer": null, "location": null, "ship_to": ship_to,
                    "lines": [{ "line_id": "l1", "sku": "MV-DVD", "quantity": 1, "unit_price_minor": 1999 }],
                    "placed_at": "2026-11-28T09:00:00Z", "updated_at": "2026-11-28T09:00:00Z" }] }),
                Some(&self.owner),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        str_at(&reply.body, "/results/0/order_id")
    }

    async fn standing(&self, app: &TestApp, order_id: &str) -> Value {
        let reply = app
            .get(
                &format!("{}/orders/{order_id}/compliance", self.base),
                Some(&self.viewer),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body
    }

    async fn status(&self, app: &TestApp, order_id: &str) -> Value {
        app.get(
            &format!("{}/orders/{order_id}", self.base),
            Some(&self.owner),
        )
        .await
        .body["status"]
            .clone()
    }

    async fn audit(&self, app: &TestApp, action: &str) -> Vec<Value> {
        let log = app
            .get(
                &format!("{}/audit?limit=500&action={action}", self.base),
                Some(&self.owner),
            )
            .await;
        log.body["items"].as_array().cloned().unwrap_or_default()
    }
}

#[actix_web::test]
async fn a_title_is_never_offered_where_the_offer_is_forbidden() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app, "listing").await;
    shop.classify(&app, "R18").await;
    assert_eq!(shop.offer(&app).await, 9, "no jurisdiction yet: not judged");
    shop.sell_in(&app, Some("GB"), "online").await;
    assert_eq!(
        shop.offer(&app).await,
        0,
        "UK R18 online: the offer itself is the offence"
    );
    let refusals = app
        .get(
            &format!("{}/compliance/refusals", shop.base),
            Some(&shop.viewer),
        )
        .await;
    let withheld = refusals.body.as_array().expect("refusals");
    assert_eq!(withheld.len(), 1, "{}", refusals.text);
    assert_eq!(withheld[0]["kind"], "listing_withheld");
    assert_eq!(withheld[0]["reason"], "listing_forbidden");
    assert_eq!(withheld[0]["title_category"], "BBFC R18");
    assert_eq!(withheld[0]["detail"]["rules"][0], "UK-R18-REMOTE#1");
    // Stock moving does not lift the block.
    let received = app
        .post(
            &format!("{}/skus/{}/adjustments", shop.base, shop.stock.sku_id),
            json!({ "location_id": shop.stock.warehouse_id, "reason": "receive", "quantity": 5 }),
            Some(&shop.staff),
        )
        .await;
    assert_eq!(received.status, StatusCode::CREATED, "{}", received.text);
    assert_eq!(shop.offer(&app).await, 0);
    shop.sell_in(&app, Some("GB"), "pos").await;
    assert_eq!(
        shop.offer(&app).await,
        14,
        "R18 over the counter is allowed"
    );
    shop.classify(&app, "18").await;
    shop.sell_in(&app, Some("GB"), "online").await;
    assert_eq!(shop.offer(&app).await, 14, "BBFC 18 may be offered online");
    app.cleanup().await;
}

#[actix_web::test]
async fn orders_needing_a_check_are_held_and_only_compliance_roles_release_them() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app, "holds").await;
    shop.classify(&app, "18").await;
    shop.sell_in(&app, Some("GB"), "online").await;
    let order = shop.order(&app, "H-1", None).await;
    let standing = shop.standing(&app, &order).await;
    assert_eq!(standing["state"], "held", "{standing}");
    assert_eq!(standing["jurisdiction"], "GB");
    assert!(
        standing["outstanding"][0]
            .as_str()
            .is_some_and(|r| r.contains("age check")),
        "{standing}"
    );
    assert_eq!(
        standing["lines"][0]["decision"]["reasons"][0]["code"],
        "UK-18-REMOTE"
    );
    assert_eq!(shop.status(&app, &order).await, "on_hold");
    // The merged feed shows the hold's standing beside the status.
    let feed = app
        .get(
            &format!("{}/orders?status=on_hold", shop.base),
            Some(&shop.owner),
        )
        .await;
    assert_eq!(feed.body["items"][0]["id"], order.as_str(), "{}", feed.text);
    assert_eq!(feed.body["items"][0]["compliance"], "held", "{}", feed.text);

    let release = format!("{}/orders/{order}/release", shop.base);
    for who in [&shop.staff, &shop.viewer] {
        app.post(&release, json!({ "reason": "looks fine" }), Some(who))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    app.post(&release, json!({ "reason": " " }), Some(&shop.officer))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let released = app
        .post(
            &release,
            json!({ "reason": "age confirmed by phone with the AV provider" }),
            Some(&shop.officer),
        )
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.text);
    assert_eq!(released.body["state"], "released");
    assert_eq!(shop.status(&app, &order).await, "open");
    app.post(&release, json!({ "reason": "again" }), Some(&shop.officer))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    let held = shop.audit(&app, "order.held").await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["subject"], order.as_str());
    let releases = shop.audit(&app, "order.released").await;
    assert_eq!(releases[0]["actor"], shop.officer.user_id.as_str());
    assert_eq!(
        releases[0]["details"]["reason"],
        "age confirmed by phone with the AV provider"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn recorded_checks_end_a_hold_and_failures_are_logged_without_identity() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app, "evidence").await;
    shop.classify(&app, "18").await;
    shop.sell_in(&app, Some("GB"), "online").await;
    let order = shop.order(&app, "E-1", None).await;
    let evidence = format!("{}/orders/{order}/evidence", shop.base);
    let failed = app
        .post(&evidence, json!({ "check_type": "online_av", "method": "facial_estimation", "result": "fail",
                                  "verifier": "yoti:sess-123", "checked_at": "2026-11-28T09:01:00Z" }),
              Some(&shop.staff))
        .await;
    assert_eq!(failed.status, StatusCode::CREATED, "{}", failed.text);
    assert_eq!(shop.standing(&app, &order).await["state"], "held");
    app.post(&evidence, json!({ "check_type": "online_av", "result": "pass", "verifier": "v",
                                "checked_at": "2026-11-28T09:02:00Z", "date_of_birth": "1990-01-01" }),
             Some(&shop.staff))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.post(
        &evidence,
        json!({ "check_type": "online_av", "result": "pass", "verifier": "v",
                                "checked_at": "2026-11-28T09:02:00Z" }),
        Some(&shop.viewer),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let passed = app
        .post(
            &evidence,
            json!({ "check_type": "online_av", "method": "database", "result": "pass",
                                  "verifier": "yoti:sess-124", "checked_at": "2026-11-28T09:02:00Z",
                                  "source_clock": "provider" }),
            Some(&shop.staff),
        )
        .await;
    assert_eq!(passed.status, StatusCode::CREATED, "{}", passed.text);
    assert_eq!(passed.body["jurisdiction_basis"]["jurisdiction"], "GB");
    assert_eq!(passed.body["titles"][0]["category"], "BBFC 18");
    assert_eq!(passed.body["sha256"].as_str().map(str::len), Some(64));
    let standing = shop.standing(&app, &order).await;
    assert_eq!(standing["state"], "clear", "{standing}");
    assert_eq!(standing["evidence"].as_array().map(Vec::len), Some(2));
    assert_eq!(shop.status(&app, &order).await, "open");
    let recorded = shop.audit(&app, "evidence.recorded").await;
    assert_eq!(recorded[1]["details"]["sha256"], passed.body["sha256"]);

    let failures = app
        .get(
            &format!("{}/compliance/age-check-failures", shop.base),
            Some(&shop.viewer),
        )
        .await;
    assert_eq!(
        failures.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        failures.text
    );
    assert_eq!(failures.body[0]["provider"], "yoti:sess-123");
    assert_eq!(failures.body[0]["order_id"], order.as_str());
    let logged = app
        .post(
            &format!("{}/compliance/age-check-failures", shop.base),
            json!({ "provider": "yoti", "result": "abandoned", "title_category": "BBFC 18",
                      "connection_id": shop.stock.connection_id }),
            Some(&shop.staff),
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    app.post(
        &format!("{}/compliance/age-check-failures", shop.base),
        json!({ "provider": "yoti", "result": "pass", "title_category": "BBFC 18" }),
        Some(&shop.staff),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    let in_range = app
        .get(
            &format!(
                "{}/compliance/evidence?from=2026-11-28T09:01:30Z",
                shop.base
            ),
            Some(&shop.viewer),
        )
        .await;
    assert_eq!(
        in_range.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        in_range.text
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn blocked_unknown_and_unchecked_sales_are_told_apart() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app, "blocked").await;
    let unchecked = shop.order(&app, "U-1", None).await;
    let standing = shop.standing(&app, &unchecked).await;
    assert_eq!(standing["state"], "unchecked");
    assert_eq!(
        standing["lines"][0]["category"], "no compliance record",
        "described for the register"
    );
    assert_eq!(standing["lines"][0]["decision"], Value::Null);
    assert_eq!(shop.status(&app, &unchecked).await, "open");

    shop.sell_in(&app, Some("GB"), "online").await;
    let no_record = shop.order(&app, "N-1", None).await;
    let standing = shop.standing(&app, &no_record).await;
    assert_eq!(
        standing["state"], "held",
        "no compliance record: fail closed"
    );
    assert!(
        standing["outstanding"][0]
            .as_str()
            .is_some_and(|r| r.contains("uk_bbfc_category")),
        "{standing}"
    );

    shop.classify(&app, "R18").await;
    let blocked = shop.order(&app, "B-1", None).await;
    let standing = shop.standing(&app, &blocked).await;
    assert_eq!(standing["state"], "held");
    assert!(
        standing["outstanding"][0]
            .as_str()
            .is_some_and(|r| r.contains("UK-R18-REMOTE")),
        "{standing}"
    );
    let abroad = shop.order(&app, "B-2", Some("JP")).await;
    assert_eq!(
        shop.standing(&app, &abroad).await["state"],
        "clear",
        "judged where it ships"
    );

    let register = app
        .get(
            &format!("{}/compliance/refusals", shop.base),
            Some(&shop.viewer),
        )
        .await;
    let blocked_rows: Vec<&Value> = register
        .body
        .as_array()
        .expect("register")
        .iter()
        .filter(|r| r["kind"] == "order_blocked")
        .collect();
    assert_eq!(blocked_rows.len(), 2, "{}", register.text);
    assert!(
        blocked_rows
            .iter()
            .all(|r| r["reason"] == "destination_rule")
    );

    let store = app
        .post(&format!("{}/compliance/refusals", shop.base),
              json!({ "reason": "under_age", "title_category": "BBFC R18", "location_id": shop.stock.store_id,
                      "verifier": shop.staff.user_id }),
              Some(&shop.staff))
        .await;
    assert_eq!(store.status, StatusCode::CREATED, "{}", store.text);
    assert_eq!(store.body["kind"], "in_store");
    app.post(
        &format!("{}/compliance/refusals", shop.base),
        json!({ "reason": "under_age", "title_category": "BBFC R18", "customer_name": "Jo" }),
        Some(&shop.staff),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.post(
        &format!("{}/compliance/refusals", shop.base),
        json!({ "reason": "under_age", "title_category": "BBFC R18" }),
        Some(&shop.viewer),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.cleanup().await;
}

#[actix_web::test]
async fn a_version_taking_effect_later_withdraws_the_offer_when_it_does() {
    let app = TestApp::spawn().await;
    let shop = Shop::open(&app, "later").await;
    shop.classify(&app, "18").await;
    shop.sell_in(&app, Some("GB"), "online").await;
    assert_eq!(shop.offer(&app).await, 9);
    let from = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let reclassified = app
        .send(
            Method::PUT,
            &format!("{}/products/{}/compliance", shop.base, shop.stock.product_id),
            Some(json!({ "fields": { "uk_bbfc_category": "R18", "uk_bbfc_cert_no": "AFF-2", "uk_label_ok": true,
                                     "explicit_content": false, "cover_art_explicit": false },
                         "valid_from": from })),
            Some(&shop.owner),
        )
        .await;
    assert_eq!(
        reclassified.status,
        StatusCode::CREATED,
        "{}",
        reclassified.text
    );
    concord_server::worker::housekeeping(&app.state).await;
    assert_eq!(
        shop.offer(&app).await,
        9,
        "the R18 version is not in effect yet"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    concord_server::worker::housekeeping(&app.state).await;
    assert_eq!(
        shop.offer(&app).await,
        0,
        "withdrawn once the R18 version took effect"
    );
    app.cleanup().await;
}
