//! The tamper-evident audit log's rules: what an entry says, its canonical form, and the
//! hash chain that links each tenant's entries.
//!
//! Every entry carries its position (`seq`, from 1 per tenant), the tenant, the time, who
//! acted, what they did and on what, and structured details. Its *content* is the canonical
//! JSON of all of those (object keys sorted, no insignificant whitespace), and its hash is
//! `SHA-256(prev_hash || content)` in lower-case hex, where `prev_hash` is the previous
//! entry's hash ([`GENESIS`] for the first). Editing, deleting or reordering an entry
//! therefore breaks the chain at that entry, which [`ChainCheck`] finds.

use std::{fmt, str::FromStr};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ValidationError;

/// The `prev_hash` of a tenant's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audited change was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditAction {
    /// The seeded jurisdiction rules were installed for the tenant.
    #[serde(rename = "rule.seeded")]
    RulesSeeded,
    /// A new version of a jurisdiction rule was recorded.
    #[serde(rename = "rule.version_created")]
    RuleVersionCreated,
    /// A title's compliance fields changed (a new version).
    #[serde(rename = "title.compliance_changed")]
    TitleComplianceChanged,
    /// An order was held by a compliance rule or missing evidence.
    #[serde(rename = "order.held")]
    OrderHeld,
    /// A person released a held order (an override).
    #[serde(rename = "order.released")]
    OrderReleased,
    /// Age-verification or delivery evidence was recorded for a sale.
    #[serde(rename = "evidence.recorded")]
    EvidenceRecorded,
    /// Stock was changed by hand (adjustment, count, receipt, transfer).
    #[serde(rename = "stock.manual_change")]
    StockManualChange,
    /// A connection (channel) was added.
    #[serde(rename = "connection.created")]
    ConnectionCreated,
    /// A connection's platform access (credentials, URL, webhook secret) changed.
    #[serde(rename = "connection.access_changed")]
    ConnectionAccessChanged,
    /// A connection's jurisdiction or channel kind changed.
    #[serde(rename = "connection.compliance_changed")]
    ConnectionComplianceChanged,
    /// A member's role changed.
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged,
    /// A member was removed or left (their tokens here were revoked).
    #[serde(rename = "member.removed")]
    MemberRemoved,
    /// A compliance report was exported.
    #[serde(rename = "report.exported")]
    ReportExported,
    /// The tenant's retention periods changed.
    #[serde(rename = "retention.changed")]
    RetentionChanged,
    /// Records past their retention period were deleted.
    #[serde(rename = "retention.purged")]
    RetentionPurged,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 15] = [
        Self::RulesSeeded,
        Self::RuleVersionCreated,
        Self::TitleComplianceChanged,
        Self::OrderHeld,
        Self::OrderReleased,
        Self::EvidenceRecorded,
        Self::StockManualChange,
        Self::ConnectionCreated,
        Self::ConnectionAccessChanged,
        Self::ConnectionComplianceChanged,
        Self::MemberRoleChanged,
        Self::MemberRemoved,
        Self::ReportExported,
        Self::RetentionChanged,
        Self::RetentionPurged,
    ];

    /// Wire name (`rule.version_created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RulesSeeded => "rule.seeded",
            Self::RuleVersionCreated => "rule.version_created",
            Self::TitleComplianceChanged => "title.compliance_changed",
            Self::OrderHeld => "order.held",
            Self::OrderReleased => "order.released",
            Self::EvidenceRecorded => "evidence.recorded",
            Self::StockManualChange => "stock.manual_change",
            Self::ConnectionCreated => "connection.created",
            Self::ConnectionAccessChanged => "connection.access_changed",
            Self::ConnectionComplianceChanged => "connection.compliance_changed",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberRemoved => "member.removed",
            Self::ReportExported => "report.exported",
            Self::RetentionChanged => "retention.changed",
            Self::RetentionPurged => "retention.purged",
        }
    }

    /// Whether the action changes a rule, a classification or a decision: what the
    /// rule-change and override log (COMPLIANCE.md §1.5 item 7) lists.
    pub fn is_rule_or_override(self) -> bool {
        matches!(
            self,
            Self::RulesSeeded
                | Self::RuleVersionCreated
                | Self::TitleComplianceChanged
                | Self::OrderReleased
                | Self::ConnectionComplianceChanged
                | Self::RetentionChanged
        )
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "action",
                message: format!("unknown audit action `{s}`"),
            })
    }
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the tenant's chain, from 1.
    pub seq: i64,
    /// The tenant (`tnt_…`).
    pub tenant: String,
    /// When it was recorded (UTC, microseconds).
    pub at: DateTime<Utc>,
    /// Who acted: a user id, a connection id, or `system`.
    pub actor: String,
    /// What they did.
    pub action: AuditAction,
    /// What it was done to (an id or a code).
    pub subject: String,
    /// Structured details (before/after, reasons, hashes).
    pub details: Value,
    /// The canonical JSON the hash covers, as stored.
    pub content: String,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// `SHA-256(prev_hash || content)`, hex.
    pub hash: String,
}

impl AuditEntry {
    /// Builds the next entry of a chain whose last entry is (`prev_seq`, `prev_hash`).
    pub fn next(
        prev: Option<(i64, &str)>,
        tenant: &str,
        at: DateTime<Utc>,
        actor: &str,
        action: AuditAction,
        subject: &str,
        details: Value,
    ) -> Self {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash.to_owned()),
            None => (1, GENESIS.to_owned()),
        };
        let content = content_of(seq, tenant, at, actor, action, subject, &details);
        let hash = chain_hash(&prev_hash, &content);
        Self {
            seq,
            tenant: tenant.to_owned(),
            at,
            actor: actor.to_owned(),
            action,
            subject: subject.to_owned(),
            details,
            content,
            prev_hash,
            hash,
        }
    }

    /// The canonical content these fields produce (what `content` must equal).
    pub fn expected_content(&self) -> String {
        content_of(
            self.seq,
            &self.tenant,
            self.at,
            &self.actor,
            self.action,
            &self.subject,
            &self.details,
        )
    }
}

/// The canonical content of an entry.
fn content_of(
    seq: i64,
    tenant: &str,
    at: DateTime<Utc>,
    actor: &str,
    action: AuditAction,
    subject: &str,
    details: &Value,
) -> String {
    let value = serde_json::json!({
        "seq": seq,
        "tenant": tenant,
        "at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "actor": actor,
        "action": action.as_str(),
        "subject": subject,
        "details": details,
    });
    canonical_json(&value)
}

/// `SHA-256(prev_hash || content)` as lower-case hex.
pub fn chain_hash(prev_hash: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(content.as_bytes());
    hex::encode(hasher.finalize())
}

/// SHA-256 of arbitrary bytes as lower-case hex (for export fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// JSON with object keys sorted and no whitespace, so equal values have equal text
/// whatever map order produced them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// The entry's fields or content no longer produce its hash.
    #[error("entry {seq}: its content does not match its hash (edited)")]
    Edited {
        /// The entry's position.
        seq: i64,
    },
    /// The entry's stored fields disagree with the content its hash covers.
    #[error("entry {seq}: its fields differ from the content its hash covers (edited)")]
    FieldsEdited {
        /// The entry's position.
        seq: i64,
    },
    /// The entry sits at a position other than the one it was written at.
    #[error("entry {seq}: it was written as entry {written_as} (reordered)")]
    Reordered {
        /// The position it sits at now.
        seq: i64,
        /// The position its content records.
        written_as: i64,
    },
    /// Positions skip: entries are missing before this one.
    #[error("entry {expected} is missing; the next present is {found} (deleted)")]
    Missing {
        /// The position that should come next.
        expected: i64,
        /// The position found instead.
        found: i64,
    },
    /// The entry does not link to the one before it.
    #[error("entry {seq}: it does not link to entry {} (deleted, replaced or reordered)", seq - 1)]
    Unlinked {
        /// The entry's position.
        seq: i64,
    },
    /// The chain ends before its recorded head: its last entries were deleted.
    #[error("the chain ends at entry {last} but {head} were written (last entries deleted)")]
    Truncated {
        /// The last entry present.
        last: i64,
        /// The number of entries the head records.
        head: i64,
    },
}

impl ChainBreak {
    /// The position of the first bad entry.
    pub fn seq(&self) -> i64 {
        match self {
            Self::Edited { seq }
            | Self::FieldsEdited { seq }
            | Self::Reordered { seq, .. }
            | Self::Unlinked { seq } => *seq,
            Self::Missing { expected, .. } => *expected,
            Self::Truncated { last, .. } => last + 1,
        }
    }
}

/// Checks one tenant's entries, fed in `seq` order, as they stream from storage.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    last_seq: i64,
    last_hash: String,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS.to_owned(),
        }
    }
}

impl ChainCheck {
    /// Checks the next entry.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let seq = entry.seq;
        let written_as = serde_json::from_str::<Value>(&entry.content)
            .ok()
            .and_then(|v| v.get("seq").and_then(Value::as_i64));
        if let Some(written_as) = written_as
            && written_as != seq
        {
            return Err(ChainBreak::Reordered { seq, written_as });
        }
        if seq != self.last_seq + 1 {
            return Err(ChainBreak::Missing {
                expected: self.last_seq + 1,
                found: seq,
            });
        }
        if chain_hash(&entry.prev_hash, &entry.content) != entry.hash {
            return Err(ChainBreak::Edited { seq });
        }
        if entry.expected_content() != entry.content {
            return Err(ChainBreak::FieldsEdited { seq });
        }
        if entry.prev_hash != self.last_hash {
            return Err(ChainBreak::Unlinked { seq });
        }
        self.last_seq = seq;
        self.last_hash = entry.hash.clone();
        Ok(())
    }

    /// Ends the check against the head storage recorded (entries written, last hash);
    /// returns how many entries were checked.
    pub fn finish(self, head: Option<(i64, &str)>) -> Result<i64, ChainBreak> {
        if let Some((head_seq, head_hash)) = head {
            if head_seq > self.last_seq {
                return Err(ChainBreak::Truncated {
                    last: self.last_seq,
                    head: head_seq,
                });
            }
            if head_seq == self.last_seq && head_hash != self.last_hash {
                return Err(ChainBreak::Unlinked { seq: self.last_seq });
            }
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let at = Utc
                .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
                .single()
                .expect("time")
                + chrono::Duration::seconds(i);
            out.push(AuditEntry::next(
                prev,
                "tnt_x",
                at,
                "usr_a",
                AuditAction::RuleVersionCreated,
                &format!("UK-R18-REMOTE#{i}"),
                json!({ "version": i, "after": { "min_age": 18, "action": "block_listing" } }),
            ));
        }
        out
    }

    fn check(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<i64, ChainBreak> {
        let mut c = ChainCheck::default();
        for e in entries {
            c.push(e)?;
        }
        c.finish(head)
    }

    fn head(entries: &[AuditEntry]) -> Option<(i64, &str)> {
        entries.last().map(|e| (e.seq, e.hash.as_str()))
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({ "b": 1, "a": { "z": [3, { "y": true, "x": null }], "c": "é\"" } });
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"é\"","z":[3,{"x":null,"y":true}]},"b":1}"#
        );
    }

    #[test]
    fn an_intact_chain_verifies_and_counts_its_entries() {
        let entries = chain(5);
        assert_eq!(entries[0].prev_hash, GENESIS);
        assert_eq!(entries[1].prev_hash, entries[0].hash);
        assert_eq!(
            entries[2].hash,
            chain_hash(&entries[1].hash, &entries[2].content)
        );
        assert_eq!(check(&entries, head(&entries)), Ok(5));
        assert_eq!(check(&[], None), Ok(0));
    }

    #[test]
    fn an_edited_field_is_found_at_its_entry() {
        let mut entries = chain(5);
        let h = entries[4].hash.clone();
        entries[2].actor = "usr_mallory".into();
        assert_eq!(
            check(&entries, Some((5, &h))),
            Err(ChainBreak::FieldsEdited { seq: 3 })
        );
        let mut entries = chain(5);
        entries[1].content = entries[1].content.replace("18", "21");
        assert_eq!(
            check(&entries, Some((5, &h))),
            Err(ChainBreak::Edited { seq: 2 })
        );
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[2].details = json!({ "forged": true });
        entries[2].content = entries[2].expected_content();
        entries[2].hash = chain_hash(&entries[2].prev_hash, &entries[2].content);
        let h = entries[4].hash.clone();
        assert_eq!(
            check(&entries, Some((5, &h))),
            Err(ChainBreak::Unlinked { seq: 4 })
        );
    }

    #[test]
    fn a_deleted_entry_is_found_in_the_middle_and_at_the_end() {
        let entries = chain(5);
        let h = entries[4].hash.clone();
        let mut middle = entries.clone();
        middle.remove(2);
        assert_eq!(
            check(&middle, Some((5, &h))),
            Err(ChainBreak::Missing {
                expected: 3,
                found: 4
            })
        );
        let tail = &entries[..4];
        let err = check(tail, Some((5, &h))).expect_err("truncated");
        assert_eq!(err, ChainBreak::Truncated { last: 4, head: 5 });
        assert_eq!(err.seq(), 5);
    }

    #[test]
    fn reordered_entries_are_found() {
        let entries = chain(5);
        let h = entries[4].hash.clone();
        // Two rows swap positions: each now sits where the other was written.
        let mut swapped = entries.clone();
        swapped.swap(1, 2);
        swapped[1].seq = 2;
        swapped[2].seq = 3;
        assert_eq!(
            check(&swapped, Some((5, &h))),
            Err(ChainBreak::Reordered {
                seq: 2,
                written_as: 3
            })
        );
    }

    #[test]
    fn action_names_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(a));
            assert_eq!(
                serde_json::to_value(a).expect("json"),
                json!(a.as_str()),
                "{a:?}"
            );
        }
        assert!("rule.deleted".parse::<AuditAction>().is_err());
    }
}
