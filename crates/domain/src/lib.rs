//! Concord's pure domain: identities, roles and the rules that validate user input.
//!
//! **Invariant:** this crate does no IO. It knows nothing of HTTP, databases or platforms;
//! everything here is a value or a pure function, so it is tested without any service.

pub mod ids;
pub mod role;
pub mod validate;

pub use ids::{ApiTokenId, InvitationId, TenantId, UserId};
pub use role::{Permission, Role};
pub use validate::{Email, OrganizationName, Password, ValidationError};
