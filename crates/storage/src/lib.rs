//! Concord's persistence: sea-orm entities and the repositories over them.
//!
//! **Invariant:** no code outside this crate sees an entity. Global identity operations live
//! on [`Store`]; everything that belongs to a tenant is reached through [`Scoped`], which
//! only a [`TenantScope`] opens and which filters every query by that tenant. On PostgreSQL
//! each scoped transaction also sets `concord.tenant_id`, which row-level security enforces
//! as a second wall.

mod analytics;
mod arrival;
mod audit;
mod catalog;
mod channels;
mod compliance;
mod decode;
mod entity;
mod error;
mod events;
mod health;
mod identity;
mod intake;
mod inventory;
mod jobs;
mod ledger;
mod listings;
mod oauth;
mod order_batch;
mod orders;
mod push;
mod records;
mod reports;
mod scope;
mod stock_report;
mod store;
mod tenancy;
#[cfg(feature = "test-support")]
pub mod test_support;
mod transfer;

pub use analytics::{ChannelSales, DaySales, Sales};
pub use audit::{AuditLog, AuditQuery, ChainReport, NewAuditEntry};
pub use catalog::{KitComponent, Page, Product, ProductDraft, Sku, SkuDraft};
pub use channels::{ChannelCompliance, Connection, Location};
pub use compliance::{
    AgeCheckFailure, AgeCheckFailureDraft, Deletion, EvidenceDraft, LineJudgement, OrderCompliance,
    Period, Refusal, RefusalDraft, RetentionStatus, RuleRecord, SaleEvidence, TitleDraft,
};
pub use error::StorageError;
pub use events::{Applied, Oversold};
pub use health::{ConnectionHealth, TenantHealth};
pub use intake::{Claimed, InboundOutcome, InboundRecord, IntakeTarget, NewInbound};
pub use inventory::{InventoryQuery, InventoryRow};
pub use jobs::{Job, Progress};
pub use ledger::{
    AvailabilityChange, Change, ChannelAvailability, LocationLevel, Movement, NewMovement, Recorded,
};
pub use listings::{Listing, MatchReport, RemoteListing};
pub use oauth::{PendingAuthorization, SealedSecrets};
pub use orders::{
    CustomerRecord, FulfilmentRecord, OrderDetail, OrderLineRecord, OrderQuery, OrderSummary,
    OversellRecord, PaymentRecord, RefundRecord, ReturnRecord,
};
pub use push::{ConnectionAccess, DueConnection, DuePush, ListedOffer, PushOutcome};
pub use records::*;
pub use reports::{ReportKind, ReportTable};
pub use scope::{Scoped, TenantScope};
pub use store::{Backend, Store};
pub use transfer::{
    CatalogEntry, CatalogRow, ImportReport, LedgerEntry, RowError, StockEntry, StockRow,
};

/// The current time at the precision every backend stores (microseconds), so a value
/// returned from a write equals the value read back later.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
