//! A merchant's own system, signing with the Standard Webhooks scheme and sending Concord's
//! normalized events as `{"events":[…]}`.

use serde::Deserialize;

use super::Inbound;
use crate::{Delivery, Keys, Normalized, ParseError, Rejection, schemes::standard_webhooks};

/// The Standard Webhooks sender.
pub struct Standard;

#[derive(Deserialize)]
struct Batch {
    events: Vec<Normalized>,
}

impl Inbound for Standard {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, now: i64) -> Result<(), Rejection> {
        standard_webhooks::verify(keys.require_secret()?, delivery, now)
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        delivery.header("webhook-id").map(str::to_owned)
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        serde_json::from_slice::<Batch>(delivery.body)
            .map(|batch| batch.events)
            .map_err(|e| ParseError::Malformed {
                platform: "standard-webhooks",
                reason: e.to_string(),
            })
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let key = standard_webhooks::key_of(keys.require_secret()?)?;
        let id = format!("msg_{}", &crate::content_id(body)[..24]);
        Ok(standard_webhooks::headers_with_key(&key, &id, now, body))
    }
}
