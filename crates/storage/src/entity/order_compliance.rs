use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_compliance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: String,
    pub tenant_id: String,
    pub state: String,
    pub jurisdiction: Option<String>,
    pub channel_kind: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub lines: String,
    #[sea_orm(column_type = "Text")]
    pub outstanding: String,
    pub judged_at: DateTimeUtc,
    pub released_by: Option<String>,
    pub released_at: Option<DateTimeUtc>,
    pub release_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
