//! Webhook intake: each connection's signing secret (sealed) and the inbound event store,
//! which doubles as the durable work list the worker drains.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("connections"))
                    .add_column(text_null(Alias::new("webhook_secret")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("inbound_events"))
                    .col(big_pk_auto(Alias::new("id")))
                    .col(text(Alias::new("tenant_id")))
                    .col(text(Alias::new("connection_id")))
                    .col(text(Alias::new("external_id")))
                    .col(text(Alias::new("body")))
                    .col(text(Alias::new("status")))
                    .col(integer(Alias::new("attempts")).default(0))
                    .col(timestamp_with_time_zone(Alias::new("next_attempt_at")))
                    .col(text_null(Alias::new("last_error")))
                    .col(timestamp_with_time_zone(Alias::new("received_at")))
                    .col(timestamp_with_time_zone_null(Alias::new("processed_at")))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "uq_inbound_events_external",
                &["connection_id", "external_id"][..],
                true,
            ),
            (
                "idx_inbound_events_due",
                &["status", "next_attempt_at"][..],
                false,
            ),
            (
                "idx_inbound_events_tenant",
                &["tenant_id", "status"][..],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Alias::new("inbound_events"));
            for column in columns {
                index.col(Alias::new(*column));
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        rls::protect(manager, "inbound_events", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("inbound_events")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("connections"))
                    .drop_column(Alias::new("webhook_secret"))
                    .to_owned(),
            )
            .await
    }
}
