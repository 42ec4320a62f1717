//! When each tenant's offers were last brought in line with rule versions and title
//! versions that take effect at a time of their own (`offer_refreshes`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("offer_refreshes"))
                    .col(text(Alias::new("tenant_id")).primary_key())
                    .col(timestamp_with_time_zone(Alias::new("refreshed_at")))
                    .to_owned(),
            )
            .await?;
        rls::protect(manager, "offer_refreshes", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("offer_refreshes"))
                    .to_owned(),
            )
            .await
    }
}
