use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refusals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub at: DateTimeUtc,
    pub kind: String,
    pub reason: String,
    pub location_id: Option<String>,
    pub connection_id: Option<String>,
    pub verifier: Option<String>,
    pub title_category: String,
    pub order_id: Option<String>,
    pub sku_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
