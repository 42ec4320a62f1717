//! sea-orm entities, one per table. Private to this crate: callers go through the
//! repositories, so no code outside `storage` can query a tenant-owned table unscoped.

pub(crate) mod api_token;
pub(crate) mod invitation;
pub(crate) mod membership;
pub(crate) mod session;
pub(crate) mod tenant;
pub(crate) mod user;
