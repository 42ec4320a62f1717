//! Jurisdiction rules and [`judge`], the one pure function that decides what may be offered
//! and sold where.
//!
//! A rule names where it applies (jurisdictions, kinds of channel), which titles it applies
//! to (a [`Condition`] on the title's fields), what it does ([`Action`]) and when it is in
//! force. Rules are versioned per code: at a given time the highest version whose effective
//! window contains that time speaks for its code, and a disabled version switches the code
//! off. Conditions use three-valued logic: a condition that depends on an unknown field is
//! *unknown*, and an unknown condition fails closed (the title can be neither offered nor
//! sold there until the field is known).

use std::{collections::BTreeSet, fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    ChannelKind, Jurisdiction,
    title::{Field, FieldKind, FieldValue, TitleFields, TitleVersion},
};
use crate::ValidationError;

/// What a rule does to the titles it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Never offer it (an offer may itself be the offence); implies no sale.
    BlockListing,
    /// It may be shown, but a sale is refused.
    BlockSale,
    /// Hold every sale for a person to review.
    Hold,
    /// A sale needs a passed age check first.
    RequireAgeVerification,
    /// A sale ships only with the named carrier control.
    RequireDeliveryControl,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [
        Self::BlockListing,
        Self::BlockSale,
        Self::Hold,
        Self::RequireAgeVerification,
        Self::RequireDeliveryControl,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BlockListing => "block_listing",
            Self::BlockSale => "block_sale",
            Self::Hold => "hold",
            Self::RequireAgeVerification => "require_age_verification",
            Self::RequireDeliveryControl => "require_delivery_control",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "action",
                message: format!(
                    "unknown action `{s}`; expected block_listing, block_sale, hold, \
                     require_age_verification or require_delivery_control"
                ),
            })
    }
}

/// Which titles a rule applies to, as a predicate on their fields.
///
/// On the wire: `"always"`, `{"in":{"field":"uk_bbfc_category","values":["R18"]}}`,
/// `{"is":{"field":"explicit_content","value":true}}`, `{"any":[…]}`, `{"all":[…]}`,
/// `{"not":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(no_recursion))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every title.
    Always,
    /// A scale or text field holds one of `values`.
    In {
        /// The field.
        field: Field,
        /// Accepted values.
        values: Vec<String>,
    },
    /// A flag field is `value`.
    Is {
        /// The field.
        field: Field,
        /// The value.
        value: bool,
    },
    /// At least one holds.
    Any(Vec<Condition>),
    /// Every one holds.
    All(Vec<Condition>),
    /// It does not hold.
    Not(Box<Condition>),
}

impl Condition {
    /// `field` holds one of `values`.
    pub fn is_in(field: Field, values: &[&str]) -> Self {
        Self::In {
            field,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// Flag `field` is `value`.
    pub fn is(field: Field, value: bool) -> Self {
        Self::Is { field, value }
    }

    /// True, false, or unknown (`None`) because a field it needs is unknown; unknown
    /// fields are added to `missing`.
    pub fn eval(&self, title: &TitleFields, missing: &mut BTreeSet<Field>) -> Option<bool> {
        match self {
            Self::Always => Some(true),
            Self::In { field, values } => match title.get(*field) {
                Some(FieldValue::Text(v)) => Some(values.iter().any(|x| x == v)),
                Some(FieldValue::Flag(_)) => Some(false),
                None => {
                    missing.insert(*field);
                    None
                }
            },
            Self::Is { field, value } => match title.get(*field) {
                Some(FieldValue::Flag(v)) => Some(v == *value),
                Some(FieldValue::Text(_)) => Some(false),
                None => {
                    missing.insert(*field);
                    None
                }
            },
            Self::Any(items) => {
                let mut unknown = false;
                for item in items {
                    match item.eval(title, missing) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(false) }
            }
            Self::All(items) => {
                let mut unknown = false;
                for item in items {
                    match item.eval(title, missing) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(true) }
            }
            Self::Not(inner) => inner.eval(title, missing).map(|v| !v),
        }
    }

    /// Checks that every field is used as its kind allows and every value is on its scale.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let bad = |message: String| ValidationError {
            field: "applies_to",
            message,
        };
        match self {
            Self::Always => Ok(()),
            Self::In { field, values } => {
                if values.is_empty() {
                    return Err(bad(format!("`in` on {field} needs at least one value")));
                }
                match field.kind() {
                    FieldKind::Flag => Err(bad(format!("{field} is a flag: use `is`"))),
                    FieldKind::Text => Ok(()),
                    FieldKind::Scale(scale) => {
                        match values.iter().find(|v| !scale.contains(&v.as_str())) {
                            Some(v) => Err(bad(format!(
                                "`{v}` is not a {field} value; expected one of {}",
                                scale.join(", ")
                            ))),
                            None => Ok(()),
                        }
                    }
                }
            }
            Self::Is { field, .. } => match field.kind() {
                FieldKind::Flag => Ok(()),
                _ => Err(bad(format!("{field} is not a flag: use `in`"))),
            },
            Self::Any(items) | Self::All(items) if items.is_empty() => {
                Err(bad("`any` and `all` need at least one condition".into()))
            }
            Self::Any(items) | Self::All(items) => items.iter().try_for_each(Self::validate),
            Self::Not(inner) => inner.validate(),
        }
    }
}

/// One version of a jurisdiction rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable code (`UK-R18-REMOTE`); versions share it.
    pub code: String,
    /// 1 for the first version of a code, then one more per change.
    pub version: i32,
    /// What it says, in a sentence.
    pub summary: String,
    /// Where it applies; each covers its subdivisions.
    pub jurisdictions: Vec<Jurisdiction>,
    /// The kinds of channel it applies to (empty: all).
    pub channels: Vec<ChannelKind>,
    /// The titles it applies to.
    pub applies_to: Condition,
    /// Fields a title it applies to must have (unknown: the title is blocked there).
    pub requires: Vec<Field>,
    /// What it does.
    pub action: Action,
    /// Minimum age, where it has one.
    pub min_age: Option<u8>,
    /// The age checks it accepts, in words.
    pub verification: Option<String>,
    /// The carrier control a shipment needs (`adult_signature`, `personal_handover`,
    /// `proof_of_age`).
    pub delivery_control: Option<String>,
    /// Whether this version is switched on.
    pub enabled: bool,
    /// In force from (`None`: for as long as Concord has records).
    pub effective_from: Option<DateTime<Utc>>,
    /// In force until, exclusive (`None`: open-ended).
    pub effective_to: Option<DateTime<Utc>>,
    /// The statute, guidance or decision it rests on.
    pub source: String,
    /// How sure the source is (`C` confirmed, `2nd` secondary, `U` to check with counsel…).
    pub confidence: String,
    /// Who approved this version.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
}

impl Rule {
    /// Checks a rule a tenant wrote.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let bad = |field, message: &str| ValidationError {
            field,
            message: message.to_owned(),
        };
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 40
            && self
                .code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !code_ok {
            return Err(bad(
                "code",
                "must be 1–40 characters of A–Z, 0–9 and `-` (UK-R18-REMOTE)",
            ));
        }
        if self.jurisdictions.is_empty() {
            return Err(bad("jurisdictions", "name at least one jurisdiction"));
        }
        if self.summary.trim().is_empty() || self.source.trim().is_empty() {
            return Err(bad(
                "source",
                "a rule needs a summary and the source it rests on",
            ));
        }
        if let (Some(from), Some(to)) = (self.effective_from, self.effective_to)
            && to <= from
        {
            return Err(bad("effective_to", "must be after effective_from"));
        }
        if self.action == Action::RequireDeliveryControl && self.delivery_control.is_none() {
            return Err(bad(
                "delivery_control",
                "name the carrier control this rule requires",
            ));
        }
        if self.min_age.is_some_and(|a| a > 25) {
            return Err(bad("min_age", "must be at most 25"));
        }
        self.applies_to.validate()
    }

    /// Whether `at` falls in this version's effective window.
    pub fn window_contains(&self, at: DateTime<Utc>) -> bool {
        self.effective_from.is_none_or(|f| f <= at) && self.effective_to.is_none_or(|t| at < t)
    }

    /// Whether the rule applies to a sale in `place` through a `channel`.
    pub fn applies_where(&self, place: &Jurisdiction, channel: ChannelKind) -> bool {
        self.jurisdictions.iter().any(|j| j.covers(place))
            && (self.channels.is_empty() || self.channels.contains(&channel))
    }
}

/// The rule versions speaking at `at`: per code, the highest version in force then, if
/// that version is enabled.
pub fn in_force(rules: &[Rule], at: DateTime<Utc>) -> Vec<&Rule> {
    let mut best: Vec<&Rule> = Vec::new();
    for rule in rules.iter().filter(|r| r.window_contains(at)) {
        match best.iter_mut().find(|b| b.code == rule.code) {
            Some(b) if b.version < rule.version => *b = rule,
            Some(_) => {}
            None => best.push(rule),
        }
    }
    best.retain(|r| r.enabled);
    best.sort_by(|a, b| a.code.cmp(&b.code));
    best
}

/// Why a decision restricts something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// The rule's code (`TITLE-OVERRIDE` for a title's own restriction).
    pub code: String,
    /// Its version.
    pub version: i32,
    /// What it does.
    pub action: Action,
    /// Fields the title lacks for this rule; when any, the title is blocked (fail closed).
    pub missing: Vec<Field>,
    /// The rule's summary.
    pub summary: String,
}

/// A required age check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgeCheck {
    /// The highest minimum age among the rules requiring it.
    pub min_age: u8,
    /// The checks they accept.
    pub methods: Vec<String>,
}

/// The overall outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing restricts it.
    Allowed,
    /// Allowed once the age check and delivery controls are met.
    Conditional,
    /// A person must review each sale.
    Hold,
    /// Not sold here (and, if `listable` is false, not offered either).
    Blocked,
}

/// What [`judge`] decided for one title, place, channel and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The outcome.
    pub verdict: Verdict,
    /// Whether the title may be offered there.
    pub listable: bool,
    /// The age check a sale needs.
    pub age_check: Option<AgeCheck>,
    /// The carrier controls a shipment needs.
    pub delivery_controls: Vec<String>,
    /// Every field the title lacks for the rules there.
    pub missing_fields: Vec<Field>,
    /// The title has no compliance record valid at that time.
    pub no_record: bool,
    /// The rules (and title overrides) that restrict it.
    pub reasons: Vec<Reason>,
}

/// What was checked for a sale: a passed age check, the carrier controls booked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleChecks {
    /// An age check passed.
    pub age_verified: bool,
    /// Carrier controls booked (`adult_signature`, …).
    pub delivery_controls: Vec<String>,
}

impl Decision {
    /// What a sale still lacks to go ahead with `checks`, in words; empty when it may.
    pub fn outstanding(&self, checks: &SaleChecks) -> Vec<String> {
        let mut out = Vec::new();
        match self.verdict {
            Verdict::Blocked if !self.missing_fields.is_empty() => out.push(format!(
                "the title lacks {} needed here",
                join(self.missing_fields.iter().map(|f| f.as_str()))
            )),
            Verdict::Blocked => out.push(format!(
                "blocked by {}",
                join(self.restricting(&[Action::BlockListing, Action::BlockSale]))
            )),
            Verdict::Hold => out.push(format!(
                "held for review by {}",
                join(self.restricting(&[Action::Hold]))
            )),
            Verdict::Conditional | Verdict::Allowed => {}
        }
        if let Some(check) = &self.age_check
            && !checks.age_verified
            && self.verdict != Verdict::Blocked
        {
            out.push(format!(
                "needs a passed age check ({}+) before dispatch",
                check.min_age
            ));
        }
        for control in &self.delivery_controls {
            if !checks.delivery_controls.contains(control) && self.verdict != Verdict::Blocked {
                out.push(format!("needs the carrier control {control}"));
            }
        }
        out
    }

    /// Whether a sale may go ahead with `checks`.
    pub fn permits(&self, checks: &SaleChecks) -> bool {
        self.outstanding(checks).is_empty()
    }

    fn restricting<'a>(&'a self, actions: &'a [Action]) -> impl Iterator<Item = &'a str> {
        self.reasons
            .iter()
            .filter(|r| actions.contains(&r.action))
            .map(|r| r.code.as_str())
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Decides whether `title` (the version valid at `at`, or `None` when it has none) may be
/// offered and sold in `place` through a `channel` at `at`, under `rules`.
pub fn judge(
    title: Option<&TitleVersion>,
    rules: &[Rule],
    place: &Jurisdiction,
    channel: ChannelKind,
    at: DateTime<Utc>,
) -> Decision {
    let empty = TitleFields::default();
    let fields = title.map_or(&empty, |t| &t.fields);
    let mut reasons = Vec::new();
    let mut fired: Vec<&Rule> = Vec::new();
    let mut all_missing = BTreeSet::new();
    for rule in in_force(rules, at)
        .into_iter()
        .filter(|r| r.applies_where(place, channel))
    {
        let mut missing = BTreeSet::new();
        let applies = rule.applies_to.eval(fields, &mut missing);
        if applies == Some(false) {
            continue;
        }
        if applies == Some(true) {
            missing.extend(rule.requires.iter().filter(|f| fields.get(**f).is_none()));
        }
        if missing.is_empty() {
            fired.push(rule);
        }
        all_missing.extend(missing.iter().copied());
        reasons.push(Reason {
            code: rule.code.clone(),
            version: rule.version,
            action: rule.action,
            missing: missing.into_iter().collect(),
            summary: rule.summary.clone(),
        });
    }
    if let Some(t) = title {
        for o in &t.overrides {
            let here =
                o.jurisdictions.is_empty() || o.jurisdictions.iter().any(|j| j.covers(place));
            if here && (o.channels.is_empty() || o.channels.contains(&channel)) {
                reasons.push(Reason {
                    code: TITLE_OVERRIDE.into(),
                    version: t.version,
                    action: o.action,
                    missing: Vec::new(),
                    summary: o.reason.clone(),
                });
            }
        }
    }
    let acts = |a: Action| {
        reasons
            .iter()
            .any(|r| r.missing.is_empty() && r.action == a)
    };
    let listable = all_missing.is_empty() && !acts(Action::BlockListing);
    let verdict = if !listable || acts(Action::BlockSale) {
        Verdict::Blocked
    } else if acts(Action::Hold) {
        Verdict::Hold
    } else if acts(Action::RequireAgeVerification) || acts(Action::RequireDeliveryControl) {
        Verdict::Conditional
    } else {
        Verdict::Allowed
    };
    let age_rules = fired
        .iter()
        .filter(|r| r.action == Action::RequireAgeVerification);
    let age_check = acts(Action::RequireAgeVerification).then(|| AgeCheck {
        min_age: age_rules
            .clone()
            .filter_map(|r| r.min_age)
            .max()
            .unwrap_or(18),
        methods: age_rules.filter_map(|r| r.verification.clone()).collect(),
    });
    let mut delivery_controls: Vec<String> = fired
        .iter()
        .filter_map(|r| r.delivery_control.clone())
        .collect();
    delivery_controls.sort();
    delivery_controls.dedup();
    Decision {
        verdict,
        listable,
        age_check,
        delivery_controls,
        missing_fields: all_missing.into_iter().collect(),
        no_record: title.is_none(),
        reasons,
    }
}

/// The code a title's own restriction is reported under.
pub const TITLE_OVERRIDE: &str = "TITLE-OVERRIDE";
