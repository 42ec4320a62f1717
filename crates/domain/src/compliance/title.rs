//! A title's compliance fields (COMPLIANCE.md §1.1): classifications, labels, statements and
//! content flags, each possibly unknown. An unknown field is `None`, never a guessed default:
//! rules that need it fail closed.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ChannelKind, Jurisdiction, rules::Action};
use crate::ValidationError;

/// One compliance field of a title, as rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// BBFC category (U … 18, R18, exempt, unclassified).
    UkBbfcCategory,
    /// BBFC certificate number.
    UkBbfcCertNo,
    /// The packaging carries the label VRA s.13 requires.
    UkLabelOk,
    /// An exempt work (never for sexual content).
    UkWorkExempt,
    /// FSK rating (0, 6, 12, 16, 18, none).
    DeFsk,
    /// BzKJ index list (none, A, B).
    DeIndexed,
    /// Pornographic within §184 StGB.
    DePorn184,
    /// Australian classification (G … R18+, X18+, RC, unclassified).
    AuClass,
    /// Consumer Protection BC decal number.
    CaBcDecalNo,
    /// BC classification (adult, restricted, …).
    CaBcClass,
    /// Québec classification (to be confirmed with counsel).
    CaQcClass,
    /// Québec stamp number (to be confirmed with counsel).
    CaQcStampNo,
    /// The 18 U.S.C. §2257 statement is on the packaging.
    Us2257StatementPresent,
    /// SHA-256 of the §2257 custodian-of-records text.
    Us2257CustodianHash,
    /// Sexually explicit content.
    ExplicitContent,
    /// Explicit cover art.
    CoverArtExplicit,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// One of a fixed scale of values.
    Scale(&'static [&'static str]),
    /// Free text (certificate and decal numbers).
    Text,
    /// Yes or no.
    Flag,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 16] = [
        Self::UkBbfcCategory,
        Self::UkBbfcCertNo,
        Self::UkLabelOk,
        Self::UkWorkExempt,
        Self::DeFsk,
        Self::DeIndexed,
        Self::DePorn184,
        Self::AuClass,
        Self::CaBcDecalNo,
        Self::CaBcClass,
        Self::CaQcClass,
        Self::CaQcStampNo,
        Self::Us2257StatementPresent,
        Self::Us2257CustodianHash,
        Self::ExplicitContent,
        Self::CoverArtExplicit,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UkBbfcCategory => "uk_bbfc_category",
            Self::UkBbfcCertNo => "uk_bbfc_cert_no",
            Self::UkLabelOk => "uk_label_ok",
            Self::UkWorkExempt => "uk_work_exempt",
            Self::DeFsk => "de_fsk",
            Self::DeIndexed => "de_indexed",
            Self::DePorn184 => "de_porn_184",
            Self::AuClass => "au_class",
            Self::CaBcDecalNo => "ca_bc_decal_no",
            Self::CaBcClass => "ca_bc_class",
            Self::CaQcClass => "ca_qc_class",
            Self::CaQcStampNo => "ca_qc_stamp_no",
            Self::Us2257StatementPresent => "us_2257_statement_present",
            Self::Us2257CustodianHash => "us_2257_custodian_hash",
            Self::ExplicitContent => "explicit_content",
            Self::CoverArtExplicit => "cover_art_explicit",
        }
    }

    /// What the field holds.
    pub fn kind(self) -> FieldKind {
        match self {
            Self::UkBbfcCategory => FieldKind::Scale(&[
                "U",
                "PG",
                "12A",
                "12",
                "15",
                "18",
                "R18",
                "exempt",
                "unclassified",
            ]),
            Self::DeFsk => FieldKind::Scale(&["0", "6", "12", "16", "18", "none"]),
            Self::DeIndexed => FieldKind::Scale(&["none", "A", "B"]),
            Self::AuClass => FieldKind::Scale(&[
                "G",
                "PG",
                "M",
                "MA15+",
                "R18+",
                "X18+",
                "RC",
                "unclassified",
            ]),
            Self::CaBcClass => FieldKind::Scale(&["general", "14A", "18A", "restricted", "adult"]),
            Self::UkBbfcCertNo
            | Self::CaBcDecalNo
            | Self::CaQcClass
            | Self::CaQcStampNo
            | Self::Us2257CustodianHash => FieldKind::Text,
            Self::UkLabelOk
            | Self::UkWorkExempt
            | Self::DePorn184
            | Self::Us2257StatementPresent
            | Self::ExplicitContent
            | Self::CoverArtExplicit => FieldKind::Flag,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "field",
                message: format!("unknown compliance field `{s}`"),
            })
    }
}

/// A field's value, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A scale value or text.
    Text(&'a str),
    /// A flag.
    Flag(bool),
}

/// The compliance fields of one title version. `None` means unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TitleFields {
    /// BBFC category.
    pub uk_bbfc_category: Option<String>,
    /// BBFC certificate number.
    pub uk_bbfc_cert_no: Option<String>,
    /// The packaging carries a valid VRA label.
    pub uk_label_ok: Option<bool>,
    /// An exempt work; forced to false when the content is explicit.
    pub uk_work_exempt: Option<bool>,
    /// FSK rating.
    pub de_fsk: Option<String>,
    /// BzKJ index list.
    pub de_indexed: Option<String>,
    /// Pornographic within §184 StGB.
    pub de_porn_184: Option<bool>,
    /// Australian classification.
    pub au_class: Option<String>,
    /// CPBC decal number.
    pub ca_bc_decal_no: Option<String>,
    /// BC classification.
    pub ca_bc_class: Option<String>,
    /// Québec classification.
    pub ca_qc_class: Option<String>,
    /// Québec stamp number.
    pub ca_qc_stamp_no: Option<String>,
    /// The §2257 statement is present.
    pub us_2257_statement_present: Option<bool>,
    /// SHA-256 (hex) of the §2257 custodian text.
    pub us_2257_custodian_hash: Option<String>,
    /// Sexually explicit content.
    pub explicit_content: Option<bool>,
    /// Explicit cover art.
    pub cover_art_explicit: Option<bool>,
}

impl TitleFields {
    /// A field's value, if known.
    pub fn get(&self, field: Field) -> Option<FieldValue<'_>> {
        fn text(v: &Option<String>) -> Option<FieldValue<'_>> {
            v.as_deref().map(FieldValue::Text)
        }
        let flag = |v: Option<bool>| v.map(FieldValue::Flag);
        match field {
            Field::UkBbfcCategory => text(&self.uk_bbfc_category),
            Field::UkBbfcCertNo => text(&self.uk_bbfc_cert_no),
            Field::UkLabelOk => flag(self.uk_label_ok),
            Field::UkWorkExempt => flag(self.uk_work_exempt),
            Field::DeFsk => text(&self.de_fsk),
            Field::DeIndexed => text(&self.de_indexed),
            Field::DePorn184 => flag(self.de_porn_184),
            Field::AuClass => text(&self.au_class),
            Field::CaBcDecalNo => text(&self.ca_bc_decal_no),
            Field::CaBcClass => text(&self.ca_bc_class),
            Field::CaQcClass => text(&self.ca_qc_class),
            Field::CaQcStampNo => text(&self.ca_qc_stamp_no),
            Field::Us2257StatementPresent => flag(self.us_2257_statement_present),
            Field::Us2257CustodianHash => text(&self.us_2257_custodian_hash),
            Field::ExplicitContent => flag(self.explicit_content),
            Field::CoverArtExplicit => flag(self.cover_art_explicit),
        }
    }

    /// Checks every value against its field and canonicalizes it: scale values take the
    /// scale's spelling, text is trimmed (empty means unknown), and a title with explicit
    /// content is never an exempt work (VRA s.2(2)).
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        for (field, slot) in [
            (Field::UkBbfcCategory, &mut self.uk_bbfc_category),
            (Field::UkBbfcCertNo, &mut self.uk_bbfc_cert_no),
            (Field::DeFsk, &mut self.de_fsk),
            (Field::DeIndexed, &mut self.de_indexed),
            (Field::AuClass, &mut self.au_class),
            (Field::CaBcDecalNo, &mut self.ca_bc_decal_no),
            (Field::CaBcClass, &mut self.ca_bc_class),
            (Field::CaQcClass, &mut self.ca_qc_class),
            (Field::CaQcStampNo, &mut self.ca_qc_stamp_no),
            (Field::Us2257CustodianHash, &mut self.us_2257_custodian_hash),
        ] {
            *slot = match slot.take().map(|v| v.trim().to_owned()) {
                None => None,
                Some(v) if v.is_empty() => None,
                Some(v) => Some(canonical(field, &v)?),
            };
        }
        if let Some(hash) = &self.us_2257_custodian_hash
            && (hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(ValidationError {
                field: "us_2257_custodian_hash",
                message: "must be a SHA-256 in hex (64 characters)".into(),
            });
        }
        if self.explicit_content == Some(true) {
            self.uk_work_exempt = Some(false);
        }
        Ok(self)
    }

    /// Whether the title is restricted enough that its sales go in the restricted-title
    /// sales register (18+, R18, X18+, FSK 18 or pornographic), as far as its fields say.
    pub fn is_restricted(&self) -> bool {
        let is = |v: &Option<String>, any: &[&str]| v.as_deref().is_some_and(|v| any.contains(&v));
        is(&self.uk_bbfc_category, &["18", "R18"])
            || is(&self.de_fsk, &["18"])
            || is(&self.de_indexed, &["A", "B"])
            || self.de_porn_184 == Some(true)
            || is(&self.au_class, &["R18+", "X18+", "RC"])
            || is(&self.ca_bc_class, &["18A", "restricted", "adult"])
            || self.explicit_content == Some(true)
    }

    /// The most telling classifications, for registers (`BBFC R18 · FSK 18`).
    pub fn category(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.uk_bbfc_category {
            parts.push(format!("BBFC {v}"));
        }
        if let Some(v) = &self.de_fsk {
            parts.push(format!("FSK {v}"));
        }
        if let Some(v) = &self.au_class {
            parts.push(format!("AU {v}"));
        }
        if let Some(v) = &self.ca_bc_class {
            parts.push(format!("BC {v}"));
        }
        if self.explicit_content == Some(true) {
            parts.push("explicit".into());
        }
        if parts.is_empty() {
            "unclassified".into()
        } else {
            parts.join(" · ")
        }
    }
}

/// The canonical spelling of `value` for `field`, or why it is not one of its values.
fn canonical(field: Field, value: &str) -> Result<String, ValidationError> {
    match field.kind() {
        FieldKind::Scale(scale) => scale
            .iter()
            .find(|s| s.eq_ignore_ascii_case(value))
            .map(|s| (*s).to_owned())
            .ok_or_else(|| ValidationError {
                field: "fields",
                message: format!(
                    "`{value}` is not a {field} value; expected one of {}",
                    scale.join(", ")
                ),
            }),
        FieldKind::Text if value.chars().count() > 120 || value.chars().any(char::is_control) => {
            Err(ValidationError {
                field: "fields",
                message: format!("{field} must be at most 120 printable characters"),
            })
        }
        FieldKind::Text | FieldKind::Flag => Ok(value.to_owned()),
    }
}

/// A restriction a merchant puts on one title beyond the law ("never list online"). An
/// override only ever restricts: it cannot loosen a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TitleOverride {
    /// What to do.
    pub action: Action,
    /// Where (empty: everywhere).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub jurisdictions: Vec<Jurisdiction>,
    /// On which kinds of channel (empty: all).
    #[serde(default)]
    pub channels: Vec<ChannelKind>,
    /// Why.
    pub reason: String,
}

impl TitleOverride {
    /// Checks an override: it needs a reason, and carrier controls belong in rules.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.action == Action::RequireDeliveryControl {
            return Err(ValidationError {
                field: "rule_overrides",
                message: "a title override blocks, holds or requires an age check; carrier \
                          controls belong in a jurisdiction rule"
                    .into(),
            });
        }
        if self.reason.trim().is_empty() || self.reason.chars().count() > 500 {
            return Err(ValidationError {
                field: "rule_overrides",
                message: "each override needs a reason of at most 500 characters".into(),
            });
        }
        Ok(())
    }
}

/// One version of a title's compliance record: what was known, valid from when until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleVersion {
    /// 1 for the first record, then one more per change.
    pub version: i32,
    /// The fields.
    pub fields: TitleFields,
    /// Restrictions beyond the law.
    pub overrides: Vec<TitleOverride>,
    /// References to uploaded evidence (certificate scans).
    pub evidence_refs: Vec<String>,
    /// Where the classification came from (BBFC database, distributor sheet).
    pub source: Option<String>,
    /// Who checked it.
    pub verified_by: Option<String>,
    /// When it was checked.
    pub verified_at: Option<DateTime<Utc>>,
    /// From when this version applies.
    pub valid_from: DateTime<Utc>,
    /// Until when (exclusive); `None` while current.
    pub valid_to: Option<DateTime<Utc>>,
}

impl TitleVersion {
    /// Whether this version applies at `at`.
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }
}

/// The version of a title's record valid at `at`, if any.
pub fn version_at(versions: &[TitleVersion], at: DateTime<Utc>) -> Option<&TitleVersion> {
    versions.iter().find(|v| v.valid_at(at))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn values_are_checked_and_canonicalized() {
        let fields = TitleFields {
            uk_bbfc_category: Some(" r18 ".into()),
            au_class: Some("x18+".into()),
            de_indexed: Some("a".into()),
            uk_bbfc_cert_no: Some("  ".into()),
            ..TitleFields::default()
        }
        .validated()
        .expect("valid");
        assert_eq!(fields.uk_bbfc_category.as_deref(), Some("R18"));
        assert_eq!(fields.au_class.as_deref(), Some("X18+"));
        assert_eq!(fields.de_indexed.as_deref(), Some("A"));
        assert_eq!(fields.uk_bbfc_cert_no, None, "blank means unknown");
        let err = TitleFields {
            de_fsk: Some("21".into()),
            ..TitleFields::default()
        }
        .validated()
        .expect_err("not an FSK value");
        assert!(err.message.contains("0, 6, 12, 16, 18, none"), "{err}");
        assert!(
            TitleFields {
                us_2257_custodian_hash: Some("abc".into()),
                ..TitleFields::default()
            }
            .validated()
            .is_err()
        );
    }

    #[test]
    fn explicit_content_is_never_an_exempt_work() {
        let fields = TitleFields {
            explicit_content: Some(true),
            uk_work_exempt: Some(true),
            ..TitleFields::default()
        }
        .validated()
        .expect("valid");
        assert_eq!(fields.uk_work_exempt, Some(false));
    }

    #[test]
    fn unknown_fields_are_refused_on_the_wire() {
        let parsed: Result<TitleFields, _> =
            serde_json::from_value(serde_json::json!({ "uk_bbfc": "18" }));
        assert!(parsed.is_err());
    }

    #[test]
    fn the_version_valid_at_a_time_is_found() {
        let t = |d| {
            Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0)
                .single()
                .expect("time")
        };
        let v = |version, from, to| TitleVersion {
            version,
            fields: TitleFields::default(),
            overrides: Vec::new(),
            evidence_refs: Vec::new(),
            source: None,
            verified_by: None,
            verified_at: None,
            valid_from: from,
            valid_to: to,
        };
        let versions = [v(1, t(1), Some(t(10))), v(2, t(10), None)];
        assert_eq!(version_at(&versions, t(9)).map(|v| v.version), Some(1));
        assert_eq!(version_at(&versions, t(10)).map(|v| v.version), Some(2));
        assert_eq!(
            version_at(&versions, t(1) - chrono::Duration::days(1)),
            None
        );
    }

    #[test]
    fn restricted_titles_are_recognized() {
        let r18 = TitleFields {
            uk_bbfc_category: Some("R18".into()),
            ..TitleFields::default()
        };
        assert!(r18.is_restricted());
        assert_eq!(r18.category(), "BBFC R18");
        let pg = TitleFields {
            uk_bbfc_category: Some("PG".into()),
            explicit_content: Some(false),
            ..TitleFields::default()
        };
        assert!(!pg.is_restricted());
    }
}
