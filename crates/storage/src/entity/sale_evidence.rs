use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: String,
    pub order_id: String,
    #[sea_orm(column_type = "Text")]
    pub sale_ref: String,
    #[sea_orm(column_type = "Text")]
    pub jurisdiction_basis: String,
    #[sea_orm(column_type = "Text")]
    pub titles: String,
    pub check_type: String,
    pub method: Option<String>,
    pub result: String,
    pub verifier: String,
    pub checked_at: DateTimeUtc,
    pub source_clock: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub delivery_control: Option<String>,
    pub fiscal_ref: Option<String>,
    pub hash: String,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
