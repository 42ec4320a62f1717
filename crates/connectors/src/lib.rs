//! Concord's platform connectors. Each platform's delivery-verification scheme and payload
//! mapping lives in its own module; schemes shared by several platforms live in `schemes`.
//!
//! **Invariant:** no IO here beyond what a connector's HTTP client needs; verification and
//! parsing are pure functions of the bytes received, so they are tested with the vendors' own
//! vectors.

pub mod schemes;

pub use schemes::{Rejection, standard_webhooks};
