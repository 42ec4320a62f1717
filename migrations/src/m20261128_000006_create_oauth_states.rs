//! Authorizations in progress: the `state` a platform's OAuth callback must bring back,
//! with the PKCE verifier (sealed) and where the account is.

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
                    .table(col("oauth_states"))
                    .col(text(col("state")).primary_key())
                    .col(text(col("tenant_id")))
                    .col(text(col("connection_id")))
                    .col(text(col("base_url")))
                    .col(text(col("auth_url")))
                    .col(text_null(col("pkce_verifier")))
                    .col(timestamp_with_time_zone(col("created_at")))
                    .to_owned(),
            )
            .await?;
        rls::protect(manager, "oauth_states", "tenant_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(col("oauth_states")).to_owned())
            .await
    }
}
