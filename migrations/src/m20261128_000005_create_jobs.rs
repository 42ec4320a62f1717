//! Sync jobs (reconcile runs) with their progress and reports, each tenant's reconcile
//! schedule, and the recent figures written to each channel (echo suppression).

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
                    .table(col("jobs"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(text(col("connection_id")))
                    .col(text(col("kind")))
                    .col(text(col("status")))
                    .col(big_integer(col("done")).default(0))
                    .col(big_integer_null(col("total")))
                    .col(big_integer(col("found")).default(0))
                    .col(big_integer(col("repaired")).default(0))
                    .col(big_integer(col("skipped")).default(0))
                    .col(text_null(col("report")))
                    .col(text_null(col("error")))
                    .col(timestamp_with_time_zone(col("created_at")))
                    .col(timestamp_with_time_zone_null(col("finished_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_connection")
                    .table(col("jobs"))
                    .col(col("tenant_id"))
                    .col(col("connection_id"))
                    .col(col("kind"))
                    .col(col("created_at"))
                    .to_owned(),
            )
            .await?;
        for column in [
            integer(col("reconcile_every_minutes"))
                .default(60)
                .to_owned(),
            integer(col("full_reconcile_every_hours"))
                .default(24)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("tenants"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(col("availability"))
                    .add_column(text_null(col("recent_pushes")))
                    .to_owned(),
            )
            .await?;
        rls::protect(manager, "jobs", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(col("availability"))
                    .drop_column(col("recent_pushes"))
                    .to_owned(),
            )
            .await?;
        for column in ["reconcile_every_minutes", "full_reconcile_every_hours"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("tenants"))
                        .drop_column(col(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(col("jobs")).to_owned())
            .await
    }
}
