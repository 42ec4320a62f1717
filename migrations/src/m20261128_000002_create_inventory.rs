//! The commerce core: connections (channels) and their sourcing, the catalog, locations, the
//! stock ledger and levels, availability, and merged orders with their payments, refunds,
//! returns and fulfilments.

use sea_orm_migration::{prelude::*, schema::*};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tenant-owned tables created here, for row-level security and for `down`.
const TABLES: [&str; 17] = [
    "locations",
    "connections",
    "connection_locations",
    "products",
    "skus",
    "kit_components",
    "stock_levels",
    "stock_movements",
    "availability",
    "customers",
    "orders",
    "order_lines",
    "payments",
    "refunds",
    "returns",
    "fulfilments",
    "oversells",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("tenants")
                    .add_column(text(Alias::new("oversell_policy")).default("hold"))
                    .to_owned(),
            )
            .await?;
        for table in tables() {
            manager.create_table(table).await?;
        }
        for (name, table, columns, unique) in indexes() {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        for table in TABLES {
            rls::protect(manager, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("tenants")
                    .drop_column(Alias::new("oversell_policy"))
                    .to_owned(),
            )
            .await
    }
}

fn id(name: &str) -> ColumnDef {
    text(Alias::new(name)).primary_key().to_owned()
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn create(name: &str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(Alias::new(name));
    for mut column in columns {
        table.col(&mut column);
    }
    table.to_owned()
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        create(
            "locations",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("name")),
                text(col("kind")),
                timestamp_with_time_zone(col("created_at")),
            ],
        ),
        create(
            "connections",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("platform")),
                text(col("name")),
                text(col("status")),
                big_integer(col("safety_buffer")).default(0).to_owned(),
                text_null(col("allocation_kind")),
                big_integer_null(col("allocation_value")),
                timestamp_with_time_zone(col("created_at")),
            ],
        ),
        create(
            "connection_locations",
            vec![
                text(col("connection_id")),
                text(col("location_id")),
                text(col("tenant_id")),
                text_null(col("external_location_id")),
            ],
        )
        .primary_key(
            Index::create()
                .col(col("connection_id"))
                .col(col("location_id")),
        )
        .to_owned(),
        create(
            "products",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("title")),
                text(col("format")),
                text_null(col("studio")),
                date_null(col("release_date")),
                boolean(col("explicit")),
                boolean(col("us_2257_statement_present")),
                text(col("classifications")),
                timestamp_with_time_zone(col("created_at")),
                timestamp_with_time_zone(col("updated_at")),
            ],
        ),
        create(
            "skus",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("product_id")),
                text(col("code")),
                text_null(col("barcode")),
                text_null(col("gtin14")),
                text(col("search_text")),
                boolean(col("is_kit")),
                timestamp_with_time_zone(col("created_at")),
            ],
        ),
        create(
            "kit_components",
            vec![
                text(col("kit_sku_id")),
                text(col("component_sku_id")),
                text(col("tenant_id")),
                big_integer(col("quantity")),
            ],
        )
        .primary_key(
            Index::create()
                .col(col("kit_sku_id"))
                .col(col("component_sku_id")),
        )
        .to_owned(),
        create(
            "stock_levels",
            vec![
                text(col("sku_id")),
                text(col("location_id")),
                text(col("tenant_id")),
                big_integer(col("on_hand")),
                big_integer(col("committed")),
                timestamp_with_time_zone(col("updated_at")),
            ],
        )
        .primary_key(Index::create().col(col("sku_id")).col(col("location_id")))
        .to_owned(),
        create(
            "stock_movements",
            vec![
                big_pk_auto(col("id")),
                text(col("tenant_id")),
                text(col("sku_id")),
                text(col("location_id")),
                text(col("reason")),
                big_integer(col("delta")),
                text_null(col("idempotency_key")),
                text_null(col("source_connection_id")),
                text_null(col("source_event_id")),
                text_null(col("order_id")),
                text_null(col("order_line_id")),
                text(col("actor")),
                text_null(col("note")),
                timestamp_with_time_zone(col("occurred_at")),
                timestamp_with_time_zone(col("recorded_at")),
            ],
        ),
        create(
            "availability",
            vec![
                text(col("sku_id")),
                text(col("connection_id")),
                text(col("tenant_id")),
                big_integer(col("available")),
                big_integer_null(col("reported")),
                timestamp_with_time_zone(col("computed_at")),
            ],
        )
        .primary_key(Index::create().col(col("sku_id")).col(col("connection_id")))
        .to_owned(),
        create(
            "customers",
            vec![
                id("id"),
                text(col("tenant_id")),
                text_null(col("email")),
                text_null(col("phone")),
                text_null(col("name")),
                timestamp_with_time_zone(col("created_at")),
            ],
        ),
        create(
            "orders",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("connection_id")),
                text(col("external_id")),
                text(col("status")),
                text(col("currency")),
                big_integer(col("total_minor")),
                text_null(col("customer_id")),
                text_null(col("location_id")),
                boolean(col("oversold")).default(false).to_owned(),
                timestamp_with_time_zone(col("placed_at")),
                timestamp_with_time_zone(col("source_updated_at")),
                timestamp_with_time_zone(col("created_at")),
                timestamp_with_time_zone(col("updated_at")),
            ],
        ),
        create(
            "order_lines",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("order_id")),
                text(col("external_line_id")),
                text(col("sku_code")),
                text_null(col("sku_id")),
                text_null(col("location_id")),
                big_integer(col("quantity")),
                big_integer(col("fulfilled_quantity")),
                big_integer(col("fulfilled_by_events"))
                    .default(0)
                    .to_owned(),
                big_integer(col("unit_price_minor")),
            ],
        ),
        create(
            "payments",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("order_id")),
                text(col("external_id")),
                text(col("status")),
                big_integer(col("amount_minor")),
                text(col("currency")),
                timestamp_with_time_zone(col("occurred_at")),
            ],
        ),
        create(
            "refunds",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("order_id")),
                text(col("external_id")),
                big_integer(col("amount_minor")),
                text(col("currency")),
                boolean(col("restocked")),
                timestamp_with_time_zone(col("occurred_at")),
            ],
        ),
        create(
            "returns",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("order_id")),
                text(col("external_id")),
                text(col("sku_code")),
                big_integer(col("quantity")),
                text(col("disposition")),
                timestamp_with_time_zone(col("received_at")),
            ],
        ),
        create(
            "fulfilments",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("order_id")),
                text(col("external_id")),
                text(col("lines")),
                text_null(col("carrier")),
                text_null(col("tracking")),
                timestamp_with_time_zone(col("created_at")),
            ],
        ),
        create(
            "oversells",
            vec![
                id("id"),
                text(col("tenant_id")),
                text(col("order_id")),
                text(col("sku_id")),
                text(col("location_id")),
                big_integer(col("shortfall")),
                text(col("policy")),
                timestamp_with_time_zone(col("created_at")),
            ],
        ),
    ]
}

type IndexSpec = (&'static str, &'static str, &'static [&'static str], bool);

fn indexes() -> Vec<IndexSpec> {
    vec![
        (
            "uq_locations_name",
            "locations",
            &["tenant_id", "name"],
            true,
        ),
        (
            "idx_connections_tenant",
            "connections",
            &["tenant_id"],
            false,
        ),
        (
            "idx_connection_locations_tenant",
            "connection_locations",
            &["tenant_id", "location_id"],
            false,
        ),
        (
            "idx_products_tenant",
            "products",
            &["tenant_id", "title"],
            false,
        ),
        ("uq_skus_code", "skus", &["tenant_id", "code"], true),
        ("uq_skus_gtin", "skus", &["tenant_id", "gtin14"], true),
        ("idx_skus_product", "skus", &["product_id"], false),
        (
            "idx_kit_components_component",
            "kit_components",
            &["component_sku_id"],
            false,
        ),
        (
            "idx_stock_levels_tenant",
            "stock_levels",
            &["tenant_id", "location_id"],
            false,
        ),
        (
            "uq_movements_key",
            "stock_movements",
            &["tenant_id", "idempotency_key"],
            true,
        ),
        (
            "idx_movements_sku",
            "stock_movements",
            &["tenant_id", "sku_id", "id"],
            false,
        ),
        (
            "idx_movements_order_line",
            "stock_movements",
            &["order_line_id"],
            false,
        ),
        (
            "idx_availability_connection",
            "availability",
            &["tenant_id", "connection_id"],
            false,
        ),
        (
            "idx_customers_email",
            "customers",
            &["tenant_id", "email"],
            false,
        ),
        (
            "idx_customers_phone",
            "customers",
            &["tenant_id", "phone"],
            false,
        ),
        (
            "uq_orders_external",
            "orders",
            &["tenant_id", "connection_id", "external_id"],
            true,
        ),
        (
            "idx_orders_placed",
            "orders",
            &["tenant_id", "placed_at"],
            false,
        ),
        (
            "uq_order_lines_external",
            "order_lines",
            &["order_id", "external_line_id"],
            true,
        ),
        (
            "uq_payments_external",
            "payments",
            &["order_id", "external_id"],
            true,
        ),
        (
            "uq_refunds_external",
            "refunds",
            &["order_id", "external_id"],
            true,
        ),
        (
            "uq_returns_external",
            "returns",
            &["order_id", "external_id", "sku_code"],
            true,
        ),
        (
            "uq_fulfilments_external",
            "fulfilments",
            &["order_id", "external_id"],
            true,
        ),
        (
            "idx_oversells_tenant",
            "oversells",
            &["tenant_id", "created_at"],
            false,
        ),
    ]
}
