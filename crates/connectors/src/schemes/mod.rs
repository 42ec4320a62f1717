//! Delivery-signature schemes, each a pure function of the raw bytes and headers.

pub mod standard_webhooks;

/// Why a delivery was refused. The message is safe to show: it never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A header the scheme requires is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The timestamp is not a number of seconds.
    #[error("the timestamp is not a number of seconds since 1970")]
    BadTimestamp,
    /// The timestamp is outside the tolerance (a replay, or a clock far off).
    #[error("the timestamp is {0} s away from now, beyond the tolerance")]
    Stale(i64),
    /// The secret is not in the platform's format.
    #[error("the secret is not in the expected format: {0}")]
    BadSecret(&'static str),
    /// No signature matches the body.
    #[error("no signature matches the body")]
    Mismatch,
}
