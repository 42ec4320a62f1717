//! Retention periods (COMPLIANCE.md §1.4) for the records kept for compliance, not for
//! accounting: age evidence, the online age-check failure log and the refusals register.
//! Financial records (orders, payments, refunds, the stock ledger) and the audit log are
//! never purged by them. Defaults: three years, the UK VRA s.15 prosecution window
//! (the German window is assumed to match; to be confirmed with counsel).

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Three years and a leap day.
pub const DEFAULT_DAYS: i32 = 1096;
/// The longest period accepted (ten years).
pub const MAX_DAYS: i32 = 3653;

/// A kind of record with a retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Per-sale age evidence (`sale_evidence`).
    SaleEvidence,
    /// The online age-check failure log.
    AgeCheckFailures,
    /// The refusals register.
    Refusals,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 3] = [Self::SaleEvidence, Self::AgeCheckFailures, Self::Refusals];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SaleEvidence => "sale_evidence",
            Self::AgeCheckFailures => "age_check_failures",
            Self::Refusals => "refusals",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a tenant keeps each kind of record, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Age evidence per sale.
    pub sale_evidence_days: i32,
    /// The age-check failure log.
    pub age_check_failure_days: i32,
    /// The refusals register.
    pub refusal_days: i32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            sale_evidence_days: DEFAULT_DAYS,
            age_check_failure_days: DEFAULT_DAYS,
            refusal_days: DEFAULT_DAYS,
        }
    }
}

impl RetentionPolicy {
    /// Checks every period is between one day and ten years.
    pub fn validate(&self) -> Result<(), ValidationError> {
        for (field, days) in [
            ("sale_evidence_days", self.sale_evidence_days),
            ("age_check_failure_days", self.age_check_failure_days),
            ("refusal_days", self.refusal_days),
        ] {
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(ValidationError {
                    field,
                    message: format!("must be between 1 and {MAX_DAYS} days"),
                });
            }
        }
        Ok(())
    }

    /// The period of `kind`, in days.
    pub fn days(&self, kind: RecordKind) -> i32 {
        match kind {
            RecordKind::SaleEvidence => self.sale_evidence_days,
            RecordKind::AgeCheckFailures => self.age_check_failure_days,
            RecordKind::Refusals => self.refusal_days,
        }
    }

    /// Records of `kind` from before this time are past their period at `now`.
    pub fn cutoff(&self, kind: RecordKind, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.days(kind)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_keep_three_years_and_periods_are_bounded() {
        let p = RetentionPolicy::default();
        assert!(p.validate().is_ok());
        let now = Utc::now();
        assert_eq!(
            now - p.cutoff(RecordKind::SaleEvidence, now),
            Duration::days(1096)
        );
        let zero = RetentionPolicy {
            refusal_days: 0,
            ..p
        };
        assert_eq!(zero.validate().map_err(|e| e.field), Err("refusal_days"));
        let forever = RetentionPolicy {
            sale_evidence_days: MAX_DAYS + 1,
            ..p
        };
        assert!(forever.validate().is_err());
    }
}
