//! Retention (COMPLIANCE.md §1.4): each tenant's periods for age evidence, the age-check
//! failure log and the refusals register (`retention_settings`; no row means the defaults),
//! and the deletion log proving each scheduled purge ran and what it removed
//! (`retention_runs`).

use sea_orm_migration::{prelude::*, schema::*};

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
                    .table(col("retention_settings"))
                    .col(text(col("tenant_id")).primary_key())
                    .col(integer(col("sale_evidence_days")))
                    .col(integer(col("age_check_failure_days")))
                    .col(integer(col("refusal_days")))
                    .col(timestamp_with_time_zone_null(col("ran_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("retention_runs"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(timestamp_with_time_zone(col("ran_at")))
                    .col(text(col("record_kind")))
                    .col(integer(col("period_days")))
                    .col(timestamp_with_time_zone(col("cutoff")))
                    .col(big_integer(col("deleted")))
                    .col(timestamp_with_time_zone_null(col("oldest_deleted")))
                    .col(timestamp_with_time_zone_null(col("newest_deleted")))
                    .col(text(col("actor")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_retention_runs_at")
                    .table(col("retention_runs"))
                    .col(col("tenant_id"))
                    .col(col("ran_at"))
                    .to_owned(),
            )
            .await?;
        rls::protect(manager, "retention_settings", "tenant_id").await?;
        rls::protect(manager, "retention_runs", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["retention_runs", "retention_settings"] {
            manager
                .drop_table(Table::drop().table(col(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
