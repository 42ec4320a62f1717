//! Compliance data: each title's compliance fields as versions valid from/to
//! (`title_compliance`), the tenant's jurisdiction rules as versions (`compliance_rules`,
//! each version's rule as JSON), and where each connection sells (`jurisdiction`,
//! `channel_kind` on `connections`).

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
                    .table(col("title_compliance"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(text(col("product_id")))
                    .col(integer(col("version")))
                    .col(text(col("fields")))
                    .col(text(col("overrides")))
                    .col(text(col("evidence_refs")))
                    .col(text_null(col("source")))
                    .col(text_null(col("verified_by")))
                    .col(timestamp_with_time_zone_null(col("verified_at")))
                    .col(timestamp_with_time_zone(col("valid_from")))
                    .col(timestamp_with_time_zone_null(col("valid_to")))
                    .col(text(col("recorded_by")))
                    .col(timestamp_with_time_zone(col("recorded_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_title_compliance_version")
                    .table(col("title_compliance"))
                    .col(col("tenant_id"))
                    .col(col("product_id"))
                    .col(col("version"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("compliance_rules"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(text(col("code")))
                    .col(integer(col("version")))
                    .col(text(col("rule")))
                    .col(text(col("created_by")))
                    .col(timestamp_with_time_zone(col("created_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_compliance_rules_version")
                    .table(col("compliance_rules"))
                    .col(col("tenant_id"))
                    .col(col("code"))
                    .col(col("version"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        for column in ["jurisdiction", "channel_kind"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("connections"))
                        .add_column(text_null(col(column)))
                        .to_owned(),
                )
                .await?;
        }
        rls::protect(manager, "title_compliance", "tenant_id").await?;
        rls::protect(manager, "compliance_rules", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["jurisdiction", "channel_kind"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("connections"))
                        .drop_column(col(column))
                        .to_owned(),
                )
                .await?;
        }
        for table in ["compliance_rules", "title_compliance"] {
            manager
                .drop_table(Table::drop().table(col(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
