use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: String,
    pub connection_id: String,
    pub external_item_id: String,
    pub external_parent_id: Option<String>,
    pub sku_code: Option<String>,
    pub barcode: Option<String>,
    pub title: Option<String>,
    pub sku_id: Option<String>,
    pub matched_by: Option<String>,
    pub seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
