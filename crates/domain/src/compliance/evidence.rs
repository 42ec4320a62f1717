//! What a restricted sale's evidence and a refusal record (COMPLIANCE.md §1.3). Minimal by
//! design: every field is a category, a code or an id a provider can confirm; there is no
//! place for a date of birth, a document number, an image or a name.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ValidationError;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| ValidationError {
                    field: $field,
                    message: format!(
                        "unknown value `{s}`; expected one of {}",
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                })
            }
        }
    };
}

wire_enum!(
    /// How age was checked.
    CheckType, "check_type" {
        /// Staff judged by sight.
        InPersonVisual => "in_person_visual",
        /// Staff saw an ID document.
        InPersonIdSighted => "in_person_id_sighted",
        /// An online age-verification provider.
        OnlineAv => "online_av",
        /// The carrier checked age on delivery.
        CarrierAgeCheck => "carrier_age_check",
        /// No check was required.
        NotRequired => "not_required",
    }
);

wire_enum!(
    /// The method behind a check: a document category or a provider's method, never the
    /// document itself.
    CheckMethod, "method" {
        /// A passport was shown.
        Passport => "passport",
        /// A photo driving licence was shown.
        DrivingLicence => "driving_licence",
        /// A PASS-hologram card was shown.
        PassCard => "pass_card",
        /// Another photo ID was shown.
        OtherPhotoId => "other_photo_id",
        /// Provider: ID document matched.
        IdMatch => "id_match",
        /// Provider: database check.
        Database => "database",
        /// Provider: credit card check.
        CreditCard => "credit_card",
        /// Provider: facial age estimation.
        FacialEstimation => "facial_estimation",
        /// Provider: national eID.
        Eid => "eid",
    }
);

wire_enum!(
    /// How a check ended.
    CheckResult, "result" {
        /// Age confirmed.
        Pass => "pass",
        /// Age not confirmed.
        Fail => "fail",
        /// The buyer refused to be checked.
        Refused => "refused",
        /// The check was not finished.
        Abandoned => "abandoned",
    }
);

wire_enum!(
    /// Why a sale or an offer was refused.
    RefusalReason, "reason" {
        /// No ID when asked.
        NoId => "no_id",
        /// Under age.
        UnderAge => "under_age",
        /// Suspected proxy purchase.
        SuspectedProxy => "suspected_proxy",
        /// An online age check failed.
        AgeCheckFailed => "age_check_failed",
        /// A rule for the destination blocks the sale.
        DestinationRule => "destination_rule",
        /// A rule forbids offering the title there.
        ListingForbidden => "listing_forbidden",
    }
);

/// The carrier control a shipment went out with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeliveryControl {
    /// The carrier (`royal_mail`, `dhl`, `ups`, `canada_post`).
    pub carrier: String,
    /// The control booked, as rules name it (`adult_signature`, `personal_handover`,
    /// `proof_of_age`).
    pub service_code: String,
    /// The tracking number.
    pub tracking: Option<String>,
    /// How the delivery attempt ended (`delivered`, `refused`, `returned_to_sender`).
    pub outcome: Option<String>,
}

impl DeliveryControl {
    /// Checks and trims every field.
    pub fn validated(self) -> Result<Self, ValidationError> {
        Ok(Self {
            carrier: short_text("delivery_control.carrier", &self.carrier, 60)?,
            service_code: short_text("delivery_control.service_code", &self.service_code, 60)?,
            tracking: self
                .tracking
                .map(|t| short_text("delivery_control.tracking", &t, 100))
                .transpose()?,
            outcome: self
                .outcome
                .map(|o| short_text("delivery_control.outcome", &o, 60))
                .transpose()?,
        })
    }
}

/// Checks a short free-text field (a provider name, a session id, a carrier code): at most
/// `max` printable characters, not blank.
pub fn short_text(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ValidationError {
            field,
            message: format!("must be 1–{max} printable characters"),
        });
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_unknown_values_are_named() {
        for t in CheckType::ALL {
            assert_eq!(t.as_str().parse::<CheckType>(), Ok(*t));
        }
        let err = "dob_seen"
            .parse::<CheckMethod>()
            .expect_err("no such method");
        assert!(err.message.contains("passport"), "{err}");
        assert_eq!(
            serde_json::to_value(RefusalReason::UnderAge).expect("json"),
            "under_age"
        );
        assert!(short_text("verifier", "  ", 10).is_err());
        assert_eq!(
            short_text("verifier", " av-co ", 10).as_deref(),
            Ok("av-co")
        );
    }
}
