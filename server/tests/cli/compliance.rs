//! `concord audit verify` finding an edited, deleted or reordered entry, and `concord report`
//! writing a file whose SHA-256 lands in the audit log.

use std::process::Output;

use super::{concord, temp_dir};

/// A SQLite database with one tenant whose audit log holds `n` entries; returns the
/// database, its runtime and the tenant id.
fn audited_database(
    n: usize,
) -> (
    concord_storage::test_support::TestDatabase,
    tokio::runtime::Runtime,
    String,
) {
    use concord_domain::{Email, OrganizationName, audit::AuditAction};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (db, tenant) = rt.block_on(async {
        let db = concord_storage::test_support::TestDatabase::create_on(None, 2)
            .await
            .expect("db");
        let (user, tenant) = db
            .store
            .signup(
                &Email::parse("owner@audit-cli.test").expect("email"),
                "x".into(),
                &OrganizationName::parse("Audit CLI").expect("name"),
            )
            .await
            .expect("signup");
        let scope = db
            .store
            .authorize(&user.id, &tenant.id)
            .await
            .expect("scope");
        for i in 0..n {
            db.store
                .scoped(&scope)
                .audit()
                .append(concord_storage::NewAuditEntry {
                    actor: user.id.to_string(),
                    action: AuditAction::MemberRoleChanged,
                    subject: format!("usr_{i}"),
                    details: serde_json::json!({ "before": "staff", "after": "admin" }),
                })
                .await
                .expect("append");
        }
        (db, tenant.id.to_string())
    });
    (db, rt, tenant)
}

fn audit_verify(url: &str, tenant: Option<&str>) -> Output {
    let dir = temp_dir();
    let mut cmd = concord(&dir);
    cmd.args(["audit", "verify", "--database-url", url]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    let out = cmd.output().expect("run");
    let _ = std::fs::remove_dir_all(dir);
    out
}

/// Rewrites history as someone with control of the database file could.
fn tamper(
    db: &concord_storage::test_support::TestDatabase,
    rt: &tokio::runtime::Runtime,
    sql: &[String],
) {
    rt.block_on(async {
        for t in ["audit_log_no_update", "audit_log_no_delete"] {
            let _ = db.execute(&format!("DROP TRIGGER IF EXISTS {t}")).await;
        }
        for s in sql {
            db.execute(s).await.expect("tamper");
        }
    });
}

#[test]
fn audit_verify_counts_an_intact_chain() {
    let (db, rt, tenant) = audited_database(4);
    let out = audit_verify(&db.url, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("audit log intact: 4 entries in 1 chain(s)"),
        "{stdout}"
    );
    let one = audit_verify(&db.url, Some(&tenant));
    assert_eq!(one.status.code(), Some(0));
    let unknown = audit_verify(&db.url, Some("tnt_0190f0f0f0f07000800000000000abcd"));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("is it a tenant here"));
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn audit_verify_names_an_edited_entry() {
    let (db, rt, tenant) = audited_database(4);
    tamper(
        &db,
        &rt,
        &[format!(
            "UPDATE audit_log SET details = '{{\"after\":\"owner\",\"before\":\"staff\"}}' WHERE tenant_id = '{tenant}' AND seq = 2"
        )],
    );
    let out = audit_verify(&db.url, Some(&tenant));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN {tenant}: entry 2: its fields differ")),
        "{stdout}"
    );
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn audit_verify_names_a_deleted_entry() {
    let (db, rt, tenant) = audited_database(4);
    tamper(
        &db,
        &rt,
        &[format!(
            "DELETE FROM audit_log WHERE tenant_id = '{tenant}' AND seq = 3"
        )],
    );
    let out = audit_verify(&db.url, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("entry 3 is missing; the next present is 4 (deleted)"),
        "{stdout}"
    );
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn audit_verify_names_reordered_entries() {
    let (db, rt, tenant) = audited_database(4);
    let swap: Vec<String> = [(1, -1), (2, 1), (-1, 2)]
        .into_iter()
        .map(|(from, to)| {
            format!("UPDATE audit_log SET seq = {to} WHERE tenant_id = '{tenant}' AND seq = {from}")
        })
        .collect();
    tamper(&db, &rt, &swap);
    let out = audit_verify(&db.url, Some(&tenant));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("entry 1: it was written as entry 2 (reordered)"),
        "{stdout}"
    );
    rt.block_on(db.cleanup()).expect("cleanup");
}

#[test]
fn report_writes_the_file_and_records_its_fingerprint() {
    use concord_domain::{
        audit::{AuditAction, sha256_hex},
        catalog::{Classifications, Format, SkuCode},
        ledger::{LocationKind, MovementReason},
    };
    use concord_storage::{Change, NewMovement, ProductDraft, SkuDraft};
    let (db, rt, tenant) = audited_database(0);
    let scope = rt
        .block_on(
            db.store
                .operator_scope(&concord_domain::TenantId::parse(&tenant).expect("tenant id")),
        )
        .expect("scope");
    rt.block_on(async {
        let repos = db.store.scoped(&scope);
        let shop = repos
            .create_location("Soho".into(), LocationKind::Store)
            .await
            .expect("location");
        let product = repos
            .create_product(ProductDraft {
                title: "Velvet Nights".into(),
                format: Format::Dvd,
                studio: None,
                release_date: None,
                explicit: true,
                us_2257_statement_present: true,
                classifications: Classifications::default(),
            })
            .await
            .expect("product");
        let sku = repos
            .create_sku(SkuDraft {
                product_id: product.id,
                code: SkuCode::parse("VN-DVD").expect("code"),
                barcode: None,
                components: Vec::new(),
            })
            .await
            .expect("sku");
        for (reason, delta) in [
            (MovementReason::Receive, 12),
            (MovementReason::Adjustment, -2),
        ] {
            repos
                .record_movements(vec![NewMovement {
                    sku_id: sku.id.clone(),
                    location_id: shop.id.clone(),
                    reason,
                    change: Change::Delta(delta),
                    idempotency_key: None,
                    source: None,
                    order_line: None,
                    actor: "test".into(),
                    note: Some("cli".into()),
                    occurred_at: chrono::Utc::now(),
                }])
                .await
                .expect("movement");
        }
    });
    let dir = temp_dir();
    let out_file = dir.join("stock.csv");
    let out = concord(&dir)
        .args([
            "report",
            "stock-reconciliation",
            "--tenant",
            &tenant,
            "--format",
            "csv",
            "--out",
        ])
        .arg(&out_file)
        .args(["--database-url", &db.url])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(&out_file).expect("report file");
    let sha = sha256_hex(&written);
    assert!(stdout.contains(&format!("sha256 {sha}")), "{stdout}");
    assert!(stdout.contains("closing: 10"), "{stdout}");
    let csv = String::from_utf8_lossy(&written);
    assert!(
        csv.starts_with("sku,title,category,location,opening,receipts"),
        "{csv}"
    );
    assert!(
        csv.contains("VN-DVD,Velvet Nights,no compliance record,Soho,0,12,0,0,-2,0,0,10,10,0"),
        "{csv}"
    );
    let logged = rt
        .block_on(
            db.store
                .scoped(&scope)
                .audit()
                .entries(&concord_storage::AuditQuery {
                    action: Some(AuditAction::ReportExported),
                    limit: 10,
                    ..concord_storage::AuditQuery::default()
                }),
        )
        .expect("audit");
    assert_eq!(logged.items[0].details["sha256"], sha.as_str());
    assert_eq!(logged.items[0].actor, "cli");

    let pdf_file = dir.join("rules.pdf");
    let pdf = concord(&dir)
        .args([
            "report",
            "rule-changes",
            "--tenant",
            &tenant,
            "--format",
            "pdf",
            "--from",
            "2026-01-01",
            "--out",
        ])
        .arg(&pdf_file)
        .args(["--database-url", &db.url])
        .output()
        .expect("run");
    assert!(
        pdf.status.success(),
        "{}",
        String::from_utf8_lossy(&pdf.stderr)
    );
    assert!(
        std::fs::read(&pdf_file)
            .expect("pdf")
            .starts_with(b"%PDF-1.4")
    );
    let bad = concord(&dir)
        .args([
            "report",
            "refusals",
            "--tenant",
            &tenant,
            "--format",
            "csv",
            "--from",
            "last week",
            "--out",
        ])
        .arg(dir.join("x.csv"))
        .args(["--database-url", &db.url])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--from: `last week` is not a date"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
    rt.block_on(db.cleanup()).expect("cleanup");
}
