//! Clover webhooks. There is no HMAC: every delivery carries the app's static auth code in
//! `X-Clover-Auth`, compared in constant time; nothing binds it to the body. Payloads name
//! changed objects only — `{appId, merchants: {<merchant id>: [{objectId: "O:<id>", type:
//! CREATE|UPDATE|DELETE, ts}]}}` — so each update is a hint to fetch, and there is no event
//! id (the caller dedupes on the body hash). The first request after setup is
//! `{"verificationCode": …}`, which carries nothing to act on.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Inbound, common};
use crate::{Delivery, Keys, Kind, Normalized, ParseError, Rejection, schemes};

const PLATFORM: &str = "clover";
const AUTH: &str = "X-Clover-Auth";

/// Clover (POS).
pub struct Clover;

#[derive(Deserialize)]
struct Notification {
    merchants: Option<BTreeMap<String, Vec<Update>>>,
}

#[derive(Deserialize)]
struct Update {
    #[serde(rename = "objectId")]
    object_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    ts: Option<i64>,
}

/// The resource an object-id prefix names (Clover's webhook categories).
fn resource(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "O" => "order",
        "P" => "payment",
        "I" => "inventory",
        "C" => "customer",
        _ => return None,
    })
}

impl Inbound for Clover {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        let sent = common::required(delivery, AUTH)?;
        let secret = keys.require_secret()?;
        schemes::matches_bytes(sent.as_bytes(), secret.trim().as_bytes())
    }

    fn event_id(&self, _delivery: &Delivery<'_>) -> Option<String> {
        None
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let notification: Notification = common::json(PLATFORM, delivery.body)?;
        let mut events = Vec::new();
        for (merchant, updates) in notification.merchants.unwrap_or_default() {
            for update in updates {
                let Some((prefix, id)) =
                    update.object_id.as_deref().and_then(|o| o.split_once(':'))
                else {
                    continue;
                };
                let Some(resource) = resource(prefix) else {
                    continue;
                };
                let id = common::text(Some(id));
                events.push(Normalized {
                    topic: common::text(update.kind.as_deref()),
                    occurred_at: update.ts.and_then(common::unix_millis),
                    external_order_id: (resource == "order").then(|| id.clone()).flatten(),
                    // One location per merchant: the merchant is where it happened.
                    location_id: common::text(Some(&merchant)),
                    hint: common::hint(resource, id),
                    ..Normalized::new(Kind::Hint)
                });
            }
        }
        Ok(events)
    }

    fn sign(
        &self,
        _body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        Ok(vec![(
            AUTH.to_owned(),
            keys.require_secret()?.trim().to_owned(),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;

    // Clover's scheme has no computation: the vector is the auth code itself.
    const CODE: &str = "9d1b7f0a-5a43-4f4e-b0a4-3c1b2ad0e6f1";
    const BODY: &str = r#"{"appId":"DRKVJT2ZRRRSC","merchants":{
        "VKDTCKL1PB2VM":[{"objectId":"O:GJQ3F4X1FJ1ZE","type":"UPDATE","ts":1537970958000},
                         {"objectId":"I:7MZ9ESEQ7KX9E","type":"CREATE","ts":1537970959000},
                         {"objectId":"E:0AEPW6YG2JFRW","type":"UPDATE","ts":1537970960000}],
        "A1B2C3D4E5F6G":[{"objectId":"P:Q9C4X0ZB3N7V2","type":"CREATE","ts":1537970961000}]}}"#;

    fn check(auth: Option<&str>, secret: &str) -> Result<(), Rejection> {
        let headers: Vec<(String, String)> = auth
            .map(|a| ("x-clover-auth".to_owned(), a.to_owned()))
            .into_iter()
            .collect();
        let delivery = Delivery {
            body: BODY.as_bytes(),
            headers: &headers,
            url: None,
        };
        let keys = Keys {
            secret: Some(secret),
            ..Keys::default()
        };
        Clover.verify(&delivery, &keys, 0)
    }

    fn parse(body: &str) -> Result<Vec<Normalized>, ParseError> {
        Clover.parse(&Delivery {
            body: body.as_bytes(),
            headers: &[],
            url: None,
        })
    }

    #[test]
    fn the_auth_code_must_match_exactly() {
        assert_eq!(check(Some(CODE), CODE), Ok(()));
        assert_eq!(check(Some(&CODE[1..]), CODE), Err(Rejection::Mismatch));
        assert_eq!(check(Some(CODE), "another-code"), Err(Rejection::Mismatch));
        assert_eq!(check(None, CODE), Err(Rejection::MissingHeader(AUTH)));
    }

    #[test]
    fn signing_sends_the_code() {
        let keys = Keys {
            secret: Some(CODE),
            ..Keys::default()
        };
        let signed = Clover
            .sign(BODY.as_bytes(), &keys, None, 0)
            .expect("signed");
        assert_eq!(signed, vec![(AUTH.to_owned(), CODE.to_owned())]);
        assert_eq!(check(Some(&signed[0].1), CODE), Ok(()));
        assert_eq!(
            Clover.sign(BODY.as_bytes(), &Keys::default(), None, 0),
            Err(Rejection::MissingKey("secret"))
        );
    }

    #[test]
    fn each_update_is_a_hint_for_its_merchant() {
        let events = parse(BODY).expect("hints");
        assert_eq!(events.len(), 3);
        assert_eq!(
            Clover.event_id(&Delivery {
                body: BODY.as_bytes(),
                headers: &[],
                url: None
            }),
            None
        );
        let payment = &events[0];
        assert_eq!(payment.kind, Kind::Hint);
        assert_eq!(payment.location_id.as_deref(), Some("A1B2C3D4E5F6G"));
        assert_eq!(
            payment.hint,
            Some(Hint {
                resource: "payment".into(),
                id: Some("Q9C4X0ZB3N7V2".into())
            })
        );
        let order = &events[1];
        assert_eq!(order.topic.as_deref(), Some("UPDATE"));
        assert_eq!(order.occurred_at.as_deref(), Some("2018-09-26T14:09:18Z"));
        assert_eq!(order.external_order_id.as_deref(), Some("GJQ3F4X1FJ1ZE"));
        assert_eq!(order.location_id.as_deref(), Some("VKDTCKL1PB2VM"));
        assert_eq!(
            events[2].hint,
            Some(Hint {
                resource: "inventory".into(),
                id: Some("7MZ9ESEQ7KX9E".into())
            })
        );
        assert_eq!((order.total_minor, order.currency.as_deref()), (None, None));
    }

    #[test]
    fn the_verification_request_carries_nothing() {
        assert_eq!(parse(r#"{"verificationCode":"a1b2c3"}"#), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("").is_err());
        assert!(parse(r#"{"merchants":{"M":{"objectId":"O:1"}}}"#).is_err());
        assert!(parse(r#"{"merchants":{"M":[{"objectId":7}]}}"#).is_err());
    }
}
