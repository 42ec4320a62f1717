//! The tamper-evident audit log: one hash chain per tenant (`audit_log`), and each chain's
//! head (`audit_heads`: entries written and the last hash), which serializes appends per
//! tenant and lets verification notice entries deleted from the end.
//!
//! The log is append-only in the database too: triggers refuse `UPDATE` and `DELETE` on
//! `audit_log` on both backends, so only someone who can drop a trigger can rewrite
//! history, and the chain shows it when they do.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn col(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(col("audit_log"))
                    .col(text(col("tenant_id")))
                    .col(big_integer(col("seq")))
                    .col(timestamp_with_time_zone(col("at")))
                    .col(text(col("actor")))
                    .col(text(col("action")))
                    .col(text(col("subject")))
                    .col(text(col("details")))
                    .col(text(col("content")))
                    .col(text(col("prev_hash")))
                    .col(text(col("hash")))
                    .primary_key(Index::create().col(col("tenant_id")).col(col("seq")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_action")
                    .table(col("audit_log"))
                    .col(col("tenant_id"))
                    .col(col("action"))
                    .col(col("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("audit_heads"))
                    .col(text(col("tenant_id")).primary_key())
                    .col(big_integer(col("seq")))
                    .col(text(col("hash")))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION concord_audit_append_only() RETURNS trigger AS $$
                     BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql;
                     CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                     FOR EACH ROW EXECUTE FUNCTION concord_audit_append_only();",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                     CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
                )
                .await?;
            }
        }
        rls::protect(manager, "audit_log", "tenant_id").await?;
        rls::protect(manager, "audit_heads", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(col("audit_heads")).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(col("audit_log")).to_owned())
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS concord_audit_append_only()")
                .await?;
        }
        Ok(())
    }
}
