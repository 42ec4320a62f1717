//! Drops in a platform's stock figure that no known sale explained when they were judged
//! (`availability.unexplained`, `availability.unexplained_at`): a sale from before that
//! figure which reaches Concord later was counted by it already.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn col(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            big_integer(col("unexplained")).default(0).to_owned(),
            timestamp_with_time_zone_null(col("unexplained_at")),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["unexplained_at", "unexplained"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("availability"))
                        .drop_column(col(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
