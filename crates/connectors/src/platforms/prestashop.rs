//! PrestaShop. PrestaShop core has no webhooks and signs nothing: Concord polls the Webservice
//! by `date_upd` (with `date=1`), and a push from a module hooked on PrestaShop events
//! (`actionValidateOrder`, `actionOrderStatusPostUpdate`, `actionObjectOrderSlipAddAfter`,
//! `actionUpdateQuantity`…) is only a hint to fetch what it names.
//!
//! A push carries the hook's ids as PrestaShop names them: `{hook?, id_order?, id_order_slip?,
//! id_product?}` or a Webservice-style `{order: {id}}`. A credit slip is a refund, an order id
//! an order, a product id a product.

use serde::Deserialize;

use super::{
    Inbound,
    shared::{self, Text},
};
use crate::{Delivery, Keys, Normalized, ParseError, Rejection};

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

impl Inbound for PrestaShop {
    fn verify(
        &self,
        _delivery: &Delivery<'_>,
        _keys: &Keys<'_>,
        _now: i64,
    ) -> Result<(), Rejection> {
        Err(Rejection::Unsigned(
            "PrestaShop has no webhooks and signs nothing; a module's push is only a hint, and \
             Concord polls the Webservice by date_upd for the record itself",
        ))
    }

    fn event_id(&self, _delivery: &Delivery<'_>) -> Option<String> {
        None
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let push: Push = shared::json(PLATFORM, delivery.body)?;
        let order = push
            .id_order
            .or_else(|| push.order.and_then(|o| o.id))
            .map(|id| id.0);
        let mut hint = if let Some(slip) = push.id_order_slip {
            let mut refund = shared::hint("refund", Some(slip.0));
            refund.external_order_id = order;
            refund
        } else if let Some(order) = order {
            shared::hint("order", Some(order))
        } else if let Some(product) = push.id_product {
            shared::hint("product", Some(product.0))
        } else {
            return Ok(Vec::new());
        };
        hint.topic = push.hook.or(push.event);
        Ok(vec![hint])
    }

    fn sign(
        &self,
        _body: &[u8],
        _keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(body: &str) -> Delivery<'_> {
        Delivery {
            body: body.as_bytes(),
            headers: &[],
            url: None,
        }
    }

    #[test]
    fn verify_says_why_it_cannot() {
        assert!(matches!(
            PrestaShop.verify(&delivery("{}"), &Keys::default(), 0),
            Err(Rejection::Unsigned(reason)) if reason.contains("date_upd")
        ));
        assert_eq!(
            PrestaShop.sign(b"{}", &Keys::default(), None, 0),
            Ok(vec![])
        );
    }

    #[test]
    fn hook_pushes_become_hints() {
        let status = r#"{"hook":"actionOrderStatusPostUpdate","id_order":"1187","newOrderStatus":{"id":"4","name":"Shipped"}}"#;
        assert_eq!(PrestaShop.event_id(&delivery(status)), None);
        let mut expected = shared::hint("order", Some("1187".into()));
        expected.topic = Some("actionOrderStatusPostUpdate".into());
        assert_eq!(PrestaShop.parse(&delivery(status)), Ok(vec![expected]));

        let slip = r#"{"hook":"actionObjectOrderSlipAddAfter","id_order_slip":12,"id_order":1187}"#;
        let mut expected = shared::hint("refund", Some("12".into()));
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
        for body in ["", "<prestashop/>", r#"{"id_order":[1]}"#] {
            assert!(
                matches!(
                    PrestaShop.parse(&delivery(body)),
                    Err(ParseError::Malformed { .. })
                ),
                "{body}"
            );
        }
    }
}
