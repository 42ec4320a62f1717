//! Lightspeed Retail R-Series sends no webhooks for sales, items or customers: Concord polls
//! it (`timeStamp` filters), so any delivery claiming to come from it is refused.

use super::{Inbound, common};
use crate::{Delivery, Keys, Normalized, ParseError, Rejection};

const NO_WEBHOOKS: &str = "Lightspeed R-Series sends no webhooks; Concord polls it";

/// Lightspeed Retail R-Series (POS).
pub struct LightspeedR;

impl Inbound for LightspeedR {
    fn verify(
        &self,
        _delivery: &Delivery<'_>,
        _keys: &Keys<'_>,
        _now: i64,
    ) -> Result<(), Rejection> {
        Err(Rejection::Unsigned(NO_WEBHOOKS))
    }

    fn event_id(&self, _delivery: &Delivery<'_>) -> Option<String> {
        None
    }

    fn parse(&self, _delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        Err(common::malformed("lightspeed-r", NO_WEBHOOKS))
    }

    fn sign(
        &self,
        _body: &[u8],
        _keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Err(Rejection::Unsigned(NO_WEBHOOKS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_delivery_is_refused_with_the_reason() {
        let delivery = Delivery {
            body: br#"{"saleID":"1"}"#,
            headers: &[],
            url: None,
        };
        let keys = Keys {
            secret: Some("anything"),
            ..Keys::default()
        };
        let refused = LightspeedR.verify(&delivery, &keys, 0);
        assert_eq!(refused, Err(Rejection::Unsigned(NO_WEBHOOKS)));
        assert!(
            refused
                .map_err(|r| r.to_string())
                .is_err_and(|m| m.contains("polls"))
        );
        assert_eq!(LightspeedR.event_id(&delivery), None);
        assert!(LightspeedR.parse(&delivery).is_err());
        assert_eq!(
            LightspeedR.sign(b"{}", &keys, None, 0),
            Err(Rejection::Unsigned(NO_WEBHOOKS))
        );
    }
}
