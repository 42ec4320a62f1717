//! Enforcement records: each order's standing with the rules (`order_compliance`), the
//! evidence kept per restricted sale (`sale_evidence`, no personal data), the refusals
//! register (`refusals`: in-store refusals, sales blocked by a destination's rule, offers
//! withheld from a channel) and the online age-check failure log (`age_check_failures`).
//! Evidence and registers are linked to orders by id only, so their retention never touches
//! the financial record.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn col(name: &str) -> Alias {
    Alias::new(name)
}

const TABLES: [&str; 4] = [
    "order_compliance",
    "sale_evidence",
    "refusals",
    "age_check_failures",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(col("order_compliance"))
                    .col(text(col("order_id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(text(col("state")))
                    .col(text_null(col("jurisdiction")))
                    .col(text_null(col("channel_kind")))
                    .col(text(col("lines")))
                    .col(text(col("outstanding")))
                    .col(timestamp_with_time_zone(col("judged_at")))
                    .col(text_null(col("released_by")))
                    .col(timestamp_with_time_zone_null(col("released_at")))
                    .col(text_null(col("release_reason")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("sale_evidence"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(text(col("order_id")))
                    .col(text(col("sale_ref")))
                    .col(text(col("jurisdiction_basis")))
                    .col(text(col("titles")))
                    .col(text(col("check_type")))
                    .col(text_null(col("method")))
                    .col(text(col("result")))
                    .col(text(col("verifier")))
                    .col(timestamp_with_time_zone(col("checked_at")))
                    .col(text_null(col("source_clock")))
                    .col(text_null(col("delivery_control")))
                    .col(text_null(col("fiscal_ref")))
                    .col(text(col("hash")))
                    .col(text(col("recorded_by")))
                    .col(timestamp_with_time_zone(col("recorded_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("refusals"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(timestamp_with_time_zone(col("at")))
                    .col(text(col("kind")))
                    .col(text(col("reason")))
                    .col(text_null(col("location_id")))
                    .col(text_null(col("connection_id")))
                    .col(text_null(col("verifier")))
                    .col(text(col("title_category")))
                    .col(text_null(col("order_id")))
                    .col(text_null(col("sku_id")))
                    .col(text(col("detail")))
                    .col(text(col("recorded_by")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("age_check_failures"))
                    .col(text(col("id")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(timestamp_with_time_zone(col("at")))
                    .col(text_null(col("connection_id")))
                    .col(text(col("provider")))
                    .col(text_null(col("method")))
                    .col(text(col("result")))
                    .col(text(col("title_category")))
                    .col(text_null(col("order_id")))
                    .col(text(col("recorded_by")))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            ("idx_order_compliance_state", "order_compliance", "state"),
            ("idx_sale_evidence_order", "sale_evidence", "order_id"),
            ("idx_sale_evidence_checked", "sale_evidence", "checked_at"),
            ("idx_refusals_at", "refusals", "at"),
            ("idx_age_check_failures_at", "age_check_failures", "at"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(col(table))
                        .col(col("tenant_id"))
                        .col(col(column))
                        .to_owned(),
                )
                .await?;
        }
        for table in TABLES {
            rls::protect(manager, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(col(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
