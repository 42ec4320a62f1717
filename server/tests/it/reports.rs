//! Compliance reports over the API: who may download them, CSV and PDF, the export's
//! SHA-256 in the header and in the audit log, and report totals that match the ledger.

use std::collections::HashMap;

use actix_web::http::{Method, StatusCode};
use concord_domain::audit::sha256_hex;
use serde_json::{Value, json};

use crate::{
    harness::{Account, TestApp, str_at},
    inventory::Stocked,
};

/// The CSV rows of a report and its `total,<name>,<value>` rows.
fn parse(csv: &str) -> (Vec<HashMap<String, String>>, HashMap<String, i64>) {
    let mut lines = csv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect();
    let (mut rows, mut totals) = (Vec::new(), HashMap::new());
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[0] == "total" && cells.len() == 3 {
            totals.insert(cells[1].to_owned(), cells[2].parse().unwrap_or(i64::MIN));
        } else {
            rows.push(
                header
                    .iter()
                    .cloned()
                    .zip(cells.iter().map(|c| (*c).to_owned()))
                    .collect(),
            );
        }
    }
    (rows, totals)
}

async fn download(
    app: &TestApp,
    who: &Account,
    path: &str,
) -> (StatusCode, String, String, Vec<u8>) {
    let req = actix_web::test::TestRequest::get().uri(path);
    let reply = app.call(crate::harness::authorize(req, who)).await;
    let sha = reply
        .headers
        .get("x-content-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let kind = reply
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (reply.status, kind, sha, reply.text.into_bytes())
}

#[actix_web::test]
async fn reports_are_fingerprinted_audited_and_match_the_ledger() {
    let app = TestApp::spawn().await;
    let owner = app.signup("owner@reports.test", "Reports Video").await;
    let officer = app
        .add_member(&owner, "co@reports.test", "compliance_officer")
        .await;
    let staff = app.add_member(&owner, "staff@reports.test", "staff").await;
    let stock = Stocked::create(&app, &owner).await;
    let base = format!("/api/v1/tenants/{}", owner.tenant_id);
    let classified = app
        .send(Method::PUT, &format!("{base}/products/{}/compliance", stock.product_id),
              Some(json!({ "fields": { "uk_bbfc_category": "R18", "uk_bbfc_cert_no": "AFF-R18-1", "uk_label_ok": true,
                                       "explicit_content": true, "cover_art_explicit": false },
                           "valid_from": "2026-01-01T00:00:00Z" })),
              Some(&owner))
        .await;
    assert_eq!(
        classified.status,
        StatusCode::CREATED,
        "{}",
        classified.text
    );
    let set = app
        .send(
            Method::PUT,
            &format!("{base}/connections/{}/compliance", stock.connection_id),
            Some(json!({ "jurisdiction": "GB", "channel_kind": "pos" })),
            Some(&officer),
        )
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text);
    // Two counter sales of the R18 title; one with the ID check recorded.
    let mut orders = Vec::new();
    for (n, qty) in [(1, 2), (2, 1)] {
        let placed = app
            .post(&format!("{base}/connections/{}/events", stock.connection_id),
                  json!({ "events": [{ "event_id": format!("pos-{n}"), "occurred_at": "2026-11-28T10:00:00Z",
                      "type": "order_placed", "order_id": format!("POS-{n}"), "status": "completed", "currency": "GBP",
                      "total_minor": 2999 * qty, "customer": null, "location": null,
                      "lines": [{ "line_id": "1", "sku": "MV-DVD", "quantity": qty, "fulfilled_quantity": qty, "unit_price_minor": 2999 }],
                      "placed_at": "2026-11-28T10:00:00Z", "updated_at": "2026-11-28T10:00:00Z" }] }),
                  Some(&owner))
            .await;
        assert_eq!(placed.status, StatusCode::OK, "{}", placed.text);
        orders.push(str_at(&placed.body, "/results/0/order_id"));
    }
    let evidence = app
        .post(&format!("{base}/orders/{}/evidence", orders[0]),
              json!({ "check_type": "in_person_id_sighted", "method": "passport", "result": "pass",
                      "verifier": staff.user_id, "checked_at": "2026-11-28T10:00:00Z", "fiscal_ref": "TSE-42" }),
              Some(&staff))
        .await;
    assert_eq!(evidence.status, StatusCode::CREATED, "{}", evidence.text);
    for (reason, quantity, note) in [("adjustment", -1, Some("damaged")), ("count", 4, None)] {
        let moved = app
            .post(&format!("{base}/skus/{}/adjustments", stock.sku_id),
                  json!({ "location_id": stock.warehouse_id, "reason": reason, "quantity": quantity, "note": note }),
                  Some(&staff))
            .await;
        assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.text);
    }

    let sales_path =
        format!("{base}/reports/restricted-sales?format=csv&from=2026-11-28&to=2026-11-28");
    for who in [
        &staff,
        &app.add_member(&owner, "viewer@reports.test", "viewer")
            .await,
    ] {
        let (status, ..) = download(&app, who, &sales_path).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, kind, sha, body) = download(&app, &officer, &sales_path).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(kind.starts_with("text/csv"));
    assert_eq!(
        sha,
        sha256_hex(&body),
        "the header fingerprints the bytes sent"
    );
    let (rows, totals) = parse(&String::from_utf8_lossy(&body));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(totals["units"], 3);
    assert_eq!(totals["without_passed_check"], 1);
    let checked = rows.iter().find(|r| r["order"] == "POS-1").expect("POS-1");
    assert_eq!(checked["certificate"], "AFF-R18-1");
    assert_eq!(checked["check_result"], "pass");
    assert_eq!(checked["fiscal_ref"], "TSE-42");
    assert_eq!(checked["jurisdiction"], "GB");
    let exported = app
        .get(
            &format!("{base}/audit?action=report.exported"),
            Some(&owner),
        )
        .await;
    assert_eq!(exported.body["items"][0]["details"]["sha256"], sha.as_str());
    assert_eq!(exported.body["items"][0]["actor"], officer.user_id.as_str());

    let (_, _, _, body) = download(
        &app,
        &owner,
        &format!("{base}/reports/stock-reconciliation?format=csv"),
    )
    .await;
    let (rows, totals) = parse(&String::from_utf8_lossy(&body));
    let movements = app
        .get(
            &format!("{base}/skus/{}/movements?limit=500", stock.sku_id),
            Some(&owner),
        )
        .await;
    let on_hand_moves: Vec<&Value> = movements.body["items"]
        .as_array()
        .expect("ledger")
        .iter()
        .filter(|m| m["reason"] != "reservation" && m["reason"] != "release")
        .collect();
    let ledger_sum = |reason: &str| -> i64 {
        on_hand_moves
            .iter()
            .filter(|m| m["reason"] == reason)
            .filter_map(|m| m["delta"].as_i64())
            .sum()
    };
    let sku = app
        .get(&format!("{base}/skus/{}", stock.sku_id), Some(&owner))
        .await;
    let on_hand: i64 = sku.body["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .filter_map(|l| l["on_hand"].as_i64())
        .sum();
    assert_eq!(totals["closing"], on_hand, "{rows:?}");
    assert_eq!(
        totals["closing"],
        on_hand_moves
            .iter()
            .filter_map(|m| m["delta"].as_i64())
            .sum::<i64>()
    );
    assert_eq!(totals["receipts"], ledger_sum("receive"));
    assert_eq!(totals["sales"], -ledger_sum("sale"));
    assert_eq!(totals["sales"], 3);
    assert_eq!(totals["adjustments"], ledger_sum("adjustment"));
    assert_eq!(totals["counts"], ledger_sum("count"));
    assert_eq!(totals["variance"], 0);
    assert_eq!(
        totals["opening"] + totals["receipts"] - totals["sales"]
            + totals["returns"]
            + totals["adjustments"]
            + totals["counts"]
            + totals["transfers"],
        totals["closing"]
    );

    let (status, kind, sha, pdf) = download(
        &app,
        &officer,
        &format!("{base}/reports/rule-changes?format=pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert_eq!(sha.len(), 64);
    let (_, _, _, gaps) = download(
        &app,
        &officer,
        &format!("{base}/reports/catalog-gaps?format=csv"),
    )
    .await;
    let (_, totals) = parse(&String::from_utf8_lossy(&gaps));
    assert_eq!(totals["forbidden_listings"], 0);
    let (_, _, _, refusals) = download(
        &app,
        &officer,
        &format!("{base}/reports/refusals?format=csv"),
    )
    .await;
    assert!(String::from_utf8_lossy(&refusals).starts_with("at,register,reason"));

    let (status, ..) = download(
        &app,
        &officer,
        &format!("{base}/reports/everything?format=csv"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bad = app
        .get(
            &format!("{base}/reports/refusals?format=csv&from=yesterday"),
            Some(&officer),
        )
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let backwards = app
        .get(
            &format!("{base}/reports/refusals?format=csv&from=2026-11-02&to=2026-11-01"),
            Some(&officer),
        )
        .await;
    backwards.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.cleanup().await;
}
