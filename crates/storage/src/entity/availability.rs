use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "availability")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sku_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: String,
    pub tenant_id: String,
    pub available: i64,
    pub reported: Option<i64>,
    pub computed_at: DateTimeUtc,
    pub pushed: Option<i64>,
    pub pushed_at: Option<DateTimeUtc>,
    pub push_due: bool,
    pub push_attempts: i32,
    pub push_after: Option<DateTimeUtc>,
    pub push_error: Option<String>,
    pub reported_at: Option<DateTimeUtc>,
    pub recent_pushes: Option<String>,
    pub unexplained: i64,
    pub unexplained_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
