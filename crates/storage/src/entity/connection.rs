use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub platform: String,
    pub name: String,
    pub status: String,
    pub safety_buffer: i64,
    pub allocation_kind: Option<String>,
    pub allocation_value: Option<i64>,
    pub webhook_secret: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub credentials: Option<String>,
    pub base_url: Option<String>,
    pub jurisdiction: Option<String>,
    pub channel_kind: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
