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
