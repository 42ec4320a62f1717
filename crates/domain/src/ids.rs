//! Typed, prefixed identifiers (`tnt_…`, `usr_…`): they cannot be mixed up at compile time
//! and are easy to spot in logs. The body is a UUIDv7 in simple hex, so ids sort by creation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An id string that lacks its type's prefix or is not a UUID after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id")]
pub struct InvalidId {
    /// The kind of id that was expected (e.g. `tenant`).
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this type starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new, unique id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Parses an id, checking its prefix and body.
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                value
                    .strip_prefix($prefix)
                    .filter(|body| body.len() == 32 && uuid::Uuid::try_parse(body).is_ok())
                    .map(|_| Self(value.to_owned()))
                    .ok_or_else(|| InvalidId { kind: $kind, value: value.to_owned() })
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id_type!(
    /// A tenant: one merchant organization.
    TenantId, "tnt_", "tenant"
);
id_type!(
    /// A user account; one user may belong to many tenants.
    UserId, "usr_", "user"
);
id_type!(
    /// An invitation to join a tenant.
    InvitationId, "inv_", "invitation"
);
id_type!(
    /// A personal API token.
    ApiTokenId, "tok_", "API token"
);

id_type!(
    /// A title in the catalog.
    ProductId, "prd_", "product"
);
id_type!(
    /// A sellable unit: one edition of a title, or a kit.
    SkuId, "sku_", "SKU"
);
id_type!(
    /// A store or warehouse.
    LocationId, "loc_", "location"
);
id_type!(
    /// A connected platform account (a channel).
    ConnectionId, "con_", "connection"
);
id_type!(
    /// An order, merged from any channel.
    OrderId, "ord_", "order"
);
id_type!(
    /// A customer, merged across channels.
    CustomerId, "cus_", "customer"
);
id_type!(
    /// A sync job (a reconcile run).
    JobId, "job_", "job"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_through_parse() {
        let id = TenantId::generate();
        assert!(id.as_str().starts_with("tnt_"));
        assert_eq!(TenantId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn ids_of_another_type_or_malformed_are_rejected() {
        let user = UserId::generate();
        assert!(TenantId::parse(user.as_str()).is_err());
        assert!(TenantId::parse("tnt_").is_err());
        assert!(TenantId::parse("tnt_not-a-uuid-at-all-but-32-chars").is_err());
        assert!(TenantId::parse("' OR 1=1 --").is_err());
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        let id = UserId::generate();
        let json = format!("\"{id}\"");
        let parsed: UserId = serde_json_like(&json).expect("valid id");
        assert_eq!(parsed, id);
        assert!(serde_json_like::<UserId>("\"usr_x\"").is_none());
    }

    /// Deserializes a JSON string literal without pulling serde_json into the domain crate.
    fn serde_json_like<T: TryFrom<String>>(json: &str) -> Option<T> {
        let inner = json.strip_prefix('"')?.strip_suffix('"')?;
        T::try_from(inner.to_owned()).ok()
    }
}
