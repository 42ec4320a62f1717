//! PostgreSQL row-level security: the second wall behind the scoped query layer.
//!
//! Every tenant-owned table gets a policy that admits a row only when the transaction's
//! `concord.tenant_id` setting is unset (system work: sign-in, listing one user's
//! memberships) or equals the row's tenant. The storage layer sets it with `SET LOCAL` in
//! every tenant-scoped transaction, so a query there that forgot its tenant filter still sees
//! only that tenant's rows. `FORCE` applies the policy to the table owner as well; only a
//! superuser bypasses it, which is why production connects as an ordinary role.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

/// Enables and forces the tenant policy on `table`, keyed by its `column` (PostgreSQL only).
pub async fn protect(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let setting = "coalesce(current_setting('concord.tenant_id', true), '')";
    let rule = format!("({setting} = '' OR {setting} = {column})");
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_wall ON {table} USING {rule} WITH CHECK {rule};"
    ))
    .await?;
    Ok(())
}
