//! Concord's platform connectors: per platform, how its webhook deliveries are verified and
//! what they say in Concord's vocabulary.
//!
//! **Invariant:** verification and parsing are pure functions of the bytes received (no IO),
//! tested with the vendors' own vectors and example payloads.

pub mod api;
pub mod delivery;
pub mod money;
pub mod normalized;
pub mod platform;
pub mod platforms;
pub mod schemes;

pub use delivery::{Delivery, Keys};
pub use normalized::{Customer, Hint, Inventory, Kind, Line, Normalized, ParseError};
pub use platform::{Platform, UnknownPlatform};
pub use schemes::{Rejection, standard_webhooks};

/// Checks that a delivery from `platform` is authentic at time `now` (seconds since 1970).
pub fn verify(
    platform: Platform,
    delivery: &Delivery<'_>,
    keys: &Keys<'_>,
    now: i64,
) -> Result<(), Rejection> {
    platforms::inbound(platform).verify(delivery, keys, now)
}

/// The id that makes a delivery unique per connection: the platform's event id, or where it
/// gives none (or one with a NUL character, which a database text column cannot hold), a
/// hash of the body.
pub fn event_id(platform: Platform, delivery: &Delivery<'_>) -> String {
    platforms::inbound(platform)
        .event_id(delivery)
        .filter(|id| !id.contains('\0'))
        .unwrap_or_else(|| format!("sha256:{}", content_id(delivery.body)))
}

/// A delivery from `platform` in Concord's vocabulary.
pub fn parse(platform: Platform, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
    platforms::inbound(platform).parse(delivery)
}

/// The headers `platform` sends with `body`, signed as it signs them.
pub fn sign(
    platform: Platform,
    body: &[u8],
    keys: &Keys<'_>,
    url: Option<&str>,
    now: i64,
) -> Result<Vec<(String, String)>, Rejection> {
    platforms::inbound(platform).sign(body, keys, url, now)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn content_id(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_with_a_nul_fall_back_to_the_body_hash() {
        let body = br#"{"NotificationMetadata": {"NotificationId": "n-\u0000-1"}}"#;
        let delivery = Delivery {
            body,
            headers: &[],
            url: None,
        };
        assert_eq!(
            event_id(Platform::Amazon, &delivery),
            format!("sha256:{}", content_id(body))
        );
        let body = br#"{"NotificationMetadata": {"NotificationId": "n-1"}}"#;
        assert_eq!(
            event_id(Platform::Amazon, &Delivery { body, ..delivery }),
            "n-1"
        );
    }
}
