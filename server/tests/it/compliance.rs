//! Compliance configuration over the API: the seeded rule table and its versions, title
//! compliance versions and what the rules decide for them, connections' jurisdictions; who
//! may change what, and that every change is audited.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    harness::{Account, TestApp, str_at},
    inventory::Stocked,
};

async fn audit_actions(app: &TestApp, who: &Account) -> Vec<Value> {
    let log = app
        .get(
            &format!("/api/v1/tenants/{}/audit?limit=500", who.tenant_id),
            Some(who),
        )
        .await;
    log.body["items"].as_array().cloned().unwrap_or_default()
}

fn r18_rule_v2() -> Value {
    json!({
        "code": "UK-R18-REMOTE",
        "summary": "R18 is never offered remotely, phone and mail included",
        "jurisdictions": ["GB"],
        "channels": ["online", "phone", "mail"],
        "applies_to": { "in": { "field": "uk_bbfc_category", "values": ["R18"] } },
        "action": "block_listing",
        "source": "Video Recordings Act 1984 ss.9-12",
        "confidence": "C"
    })
}

#[actix_web::test]
async fn rules_are_seeded_versioned_and_changed_only_by_compliance_roles() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@rules.test", "Rules Video").await;
    let officer = app
        .add_member(&owner, "co@rules.test", "compliance_officer")
        .await;
    let staff = app.add_member(&owner, "staff@rules.test", "staff").await;
    let viewer = app.add_member(&owner, "viewer@rules.test", "viewer").await;
    let base = format!("/api/v1/tenants/{}/compliance/rules", owner.tenant_id);

    let all = app.get(&base, Some(&viewer)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let rules = all.body.as_array().expect("rules");
    assert_eq!(rules.len(), 23, "{}", all.text);
    assert!(rules.iter().all(|r| r["version"] == 1));
    let current = app
        .get(&format!("{base}?current=true"), Some(&viewer))
        .await;
    let codes: Vec<&str> = current
        .body
        .as_array()
        .expect("current")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"UK-R18-REMOTE") && !codes.contains(&"CA-ONLINE"),
        "{codes:?}"
    );

    for who in [&staff, &viewer] {
        app.post(&base, r18_rule_v2(), Some(who))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let created = app.post(&base, r18_rule_v2(), Some(&officer)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["version"], 2);
    assert_eq!(created.body["in_force"], true);
    assert_eq!(created.body["approved_by"], officer.user_id.as_str());

    let mut bad = r18_rule_v2();
    bad["applies_to"] = json!({ "in": { "field": "uk_bbfc_category", "values": ["XXX"] } });
    app.post(&base, bad, Some(&owner))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let mut bad = r18_rule_v2();
    bad["jurisdictions"] = json!(["Britain"]);
    app.post(&base, bad, Some(&owner))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let log = audit_actions(&app, &owner).await;
    let seeded = log
        .iter()
        .find(|e| e["action"] == "rule.seeded")
        .expect("seed audited");
    assert_eq!(seeded["actor"], "system");
    let change = log
        .iter()
        .find(|e| e["action"] == "rule.version_created")
        .expect("change audited");
    assert_eq!(change["actor"], officer.user_id.as_str());
    assert_eq!(change["subject"], "UK-R18-REMOTE#2");
    assert_eq!(change["details"]["before"]["version"], 1);
    assert_eq!(change["details"]["after"]["version"], 2);
    app.cleanup().await;
}

#[actix_web::test]
async fn title_compliance_is_versioned_judged_and_audited() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@titles.test", "Titles Video").await;
    let staff = app.add_member(&owner, "staff@titles.test", "staff").await;
    let viewer = app.add_member(&owner, "viewer@titles.test", "viewer").await;
    let stock = Stocked::create(&app, &owner).await;
    let base = format!(
        "/api/v1/tenants/{}/products/{}/compliance",
        owner.tenant_id, stock.product_id
    );
    let decision = |j: &str, ch: &str| format!("{base}/decision?jurisdiction={j}&channel={ch}");

    let unknown = app.get(&decision("GB", "pos"), Some(&viewer)).await;
    assert_eq!(unknown.status, StatusCode::OK, "{}", unknown.text);
    assert_eq!(unknown.body["verdict"], "blocked", "no record: fail closed");
    assert_eq!(unknown.body["no_record"], true);

    let v1 = json!({
        "fields": { "uk_bbfc_category": "r18", "uk_bbfc_cert_no": "AFF-1", "uk_label_ok": true,
                    "explicit_content": true, "cover_art_explicit": false, "uk_work_exempt": true },
        "source": "BBFC database", "verified_by": "staff", "valid_from": "2026-01-01T00:00:00Z"
    });
    app.send(Method::PUT, &base, Some(v1.clone()), Some(&viewer))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let first = app
        .send(Method::PUT, &base, Some(v1.clone()), Some(&staff))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["version"], 1);
    assert_eq!(first.body["fields"]["uk_bbfc_category"], "R18");
    assert_eq!(
        first.body["fields"]["uk_work_exempt"], false,
        "explicit is never exempt"
    );

    let online = app.get(&decision("GB", "online"), Some(&viewer)).await;
    assert_eq!(online.body["verdict"], "blocked");
    assert_eq!(online.body["listable"], false);
    assert_eq!(online.body["reasons"][0]["code"], "UK-R18-REMOTE");
    let store = app.get(&decision("GB", "pos"), Some(&viewer)).await;
    assert_eq!(store.body["verdict"], "conditional", "{}", store.text);
    assert_eq!(store.body["age_check"]["min_age"], 18);
    let germany = app.get(&decision("DE", "pos"), Some(&viewer)).await;
    assert_eq!(germany.body["verdict"], "blocked");
    assert!(
        germany.body["missing_fields"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("de_fsk"))),
        "{}",
        germany.text
    );

    let mut v2 = v1.clone();
    v2["fields"]["uk_bbfc_category"] = json!("18");
    v2["valid_from"] = json!("2026-06-01T00:00:00Z");
    let second = app
        .send(Method::PUT, &base, Some(v2.clone()), Some(&owner))
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.body["version"], 2);
    app.send(Method::PUT, &base, Some(v2), Some(&owner))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    let versions = app.get(&base, Some(&viewer)).await;
    assert_eq!(versions.body[0]["version"], 2);
    assert_eq!(versions.body[1]["valid_to"], "2026-06-01T00:00:00Z");
    let then = app
        .get(&format!("{base}?at=2026-03-01T00:00:00Z"), Some(&viewer))
        .await;
    assert_eq!(then.body[0]["version"], 1);
    let sale_then = app
        .get(
            &format!("{}&at=2026-03-01T00:00:00Z", decision("GB", "online")),
            Some(&viewer),
        )
        .await;
    assert_eq!(
        sale_then.body["verdict"], "blocked",
        "judged by the version valid then"
    );
    let sale_now = app.get(&decision("GB", "online"), Some(&viewer)).await;
    assert_eq!(sale_now.body["verdict"], "conditional", "{}", sale_now.text);

    app.send(
        Method::PUT,
        &base,
        Some(json!({ "fields": { "de_fsk": "21" } })),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.send(
        Method::PUT,
        &base,
        Some(json!({ "fields": { "bbfc": "18" } })),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.get(&decision("Narnia", "online"), Some(&viewer))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let log = audit_actions(&app, &owner).await;
    let changes: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "title.compliance_changed")
        .collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["actor"], staff.user_id.as_str());
    assert_eq!(
        changes[1]["details"]["before"]["fields"]["uk_bbfc_category"],
        "R18"
    );
    assert_eq!(
        changes[1]["details"]["after"]["fields"]["uk_bbfc_category"],
        "18"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn a_connections_jurisdiction_is_set_by_compliance_roles_and_audited() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@channel.test", "Channel Video").await;
    let officer = app
        .add_member(&owner, "co@channel.test", "compliance_officer")
        .await;
    let staff = app.add_member(&owner, "staff@channel.test", "staff").await;
    let stock = Stocked::create(&app, &owner).await;
    let path = format!(
        "/api/v1/tenants/{}/connections/{}/compliance",
        owner.tenant_id, stock.connection_id
    );
    let body = json!({ "jurisdiction": "gb", "channel_kind": "online" });
    app.send(Method::PUT, &path, Some(body.clone()), Some(&staff))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.send(
        Method::PUT,
        &path,
        Some(json!({ "jurisdiction": "GB" })),
        Some(&officer),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let set = app
        .send(Method::PUT, &path, Some(body), Some(&officer))
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text);
    let connection = app
        .get(
            &format!(
                "/api/v1/tenants/{}/connections/{}",
                owner.tenant_id, stock.connection_id
            ),
            Some(&staff),
        )
        .await;
    assert_eq!(connection.body["jurisdiction"], "GB");
    assert_eq!(connection.body["channel_kind"], "online");
    let log = audit_actions(&app, &owner).await;
    let entry = log
        .iter()
        .find(|e| e["action"] == "connection.compliance_changed")
        .expect("audited");
    assert_eq!(entry["details"]["after"]["jurisdiction"], "GB");
    assert_eq!(entry["subject"], str_at(&connection.body, "/id").as_str());
    app.cleanup().await;
}
