use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: String,
    pub sku_id: String,
    pub location_id: String,
    pub reason: String,
    pub delta: i64,
    pub idempotency_key: Option<String>,
    pub source_connection_id: Option<String>,
    pub source_event_id: Option<String>,
    pub order_id: Option<String>,
    pub order_line_id: Option<String>,
    pub actor: String,
    pub note: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
