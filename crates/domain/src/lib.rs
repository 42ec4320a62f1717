//! Concord's pure domain: identities and roles, the catalog, the stock ledger's rules,
//! availability, orders, the normalized commerce events connectors produce, the audit
//! chain, and compliance (title fields, jurisdiction rules and the judge that applies them).
//!
//! **Invariant:** this crate does no IO. It knows nothing of HTTP, databases or platforms;
//! everything here is a value or a pure function, so it is tested without any service.

pub mod audit;
pub mod availability;
pub mod barcode;
pub mod catalog;
pub mod compliance;
pub mod events;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod orders;
pub mod role;
pub mod validate;

pub use barcode::Barcode;
pub use ids::{
    ApiTokenId, ConnectionId, CustomerId, InvitationId, JobId, LocationId, OrderId, ProductId,
    SkuId, TenantId, UserId,
};
pub use role::{Permission, Role};
pub use validate::{Email, OrganizationName, Password, ValidationError};
