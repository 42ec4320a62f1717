//! Microsoft Dynamics 365 Commerce business events. Dynamics puts no signature on its HTTPS
//! endpoint deliveries: trust comes only from the Azure endpoint they pass through (Service
//! Bus, Event Grid, or a secret kept in Key Vault), so Concord treats each one as a hint and
//! re-fetches the record over OData.
//!
//! A business event is a flat JSON object: `{BusinessEventId (the event type), EventId,
//! ControlNumber, EventTime: "/Date(ms)/", MajorVersion, MinorVersion, LegalEntity, …}` plus
//! the contract's own fields; a sales order number among them makes an order hint.

use serde::Deserialize;

use super::common::{self, Text, Unsigned};
use crate::{Delivery, Normalized, ParseError};

const PLATFORM: &str = "dynamics365";

/// Microsoft Dynamics 365 Commerce.
pub struct Dynamics365;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BusinessEvent {
    business_event_id: Option<String>,
    event_id: Option<String>,
    control_number: Option<Text>,
    event_time: Option<String>,
    sales_order_number: Option<Text>,
    sales_order_id: Option<Text>,
    sales_id: Option<Text>,
}

impl BusinessEvent {
    /// `EventId` is unique per event; `BusinessEventId` names the event type, so it is the
    /// topic, never the id. `ControlNumber` stands in where `EventId` is absent.
    fn id(&self) -> Option<String> {
        self.event_id
            .clone()
            .or_else(|| self.control_number.as_ref().map(|c| c.0.clone()))
    }
}

/// Dynamics' `/Date(1772460311140)/` (or an ISO 8601 time) as RFC 3339 UTC.
fn time(text: &str) -> Option<String> {
    match text
        .strip_prefix("/Date(")
        .and_then(|rest| rest.strip_suffix(")/"))
    {
        Some(millis) => common::unix_millis(millis.parse().ok()?),
        None => common::utc_minutes(text),
    }
}

impl Unsigned for Dynamics365 {
    const WHY: &'static str = "Dynamics 365 business events carry no signature; they are trusted only through the \
             Azure endpoint they arrive by, so Concord treats them as hints and re-fetches the \
             record over OData";

    fn pushed_event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        common::json::<BusinessEvent>(PLATFORM, delivery.body)
            .ok()?
            .id()
    }

    fn hints(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let event: BusinessEvent = common::json(PLATFORM, delivery.body)?;
        let Some(order) = event
            .sales_order_number
            .as_ref()
            .or(event.sales_order_id.as_ref())
            .or(event.sales_id.as_ref())
        else {
            return Ok(Vec::new());
        };
        let mut hint = common::hint_event("order", Some(order.0.clone()));
        hint.event_id = event.id();
        hint.topic = event.business_event_id;
        hint.occurred_at = event.event_time.as_deref().and_then(time);
        Ok(vec![hint])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{
        Inbound, assert_malformed, assert_unsigned, bare as delivery,
    };

    const CONFIRMED: &str = r#"{"BusinessEventId":"SalesOrderConfirmedBusinessEvent","BusinessEventLegalEntity":"USRT","ContextRecordSubject":"","ControlNumber":5637166076,"EventId":"8E1C4E5B-2F0A-4D3B-9C7E-6A5B4C3D2E1F","EventTime":"/Date(1772460311000)/","EventTimeIso8601":"2026-03-02T14:05:11Z","InitiatingUserAADObjectId":"{00000000-0000-0000-0000-000000000000}","MajorVersion":0,"MinorVersion":0,"LegalEntity":"USRT","SalesOrderNumber":"012437","CustomerAccount":"004021"}"#;

    #[test]
    fn verify_says_why_it_cannot() {
        assert_unsigned(&Dynamics365, "Azure");
    }

    #[test]
    fn a_sales_order_event_is_an_order_hint() {
        assert_eq!(
            Dynamics365.event_id(&delivery(CONFIRMED)).as_deref(),
            Some("8E1C4E5B-2F0A-4D3B-9C7E-6A5B4C3D2E1F")
        );
        let mut expected = common::hint_event("order", Some("012437".into()));
        expected.topic = Some("SalesOrderConfirmedBusinessEvent".into());
        expected.event_id = Some("8E1C4E5B-2F0A-4D3B-9C7E-6A5B4C3D2E1F".into());
        expected.occurred_at = Some("2026-03-02T14:05:11Z".into());
        assert_eq!(Dynamics365.parse(&delivery(CONFIRMED)), Ok(vec![expected]));
    }

    #[test]
    fn the_control_number_stands_in_for_a_missing_event_id() {
        let body = r#"{"BusinessEventId":"SalesInvoicePostedBusinessEvent","ControlNumber":5637166077,"EventTime":"2026-03-02T15:00:00Z","SalesId":"012437"}"#;
        assert_eq!(
            Dynamics365.event_id(&delivery(body)).as_deref(),
            Some("5637166077")
        );
        let events = Dynamics365.parse(&delivery(body)).expect("parse");
        assert_eq!(events[0].external_order_id.as_deref(), Some("012437"));
        assert_eq!(
            events[0].occurred_at.as_deref(),
            Some("2026-03-02T15:00:00Z")
        );
    }

    #[test]
    fn events_without_an_order_are_ignored_and_malformed_bodies_are_errors() {
        let alert = r#"{"BusinessEventId":"AlertBusinessEvent","ControlNumber":1,"EventId":"E","Subject":"Stock low"}"#;
        assert_eq!(Dynamics365.parse(&delivery(alert)), Ok(vec![]));
        assert_malformed(&Dynamics365, &["", "[1]", r#"{"SalesOrderNumber":true}"#]);
        assert_eq!(time("/Date(abc)/"), None);
    }
}
