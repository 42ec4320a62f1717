//! PostgreSQL-specific guarantees; run with `DATABASE_URL=postgres://…` (profile `services`).

use concord_storage::Backend;

use crate::harness::TestApp;

fn require_postgres(app: &TestApp) {
    assert_eq!(
        app.state.store.backend(),
        Backend::Postgres,
        "these tests need DATABASE_URL pointing at PostgreSQL"
    );
}

#[actix_web::test]
async fn row_level_security_limits_an_unfiltered_query_to_the_scoped_tenant() {
    let app = TestApp::spawn().await;
    require_postgres(&app);
    let a = app.signup("a@rls.test", "A").await;
    app.add_member(&a, "a2@rls.test", "staff").await;
    let b = app.signup("b@rls.test", "B").await;
    app.token_for(&b, None).await;

    assert_eq!(
        app.db
            .count("SELECT count(*) FROM memberships")
            .await
            .expect("count"),
        3
    );
    let seen_by_a = app
        .db
        .count_under_rls("memberships", &a.tenant_id)
        .await
        .expect("probe");
    assert_eq!(
        seen_by_a,
        Some(2),
        "only tenant A's memberships are visible in A's scope"
    );
    let seen_by_b = app
        .db
        .count_under_rls("memberships", &b.tenant_id)
        .await
        .expect("probe");
    assert_eq!(seen_by_b, Some(1));
    assert_eq!(
        app.db
            .count_under_rls("tenants", &a.tenant_id)
            .await
            .expect("probe"),
        Some(1)
    );
    assert_eq!(
        app.db
            .count_under_rls("api_tokens", &a.tenant_id)
            .await
            .expect("probe"),
        Some(0)
    );
    assert_eq!(
        app.db
            .count_under_rls("api_tokens", &b.tenant_id)
            .await
            .expect("probe"),
        Some(1)
    );
    app.cleanup().await;
}

#[actix_web::test]
async fn row_level_security_walls_off_the_audit_log_and_compliance_tables() {
    let app = TestApp::spawn().await;
    require_postgres(&app);
    let a = app.signup("a@rls-compliance.test", "A").await;
    let b = app.signup("b@rls-compliance.test", "B").await;
    for who in [&a, &b] {
        let rules = app
            .get(
                &format!("/api/v1/tenants/{}/compliance/rules", who.tenant_id),
                Some(who),
            )
            .await;
        assert!(
            rules.body.as_array().is_some_and(|r| !r.is_empty()),
            "{}",
            rules.text
        );
    }
    let total_rules = app
        .db
        .count("SELECT count(*) FROM compliance_rules")
        .await
        .expect("count");
    for table in ["audit_log", "audit_heads", "compliance_rules"] {
        let everything = app
            .db
            .count(&format!("SELECT count(*) FROM {table}"))
            .await
            .expect("count");
        let seen_by_a = app
            .db
            .count_under_rls(table, &a.tenant_id)
            .await
            .expect("probe")
            .expect("postgres");
        assert!(
            seen_by_a > 0 && seen_by_a * 2 == everything,
            "{table}: {seen_by_a} of {everything}"
        );
    }
    assert_eq!(total_rules % 2, 0);
    app.cleanup().await;
}
