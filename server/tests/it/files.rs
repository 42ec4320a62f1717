//! CSV imports and exports through the API.

use actix_web::{
    http::{StatusCode, header},
    test::TestRequest,
};

use crate::harness::{Account, Reply, TestApp, authorize, str_at};

const CATALOG: &str = "sku,title,format,barcode,studio,release_date,explicit,us_2257_statement_present,bbfc,fsk,au,mpa,ca_bc,components
VV-DVD,Velvet Vice,dvd,5012345678900,Crimson Reel,2024-05-01,true,true,R18,18,X18+,NC-17,adult,
VV-BR,Velvet Vice,blu_ray,4006381333931,Crimson Reel,2024-05-01,true,true,R18,18,X18+,NC-17,adult,
NN-DVD,Neon Nights,dvd,,Lumen Films,,false,false,18,16,R18+,R,,
VV-BOX,Velvet Vice Collection,box_set,,Crimson Reel,,true,true,R18,,,,,VV-DVD*1;VV-BR*1
";

async fn upload(app: &TestApp, who: &Account, path: &str, body: &str) -> Reply {
    let req = TestRequest::post()
        .uri(&format!("/api/v1/tenants/{}/{path}", who.tenant_id))
        .insert_header((header::CONTENT_TYPE, "text/csv"))
        .set_payload(body.to_owned());
    app.call(authorize(req, who)).await
}

async fn export(app: &TestApp, who: &Account, kind: &str) -> String {
    let reply = app
        .get(
            &format!("/api/v1/tenants/{}/exports/{kind}", who.tenant_id),
            Some(who),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.text
}

#[actix_web::test]
async fn a_catalog_imports_once_and_round_trips_through_export() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@csv.test", "CSV").await;
    let first = upload(&app, &owner, "imports/catalog", CATALOG).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["rows"], 4);
    assert_eq!(first.body["applied"], 4);
    assert_eq!(first.body["committed"], true);
    let again = upload(&app, &owner, "imports/catalog", CATALOG).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "re-importing updates in place"
    );
    let products = app
        .get(
            &format!("/api/v1/tenants/{}/products", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(
        products.body["items"].as_array().map(Vec::len),
        Some(4),
        "one product per title and format"
    );
    let exported = export(&app, &owner, "catalog").await;
    let lines: Vec<&str> = exported.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("VV-BOX,Velvet Vice Collection,box_set")
                && l.ends_with("VV-BR*1;VV-DVD*1")),
        "{exported}"
    );

    let other = app.signup("other@csv.test", "Other").await;
    let copied = upload(&app, &other, "imports/catalog", &exported).await;
    assert_eq!(copied.status, StatusCode::OK, "{}", copied.text);
    assert_eq!(
        export(&app, &other, "catalog").await,
        exported,
        "an export re-imports to the same catalog"
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn a_file_with_bad_rows_applies_nothing_unless_partial() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@bad.test", "Bad").await;
    let file = "sku,title,format,barcode\nOK-1,Fine,dvd,\nBAD-1,Broken,vhs,\nBAD-2,Broken,dvd,5012345678901\nOK-2,Fine too,dvd,\n";
    let refused = upload(&app, &owner, "imports/catalog", file).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "import_failed");
    let details = &refused.body["error"]["details"];
    assert_eq!(details["error_count"], 2);
    assert_eq!(details["errors"][0]["line"], 3);
    assert_eq!(details["errors"][1]["line"], 4);
    assert!(
        details["errors"][1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("check digit"))
    );
    let inventory = app
        .get(
            &format!("/api/v1/tenants/{}/inventory", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(
        inventory.body["items"].as_array().map(Vec::len),
        Some(0),
        "nothing applied"
    );

    let partial = upload(&app, &owner, "imports/catalog?partial=true", file).await;
    assert_eq!(partial.status, StatusCode::OK, "{}", partial.text);
    assert_eq!(partial.body["applied"], 2);
    let inventory = app
        .get(
            &format!("/api/v1/tenants/{}/inventory", owner.tenant_id),
            Some(&owner),
        )
        .await;
    assert_eq!(inventory.body["items"].as_array().map(Vec::len), Some(2));

    let clash = upload(&app, &owner, "imports/catalog", "sku,title,format,barcode\nOK-3,Clash,dvd,\nOK-1,Fine,dvd,5012345678900\nOK-3,Clash,dvd,5012345678900\n").await;
    clash.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "import_failed");
    assert_eq!(
        clash.body["error"]["details"]["errors"][0]["line"], 4,
        "a barcode taken earlier in the file"
    );
    upload(&app, &owner, "imports/catalog", "name,title\nx,y\n")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file");
    app.cleanup().await;
}

#[actix_web::test]
async fn stock_counts_import_as_count_movements_and_export() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@count.test", "Count").await;
    upload(&app, &owner, "imports/catalog", CATALOG).await;
    let location = app
        .post(
            &format!("/api/v1/tenants/{}/locations", owner.tenant_id),
            serde_json::json!({ "name": "Soho", "kind": "store" }),
            Some(&owner),
        )
        .await;
    let location_id = str_at(&location.body, "/id");
    let counts =
        format!("sku,location,quantity\nVV-DVD,Soho,7\nVV-BR,{location_id},3\nNN-DVD,Soho,0\n");
    let done = upload(&app, &owner, "imports/stock", &counts).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["applied"], 3);
    let recount = upload(
        &app,
        &owner,
        "imports/stock",
        "sku,location,quantity\nVV-DVD,Soho,5\n",
    )
    .await;
    assert_eq!(recount.status, StatusCode::OK);
    let bad = upload(
        &app,
        &owner,
        "imports/stock",
        "sku,location,quantity\nVV-DVD,Nowhere,1\nVV-BOX,Soho,1\nGHOST,Soho,1\n",
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "import_failed");
    assert_eq!(bad.body["error"]["details"]["error_count"], 3);

    let stock = export(&app, &owner, "stock").await;
    assert_eq!(
        stock,
        "sku,location,on_hand,committed,sellable\nNN-DVD,Soho,0,0,0\nVV-BR,Soho,3,0,3\nVV-DVD,Soho,5,0,5\n"
    );
    let ledger = export(&app, &owner, "ledger").await;
    let deltas: Vec<&str> = ledger
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap_or_default())
        .collect();
    assert_eq!(deltas, ["7", "3", "0", "-2"]);
    assert!(
        ledger.lines().skip(1).all(|l| l.contains(",count,")),
        "{ledger}"
    );
    app.get(
        &format!("/api/v1/tenants/{}/exports/secrets", owner.tenant_id),
        Some(&owner),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.cleanup().await;
}
