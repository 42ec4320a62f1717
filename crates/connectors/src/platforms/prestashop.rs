//! PrestaShop. PrestaShop core has no webhooks and signs nothing: Concord polls the Webservice
//! by `date_upd` (with `date=1`), and a push from a module hooked on PrestaShop events
//! (`actionValidateOrder`, `actionOrderStatusPostUpdate`, `actionObjectOrderSlipAddAfter`,
//! `actionUpdateQuantity`…) is only a hint to fetch what it names.
//!
//! A push carries the hook's ids as PrestaShop names them: `{hook?, id_order?, id_order_slip?,
//! id_product?}` or a Webservice-style `{order: {id}}`. A credit slip is a refund, an order id
//! an order, a product id a product.

use serde::Deserialize;

use super::common::{self, Text, Unsigned};
use crate::{Delivery, Normalized, ParseError};

const PLATFORM: &str = "prestashop";

/// PrestaShop.
pub struct PrestaShop;

#[derive(Deserialize)]
struct Push {
    hook: Option<String>,
    event: Option<String>,
    id_order: Option<Text>,
    id_order_slip: Option<Text>,
    id_product: Option<Text>,
    order: Option<Resource>,
}

#[derive(Deserialize)]
struct Resource {
    id: Option<Text>,
}

impl Unsigned for PrestaShop {
    const WHY: &'static str = "PrestaShop has no webhooks and signs nothing; a module's push is only a hint, and \
             Concord polls the Webservice by date_upd for the record itself";

    fn hints(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let push: Push = common::json(PLATFORM, delivery.body)?;
        let order = push
            .id_order
            .or_else(|| push.order.and_then(|o| o.id))
            .map(|id| id.0);
        let mut hint = if let Some(slip) = push.id_order_slip {
            let mut refund = common::hint_event("refund", Some(slip.0));
            refund.external_order_id = order;
            refund
        } else if let Some(order) = order {
            common::hint_event("order", Some(order))
        } else if let Some(product) = push.id_product {
            common::hint_event("product", Some(product.0))
        } else {
            return Ok(Vec::new());
        };
        hint.topic = push.hook.or(push.event);
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
        assert_unsigned(&PrestaShop, "date_upd");
    }

    #[test]
    fn hook_pushes_become_hints() {
        let status = r#"{"hook":"actionOrderStatusPostUpdate","id_order":"1187","newOrderStatus":{"id":"4","name":"Shipped"}}"#;
        assert_eq!(PrestaShop.event_id(&delivery(status)), None);
        let mut expected = common::hint_event("order", Some("1187".into()));
        expected.topic = Some("actionOrderStatusPostUpdate".into());
        assert_eq!(PrestaShop.parse(&delivery(status)), Ok(vec![expected]));

        let slip = r#"{"hook":"actionObjectOrderSlipAddAfter","id_order_slip":12,"id_order":1187}"#;
        let mut expected = common::hint_event("refund", Some("12".into()));
        expected.external_order_id = Some("1187".into());
        expected.topic = Some("actionObjectOrderSlipAddAfter".into());
        assert_eq!(PrestaShop.parse(&delivery(slip)), Ok(vec![expected]));

        let quantity = r#"{"hook":"actionUpdateQuantity","id_product":"52","id_product_attribute":"3","quantity":"8"}"#;
        let events = PrestaShop.parse(&delivery(quantity)).expect("parse");
        assert_eq!(
            events[0]
                .hint
                .as_ref()
                .map(|h| (h.resource.as_str(), h.id.as_deref())),
            Some(("product", Some("52")))
        );

        let webservice =
            r#"{"order":{"id":1188,"reference":"XKBKNABJK","total_paid":"29.900000"}}"#;
        let events = PrestaShop.parse(&delivery(webservice)).expect("parse");
        assert_eq!(events[0].external_order_id.as_deref(), Some("1188"));
    }

    #[test]
    fn pushes_naming_nothing_are_ignored_and_malformed_bodies_are_errors() {
        assert_eq!(
            PrestaShop.parse(&delivery(r#"{"hook":"actionCustomerAccountAdd"}"#)),
            Ok(vec![])
        );
        assert_malformed(&PrestaShop, &["", "<prestashop/>", r#"{"id_order":[1]}"#]);
    }
}
