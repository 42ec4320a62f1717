//! Magento 2 / Adobe Commerce. Open Source sends nothing (Concord polls); Adobe Commerce
//! delivers two ways, both RSA-SHA256 (PKCS#1 v1.5) under a public key the connection holds:
//! - Adobe I/O Events: `x-adobe-digital-signature-1` and `-2`, base64 signatures over the raw
//!   body, either of which may verify; the body names its `recipient_client_id`, which must be
//!   this app's client id when one is configured.
//! - Commerce Webhooks: `x-adobe-commerce-webhook-signature`, base64, over the raw body or over
//!   base64(raw body) (Adobe's docs and samples disagree, so both are accepted).
//!
//! Bodies wrap the entity: `{event_id, type, time, data{value{…}}}` for I/O Events, `{event,
//! data{order|product|…{…}}}` for webhooks; money is in JSON numbers or decimal strings, times
//! are UTC.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    Inbound,
    common::{self, Id, seq},
};
use crate::{
    Delivery, Inventory, Keys, Kind, Line, Normalized, ParseError, Rejection,
    money::Amount,
    schemes::{self, rsa_sha256},
};

const PLATFORM: &str = "magento";
const EVENTS_SIGNATURES: [&str; 2] = ["x-adobe-digital-signature-1", "x-adobe-digital-signature-2"];
const WEBHOOK_SIGNATURE: &str = "x-adobe-commerce-webhook-signature";

/// Magento 2 / Adobe Commerce (online store).
pub struct Magento;

#[derive(Deserialize)]
struct Envelope<'a> {
    event_id: Option<Id>,
    id: Option<Id>,
    #[serde(rename = "type")]
    kind: Option<String>,
    event: Option<String>,
    #[serde(rename = "eventName")]
    event_name: Option<String>,
    time: Option<String>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// The wrappers an entity arrives in.
#[derive(Deserialize)]
struct Wrapped<'a> {
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    #[serde(borrow)]
    order: Option<&'a RawValue>,
    #[serde(borrow)]
    creditmemo: Option<&'a RawValue>,
    #[serde(borrow)]
    product: Option<&'a RawValue>,
    #[serde(borrow)]
    customer: Option<&'a RawValue>,
    #[serde(borrow)]
    source_item: Option<&'a RawValue>,
    #[serde(borrow)]
    stock_item: Option<&'a RawValue>,
}

/// Every field Concord reads from an order, credit memo, product, customer or stock entity.
#[derive(Deserialize)]
struct Entity {
    entity_id: Option<Id>,
    id: Option<Id>,
    increment_id: Option<Id>,
    order_id: Option<Id>,
    /// A word on orders (`processing`), a number on stock items.
    status: Option<Id>,
    grand_total: Option<Amount>,
    base_grand_total: Option<Amount>,
    order_currency_code: Option<String>,
    base_currency_code: Option<String>,
    customer_id: Option<Id>,
    customer_email: Option<String>,
    customer_firstname: Option<String>,
    customer_lastname: Option<String>,
    email: Option<String>,
    firstname: Option<String>,
    lastname: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    #[serde(default, deserialize_with = "seq")]
    items: Vec<Item>,
    sku: Option<String>,
    product_id: Option<Id>,
    qty: Option<Amount>,
    quantity: Option<Amount>,
    source_code: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    item_id: Option<Id>,
    order_item_id: Option<Id>,
    parent_item_id: Option<Id>,
    sku: Option<String>,
    product_id: Option<Id>,
    qty_ordered: Option<Amount>,
    qty: Option<Amount>,
    price: Option<Amount>,
}

impl Entity {
    fn own_id(&self) -> Option<String> {
        common::id(self.entity_id.as_ref()).or_else(|| common::id(self.id.as_ref()))
    }

    /// The amount with the currency it is in: the order currency, else the base one.
    fn total(&self) -> (Option<String>, Option<i64>) {
        let order = common::currency(self.order_currency_code.as_deref());
        if order.is_some() && self.grand_total.is_some() {
            let total = common::decimal(self.grand_total.as_ref(), order.as_deref());
            return (order, total);
        }
        let base = common::currency(self.base_currency_code.as_deref());
        let total = common::decimal(self.base_grand_total.as_ref(), base.as_deref());
        (base.or(order), total)
    }
}

fn decode(signature: &str) -> Option<Vec<u8>> {
    STANDARD.decode(signature.trim()).ok()
}

impl Inbound for Magento {
    fn verify(&self, delivery: &Delivery<'_>, keys: &Keys<'_>, _now: i64) -> Result<(), Rejection> {
        if let Some(sent) = delivery.header(WEBHOOK_SIGNATURE) {
            let pem = keys
                .public_key_pem
                .ok_or(Rejection::MissingKey("public key"))?;
            rsa_sha256::public_key(pem)?;
            let signature = decode(sent).ok_or(Rejection::Mismatch)?;
            return rsa_sha256::verify(pem, delivery.body, &signature).or_else(|_| {
                let encoded = schemes::base64(delivery.body);
                rsa_sha256::verify(pem, encoded.as_bytes(), &signature)
            });
        }
        let sent: Vec<&str> = EVENTS_SIGNATURES
            .iter()
            .filter_map(|h| delivery.header(h))
            .collect();
        if sent.is_empty() {
            return Err(Rejection::MissingHeader(EVENTS_SIGNATURES[0]));
        }
        let pem = keys
            .public_key_pem
            .ok_or(Rejection::MissingKey("public key"))?;
        rsa_sha256::public_key(pem)?;
        let verified = sent.iter().any(|s| {
            decode(s).is_some_and(|sig| rsa_sha256::verify(pem, delivery.body, &sig).is_ok())
        });
        if !verified {
            return Err(Rejection::Mismatch);
        }
        #[derive(Deserialize)]
        struct Recipient {
            recipient_client_id: Option<String>,
        }
        let recipient = serde_json::from_slice::<Recipient>(delivery.body)
            .ok()
            .and_then(|r| r.recipient_client_id);
        match (keys.client_id, recipient) {
            (Some(ours), Some(theirs)) if ours.trim() != theirs.trim() => Err(Rejection::Malformed(
                "the event is addressed to another app (recipient_client_id is not this client id)"
                    .to_owned(),
            )),
            _ => Ok(()),
        }
    }

    fn event_id(&self, delivery: &Delivery<'_>) -> Option<String> {
        let envelope: Envelope<'_> = serde_json::from_slice(delivery.body).ok()?;
        common::id(envelope.event_id.as_ref()).or_else(|| common::id(envelope.id.as_ref()))
    }

    fn parse(&self, delivery: &Delivery<'_>) -> Result<Vec<Normalized>, ParseError> {
        let envelope: Envelope<'_> = common::json(PLATFORM, delivery.body)?;
        let topic = envelope
            .kind
            .or(envelope.event)
            .or(envelope.event_name)
            .and_then(|t| common::text(Some(&t)));
        let Some(data) = envelope.data else {
            return Err(common::malformed(PLATFORM, "the event has no `data`"));
        };
        let wrapped: Option<Wrapped<'_>> = serde_json::from_str(data.get()).ok();
        let inner = wrapped.and_then(|w| {
            w.value
                .or(w.order)
                .or(w.creditmemo)
                .or(w.product)
                .or(w.customer)
                .or(w.source_item)
                .or(w.stock_item)
        });
        let entity: Entity = common::json(PLATFORM, inner.unwrap_or(data).get().as_bytes())?;
        let mut event = Normalized {
            topic: topic.clone(),
            event_id: common::id(envelope.event_id.as_ref())
                .or_else(|| common::id(envelope.id.as_ref())),
            ..Normalized::new(Kind::Hint)
        };
        let time = envelope.time.as_deref().and_then(common::utc_naive);
        let name = topic.as_deref().unwrap_or_default().to_ascii_lowercase();
        let has = |part: &str| name.contains(part);
        let is_order = entity.increment_id.is_some() || !entity.items.is_empty();
        if has("creditmemo") {
            refund(&mut event, &entity);
        } else if has("invoice") || has("shipment") {
            event.external_order_id = common::id(entity.order_id.as_ref());
            event.hint = common::hint("order", event.external_order_id.clone());
        } else if is_order && (has("order") || topic.is_none()) {
            order(&mut event, &entity);
        } else if has("stock") || has("source_item") || has("inventory") {
            event.kind = Kind::Inventory;
            event.location_id = common::text(entity.source_code.as_deref());
            event.inventory = Some(Inventory {
                sku: common::text(entity.sku.as_deref()),
                external_item_id: common::id(entity.product_id.as_ref()),
                location_id: event.location_id.clone(),
                quantity: entity
                    .quantity
                    .as_ref()
                    .or(entity.qty.as_ref())
                    .and_then(common::whole),
            });
        } else if has("catalog_product") {
            event.kind = Kind::Product;
            event.hint = common::hint("product", entity.own_id());
        } else if has("customer") {
            event.customer = common::customer(
                entity.own_id(),
                common::text(entity.email.as_deref()),
                None,
                common::full_name(entity.firstname.as_deref(), entity.lastname.as_deref()),
            );
            event.hint = common::hint("customer", entity.own_id());
        } else if has("order") {
            // An order event whose entity is not an order Concord can read: fetch it.
            event.external_order_id = entity.own_id();
            event.hint = common::hint("order", entity.own_id());
        } else {
            return Ok(Vec::new());
        }
        let updated = entity
            .updated_at
            .as_deref()
            .or(entity.created_at.as_deref())
            .and_then(common::utc_naive);
        event.occurred_at = updated.or(time);
        Ok(vec![event])
    }

    fn sign(
        &self,
        body: &[u8],
        keys: &Keys<'_>,
        _url: Option<&str>,
        _now: i64,
    ) -> Result<Vec<(String, String)>, Rejection> {
        let private_pem = keys.require_secret()?;
        let signature = rsa_sha256::sign(private_pem, body)?;
        Ok(vec![(
            EVENTS_SIGNATURES[0].to_owned(),
            schemes::base64(&signature),
        )])
    }
}

fn order(event: &mut Normalized, order: &Entity) {
    let (currency, total) = order.total();
    event.kind = Kind::Order;
    event.external_order_id = order
        .own_id()
        .or_else(|| common::id(order.increment_id.as_ref()));
    event.total_minor = total;
    event.status = order.status.as_ref().and_then(|s| common::text(Some(&s.0)));
    event.customer = common::customer(
        common::id(order.customer_id.as_ref()),
        common::text(order.customer_email.as_deref()),
        None,
        common::full_name(
            order.customer_firstname.as_deref(),
            order.customer_lastname.as_deref(),
        ),
    );
    // Child items of configurable products repeat their parent's SKU at no price: skip them.
    let lines = order
        .items
        .iter()
        .filter(|item| common::id(item.parent_item_id.as_ref()).is_none())
        .map(|item| {
            Some(Line {
                line_id: common::id(item.item_id.as_ref()),
                sku: common::text(item.sku.as_deref()),
                external_item_id: common::id(item.product_id.as_ref()),
                quantity: item.qty_ordered.as_ref().and_then(common::whole)?,
                unit_price_minor: common::decimal(item.price.as_ref(), currency.as_deref()),
            })
        })
        .collect();
    common::set_lines(event, lines);
    event.currency = currency;
}

fn refund(event: &mut Normalized, memo: &Entity) {
    let (currency, total) = memo.total();
    event.kind = Kind::Refund;
    event.external_refund_id = memo.own_id();
    event.external_order_id = common::id(memo.order_id.as_ref());
    event.amount_minor = total;
    event.lines = memo
        .items
        .iter()
        .filter(|item| common::id(item.parent_item_id.as_ref()).is_none())
        .filter_map(|item| {
            Some(Line {
                line_id: common::id(item.order_item_id.as_ref())
                    .or_else(|| common::id(item.item_id.as_ref())),
                sku: common::text(item.sku.as_deref()),
                external_item_id: common::id(item.product_id.as_ref()),
                quantity: item.qty.as_ref().and_then(common::whole)?,
                unit_price_minor: common::decimal(item.price.as_ref(), currency.as_deref()),
            })
        })
        .collect();
    event.currency = currency;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hint;
    use crate::platforms::test_support::headers;

    // A test-only key pair (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048).
    const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDTK9j/dEpPjiM0
eMWd/55ZG/5zuQFIDYZFtIJAPfbu4LtZPWvLDO+lDcoOQ4ZBWTBske7qz51qwdvE
j6gIebIxgr0CQESlAuBY8K1t38DF6JL+55b6T/vZSqKG/rkqCV6fbcNi9fxQWcIw
Tt3V/uccTwpY/+VH/0axizk7Mm+caQswOu8IrRVoYxrrXV8ju3k4edvQj0mykUTK
A1m/LIIizUbxehQscrB43ZFwd21+Jz7p/PcKWUhvyhp0FDc2jP2tkSmNuZADuonE
6VW1U0JoZJ9LoDH4jCX00bds18x/thV4mxeLxGCwOCVMRAtcGh9IbIURwgFnxGXA
4CcExJTzAgMBAAECggEABXaTcRxxlbhQKdncBvfngVerkBPfuBz9dc0zN3VC77Ap
uKfRo5msk4EVUqQlk4g6q/xkiXegk3P7ewzaZIm9dfFzcVz3SauW4UYsvnR0+MnJ
D8YvDj/GfLslFEf/w1oltAszbFp/0hZYY0aPD6u+D+ntkxrftCqjChHXg7QM1ieH
gy3crdvOW9KNcz4qEopSESZ1Hd0yoO4ZylVBYpgcFyt+0DOgPCNFJM37OmegJ8oy
CKt2sJTi5tYcPeadrDwV8ZcL2ZWbnUbBGezTVyPc4EE9D2FLyst2dQfreWN+tbTQ
+l4wt7zVdAByKhU2ZKvpcXFdycLgy+wYboO9kYCJnQKBgQDzITl8kXPBBL8gLx1T
w9TcMKYm/vYZ22JldnF1lt+cfhUITabUHL2BOa3nrn2F3guI9W2n5aHSUNxiaRqn
nEEz6j25qd4fWltm7QSN2B48LoeeYyAT9Cnmy8NarP14s6JaHLvir1KUqs4YL6qk
Y/+wFxrSEGFMIyh0Xjr1Mnl9vQKBgQDeWYmCNeyE/Ogb+8x9t5DCtNr9Kzzb3znv
y0vgGnxa1+RCnILvKuKDj/Ihbs3OplI+d/7CanYpYqUU+Wf/Wzg1ULpE1rpEqoYc
BZQc83J5Vif/OrwvN02/9DqZ2lsa63qG3N2bsduvqQZfxfNlBhlcMKsf7IQud0gq
qytCZLxQbwKBgB7OZupRw8kBQPZjAeRLO/1qbKMkSyqbkawphdbQdyTtFN0oeasG
uTxWgqKIiX8c03lXH73WatqrREFz79ys/9YEKC4OSAbQ/CPehGU0rSATBTwcc0QT
+/sydl5W7QcOO9QPL/9ZF62ett55q7WIti0pwEw9pxZungGgrvfCnYJBAoGBAKHt
sycQ/l8bkC5RAmvL87DY5WLaykeWGit4cpmSsF24PJQGR5TGNpB5lGyktV154wt7
eB0+Sy94l6Dewc5GMHkjgYQAnUbEqUZfCa7L3OJgzGAj9kisjgLtaoABdbf1JhZx
YzKwJL2Y6vt0vf0ko/NvvjBRnzH3zKbGYYrIshwhAoGAYnSkwbMdrRX6ztDR6hli
86fWh+Y7MoiA4p2RKAGWvM/+mIeJOSZvvz/3OwLiXAjAJQoyZsSlugqC1MWvrFpW
kSfPDLu0Rr+6ogclpfaIw0PjwU1sPpV4MUh8WtxtNaAXW6EqjLpjJw2rRyFCucA6
ZLZAbIdXfaEMuLD2ffdobok=
-----END PRIVATE KEY-----";
    const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0yvY/3RKT44jNHjFnf+e
WRv+c7kBSA2GRbSCQD327uC7WT1rywzvpQ3KDkOGQVkwbJHu6s+dasHbxI+oCHmy
MYK9AkBEpQLgWPCtbd/AxeiS/ueW+k/72Uqihv65Kglen23DYvX8UFnCME7d1f7n
HE8KWP/lR/9GsYs5OzJvnGkLMDrvCK0VaGMa611fI7t5OHnb0I9JspFEygNZvyyC
Is1G8XoULHKweN2RcHdtfic+6fz3CllIb8oadBQ3Noz9rZEpjbmQA7qJxOlVtVNC
aGSfS6Ax+Iwl9NG3bNfMf7YVeJsXi8RgsDglTEQLXBofSGyFEcIBZ8RlwOAnBMSU
8wIDAQAB
-----END PUBLIC KEY-----";
    const CLIENT_ID: &str = "4ab33463139e4f96b851589286cd46e4";

    const BODY: &str = r#"{"event_id":"5f0c7e6a-2b1d-4c3e-9f8a-7d6b5c4a3e2f","recipient_client_id":"4ab33463139e4f96b851589286cd46e4","specversion":"1.0","type":"com.adobe.commerce.observer.sales_order_save_after","time":"2024-05-01T10:00:03.000Z","data":{"value":{"entity_id":"42","increment_id":"000000042","status":"processing","order_currency_code":"EUR","base_currency_code":"USD","grand_total":"59.9000","base_grand_total":"64.2500","customer_id":"7","customer_email":"roni_cost@example.com","customer_firstname":"Veronica","customer_lastname":"Costello","created_at":"2024-05-01 09:59:58","updated_at":"2024-05-01 10:00:02","items":[{"item_id":"81","sku":"MH01-XS-Black","product_id":"1369","product_type":"configurable","qty_ordered":"2.0000","price":"24.9500","parent_item_id":null},{"item_id":"82","sku":"MH01-XS-Black","product_id":"1356","product_type":"simple","qty_ordered":"2.0000","price":"0.0000","parent_item_id":"81"},{"item_id":"83","sku":"24-WB04","product_id":"12","qty_ordered":1,"price":10}]}}}"#;
    // openssl dgst -sha256 -sign private.pem (the body above) | base64 -w0
    const SIGNATURE_VALUE: &str = "RUPkjdp0r02+0Pf2bIjqALwJz1DTcrA3NkWEejquL/SnWADg4HRFutItm8C+FYqkUGFi1O+L91Zy9ELpnRAbQOfwzUuVOy7F9Y+0yS65PTK5fP0Djo70CXk/4yZp420fQosQip8ColYwgapNaPdGWQjNk85QwCycKv/EI7QizxeTMo5dJ2q6jCyPDst8k426gye+Fg+CxSPkv7fmlTT2DDD3blRDZ6s7NWrEcQqNLEUC/4FgGtYeyUv1ZSe5YKMW2FYhwGbR46sac43eWMe2hutOE6rfCAeYXJS2TOyvsMsQjm17dxYpkfy6Fogwvj7g7/c/Q6G+ae6zByAsn2WVLw==";
    // The same over base64(body), as Adobe's webhook samples verify it.
    const SIGNATURE_OF_BASE64: &str = "aFt6SObQ5/oyXS2DWqzqYA2Zi/4KXM1l8g+ZPaFN2ToKcK8rEe+Dya//2Z3OR9HhN9TwTV4oLsW9GP4wdRIBpWvvlvOENIs3KWAzB+22gnhy8tyCSZLlEaYn+JU51Y8g0ndcXVpvtHkyZy7dMvxIqf212wGVOTCjYc3qE1+sz/wv6twwaynmHN0xWD0bAiYztJQLdrGdhxv2wpcn5OwwPLCAwxupf0IebKphtwmhKzygxDcKEHtEYrxe1VAMw4qdhUfwT966em3yaQb91Celc3B2cX6xosxOvyh/Airtf6WE9fOr05nallu+A41yPINBh1YoLAoDyndnLGl7zo1eMw==";

    fn check(
        headers: &[(String, String)],
        body: &str,
        public_pem: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<(), Rejection> {
        let delivery = Delivery {
            body: body.as_bytes(),
            headers,
            url: None,
        };
        let keys = Keys {
            secret: None,
            public_key_pem: public_pem,
            client_id,
        };
        Magento.verify(&delivery, &keys, 0)
    }

    fn parse(body: &str) -> Result<Vec<Normalized>, ParseError> {
        Magento.parse(&Delivery {
            body: body.as_bytes(),
            headers: &[],
            url: None,
        })
    }

    #[test]
    fn io_events_verify_if_either_signature_does() {
        let first = headers(&[("x-adobe-digital-signature-1", SIGNATURE_VALUE)]);
        assert_eq!(
            check(&first, BODY, Some(PUBLIC_PEM), Some(CLIENT_ID)),
            Ok(())
        );
        let second = headers(&[
            ("x-adobe-digital-signature-1", "bm90IGl0"),
            ("x-adobe-digital-signature-2", SIGNATURE_VALUE),
        ]);
        assert_eq!(check(&second, BODY, Some(PUBLIC_PEM), None), Ok(()));
    }

    #[test]
    fn io_events_refuse_changes_other_apps_and_missing_keys() {
        let good = headers(&[("x-adobe-digital-signature-1", SIGNATURE_VALUE)]);
        assert_eq!(
            check(
                &good,
                &BODY.replace("59.9000", "5.9000"),
                Some(PUBLIC_PEM),
                None
            ),
            Err(Rejection::Mismatch)
        );
        assert!(matches!(
            check(&good, BODY, Some(PUBLIC_PEM), Some("another-client")),
            Err(Rejection::Malformed(_))
        ));
        assert_eq!(
            check(&good, BODY, None, None),
            Err(Rejection::MissingKey("public key"))
        );
        assert!(matches!(
            check(&good, BODY, Some("not a key"), None),
            Err(Rejection::BadPublicKey(_))
        ));
        assert_eq!(
            check(&[], BODY, Some(PUBLIC_PEM), None),
            Err(Rejection::MissingHeader("x-adobe-digital-signature-1"))
        );
        let garbled = headers(&[("x-adobe-digital-signature-1", "%%%")]);
        assert_eq!(
            check(&garbled, BODY, Some(PUBLIC_PEM), None),
            Err(Rejection::Mismatch)
        );
    }

    #[test]
    fn commerce_webhooks_verify_over_the_body_or_its_base64() {
        let raw = headers(&[(WEBHOOK_SIGNATURE, SIGNATURE_VALUE)]);
        assert_eq!(check(&raw, BODY, Some(PUBLIC_PEM), None), Ok(()));
        let encoded = headers(&[(WEBHOOK_SIGNATURE, SIGNATURE_OF_BASE64)]);
        assert_eq!(check(&encoded, BODY, Some(PUBLIC_PEM), None), Ok(()));
        assert_eq!(
            check(&encoded, &BODY.replace("42", "43"), Some(PUBLIC_PEM), None),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            check(&raw, BODY, None, None),
            Err(Rejection::MissingKey("public key"))
        );
    }

    #[test]
    fn signing_with_the_private_key_round_trips() {
        let keys = Keys {
            secret: Some(PRIVATE_PEM),
            ..Keys::default()
        };
        let signed = Magento
            .sign(BODY.as_bytes(), &keys, None, 0)
            .expect("signed");
        assert_eq!(
            signed,
            headers(&[("x-adobe-digital-signature-1", SIGNATURE_VALUE)])
        );
        assert_eq!(
            check(&signed, BODY, Some(PUBLIC_PEM), Some(CLIENT_ID)),
            Ok(())
        );
        let not_a_key = Keys {
            secret: Some("hunter2"),
            ..Keys::default()
        };
        assert!(matches!(
            Magento.sign(BODY.as_bytes(), &not_a_key, None, 0),
            Err(Rejection::BadSecret(_))
        ));
    }

    #[test]
    fn an_order_event_maps_the_order_in_its_own_currency() {
        let events = parse(BODY).expect("order");
        assert_eq!(events.len(), 1);
        let order = &events[0];
        assert_eq!(order.kind, Kind::Order);
        assert_eq!(
            order.topic.as_deref(),
            Some("com.adobe.commerce.observer.sales_order_save_after")
        );
        assert_eq!(
            order.event_id.as_deref(),
            Some("5f0c7e6a-2b1d-4c3e-9f8a-7d6b5c4a3e2f")
        );
        assert_eq!(order.external_order_id.as_deref(), Some("42"));
        assert_eq!(order.currency.as_deref(), Some("EUR"));
        assert_eq!(order.total_minor, Some(5990));
        assert_eq!(order.status.as_deref(), Some("processing"));
        assert_eq!(order.occurred_at.as_deref(), Some("2024-05-01T10:00:02Z"));
        assert_eq!(
            order.lines,
            vec![
                Line {
                    line_id: Some("81".into()),
                    sku: Some("MH01-XS-Black".into()),
                    external_item_id: Some("1369".into()),
                    quantity: 2,
                    unit_price_minor: Some(2495),
                },
                Line {
                    line_id: Some("83".into()),
                    sku: Some("24-WB04".into()),
                    external_item_id: Some("12".into()),
                    quantity: 1,
                    unit_price_minor: Some(1000),
                },
            ]
        );
        assert_eq!(
            order.customer.as_ref().map(|c| (
                c.id.as_deref(),
                c.email.as_deref(),
                c.name.as_deref()
            )),
            Some((
                Some("7"),
                Some("roni_cost@example.com"),
                Some("Veronica Costello")
            ))
        );
        let delivery = Delivery {
            body: BODY.as_bytes(),
            headers: &[],
            url: None,
        };
        assert_eq!(
            Magento.event_id(&delivery).as_deref(),
            Some("5f0c7e6a-2b1d-4c3e-9f8a-7d6b5c4a3e2f")
        );
    }

    #[test]
    fn a_webhook_order_without_an_order_currency_uses_the_base_one() {
        let body = r#"{"event":"observer.sales_order_place_after","data":{"order":{
            "entity_id":9,"increment_id":"000000009","status":"pending","base_currency_code":"usd",
            "base_grand_total":12.5,"items":[{"item_id":1,"sku":"S","qty_ordered":1,"price":12.5}]}}}"#;
        let order = &parse(body).expect("order")[0];
        assert_eq!(order.event_id, None);
        assert_eq!(order.external_order_id.as_deref(), Some("9"));
        assert_eq!(order.currency.as_deref(), Some("USD"));
        assert_eq!(order.total_minor, Some(1250));
        assert_eq!(order.lines[0].unit_price_minor, Some(1250));
    }

    #[test]
    fn credit_memos_stock_products_and_unknown_shapes() {
        let memo = r#"{"event_id":"e2","type":"com.adobe.commerce.observer.sales_order_creditmemo_save_after",
            "data":{"value":{"entity_id":"5","order_id":"42","order_currency_code":"EUR","grand_total":"24.9500",
              "items":[{"entity_id":"9","order_item_id":"81","sku":"MH01-XS-Black","qty":"1.0000","price":"24.9500"}]}}}"#;
        let refund = &parse(memo).expect("refund")[0];
        assert_eq!(refund.kind, Kind::Refund);
        assert_eq!(refund.external_refund_id.as_deref(), Some("5"));
        assert_eq!(refund.external_order_id.as_deref(), Some("42"));
        assert_eq!(
            (refund.amount_minor, refund.currency.as_deref()),
            (Some(2495), Some("EUR"))
        );
        assert_eq!(refund.lines[0].line_id.as_deref(), Some("81"));
        let stock = r#"{"event_id":"e3","type":"com.adobe.commerce.observer.inventory_source_item_save_after",
            "data":{"value":{"sku":"24-WB04","source_code":"default","quantity":"100.0000","status":1}}}"#;
        let stock = &parse(stock).expect("stock")[0];
        assert_eq!(stock.kind, Kind::Inventory);
        assert_eq!(
            stock.inventory,
            Some(Inventory {
                sku: Some("24-WB04".into()),
                external_item_id: None,
                location_id: Some("default".into()),
                quantity: Some(100),
            })
        );
        let product = r#"{"event_id":"e4","type":"com.adobe.commerce.observer.catalog_product_save_after",
            "data":{"value":{"entity_id":"12","sku":"24-WB04","updated_at":"2024-05-01 11:00:00"}}}"#;
        let product = &parse(product).expect("product")[0];
        assert_eq!(product.kind, Kind::Product);
        assert_eq!(product.occurred_at.as_deref(), Some("2024-05-01T11:00:00Z"));
        assert_eq!(
            product.hint,
            Some(Hint {
                resource: "product".into(),
                id: Some("12".into())
            })
        );
        let thin_order = r#"{"event_id":"e5","type":"com.adobe.commerce.observer.sales_order_save_after","data":{"value":{"entity_id":"77"}}}"#;
        assert_eq!(
            parse(thin_order).expect("hint")[0].hint,
            Some(Hint {
                resource: "order".into(),
                id: Some("77".into())
            })
        );
        let other = r#"{"event_id":"e6","type":"com.adobe.commerce.observer.cms_page_save_after","data":{"value":{"page_id":"3"}}}"#;
        assert_eq!(parse(other), Ok(vec![]));
        let cart = r#"{"event":"observer.checkout_cart_product_add_after","data":{"item":{"item_id":"5","sku":"S"}}}"#;
        assert_eq!(parse(cart), Ok(vec![]));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(parse("").is_err());
        assert!(parse(r#"{"event_id":"x","type":"t"}"#).is_err());
        assert!(parse(r#"{"type":"observer.sales_order_save_after","data":{"value":{"items":[{"qty_ordered":{}}]}}}"#).is_err());
        assert!(parse(r#"{"type":"t","data":[1,2]}"#).is_err());
    }
}
