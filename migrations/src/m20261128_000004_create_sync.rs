//! Sync state: what each delivery carried besides its body, each connection's credentials
//! and API address, its listings (platform items matched to SKUs), what was last pushed to
//! each channel (coalesced pushes and echo suppression) and its polling cursors.

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
        for column in [
            text_null(col("headers")),
            boolean(col("verified")).default(true).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("inbound_events"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [text_null(col("credentials")), text_null(col("base_url"))] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("connections"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            big_integer_null(col("pushed")),
            timestamp_with_time_zone_null(col("pushed_at")),
            boolean(col("push_due")).default(false).to_owned(),
            integer(col("push_attempts")).default(0).to_owned(),
            timestamp_with_time_zone_null(col("push_after")),
            text_null(col("push_error")),
            timestamp_with_time_zone_null(col("reported_at")),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("availability"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_availability_push_due")
                    .table(col("availability"))
                    .col(col("push_due"))
                    .col(col("connection_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("listings"))
                    .col(big_pk_auto(col("id")))
                    .col(text(col("tenant_id")))
                    .col(text(col("connection_id")))
                    .col(text(col("external_item_id")))
                    .col(text_null(col("external_parent_id")))
                    .col(text_null(col("sku_code")))
                    .col(text_null(col("barcode")))
                    .col(text_null(col("title")))
                    .col(text_null(col("sku_id")))
                    .col(text_null(col("matched_by")))
                    .col(timestamp_with_time_zone(col("seen_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("sync_cursors"))
                    .col(text(col("connection_id")))
                    .col(text(col("name")))
                    .col(text(col("tenant_id")))
                    .col(text(col("value")))
                    .col(timestamp_with_time_zone(col("updated_at")))
                    .primary_key(Index::create().col(col("connection_id")).col(col("name")))
                    .to_owned(),
            )
            .await?;
        for (name, table, columns, unique) in [
            (
                "uq_listings_external",
                "listings",
                &["connection_id", "external_item_id"][..],
                true,
            ),
            (
                "idx_listings_sku",
                "listings",
                &["connection_id", "sku_id"][..],
                false,
            ),
            (
                "idx_listings_tenant",
                "listings",
                &["tenant_id", "connection_id"][..],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(col(table));
            for column in columns {
                index.col(col(column));
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        rls::protect(manager, "listings", "tenant_id").await?;
        rls::protect(manager, "sync_cursors", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sync_cursors", "listings"] {
            manager
                .drop_table(Table::drop().table(col(table)).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_availability_push_due")
                    .table(col("availability"))
                    .to_owned(),
            )
            .await?;
        for (table, columns) in [
            (
                "availability",
                &[
                    "pushed",
                    "pushed_at",
                    "push_due",
                    "push_attempts",
                    "push_after",
                    "push_error",
                    "reported_at",
                ][..],
            ),
            ("connections", &["credentials", "base_url"][..]),
            ("inbound_events", &["headers", "verified"][..]),
        ] {
            for column in columns {
                manager
                    .alter_table(
                        Table::alter()
                            .table(col(table))
                            .drop_column(col(column))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
