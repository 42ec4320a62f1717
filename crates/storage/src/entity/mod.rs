//! sea-orm entities, one per table. Private to this crate: callers go through the
//! repositories, so no code outside `storage` can query a tenant-owned table unscoped.

pub(crate) mod api_token;
pub(crate) mod audit_entry;
pub(crate) mod audit_head;
pub(crate) mod availability;
pub(crate) mod compliance_rule;
pub(crate) mod connection;
pub(crate) mod connection_location;
pub(crate) mod customer;
pub(crate) mod fulfilment;
pub(crate) mod inbound_event;
pub(crate) mod invitation;
pub(crate) mod job;
pub(crate) mod kit_component;
pub(crate) mod listing;
pub(crate) mod location;
pub(crate) mod membership;
pub(crate) mod oauth_state;
pub(crate) mod order;
pub(crate) mod order_line;
pub(crate) mod oversell;
pub(crate) mod payment;
pub(crate) mod product;
pub(crate) mod refund;
pub(crate) mod return_receipt;
pub(crate) mod session;
pub(crate) mod sku;
pub(crate) mod stock_level;
pub(crate) mod stock_movement;
pub(crate) mod sync_cursor;
pub(crate) mod tenant;
pub(crate) mod title_compliance;
pub(crate) mod user;
