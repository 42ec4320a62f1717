//! The audit log through real storage (SQLite, or PostgreSQL when `DATABASE_URL` names
//! one): appends chain per tenant, concurrent appends never fork a chain, the table refuses
//! edits, and verification finds an entry edited, deleted or reordered behind its back.

use concord_domain::{
    Email, OrganizationName,
    audit::{AuditAction, ChainBreak},
};
use concord_storage::{AuditQuery, NewAuditEntry, Store, TenantScope, test_support::TestDatabase};
use serde_json::json;

async fn tenant(store: &Store, name: &str) -> TenantScope {
    let email = Email::parse(&format!("{name}@audit.test")).expect("email");
    let org = OrganizationName::parse(name).expect("name");
    let (user, tenant) = store
        .signup(&email, "x".into(), &org)
        .await
        .expect("signup");
    store.authorize(&user.id, &tenant.id).await.expect("scope")
}

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry {
        actor: "usr_test".into(),
        action: AuditAction::RuleVersionCreated,
        subject: format!("UK-R18-REMOTE#{i}"),
        details: json!({ "version": i, "after": { "action": "block_listing" } }),
    }
}

async fn append(store: &Store, scope: &TenantScope, n: usize) {
    for i in 0..n {
        store
            .scoped(scope)
            .audit()
            .append(entry(i))
            .await
            .expect("append");
    }
}

/// Lets the test rewrite history, as someone with control of the database could.
async fn drop_append_only_guard(db: &TestDatabase) {
    if db.schema().is_some() {
        db.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            .await
            .expect("disable trigger");
    } else {
        for t in ["audit_log_no_update", "audit_log_no_delete"] {
            db.execute(&format!("DROP TRIGGER {t}"))
                .await
                .expect("drop trigger");
        }
    }
}

async fn outcome(store: &Store, scope: &TenantScope) -> Result<i64, ChainBreak> {
    let reports = store
        .verify_audit(Some(scope.tenant_id()))
        .await
        .expect("verify");
    reports[0].outcome.clone()
}

#[tokio::test]
async fn chains_are_per_tenant_and_verify_intact() {
    let db = TestDatabase::create().await.expect("db");
    let a = tenant(&db.store, "alpha").await;
    let b = tenant(&db.store, "beta").await;
    append(&db.store, &a, 3).await;
    append(&db.store, &b, 2).await;
    let page = db
        .store
        .scoped(&b)
        .audit()
        .entries(&AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .expect("entries");
    assert_eq!(page.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert!(
        page.items
            .iter()
            .all(|e| e.tenant == b.tenant_id().as_str())
    );
    assert_eq!(page.items[1].prev_hash, page.items[0].hash);
    let all = db.store.verify_audit(None).await.expect("verify all");
    let mut counts: Vec<i64> = all
        .iter()
        .map(|r| r.outcome.clone().expect("intact"))
        .collect();
    counts.sort();
    assert_eq!(counts, [2, 3]);
    db.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn concurrent_appends_form_one_unbroken_chain() {
    let db = TestDatabase::create().await.expect("db");
    let scope = tenant(&db.store, "busy").await;
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let (store, scope) = (db.store.clone(), scope.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store
                    .scoped(&scope)
                    .audit()
                    .append(entry(worker * 100 + i))
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(outcome(&db.store, &scope).await, Ok(40));
    db.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn the_table_refuses_edits_and_deletes() {
    let db = TestDatabase::create().await.expect("db");
    let scope = tenant(&db.store, "guarded").await;
    append(&db.store, &scope, 2).await;
    assert!(
        db.execute("UPDATE audit_log SET actor = 'x'")
            .await
            .is_err()
    );
    assert!(db.execute("DELETE FROM audit_log").await.is_err());
    assert_eq!(outcome(&db.store, &scope).await, Ok(2));
    db.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn an_edited_entry_is_found() {
    let db = TestDatabase::create().await.expect("db");
    let scope = tenant(&db.store, "edited").await;
    append(&db.store, &scope, 5).await;
    drop_append_only_guard(&db).await;
    db.execute(&format!(
        "UPDATE audit_log SET actor = 'usr_mallory' WHERE tenant_id = '{}' AND seq = 3",
        scope.tenant_id()
    ))
    .await
    .expect("edit");
    assert_eq!(
        outcome(&db.store, &scope).await,
        Err(ChainBreak::FieldsEdited { seq: 3 })
    );
    db.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn a_deleted_entry_is_found_in_the_middle_and_at_the_end() {
    let db = TestDatabase::create().await.expect("db");
    let scope = tenant(&db.store, "deleted").await;
    append(&db.store, &scope, 5).await;
    drop_append_only_guard(&db).await;
    let t = scope.tenant_id();
    db.execute(&format!(
        "DELETE FROM audit_log WHERE tenant_id = '{t}' AND seq = 5"
    ))
    .await
    .expect("delete last");
    assert_eq!(
        outcome(&db.store, &scope).await,
        Err(ChainBreak::Truncated { last: 4, head: 5 })
    );
    db.execute(&format!(
        "DELETE FROM audit_log WHERE tenant_id = '{t}' AND seq = 2"
    ))
    .await
    .expect("delete middle");
    assert_eq!(
        outcome(&db.store, &scope).await,
        Err(ChainBreak::Missing {
            expected: 2,
            found: 3
        })
    );
    db.cleanup().await.expect("cleanup");
}

#[tokio::test]
async fn reordered_entries_are_found() {
    let db = TestDatabase::create().await.expect("db");
    let scope = tenant(&db.store, "reordered").await;
    append(&db.store, &scope, 5).await;
    drop_append_only_guard(&db).await;
    let t = scope.tenant_id();
    for (from, to) in [(2, -1), (3, 2), (-1, 3)] {
        db.execute(&format!(
            "UPDATE audit_log SET seq = {to} WHERE tenant_id = '{t}' AND seq = {from}"
        ))
        .await
        .expect("swap");
    }
    assert_eq!(
        outcome(&db.store, &scope).await,
        Err(ChainBreak::Reordered {
            seq: 2,
            written_as: 3
        })
    );
    db.cleanup().await.expect("cleanup");
}
