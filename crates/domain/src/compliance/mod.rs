//! Compliance for age-restricted titles: each title's compliance fields, versioned
//! (`title`); jurisdiction rules, versioned and tenant-editable, and the one pure function
//! that judges a title against them (`rules`); the rules Concord seeds every tenant with
//! (`seed`); and what a sale's evidence and a refusal record (`evidence`).
//!
//! Privacy is structural (COMPLIANCE.md §1.3, EDPB, Utah/Louisiana no-retention): nothing
//! here has a place for a date of birth, a document number or an image, so no rule is needed
//! to keep them out.

pub mod evidence;
pub mod retention;
pub mod rules;
pub mod seed;
pub mod title;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Where a sale happens or ships to: an ISO 3166-1 country, optionally narrowed by
/// ISO 3166-2 subdivisions and further segments (`GB`, `AU-NSW`, `AU-NT-PA` for the
/// Northern Territory's prescribed areas).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jurisdiction(String);

impl Jurisdiction {
    /// Checks and upper-cases a code.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let code = input.trim().to_ascii_uppercase();
        let mut parts = code.split('-');
        let country_ok = parts
            .next()
            .is_some_and(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()));
        let rest_ok = parts
            .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|ch| ch.is_ascii_alphanumeric()));
        if !country_ok || !rest_ok || code.len() > 16 {
            return Err(ValidationError {
                field: "jurisdiction",
                message: format!(
                    "`{input}` is not a jurisdiction code; expected a country (GB) or a \
                     subdivision (AU-NSW)"
                ),
            });
        }
        Ok(Self(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a rule scoped to `self` covers a sale in `place` (the same code, or a
    /// subdivision of it: `AU` covers `AU-NSW`).
    pub fn covers(&self, place: &Jurisdiction) -> bool {
        place.0 == self.0
            || place
                .0
                .strip_prefix(self.0.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Jurisdiction {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Jurisdiction> for String {
    fn from(j: Jurisdiction) -> String {
        j.0
    }
}

/// How a sale reaches the buyer, as rules distinguish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A storefront or marketplace.
    Online,
    /// Phone orders.
    Phone,
    /// Mail orders.
    Mail,
    /// Over the counter in a store.
    Pos,
}

impl ChannelKind {
    /// Every kind.
    pub const ALL: [ChannelKind; 4] = [Self::Online, Self::Phone, Self::Mail, Self::Pos];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Phone => "phone",
            Self::Mail => "mail",
            Self::Pos => "pos",
        }
    }

    /// Whether the goods travel to the buyer (everything but a counter sale).
    pub fn is_remote(self) -> bool {
        self != Self::Pos
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "channel_kind",
                message: format!("unknown channel kind `{s}`; expected online, phone, mail or pos"),
            })
    }
}

/// Where an order stands with the jurisdiction rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Nothing outstanding: the rules allow it and every check they need was recorded.
    Clear,
    /// Held: a rule blocks or holds it, or a field or a check it needs is missing.
    Held,
    /// A person released it from a hold (an audited override).
    Released,
    /// Its channel has no jurisdiction set, so no rule could judge it.
    Unchecked,
}

impl OrderState {
    /// Every state.
    pub const ALL: [OrderState; 4] = [Self::Clear, Self::Held, Self::Released, Self::Unchecked];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Held => "held",
            Self::Released => "released",
            Self::Unchecked => "unchecked",
        }
    }
}

impl FromStr for OrderState {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "state",
                message: format!("unknown compliance state `{s}`"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdictions_parse_and_cover_their_subdivisions() {
        let au = Jurisdiction::parse("au").expect("AU");
        let nsw = Jurisdiction::parse("AU-NSW").expect("AU-NSW");
        let pa = Jurisdiction::parse("au-nt-pa").expect("AU-NT-PA");
        assert!(au.covers(&nsw) && au.covers(&pa) && au.covers(&au));
        assert!(!nsw.covers(&au));
        for bad in ["", "GBR", "G1", "AU-", "AU-NSWX", "AU NSW"] {
            assert!(Jurisdiction::parse(bad).is_err(), "{bad}");
        }
    }
}
