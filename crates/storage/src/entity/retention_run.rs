use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub ran_at: DateTimeUtc,
    pub record_kind: String,
    pub period_days: i32,
    pub cutoff: DateTimeUtc,
    pub deleted: i64,
    pub oldest_deleted: Option<DateTimeUtc>,
    pub newest_deleted: Option<DateTimeUtc>,
    pub actor: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
