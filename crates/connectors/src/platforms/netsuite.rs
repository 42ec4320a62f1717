//! NetSuite (NetSuite POS / SuiteCommerce InStore data in NetSuite ERP). NetSuite has no
//! outbound webhooks, so nothing arrives signed: Concord polls SuiteQL by
//! `lastmodifieddate`, and a record pushed by a merchant's SuiteScript (a User Event calling
//! `N/https`) is only a hint to fetch that record.
//!
//! A push names the record: `{recordType, id, eventType?}` (the shape of `record.type` /
//! `record.id` and the User Event's `context.type`); `type` is read when `recordType` is
//! absent.

use serde::Deserialize;

use super::common::{self, Text, Unsigned};
use crate::{Delivery, Normalized, ParseError};

const PLATFORM: &str = "netsuite";

/// NetSuite.
pub struct NetSuite;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Push {
    record_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<Text>,
    event_type: Option<String>,
}

/// Concord's resource for a NetSuite record type (any case).
fn resource(record_type: &str) -> Option<&'static str> {
    match record_type.to_ascii_lowercase().as_str() {
        "cashsale" | "salesorder" | "invoice" => Some("order"),
        "cashrefund" | "creditmemo" | "returnauthorization" => Some("refund"),
        "customerpayment" => Some("payment"),
        "inventoryitem" | "noninventoryitem" | "kititem" | "assemblyitem" => Some("product"),
        "inventoryadjustment" | "inventorytransfer" => Some("inventory"),
        "customer" => Some("customer"),
        _ => None,
    }
}

impl Unsigned for NetSuite {
    const WHY: &'static str = "NetSuite has no webhooks and signs nothing; a record pushed by SuiteScript is only \
             a hint, and Concord polls SuiteQL for the record itself";

    fn hints(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let push: Push = common::json(PLATFORM, delivery.body)?;
        let Some(record_type) = push.record_type.or(push.kind) else {
            return Ok(Vec::new());
        };
        let (Some(resource), Some(id)) = (resource(&record_type), push.id) else {
            return Ok(Vec::new());
        };
        let mut hint = common::hint_event(resource, Some(id.0));
        hint.topic = Some(match push.event_type {
            Some(event) => format!("{record_type}.{event}"),
            None => record_type,
        });
        Ok(vec![hint])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{
        Inbound, assert_malformed, assert_unsigned, bare as delivery,
    };

    #[test]
    fn verify_says_why_it_cannot() {
        assert_unsigned(&NetSuite, "SuiteQL");
    }

    #[test]
    fn pushed_records_become_hints() {
        let body = r#"{"recordType":"cashsale","id":"48213","eventType":"create","subsidiary":"2","location":"7"}"#;
        assert_eq!(NetSuite.event_id(&delivery(body)), None);
        let mut expected = common::hint_event("order", Some("48213".into()));
        expected.topic = Some("cashsale.create".into());
        assert_eq!(NetSuite.parse(&delivery(body)), Ok(vec![expected]));

        let refund = r#"{"type":"cashRefund","id":48250}"#;
        let mut expected = common::hint_event("refund", Some("48250".into()));
        expected.topic = Some("cashRefund".into());
        assert_eq!(NetSuite.parse(&delivery(refund)), Ok(vec![expected]));
    }

    #[test]
    fn unknown_records_are_ignored_and_malformed_bodies_are_errors() {
        for body in [
            r#"{"recordType":"vendorbill","id":"9"}"#,
            r#"{"recordType":"salesorder"}"#,
            r#"{"id":"9"}"#,
        ] {
            assert_eq!(NetSuite.parse(&delivery(body)), Ok(vec![]), "{body}");
        }
        assert_malformed(
            &NetSuite,
            &["", "[]", r#"{"recordType":"salesorder","id":{"x":1}}"#],
        );
    }
}
