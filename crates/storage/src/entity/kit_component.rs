use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kit_components")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kit_sku_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub component_sku_id: String,
    pub tenant_id: String,
    pub quantity: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::sku::Entity",
        from = "Column::ComponentSkuId",
        to = "super::sku::Column::Id"
    )]
    Component,
}

impl Related<super::sku::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Component.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
