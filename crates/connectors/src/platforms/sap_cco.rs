//! SAP Customer Checkout. CCO manager's instant receipt forwarding POSTs each receipt as JSON
//! to a configured destination with no signature scheme (trust would come only from the
//! destination's own TLS and credentials), so Concord accepts a pushed receipt only as a hint;
//! stock stays with the ERP CCO posts to.
//!
//! The receipt's JSON layout is not published, so only what is plainly there is read: the
//! receipt object (at the top level or under `receipt`), its id (`receiptId`, `id` or `key`),
//! its type (`receiptType` or `type`, as the topic) and its `status`. Money, lines and dates
//! are left to the fetch.

use serde::Deserialize;

use super::common::{self, Text, Unsigned};
use crate::{Delivery, Normalized, ParseError};

const PLATFORM: &str = "sap-cco";

/// SAP Customer Checkout.
pub struct SapCco;

#[derive(Deserialize)]
struct Wrapper {
    receipt: Option<Receipt>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    receipt_id: Option<Text>,
    id: Option<Text>,
    key: Option<Text>,
    receipt_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
}

impl Unsigned for SapCco {
    const WHY: &'static str = "SAP Customer Checkout forwards receipts without a signature, so Concord accepts \
             them only as hints";

    fn hints(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let receipt = match common::json::<Wrapper>(PLATFORM, delivery.body)?.receipt {
            Some(receipt) => receipt,
            None => common::json(PLATFORM, delivery.body)?,
        };
        let Some(id) = receipt.receipt_id.or(receipt.id).or(receipt.key) else {
            return Ok(Vec::new());
        };
        let mut hint = common::hint_event("order", Some(id.0));
        hint.topic = receipt.receipt_type.or(receipt.kind);
        hint.status = receipt.status;
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
        assert_unsigned(&SapCco, "hints");
    }

    #[test]
    fn a_receipt_is_an_order_hint() {
        let body = r#"{"receipt":{"receiptId":"0001-000245","receiptType":"SALES_RECEIPT","status":"FINISHED","cashDesk":"0001","totalGrossAmount":"59.80"}}"#;
        assert_eq!(SapCco.event_id(&delivery(body)), None);
        let mut expected = common::hint_event("order", Some("0001-000245".into()));
        expected.topic = Some("SALES_RECEIPT".into());
        expected.status = Some("FINISHED".into());
        assert_eq!(SapCco.parse(&delivery(body)), Ok(vec![expected]));

        let flat = r#"{"key":1245,"type":"CASH_IN"}"#;
        let mut expected = common::hint_event("order", Some("1245".into()));
        expected.topic = Some("CASH_IN".into());
        assert_eq!(SapCco.parse(&delivery(flat)), Ok(vec![expected]));
    }

    #[test]
    fn receipts_without_an_id_are_ignored_and_malformed_bodies_are_errors() {
        assert_eq!(SapCco.parse(&delivery(r#"{"status":"OPEN"}"#)), Ok(vec![]));
        assert_malformed(
            &SapCco,
            &[
                "",
                "receipt",
                r#"{"receipt":{"id":[1]}}"#,
                r#"{"id":false}"#,
            ],
        );
    }
}
