//! Concord's schema, as sea-orm migrations: the only way the schema changes.
//!
//! One `mYYYYMMDD_HHMMSS_<verb>_<noun>.rs` file per change, listed in [`Migrator`] in order.
//! An applied migration is never edited; a change is a new migration. Each migration must
//! work with the previous release's code still running (expand, then contract).

#![allow(
    elided_lifetimes_in_paths,
    reason = "MigrationTrait elides SchemaManager's lifetime; naming it breaks the impl"
)]

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_identity;
mod m20261128_000002_create_inventory;
mod m20261128_000003_create_intake;
mod m20261128_000004_create_sync;
mod m20261128_000005_create_jobs;
mod m20261128_000006_create_oauth_states;
mod m20261201_000001_create_audit_log;
mod m20261201_000002_create_compliance_rules;
mod m20261201_000003_create_compliance_records;
mod m20261201_000004_create_retention;
mod m20261201_000005_create_offer_refreshes;
mod m20261202_000001_unexplained_drops;
mod rls;

/// Applies Concord's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_identity::Migration),
            Box::new(m20261128_000002_create_inventory::Migration),
            Box::new(m20261128_000003_create_intake::Migration),
            Box::new(m20261128_000004_create_sync::Migration),
            Box::new(m20261128_000005_create_jobs::Migration),
            Box::new(m20261128_000006_create_oauth_states::Migration),
            Box::new(m20261201_000001_create_audit_log::Migration),
            Box::new(m20261201_000002_create_compliance_rules::Migration),
            Box::new(m20261201_000003_create_compliance_records::Migration),
            Box::new(m20261201_000004_create_retention::Migration),
            Box::new(m20261201_000005_create_offer_refreshes::Migration),
            Box::new(m20261202_000001_unexplained_drops::Migration),
        ]
    }
}
