//! Stripe webhooks. `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`, each `v1` the hex
//! HMAC-SHA256 of `"{t}.{raw body}"` under the endpoint secret `whsec_…` used as text (not
//! base64-decoded); any matching `v1` is accepted, `v0` and other schemes are ignored, and
//! `t` must be within 300 s of now, as in Stripe's SDKs. Bodies are events `{id, type,
//! created, data{object}}` with integer minor-unit amounts and lower-case currencies.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Inbound, common};
use crate::{Delivery, Keys, Kind, Normalized, ParseError, Rejection, money::Amount, schemes};

const PLATFORM: &str = "stripe";
const SIGNATURE: &str = "Stripe-Signature";
/// How far the signed timestamp may be from now, in seconds (Stripe's SDK default).
const TOLERANCE_SECS: i64 = 300;

/// Stripe (payments).
pub struct Stripe;

#[derive(Deserialize)]
struct Event<'a> {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    created: Option<i64>,
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    object: &'a RawValue,
}

/// An id Stripe may expand into the object it names.
#[derive(Deserialize)]
#[serde(untagged)]
enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    fn id(&self) -> Option<String> {
        match self {
            Expandable::Id(id) | Expandable::Object { id } => common::text(Some(id)),
        }
    }
}

fn id(value: Option<&Expandable>) -> Option<String> {
    value.and_then(Expandable::id)
}

#[derive(Deserialize)]
struct Metadata {
    order_id: Option<String>,
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    amount: Option<Amount>,
    amount_received: Option<Amount>,
    currency: Option<String>,
    status: Option<String>,
    customer: Option<Expandable>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Charge {
    id: String,
    amount: Option<Amount>,
    amount_refunded: Option<Amount>,
    currency: Option<String>,
    status: Option<String>,
    payment_intent: Option<Expandable>,
    customer: Option<Expandable>,
    metadata: Option<Metadata>,
    billing_details: Option<Details>,
    refunds: Option<Refunds>,
}

#[derive(Deserialize)]
struct Refunds {
    #[serde(default, deserialize_with = "common::seq")]
    data: Vec<Refund>,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    amount: Option<Amount>,
    currency: Option<String>,
    status: Option<String>,
    payment_intent: Option<Expandable>,
    charge: Option<Expandable>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Details {
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Session {
    amount_total: Option<Amount>,
    currency: Option<String>,
    payment_intent: Option<Expandable>,
    payment_status: Option<String>,
    client_reference_id: Option<String>,
    customer: Option<Expandable>,
    customer_details: Option<Details>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Invoice {
    id: String,
    amount_paid: Option<Amount>,
    currency: Option<String>,
    status: Option<String>,
    payment_intent: Option<Expandable>,
    customer: Option<Expandable>,
    metadata: Option<Metadata>,
}

/// Any object, for events Concord only needs the id of.
#[derive(Deserialize)]
struct Object {
    id: Option<String>,
    product: Option<Expandable>,
}

fn order_id(metadata: Option<&Metadata>) -> Option<String> {
    common::text(metadata?.order_id.as_deref())
}

fn minor(amount: Option<&Amount>) -> Option<i64> {
    amount?.minor()
}

impl Inbound for Stripe {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, now: i64) -> Result<(), Rejection> {
        let header = common::required(delivery, SIGNATURE)?;
        let secret = keys.require_secret()?;
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for (key, value) in header.split(',').filter_map(|p| p.trim().split_once('=')) {
            match key {
                "t" => timestamp = Some(value),
                "v1" => candidates.push(value),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(Rejection::BadTimestamp)?;
        let sent: i64 = timestamp.parse().map_err(|_| Rejection::BadTimestamp)?;
        let expected = schemes::hmac_sha256(
            secret.as_bytes(),
            &[timestamp.as_bytes(), b".", delivery.body],
        );
        if !candidates
            .iter()
            .any(|c| schemes::matches_hex(c, &expected).is_ok())
        {
            return Err(Rejection::Mismatch);
        }
        if now.abs_diff(sent) > TOLERANCE_SECS.unsigned_abs() {
            return Err(Rejection::Stale(now.saturating_sub(sent)));
        }
        Ok(())
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        #[derive(Deserialize)]
        struct EventId {
            id: Option<String>,
        }
        let event: EventId = serde_json::from_slice(delivery.body).ok()?;
        common::text(event.id.as_deref())
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let event: Event<'_> = common::json(PLATFORM, delivery.body)?;
        let topic = event.kind.as_str();
        let stamp = |kind| Normalized {
            topic: Some(event.kind.clone()),
            event_id: common::text(event.id.as_deref()),
            occurred_at: event.created.and_then(common::unix),
            ..Normalized::new(kind)
        };
        let object = event.data.object.get().as_bytes();
        let (family, _) = topic.rsplit_once('.').unwrap_or((topic, ""));
        let events = match family {
            "payment_intent" => vec![payment_intent(stamp(Kind::Payment), json(object)?)],
            "charge" if topic == "charge.refunded" => charge_refunded(&stamp, json(object)?),
            "charge" => vec![charge(stamp(Kind::Payment), json(object)?)],
            "refund" | "charge.refund" => vec![refund(stamp(Kind::Refund), json(object)?)],
            "checkout.session" => vec![session(stamp(Kind::Payment), json(object)?)],
            "invoice" => vec![invoice(stamp(Kind::Payment), json(object)?)],
            "customer" => {
                let object: Object = json(object)?;
                vec![hint(
                    stamp(Kind::Hint),
                    "customer",
                    common::text(object.id.as_deref()),
                )]
            }
            "product" => {
                let object: Object = json(object)?;
                vec![hint(
                    stamp(Kind::Hint),
                    "product",
                    common::text(object.id.as_deref()),
                )]
            }
            "price" => {
                let object: Object = json(object)?;
                vec![hint(
                    stamp(Kind::Hint),
                    "product",
                    id(object.product.as_ref()),
                )]
            }
            _ => Vec::new(),
        };
        Ok(events)
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let secret = keys.require_secret()?;
        let timestamp = now.to_string();
        let mac = schemes::hmac_sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]);
        Ok(vec![(
            SIGNATURE.to_owned(),
            format!("t={timestamp},v1={}", hex::encode(mac)),
        )])
    }
}

fn json<'a, T: Deserialize<'a>>(object: &'a [u8]) -> Result<T, ParseError> {
    common::json(PLATFORM, object)
}

fn payment_intent(mut event: Normalized, intent: PaymentIntent) -> Normalized {
    let received = minor(intent.amount_received.as_ref()).filter(|a| *a > 0);
    event.external_payment_id = common::text(Some(&intent.id));
    event.amount_minor = received.or_else(|| minor(intent.amount.as_ref()));
    event.currency = common::currency(intent.currency.as_deref());
    event.status = common::text(intent.status.as_deref());
    event.external_order_id = order_id(intent.metadata.as_ref());
    event.customer = common::customer(id(intent.customer.as_ref()), None, None, None);
    event
}

fn charge(mut event: Normalized, charge: Charge) -> Normalized {
    event.external_payment_id =
        id(charge.payment_intent.as_ref()).or_else(|| common::text(Some(&charge.id)));
    event.amount_minor = minor(charge.amount.as_ref());
    event.currency = common::currency(charge.currency.as_deref());
    event.status = common::text(charge.status.as_deref());
    event.external_order_id = order_id(charge.metadata.as_ref());
    let details = charge.billing_details.as_ref();
    event.customer = common::customer(
        id(charge.customer.as_ref()),
        details.and_then(|d| common::text(d.email.as_deref())),
        details.and_then(|d| common::text(d.phone.as_deref())),
        details.and_then(|d| common::text(d.name.as_deref())),
    );
    event
}

/// One refund per refund the charge embeds (older API versions), else one for the amount
/// refunded so far, whose own id the event does not carry.
fn charge_refunded(stamp: &impl Fn(Kind) -> Normalized, charge: Charge) -> Vec<Normalized> {
    let payment = id(charge.payment_intent.as_ref()).or_else(|| common::text(Some(&charge.id)));
    let order = order_id(charge.metadata.as_ref());
    let embedded = charge.refunds.map(|l| l.data).unwrap_or_default();
    if embedded.is_empty() {
        let mut event = stamp(Kind::Refund);
        event.external_payment_id = payment;
        event.external_order_id = order;
        event.amount_minor = minor(charge.amount_refunded.as_ref());
        event.currency = common::currency(charge.currency.as_deref());
        return vec![event];
    }
    embedded
        .into_iter()
        .map(|r| {
            let mut event = refund(stamp(Kind::Refund), r);
            event.external_payment_id = event.external_payment_id.or_else(|| payment.clone());
            event.external_order_id = event.external_order_id.or_else(|| order.clone());
            event
        })
        .collect()
}

fn refund(mut event: Normalized, refund: Refund) -> Normalized {
    event.external_refund_id = common::text(Some(&refund.id));
    event.external_payment_id =
        id(refund.payment_intent.as_ref()).or_else(|| id(refund.charge.as_ref()));
    event.amount_minor = minor(refund.amount.as_ref());
    event.currency = common::currency(refund.currency.as_deref());
    event.status = common::text(refund.status.as_deref());
    event.external_order_id = order_id(refund.metadata.as_ref());
    event
}

fn session(mut event: Normalized, session: Session) -> Normalized {
    event.external_payment_id = id(session.payment_intent.as_ref());
    event.external_order_id = order_id(session.metadata.as_ref())
        .or_else(|| common::text(session.client_reference_id.as_deref()));
    event.amount_minor = minor(session.amount_total.as_ref());
    event.currency = common::currency(session.currency.as_deref());
    event.status = common::text(session.payment_status.as_deref());
    let details = session.customer_details.as_ref();
    event.customer = common::customer(
        id(session.customer.as_ref()),
        details.and_then(|d| common::text(d.email.as_deref())),
        details.and_then(|d| common::text(d.phone.as_deref())),
        details.and_then(|d| common::text(d.name.as_deref())),
    );
    event
}

fn invoice(mut event: Normalized, invoice: Invoice) -> Normalized {
    event.external_payment_id =
        id(invoice.payment_intent.as_ref()).or_else(|| common::text(Some(&invoice.id)));
    event.amount_minor = minor(invoice.amount_paid.as_ref());
    event.currency = common::currency(invoice.currency.as_deref());
    event.status = common::text(invoice.status.as_deref());
    event.external_order_id = order_id(invoice.metadata.as_ref());
    event.customer = common::customer(id(invoice.customer.as_ref()), None, None, None);
    event
}

fn hint(mut event: Normalized, resource: &str, id: Option<String>) -> Normalized {
    event.hint = common::hint(resource, id);
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;

    // Stripe publishes no fixed vector (its SDK tests sign at run time); computed
    // independently: printf '%s' "1700000000.$BODY" | openssl dgst -sha256 -hmac "$SECRET".
    const SECRET: &str = "whsec_test_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const T: i64 = 1_700_000_000;
    const BODY: &str = r#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}"#;
    const V1: &str = "fe9123591cfc842b2a36277eda9292ea02cef122afc3bd8eef8cbab34b6b6fd9";

    fn check(signature: Option<&str>, body: &str, secret: &str, now: i64) -> Result<(), Rejection> {
        let headers: Vec<(String, String)> = signature
            .map(|s| (SIGNATURE.to_owned(), s.to_owned()))
            .into_iter()
            .collect();
        let delivery = Delivery {
            body: body.as_bytes(),
            headers: &headers,
            url: None,
        };
        let keys = Keys {
            secret: Some(secret),
            ..Keys::default()
        };
        Stripe.verify(&delivery, &keys, now)
    }

    fn parse(body: &str) -> Result<Vec<Normalized>, ParseError> {
        Stripe.parse(&Delivery {
            body: body.as_bytes(),
            headers: &[],
            url: None,
        })
    }

    #[test]
    fn the_fixed_vector_verifies_with_any_matching_v1() {
        let header = format!("t={T},v1={V1}");
        assert_eq!(check(Some(&header), BODY, SECRET, T), Ok(()));
        let rotated = format!(
            "t={T}, v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd, v1={V1}, v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
        );
        assert_eq!(check(Some(&rotated), BODY, SECRET, T + 299), Ok(()));
    }

    #[test]
    fn changes_wrong_secrets_v0_only_and_stale_timestamps_are_refused() {
        let header = format!("t={T},v1={V1}");
        let tampered = BODY.replace("evt_1", "evt_2");
        assert_eq!(
            check(Some(&header), &tampered, SECRET, T),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(Some(&header), BODY, "whsec_other", T),
            Err(Rejection::Mismatch)
        );
        let resigned_later = format!("t={},v1={V1}", T + 1);
        assert_eq!(
            check(Some(&resigned_later), BODY, SECRET, T),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(Some(&format!("t={T},v0={V1}")), BODY, SECRET, T),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(Some(&header), BODY, SECRET, T + 301),
            Err(Rejection::Stale(301))
        );
        assert_eq!(
            check(Some(&header), BODY, SECRET, T - 400),
            Err(Rejection::Stale(-400))
        );
        assert_eq!(
            check(None, BODY, SECRET, T),
            Err(Rejection::MissingHeader(SIGNATURE))
        );
        assert_eq!(
            check(Some(&format!("v1={V1}")), BODY, SECRET, T),
            Err(Rejection::BadTimestamp)
        );
        assert_eq!(
            check(Some(&format!("t=soon,v1={V1}")), BODY, SECRET, T),
            Err(Rejection::BadTimestamp)
        );
    }

    #[test]
    fn signing_round_trips() {
        let keys = Keys {
            secret: Some(SECRET),
            ..Keys::default()
        };
        let signed = Stripe
            .sign(BODY.as_bytes(), &keys, None, T)
            .expect("signed");
        assert_eq!(
            signed,
            vec![(SIGNATURE.to_owned(), format!("t={T},v1={V1}"))]
        );
        assert_eq!(check(Some(&signed[0].1), BODY, SECRET, T + 10), Ok(()));
    }

    #[test]
    fn a_payment_intent_is_a_payment_with_its_order_reference() {
        let body = r#"{"id":"evt_3OZ","object":"event","type":"payment_intent.succeeded","created":1700000000,
            "data":{"object":{"id":"pi_3OZ","object":"payment_intent","amount":2000,"amount_received":2000,
              "currency":"usd","status":"succeeded","customer":"cus_P1","metadata":{"order_id":"1001"}}}}"#;
        let events = parse(body).expect("payment");
        assert_eq!(events.len(), 1);
        let payment = &events[0];
        assert_eq!(payment.kind, Kind::Payment);
        assert_eq!(payment.topic.as_deref(), Some("payment_intent.succeeded"));
        assert_eq!(payment.event_id.as_deref(), Some("evt_3OZ"));
        assert_eq!(payment.occurred_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(payment.external_payment_id.as_deref(), Some("pi_3OZ"));
        assert_eq!(payment.external_order_id.as_deref(), Some("1001"));
        assert_eq!(payment.amount_minor, Some(2000));
        assert_eq!(payment.currency.as_deref(), Some("USD"));
        assert_eq!(payment.status.as_deref(), Some("succeeded"));
        assert_eq!(
            payment.customer.as_ref().and_then(|c| c.id.as_deref()),
            Some("cus_P1")
        );
        let failed = body
            .replace("succeeded", "requires_payment_method")
            .replace(r#""amount_received":2000"#, r#""amount_received":0"#)
            .replace(r#""metadata":{"order_id":"1001"}"#, r#""metadata":{}"#);
        let failed = &parse(&failed).expect("payment")[0];
        assert_eq!(failed.amount_minor, Some(2000));
        assert_eq!(failed.external_order_id, None);
    }

    #[test]
    fn a_refunded_charge_yields_its_embedded_refunds_or_the_refunded_amount() {
        let body = r#"{"id":"evt_1","type":"charge.refunded","created":1700000000,"data":{"object":{
            "id":"ch_1","object":"charge","amount":5000,"amount_refunded":1500,"currency":"jpy",
            "status":"succeeded","payment_intent":"pi_1",
            "refunds":{"object":"list","data":[
              {"id":"re_1","amount":1000,"currency":"jpy","status":"succeeded","payment_intent":"pi_1","charge":"ch_1"},
              {"id":"re_2","amount":500,"currency":"jpy","status":"pending","payment_intent":null,"charge":"ch_1"}]}}}}"#;
        let events = parse(body).expect("refunds");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, Kind::Refund);
        assert_eq!(events[0].external_refund_id.as_deref(), Some("re_1"));
        assert_eq!(events[0].external_payment_id.as_deref(), Some("pi_1"));
        assert_eq!(events[0].amount_minor, Some(1000));
        assert_eq!(events[0].currency.as_deref(), Some("JPY"));
        assert_eq!(events[1].external_payment_id.as_deref(), Some("ch_1"));
        assert_eq!(events[1].status.as_deref(), Some("pending"));

        let bare = r#"{"id":"evt_2","type":"charge.refunded","data":{"object":{
            "id":"ch_2","amount":5000,"amount_refunded":5000,"currency":"eur","status":"succeeded",
            "payment_intent":"pi_2","refunds":null}}}"#;
        let events = parse(bare).expect("refund");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].external_refund_id, None);
        assert_eq!(events[0].external_payment_id.as_deref(), Some("pi_2"));
        assert_eq!(events[0].amount_minor, Some(5000));
        assert_eq!(events[0].status, None);
    }

    #[test]
    fn refund_and_charge_events_map_their_objects() {
        let body = r#"{"id":"evt_4","type":"refund.updated","created":1700000000,"data":{"object":{
            "id":"re_9","object":"refund","amount":250,"currency":"gbp","status":"succeeded",
            "payment_intent":"pi_9","charge":"ch_9"}}}"#;
        let refund = &parse(body).expect("refund")[0];
        assert_eq!(refund.external_refund_id.as_deref(), Some("re_9"));
        assert_eq!(refund.external_payment_id.as_deref(), Some("pi_9"));
        assert_eq!(
            (refund.amount_minor, refund.currency.as_deref()),
            (Some(250), Some("GBP"))
        );
        let body = r#"{"id":"evt_5","type":"charge.succeeded","data":{"object":{
            "id":"ch_5","amount":999,"currency":"usd","status":"succeeded","payment_intent":{"id":"pi_5"},
            "billing_details":{"email":"a@example.com","name":"Ada","phone":null}}}}"#;
        let charge = &parse(body).expect("charge")[0];
        assert_eq!(charge.kind, Kind::Payment);
        assert_eq!(charge.external_payment_id.as_deref(), Some("pi_5"));
        assert_eq!(charge.amount_minor, Some(999));
        assert_eq!(
            charge.customer.as_ref().and_then(|c| c.email.as_deref()),
            Some("a@example.com")
        );
    }

    #[test]
    fn checkout_sessions_customers_and_unknown_events() {
        let body = r#"{"id":"evt_6","type":"checkout.session.completed","data":{"object":{
            "id":"cs_1","amount_total":4200,"currency":"usd","payment_intent":"pi_6",
            "payment_status":"paid","client_reference_id":"order-77","customer_details":{"email":"b@example.com"}}}}"#;
        let session = &parse(body).expect("session")[0];
        assert_eq!(session.kind, Kind::Payment);
        assert_eq!(session.external_payment_id.as_deref(), Some("pi_6"));
        assert_eq!(session.external_order_id.as_deref(), Some("order-77"));
        assert_eq!(session.amount_minor, Some(4200));
        assert_eq!(session.status.as_deref(), Some("paid"));
        let body = r#"{"id":"evt_7","type":"customer.updated","data":{"object":{"id":"cus_7"}}}"#;
        assert_eq!(
            parse(body).expect("hint")[0].hint,
            Some(Hint {
                resource: "customer".into(),
                id: Some("cus_7".into())
            })
        );
        let body = r#"{"id":"evt_8","type":"price.created","data":{"object":{"id":"price_1","product":"prod_1"}}}"#;
        assert_eq!(
            parse(body).expect("hint")[0]
                .hint
                .as_ref()
                .and_then(|h| h.id.as_deref()),
            Some("prod_1")
        );
        let body = r#"{"id":"evt_9","type":"account.updated","data":{"object":{"id":"acct_1"}}}"#;
        assert_eq!(parse(body), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("").is_err());
        assert!(parse(r#"{"id":"evt_1","type":"charge.succeeded"}"#).is_err());
        assert!(parse(r#"{"id":"evt_1","type":"charge.succeeded","data":{"object":{"id":"ch","amount":true}}}"#).is_err());
        assert!(
            parse(
                r#"{"id":"evt_1","type":"payment_intent.created","data":{"object":{"amount":1}}}"#
            )
            .is_err()
        );
    }
}
