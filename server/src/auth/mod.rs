//! Authentication and authorization: passwords, sessions, API tokens, CSRF, login rate
//! limits, and the extractors handlers use ([`Caller`], [`TenantAccess`]).

pub mod caller;
pub mod password;
pub mod rate_limit;
pub mod secrets;
pub mod session_cookie;
pub mod tenant_access;

pub use caller::Caller;
pub use tenant_access::TenantAccess;
