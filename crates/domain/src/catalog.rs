//! The catalog: titles (products), their editions as SKUs, and classifications per system.

use std::{collections::BTreeMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A title's physical edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// DVD.
    Dvd,
    /// Blu-ray.
    BluRay,
    /// Several discs sold as one (usually a kit of other SKUs).
    BoxSet,
}

impl Format {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Dvd => "dvd",
            Format::BluRay => "blu_ray",
            Format::BoxSet => "box_set",
        }
    }
}

impl FromStr for Format {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "dvd" => Ok(Format::Dvd),
            "blu_ray" | "bluray" => Ok(Format::BluRay),
            "box_set" | "boxset" => Ok(Format::BoxSet),
            other => Err(ValidationError {
                field: "format",
                message: format!("unknown format `{other}`; expected dvd, blu_ray or box_set"),
            }),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classification (rating) system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClassificationSystem {
    /// British Board of Film Classification (UK).
    Bbfc,
    /// Freiwillige Selbstkontrolle der Filmwirtschaft (Germany).
    Fsk,
    /// Australian Classification Board.
    Au,
    /// Motion Picture Association (US).
    Mpa,
    /// Consumer Protection BC (British Columbia, Canada).
    CaBc,
}

impl ClassificationSystem {
    /// Every system.
    pub const ALL: [ClassificationSystem; 5] =
        [Self::Bbfc, Self::Fsk, Self::Au, Self::Mpa, Self::CaBc];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bbfc => "bbfc",
            Self::Fsk => "fsk",
            Self::Au => "au",
            Self::Mpa => "mpa",
            Self::CaBc => "ca_bc",
        }
    }

    /// The ratings this system issues, as written on certificates.
    pub fn ratings(self) -> &'static [&'static str] {
        match self {
            Self::Bbfc => &[
                "U",
                "PG",
                "12A",
                "12",
                "15",
                "18",
                "R18",
                "exempt",
                "unclassified",
            ],
            Self::Fsk => &["0", "6", "12", "16", "18", "none"],
            Self::Au => &[
                "G",
                "PG",
                "M",
                "MA15+",
                "R18+",
                "X18+",
                "RC",
                "unclassified",
            ],
            Self::Mpa => &["G", "PG", "PG-13", "R", "NC-17", "unrated"],
            Self::CaBc => &["general", "14A", "18A", "restricted", "adult"],
        }
    }
}

impl FromStr for ClassificationSystem {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|sys| sys.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| ValidationError {
                field: "classifications",
                message: format!(
                    "unknown classification system `{s}`; expected bbfc, fsk, au, mpa or ca_bc"
                ),
            })
    }
}

/// A title's ratings, at most one per system, each checked against that system's scale.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Classifications(BTreeMap<ClassificationSystem, String>);

impl Classifications {
    /// Adds or replaces a system's rating, matched case-insensitively against its scale.
    pub fn set(
        &mut self,
        system: ClassificationSystem,
        rating: &str,
    ) -> Result<(), ValidationError> {
        let canonical = system
            .ratings()
            .iter()
            .find(|r| r.eq_ignore_ascii_case(rating.trim()))
            .ok_or_else(|| ValidationError {
                field: "classifications",
                message: format!(
                    "`{rating}` is not a {} rating; expected one of {}",
                    system.as_str(),
                    system.ratings().join(", ")
                ),
            })?;
        self.0.insert(system, (*canonical).to_owned());
        Ok(())
    }

    /// The rating in `system`, if classified there.
    pub fn get(&self, system: ClassificationSystem) -> Option<&str> {
        self.0.get(&system).map(String::as_str)
    }

    /// Each system and rating, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (ClassificationSystem, &str)> {
        self.0.iter().map(|(s, r)| (*s, r.as_str()))
    }
}

impl TryFrom<BTreeMap<String, String>> for Classifications {
    type Error = ValidationError;
    fn try_from(raw: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        let mut out = Self::default();
        for (system, rating) in raw {
            out.set(system.parse()?, &rating)?;
        }
        Ok(out)
    }
}

impl From<Classifications> for BTreeMap<String, String> {
    fn from(c: Classifications) -> Self {
        c.0.into_iter()
            .map(|(s, r)| (s.as_str().to_owned(), r))
            .collect()
    }
}

/// A SKU code: 1 to 64 printable characters without spaces, case preserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SkuCode(String);

impl SkuCode {
    /// Longest code accepted.
    pub const MAX_CHARS: usize = 64;

    /// Trims and checks a code.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let code = input.trim();
        let bad = |m: &str| ValidationError {
            field: "sku",
            message: m.to_owned(),
        };
        if code.is_empty() {
            return Err(bad("is required"));
        }
        if code.chars().count() > Self::MAX_CHARS {
            return Err(bad("must be at most 64 characters"));
        }
        if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces or control characters"));
        }
        Ok(Self(code.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SkuCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SkuCode {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SkuCode> for String {
    fn from(c: SkuCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_checked_against_their_system_and_canonicalized() {
        let mut c = Classifications::default();
        c.set(ClassificationSystem::Bbfc, "r18")
            .expect("R18 is a BBFC rating");
        c.set(ClassificationSystem::Au, "x18+")
            .expect("X18+ is an AU rating");
        assert_eq!(c.get(ClassificationSystem::Bbfc), Some("R18"));
        assert_eq!(c.get(ClassificationSystem::Au), Some("X18+"));
        let err = c
            .set(ClassificationSystem::Fsk, "R18")
            .expect_err("not an FSK rating");
        assert!(err.message.contains("0, 6, 12, 16, 18"), "{}", err.message);
    }

    #[test]
    fn classifications_round_trip_through_their_wire_form() {
        let raw: BTreeMap<String, String> =
            [("bbfc".into(), "18".into()), ("mpa".into(), "nc-17".into())].into();
        let parsed = Classifications::try_from(raw).expect("valid");
        let back: BTreeMap<String, String> = parsed.clone().into();
        assert_eq!(back.get("mpa").map(String::as_str), Some("NC-17"));
        assert_eq!(Classifications::try_from(back), Ok(parsed));
        let unknown: BTreeMap<String, String> = [("imdb".into(), "7".into())].into();
        assert!(Classifications::try_from(unknown).is_err());
    }

    #[test]
    fn formats_and_sku_codes_parse_leniently_but_strictly() {
        assert_eq!("Blu-ray".parse::<Format>(), Ok(Format::BluRay));
        assert_eq!("box set".parse::<Format>(), Ok(Format::BoxSet));
        assert!("vhs".parse::<Format>().is_err());
        assert_eq!(
            SkuCode::parse(" DVD-001 ").map(|c| c.0),
            Ok("DVD-001".into())
        );
        assert!(SkuCode::parse("has space").is_err());
        assert!(SkuCode::parse("").is_err());
    }
}
