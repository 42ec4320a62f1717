//! Tenant isolation on every tenant-scoped endpoint: anonymous callers get 401, another
//! tenant's members (by session or token) get 404 for this tenant's ids, and nothing in the
//! victim tenant changes. The table is checked against the OpenAPI document so a new
//! tenant-scoped route cannot be added without being covered here.

use std::collections::BTreeSet;

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, TestApp, str_at};

/// Every tenant-scoped route: method, path template, body.
fn endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/tenants/{tenant_id}", None),
        (
            Method::PATCH,
            "/api/v1/tenants/{tenant_id}",
            Some(json!({ "name": "Taken over" })),
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/members", None),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/members/{user_id}",
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/{tenant_id}/members/{user_id}",
            Some(json!({ "role": "viewer" })),
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/{tenant_id}/members/{user_id}",
            None,
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/invitations", None),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/invitations",
            Some(json!({ "email": "intruder@evil.test", "role": "owner" })),
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/{tenant_id}/invitations/{invitation_id}",
            None,
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/api-tokens", None),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/api-tokens",
            Some(json!({ "name": "stolen" })),
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/{tenant_id}/api-tokens/{token_id}",
            None,
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/products", None),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/products",
            Some(json!({ "title": "Planted", "format": "dvd" })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/products/{product_id}",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/products/{product_id}",
            Some(json!({ "title": "Renamed", "format": "dvd" })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/products/{product_id}/skus",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/skus",
            Some(json!({ "product_id": "{product_id}", "code": "PLANTED-1" })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/skus/{sku_id}",
            None,
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/skus/{sku_id}/movements",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/skus/{sku_id}/adjustments",
            Some(
                json!({ "location_id": "{location_id}", "reason": "adjustment", "quantity": -5, "note": "theft" }),
            ),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/skus/{sku_id}/transfers",
            Some(
                json!({ "from_location_id": "{location_id}", "to_location_id": "{location_id}", "quantity": 1 }),
            ),
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/inventory", None),
        (Method::GET, "/api/v1/tenants/{tenant_id}/locations", None),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/locations",
            Some(json!({ "name": "Planted", "kind": "store" })),
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/connections", None),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections",
            Some(json!({ "platform": "shopify", "name": "x" })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}",
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}",
            None,
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/analytics/sales",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/settings",
            Some(json!({ "safety_buffer": 99, "sourcing": [] })),
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/orders", None),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/orders/{order_id}",
            None,
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/oversells", None),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/events",
            Some(
                json!({ "events": [{ "event_id": "evil", "occurred_at": "2026-11-28T09:00:00Z", "type": "stock_adjusted",
                                       "sku": "MV-DVD", "location": null, "delta": -10, "note": "wipe" }] }),
            ),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/imports/catalog",
            Some(json!("sku,title,format\nPLANTED,Planted,dvd\n")),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/imports/stock",
            Some(json!("sku,location,quantity\nMV-DVD,Main Warehouse,0\n")),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/exports/{kind}",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/webhook-secret",
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/access",
            Some(
                json!({ "base_url": "http://127.0.0.1:9", "credentials": { "access_token": "stolen" } }),
            ),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/listings",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/reconcile",
            Some(json!({ "full": true })),
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/jobs", None),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/platform-locations",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/location-map",
            Some(json!({ "location_id": "{location_id}", "external_location_id": "stolen" })),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/webhooks",
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/oauth",
            Some(json!({ "base_url": "http://127.0.0.1:9" })),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/listings/sync",
            Some(json!({})),
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/listings/{listing_id}",
            Some(json!({ "sku_id": "{sku_id}" })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/inbound-events",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/inbound-events/{event_id}/replay",
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/tenants/{tenant_id}/live", None),
        (Method::GET, "/api/v1/tenants/{tenant_id}/audit", None),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/compliance/rules",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/compliance/rules",
            Some(
                json!({ "code": "UK-R18-REMOTE", "summary": "Lifted", "jurisdictions": ["GB"],
                         "applies_to": "always", "action": "hold", "source": "intruder", "enabled": false }),
            ),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/products/{product_id}/compliance",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/products/{product_id}/compliance",
            Some(json!({ "fields": { "uk_bbfc_category": "U" } })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/products/{product_id}/compliance/decision?jurisdiction=GB&channel=online",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/connections/{connection_id}/compliance",
            Some(json!({ "jurisdiction": null })),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/orders/{order_id}/compliance",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/orders/{order_id}/release",
            Some(json!({ "reason": "intruder" })),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/orders/{order_id}/evidence",
            Some(
                json!({ "check_type": "online_av", "result": "pass", "verifier": "x",
                         "checked_at": "2026-11-28T09:00:00Z" }),
            ),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/compliance/evidence",
            None,
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/compliance/refusals",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/compliance/refusals",
            Some(
                json!({ "reason": "under_age", "title_category": "x", "location_id": "{location_id}" }),
            ),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/compliance/age-check-failures",
            None,
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/reports/{kind}?format=csv",
            None,
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/compliance/retention",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/tenants/{tenant_id}/compliance/retention",
            Some(
                json!({ "sale_evidence_days": 1, "age_check_failure_days": 1, "refusal_days": 1 }),
            ),
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/compliance/retention/run",
            Some(json!({})),
        ),
        (
            Method::GET,
            "/api/v1/tenants/{tenant_id}/compliance/deletions",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/{tenant_id}/compliance/age-check-failures",
            Some(
                json!({ "provider": "x", "result": "fail", "title_category": "x",
                         "connection_id": "{connection_id}" }),
            ),
        ),
    ]
}

/// Tenant A's ids: the tenant, a staff member, a pending invitation, an API token, a
/// product with a stocked SKU, a location and a connection selling from it.
struct Victim {
    owner: Account,
    staff: Account,
    invitation_id: String,
    token: Account,
    token_id: String,
    product_id: String,
    sku_id: String,
    location_id: String,
    connection_id: String,
    order_id: String,
}

impl Victim {
    async fn create(app: &TestApp) -> Self {
        let owner = app.signup("owner@victim.test", "Victim Video").await;
        let staff = app.add_member(&owner, "staff@victim.test", "staff").await;
        let invited = app
            .post(
                &format!("/api/v1/tenants/{}/invitations", owner.tenant_id),
                json!({ "email": "pending@victim.test", "role": "viewer" }),
                Some(&owner),
            )
            .await;
        let token = app.token_for(&owner, None).await;
        let tokens = app
            .get(
                &format!("/api/v1/tenants/{}/api-tokens", owner.tenant_id),
                Some(&owner),
            )
            .await;
        let stock = crate::inventory::Stocked::create(app, &owner).await;
        Self {
            invitation_id: str_at(&invited.body, "/id"),
            token_id: str_at(&tokens.body, "/0/id"),
            product_id: stock.product_id,
            sku_id: stock.sku_id,
            location_id: stock.warehouse_id,
            order_id: crate::orders::place_one(app, &owner, &stock.connection_id).await,
            connection_id: stock.connection_id,
            owner,
            staff,
            token,
        }
    }

    fn fill(&self, template: &str, tenant_id: &str) -> String {
        template
            .replace("{tenant_id}", tenant_id)
            .replace("{user_id}", &self.staff.user_id)
            .replace("{invitation_id}", &self.invitation_id)
            .replace("{token_id}", &self.token_id)
            .replace("{product_id}", &self.product_id)
            .replace("{sku_id}", &self.sku_id)
            .replace("{location_id}", &self.location_id)
            .replace("{connection_id}", &self.connection_id)
            .replace("{order_id}", &self.order_id)
            .replace("{kind}", "ledger")
            .replace("{event_id}", "1")
            .replace("{listing_id}", "1")
    }

    fn fill_body(&self, body: Option<Value>, tenant_id: &str) -> Option<Value> {
        body.map(|b| {
            serde_json::from_str(&self.fill(&b.to_string(), tenant_id)).expect("filled body")
        })
    }

    /// Asserts tenant A is exactly as created.
    async fn assert_untouched(&self, app: &TestApp) {
        let base = format!("/api/v1/tenants/{}", self.owner.tenant_id);
        assert_eq!(
            app.get(&base, Some(&self.owner)).await.body["name"],
            "Victim Video"
        );
        let members = app.get(&format!("{base}/members"), Some(&self.owner)).await;
        let roles: Vec<_> = members
            .body
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["role"].clone())
            .collect();
        assert_eq!(roles, [json!("owner"), json!("staff")]);
        let invitations = app
            .get(&format!("{base}/invitations"), Some(&self.owner))
            .await;
        assert_eq!(invitations.body.as_array().map(Vec::len), Some(1));
        assert_eq!(invitations.body[0]["email"], "pending@victim.test");
        let tokens = app
            .get(&format!("{base}/api-tokens"), Some(&self.owner))
            .await;
        assert_eq!(tokens.body.as_array().map(Vec::len), Some(1));
        assert_eq!(
            app.get("/api/v1/me", Some(&self.token)).await.status,
            StatusCode::OK
        );
    }
}

#[actix_web::test]
async fn anonymous_callers_get_401_on_every_tenant_endpoint() {
    let app = TestApp::spawn().await;
    let victim = Victim::create(&app).await;
    for (method, template, body) in endpoints() {
        let path = victim.fill(template, &victim.owner.tenant_id);
        let body = victim.fill_body(body, &victim.owner.tenant_id);
        let reply = app.send(method.clone(), &path, body, None).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{method} {template}: {}",
            reply.text
        );
        assert_eq!(reply.body["error"]["code"], "unauthenticated");
    }
    victim.assert_untouched(&app).await;
    app.cleanup().await;
}

#[actix_web::test]
async fn another_tenants_members_get_404_on_every_endpoint_by_session_and_by_token() {
    let app = TestApp::spawn().await;
    let victim = Victim::create(&app).await;
    let intruder = app.signup("owner@intruder.test", "Intruder").await;
    let intruder_token = app.token_for(&intruder, None).await;
    for who in [&intruder, &intruder_token] {
        for (method, template, body) in endpoints() {
            let path = victim.fill(template, &victim.owner.tenant_id);
            let body = victim.fill_body(body, &victim.owner.tenant_id);
            let reply = app.send(method.clone(), &path, body, Some(who)).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{method} {template} as {who:?}: {}",
                reply.text
            );
            assert_eq!(reply.body["error"]["code"], "not_found");
        }
    }
    victim.assert_untouched(&app).await;
    app.cleanup().await;
}

#[actix_web::test]
async fn another_tenants_ids_under_ones_own_tenant_get_404() {
    let app = TestApp::spawn().await;
    let victim = Victim::create(&app).await;
    let intruder = app.signup("owner@intruder.test", "Intruder").await;
    let names_an_id = |template: &str, body: &Option<Value>| {
        template.matches("_id}").count() > 1
            || body
                .as_ref()
                .is_some_and(|b| b.to_string().contains("_id}"))
    };
    for (method, template, body) in endpoints()
        .into_iter()
        .filter(|(_, t, b)| names_an_id(t, b))
    {
        let path = victim.fill(template, &intruder.tenant_id);
        let body = victim.fill_body(body, &intruder.tenant_id);
        let reply = app.send(method.clone(), &path, body, Some(&intruder)).await;
        // A foreign id in the path is a 404; one in the body is refused as naming nothing here.
        assert!(
            matches!(
                reply.status,
                StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{method} {template}: {}",
            reply.text
        );
    }
    victim.assert_untouched(&app).await;
    app.cleanup().await;
}

#[actix_web::test]
async fn every_tenant_scoped_route_in_the_api_document_is_covered_here() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        if path.starts_with("/api/v1/tenants/{tenant_id}") {
            for method in item.as_object().expect("operations").keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let covered: BTreeSet<_> = endpoints()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), p.split('?').next().unwrap_or(p).to_owned()))
        .collect();
    assert!(!documented.is_empty());
    assert_eq!(documented, covered);
    app.cleanup().await;
}
