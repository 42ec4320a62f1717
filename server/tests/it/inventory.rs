//! Catalog, ledger, availability and the inventory view through the API.

use actix_web::{http::StatusCode, test::TestRequest};
use serde_json::{Value, json};

use crate::harness::{Account, TestApp, str_at};

/// A tenant with a warehouse (10 units of one SKU), a store, and an online connection
/// selling from the warehouse with a safety buffer of 1.
pub struct Stocked {
    pub product_id: String,
    pub sku_id: String,
    pub warehouse_id: String,
    pub store_id: String,
    pub connection_id: String,
}

impl Stocked {
    pub async fn create(app: &TestApp, owner: &Account) -> Self {
        let base = format!("/api/v1/tenants/{}", owner.tenant_id);
        let warehouse = app
            .post(
                &format!("{base}/locations"),
                json!({ "name": "Main Warehouse", "kind": "warehouse" }),
                Some(owner),
            )
            .await;
        assert_eq!(warehouse.status, StatusCode::CREATED, "{}", warehouse.text);
        let store = app
            .post(
                &format!("{base}/locations"),
                json!({ "name": "High Street", "kind": "store" }),
                Some(owner),
            )
            .await;
        let product = app
            .post(
                &format!("{base}/products"),
                json!({ "title": "Midnight Velvet", "format": "dvd", "studio": "Crimson Reel", "explicit": true,
                        "us_2257_statement_present": true, "classifications": { "bbfc": "R18", "fsk": "18" } }),
                Some(owner),
            )
            .await;
        assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
        let product_id = str_at(&product.body, "/id");
        let sku = app
            .post(
                &format!("{base}/skus"),
                json!({ "product_id": product_id, "code": "MV-DVD", "barcode": "5012345678900" }),
                Some(owner),
            )
            .await;
        assert_eq!(sku.status, StatusCode::CREATED, "{}", sku.text);
        let sku_id = str_at(&sku.body, "/id");
        let warehouse_id = str_at(&warehouse.body, "/id");
        let received = app
            .post(
                &format!("{base}/skus/{sku_id}/adjustments"),
                json!({ "location_id": warehouse_id, "reason": "receive", "quantity": 10 }),
                Some(owner),
            )
            .await;
        assert_eq!(received.status, StatusCode::CREATED, "{}", received.text);
        let connection = app
            .post(
                &format!("{base}/connections"),
                json!({ "platform": "shopify", "name": "Online" }),
                Some(owner),
            )
            .await;
        let connection_id = str_at(&connection.body, "/id");
        let configured = app
            .send(
                actix_web::http::Method::PUT,
                &format!("{base}/connections/{connection_id}/settings"),
                Some(json!({ "safety_buffer": 1, "sourcing": [warehouse_id] })),
                Some(owner),
            )
            .await;
        assert_eq!(configured.status, StatusCode::OK, "{}", configured.text);
        Self {
            product_id,
            sku_id,
            warehouse_id,
            store_id: str_at(&store.body, "/id"),
            connection_id,
        }
    }
}

fn offer(sku: &Value, connection_id: &str) -> i64 {
    sku["availability"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["connection_id"] == connection_id))
        .and_then(|x| x["available"].as_i64())
        .unwrap_or_else(|| panic!("no offer for {connection_id} in {sku}"))
}

#[actix_web::test]
async fn stock_changes_are_ledgered_and_move_the_channel_offer() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@stock.test", "Stock").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let sku = app
        .get(&format!("{base}/skus/{}", s.sku_id), Some(&owner))
        .await;
    assert_eq!(
        offer(&sku.body, &s.connection_id),
        9,
        "10 on hand minus a buffer of 1"
    );

    let counted = app
        .post(
            &format!("{base}/skus/{}/adjustments", s.sku_id),
            json!({ "location_id": s.warehouse_id, "reason": "count", "quantity": 7 }),
            Some(&owner),
        )
        .await;
    assert_eq!(counted.status, StatusCode::CREATED, "{}", counted.text);
    assert_eq!(counted.body["levels"][0]["on_hand"], 7);
    assert_eq!(offer(&counted.body, &s.connection_id), 6);

    let damaged = app
        .post(
            &format!("{base}/skus/{}/adjustments", s.sku_id),
            json!({ "location_id": s.warehouse_id, "reason": "adjustment", "quantity": -2, "note": "water damage" }),
            Some(&owner),
        )
        .await;
    assert_eq!(offer(&damaged.body, &s.connection_id), 4);
    let moved = app
        .post(
            &format!("{base}/skus/{}/transfers", s.sku_id),
            json!({ "from_location_id": s.warehouse_id, "to_location_id": s.store_id, "quantity": 2 }),
            Some(&owner),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.text);
    assert_eq!(
        offer(&moved.body, &s.connection_id),
        2,
        "the store is not a sourcing location"
    );

    let ledger = app
        .get(&format!("{base}/skus/{}/movements", s.sku_id), Some(&owner))
        .await;
    let items = ledger.body["items"].as_array().expect("movements");
    let reasons: Vec<_> = items
        .iter()
        .map(|m| m["reason"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        reasons,
        ["receive", "count", "adjustment", "transfer", "transfer"]
    );
    let deltas: Vec<_> = items
        .iter()
        .map(|m| m["delta"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(deltas, [10, -3, -2, -2, 2]);
    assert_eq!(items[2]["note"], "water damage");
    assert_eq!(items[2]["actor"], owner.user_id.as_str());
    let levels = app
        .get(&format!("{base}/skus/{}", s.sku_id), Some(&owner))
        .await;
    let on_hand: i64 = levels.body["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| l["on_hand"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(
        on_hand,
        deltas.iter().sum::<i64>(),
        "on hand is the sum of the ledger"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn manual_changes_are_validated_and_idempotent_with_a_key() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@adj.test", "Adj").await;
    let s = Stocked::create(&app, &owner).await;
    let path = format!(
        "/api/v1/tenants/{}/skus/{}/adjustments",
        owner.tenant_id, s.sku_id
    );
    for (body, field) in [
        (
            json!({ "location_id": s.warehouse_id, "reason": "adjustment", "quantity": -1 }),
            "note",
        ),
        (
            json!({ "location_id": s.warehouse_id, "reason": "count", "quantity": -4 }),
            "quantity",
        ),
        (
            json!({ "location_id": s.warehouse_id, "reason": "sale", "quantity": -1 }),
            "reason",
        ),
        (
            json!({ "location_id": "loc_nope", "reason": "receive", "quantity": 1 }),
            "location_id",
        ),
    ] {
        let reply = app.post(&path, body, Some(&owner)).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(reply.body["error"]["details"]["field"], field);
    }
    for _ in 0..2 {
        let req = TestRequest::post()
            .uri(&path)
            .insert_header(("idempotency-key", "delivery-42"))
            .set_json(json!({ "location_id": s.warehouse_id, "reason": "receive", "quantity": 5 }));
        let req = crate::harness::authorize(req, &owner);
        let reply = app.call(req).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        assert_eq!(
            reply.body["levels"][0]["on_hand"], 15,
            "the retry adds nothing"
        );
    }
    app.cleanup().await;
}

#[actix_web::test]
async fn a_kit_offers_as_many_as_its_scarcest_component_allows() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@kit.test", "Kit").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let second = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": s.product_id, "code": "MV-BR" }),
            Some(&owner),
        )
        .await;
    let second_id = str_at(&second.body, "/id");
    app.post(
        &format!("{base}/skus/{second_id}/adjustments"),
        json!({ "location_id": s.warehouse_id, "reason": "receive", "quantity": 3 }),
        Some(&owner),
    )
    .await;
    let boxset = app
        .post(
            &format!("{base}/products"),
            json!({ "title": "Velvet Collection", "format": "box_set" }),
            Some(&owner),
        )
        .await;
    let kit = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": str_at(&boxset.body, "/id"), "code": "MV-BOX",
                    "components": [{ "sku_id": s.sku_id, "quantity": 2 }, { "sku_id": second_id, "quantity": 1 }] }),
            Some(&owner),
        )
        .await;
    assert_eq!(kit.status, StatusCode::CREATED, "{}", kit.text);
    let kit_id = str_at(&kit.body, "/id");
    let view = app
        .get(&format!("{base}/skus/{kit_id}"), Some(&owner))
        .await;
    assert_eq!(
        offer(&view.body, &s.connection_id),
        2,
        "min(10/2, 3/1) = 3 kits, minus a buffer of 1"
    );
    app.post(
        &format!("{base}/skus/{second_id}/adjustments"),
        json!({ "location_id": s.warehouse_id, "reason": "adjustment", "quantity": -2, "note": "sold out of band" }),
        Some(&owner),
    )
    .await;
    let view = app
        .get(&format!("{base}/skus/{kit_id}"), Some(&owner))
        .await;
    assert_eq!(
        offer(&view.body, &s.connection_id),
        0,
        "one component left makes one kit, held back by the buffer"
    );
    let stock_on_kit = app
        .post(
            &format!("{base}/skus/{kit_id}/adjustments"),
            json!({ "location_id": s.warehouse_id, "reason": "receive", "quantity": 1 }),
            Some(&owner),
        )
        .await;
    stock_on_kit.assert_error(StatusCode::CONFLICT, "conflict");
    let nested = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": s.product_id, "code": "NESTED", "components": [{ "sku_id": kit_id, "quantity": 1 }] }),
            Some(&owner),
        )
        .await;
    nested.assert_error(StatusCode::CONFLICT, "conflict");
    app.cleanup().await;
}

#[actix_web::test]
async fn catalog_input_is_checked() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@cat.test", "Cat").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let bad_rating = app
        .post(
            &format!("{base}/products"),
            json!({ "title": "X", "format": "dvd", "classifications": { "fsk": "R18" } }),
            Some(&owner),
        )
        .await;
    bad_rating.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let bad_barcode = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": s.product_id, "code": "X-1", "barcode": "5012345678901" }),
            Some(&owner),
        )
        .await;
    bad_barcode.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        bad_barcode.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("check digit"))
    );
    let same_code = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": s.product_id, "code": "MV-DVD" }),
            Some(&owner),
        )
        .await;
    same_code.assert_error(StatusCode::CONFLICT, "conflict");
    let same_barcode_as_upc = app
        .post(
            &format!("{base}/skus"),
            json!({ "product_id": s.product_id, "code": "MV-2", "barcode": "05012345678900" }),
            Some(&owner),
        )
        .await;
    same_barcode_as_upc.assert_error(StatusCode::CONFLICT, "conflict");
    let updated = app
        .send(
            actix_web::http::Method::PUT,
            &format!("{base}/products/{}", s.product_id),
            Some(json!({ "title": "Midnight Velvet (Remastered)", "format": "blu_ray", "classifications": { "au": "x18+" } })),
            Some(&owner),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["classifications"]["au"], "X18+");
    assert_eq!(updated.body["format"], "blu_ray");
    app.cleanup().await;
}

#[actix_web::test]
async fn the_inventory_view_searches_filters_and_pages() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@inv.test", "Inv").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    for i in 0..5 {
        let p = app
            .post(
                &format!("{base}/products"),
                json!({ "title": format!("Neon Nights {i}"), "format": "blu_ray" }),
                Some(&owner),
            )
            .await;
        app.post(
            &format!("{base}/skus"),
            json!({ "product_id": str_at(&p.body, "/id"), "code": format!("NN-{i}") }),
            Some(&owner),
        )
        .await;
    }
    let codes = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| r["code"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let first = app
        .get(&format!("{base}/inventory?limit=4"), Some(&owner))
        .await;
    assert_eq!(codes(&first.body), ["MV-DVD", "NN-0", "NN-1", "NN-2"]);
    let cursor = str_at(&first.body, "/next_cursor");
    let second = app
        .get(
            &format!("{base}/inventory?limit=4&cursor={cursor}"),
            Some(&owner),
        )
        .await;
    assert_eq!(codes(&second.body), ["NN-3", "NN-4"]);
    assert!(second.body["next_cursor"].is_null());

    let row = &first.body["items"][0];
    assert_eq!(row["title"], "Midnight Velvet");
    assert_eq!(row["on_hand"], 10);
    assert_eq!(row["availability"][0]["available"], 9);
    assert_eq!(row["discrepancy"], false);

    let by_title = app
        .get(&format!("{base}/inventory?search=velvet"), Some(&owner))
        .await;
    assert_eq!(codes(&by_title.body), ["MV-DVD"]);
    let by_barcode = app
        .get(
            &format!("{base}/inventory?search=5012345678900"),
            Some(&owner),
        )
        .await;
    assert_eq!(codes(&by_barcode.body), ["MV-DVD"]);
    let by_format = app
        .get(
            &format!("{base}/inventory?format=blu_ray&limit=2"),
            Some(&owner),
        )
        .await;
    assert_eq!(codes(&by_format.body), ["NN-0", "NN-1"]);
    let stocked_here = app
        .get(
            &format!("{base}/inventory?location={}", s.warehouse_id),
            Some(&owner),
        )
        .await;
    assert_eq!(codes(&stocked_here.body), ["MV-DVD"]);
    let low = app
        .get(&format!("{base}/inventory?sellable_below=1"), Some(&owner))
        .await;
    assert_eq!(codes(&low.body), ["NN-0", "NN-1", "NN-2", "NN-3", "NN-4"]);
    let none = app
        .get(
            &format!("{base}/inventory?discrepancies=true"),
            Some(&owner),
        )
        .await;
    assert_eq!(codes(&none.body), Vec::<String>::new());
    app.cleanup().await;
}

#[actix_web::test]
async fn read_only_roles_cannot_change_stock_or_catalog() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@ro.test", "RO").await;
    let s = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    for role in ["viewer", "compliance_officer"] {
        let who = app
            .add_member(&owner, &format!("{role}@ro.test"), role)
            .await;
        app.post(
            &format!("{base}/skus/{}/adjustments", s.sku_id),
            json!({ "location_id": s.warehouse_id, "reason": "receive", "quantity": 1 }),
            Some(&who),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        app.post(
            &format!("{base}/products"),
            json!({ "title": "No", "format": "dvd" }),
            Some(&who),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let read = app.get(&format!("{base}/inventory"), Some(&who)).await;
        assert_eq!(read.status, StatusCode::OK);
    }
    let staff = app.add_member(&owner, "staff@ro.test", "staff").await;
    app.post(
        &format!("{base}/locations"),
        json!({ "name": "Staff Store", "kind": "store" }),
        Some(&staff),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let sku = app
        .get(&format!("{base}/skus/{}", s.sku_id), Some(&owner))
        .await;
    assert_eq!(sku.body["levels"][0]["on_hand"], 10);
    app.cleanup().await;
}
