//! What the fuzz targets share: turning the fuzzer's bytes into webhook deliveries for the
//! connectors' verifiers and parsers.
//!
//! An input is a body, optionally followed by [`SEPARATOR`] and a specification the fuzzer
//! varies: which platform, the keys, the clock, whether the body is signed the way its
//! platform signs it, and extra headers. A body alone is a valid input too: tried on every
//! platform, signed where a shared secret signs it, with the headers the parsers route on.
//! So the vendors' example payloads seed the corpus as they are (`fuzz/seeds.py`).

use std::borrow::Cow;

use concord_connectors::{
    Delivery, Keys, Platform, Rejection,
    schemes::{self, jwt},
    sign, verify,
};
use libfuzzer_sys::arbitrary::{self, Unstructured};

/// Separates the body from the specification in an input.
pub const SEPARATOR: &[u8] = b"\0\0";

/// The clock for inputs that do not choose one (seconds since 1970, in 2026).
pub const DEFAULT_NOW: i64 = 1_780_000_000;

/// The notification URL for inputs that do not choose one (some schemes sign it).
pub const DEFAULT_URL: &str = "https://concord.example/webhooks/platform/con_fuzz";

/// Headers that carry a signature or what a signature covers, in the platforms' spelling.
pub const SIGNATURE_HEADERS: &[&str] = &[
    "X-Shopify-Hmac-Sha256",
    "x-square-hmacsha256-signature",
    "x-square-signature",
    "X-WC-Webhook-Signature",
    "X-Signature",
    "x-adobe-digital-signature-1",
    "x-adobe-digital-signature-2",
    "x-adobe-commerce-webhook-signature",
    "X-Clover-Auth",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Revel-Signature",
    "Stripe-Signature",
    "intuit-signature",
    "Squarespace-Signature",
    "X-Concord-Signature",
    "X-iZettle-Signature",
    "Toast-Signature",
];

/// Headers the parsers route on or take ids from.
pub const CONTEXT_HEADERS: &[&str] = &[
    "X-Shopify-Topic",
    "X-Shopify-Event-Id",
    "X-Shopify-Webhook-Id",
    "X-WC-Webhook-Resource",
    "X-WC-Webhook-Topic",
    "X-Revel-Event-Type",
    "X-Revel-Event-Id",
    "X-Revel-Message-Id",
    "X-Revel-Establishment-Id",
    "Toast-Restaurant-External-ID",
];

/// Header values worth trying: topics the parsers route on and signature shapes.
pub const HEADER_VALUES: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/delete",
    "refunds/create",
    "inventory_levels/update",
    "inventory_items/update",
    "products/update",
    "products/delete",
    "customers/create",
    "fulfillments/create",
    "order_transactions/create",
    "order",
    "product",
    "customer",
    "coupon",
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "product.updated",
    "product.deleted",
    "order.finalized",
    "order.refunded",
    "product.inventory_updated",
    "t=1780000000,v1=00",
    "v1,AAAA",
    "signature=00, algorithm=HMAC-SHA256",
    "1780000000",
    "msg_1",
];

/// A 1024-bit RSA key pair made with `openssl genpkey` for fuzzing only (small, so signing
/// in the loop stays fast); the private half signs as Adobe Commerce and Wix do.
pub const PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBALOv3sK2gxLz/Wlz
IOWH4xZh7FTm4Pz/kVPwIxLVchUK947w96p4WiCasqzu7333w45h5Oj0JfOwG1Zy
JK9fivTynq8Jymoo1dJp3i5ACoQ15skKHYviKxvofMJwkPi/i2KYyw2Mwze8B0M8
T3HxRzbpmtakfaJK7pQuLzfm9RMJAgMBAAECgYA7ikcyFfAQ07BgxLld1U02GXSK
HYbnzneFbMjycK/AsUWeo9ItNnwG2bvi+bl58CNohp+nYV9CBFTKrD/jrLEKM0YW
UO5SMGTZIcr8P/yPOSpIdDrDjICwIpXee9LEmiwDTNqUkxoO7PwIUpdS55l7VqeI
1H2nM0+mAVbxjksAkQJBANh1PQm6tkYuVlH0zY0ur/jlLfw4vPnBk93N97oKZFfR
vAlyznhUV4IV+UrE4aXhJKeCot1Tv2Xt3SEHGDNLKrcCQQDUgwT9yllpYpMS0U4V
u0E9CSGaR+3Nb+/WLTMXpgbKRSmXVrh7YwQrSjTJmxjdnocCo2hOs9zxFnwY1vwJ
5vA/AkEAwYhxPpW2CyG7BCQA9M5dgAhJCU4hiJ1Pe+2AJNLNzMc1fK0tdeDTLPhA
oF1P82RNxYfD3mfWpWf7YmBZfuMiGQJBAIZy6hqDBfSFuBUEtQlMsmaiO083yLzb
3/o6GIQSt2MLRNgJtqfhqkaVKTaP2LiFzlcd+SUp6FPjbNnuUgEVydMCQB+RiuQ5
+oKHxZY6lrbM2Pl/002mU9LCluGIQ9Ks58f0zb7aHvwGPhPwqLE7Sd4rYjuMikiU
CUghApuvzfp8jcc=
-----END PRIVATE KEY-----";

/// The public half of [`PRIVATE_PEM`].
pub const PUBLIC_PEM: &str = "\
-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCzr97CtoMS8/1pcyDlh+MWYexU
5uD8/5FT8CMS1XIVCveO8PeqeFogmrKs7u9998OOYeTo9CXzsBtWciSvX4r08p6v
CcpqKNXSad4uQAqENebJCh2L4isb6HzCcJD4v4timMsNjMM3vAdDPE9x8Uc26ZrW
pH2iSu6ULi835vUTCQIDAQAB
-----END PUBLIC KEY-----";

/// One fuzz input, read as deliveries: the same body and headers for each chosen platform.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    /// The body as the fuzzer gave it.
    pub body: &'a [u8],
    /// The platforms to try it on.
    pub platforms: Vec<Platform>,
    /// Whether to sign the body as each platform does, with keys that match, so the
    /// verifier must accept it.
    pub signed: bool,
    /// Whether signed cases also sign with RSA where the platform does (Adobe Commerce, Wix):
    /// slow, so only for inputs that choose one platform.
    pub rsa: bool,
    /// The shared secret (in signed cases, the seed each platform's secret is made from).
    pub secret: Option<String>,
    /// The public key in PEM.
    pub public_key_pem: Option<String>,
    /// The app's client id.
    pub client_id: Option<String>,
    /// The notification URL.
    pub url: Option<String>,
    /// The clock, seconds since 1970.
    pub now: i64,
    /// Headers the fuzzer chose; signed cases send only those no scheme reads
    /// ([`Case::context_headers`]).
    pub headers: Vec<(String, String)>,
    /// The secret in the Standard Webhooks form (`whsec_` and base64), made from `secret`
    /// for signed cases of that scheme.
    pub whsec: Option<String>,
}

impl<'a> Case<'a> {
    /// Reads `data`: a body, then optionally [`SEPARATOR`] and a specification.
    pub fn new(data: &'a [u8]) -> Self {
        match data
            .windows(SEPARATOR.len())
            .position(|window| window == SEPARATOR)
        {
            Some(at) => {
                let body = &data[..at];
                let spec = &data[at + SEPARATOR.len()..];
                Self::specified(body, &mut Unstructured::new(spec))
                    .unwrap_or_else(|_| Self::plain(body))
            }
            None => Self::plain(data),
        }
    }

    /// A body alone: every platform, signed where a shared secret signs it, with one routing
    /// header per parser that needs one.
    fn plain(body: &'a [u8]) -> Self {
        let headers = [
            ("X-Shopify-Topic", "orders/create"),
            ("X-WC-Webhook-Topic", "order.updated"),
            ("X-Revel-Event-Type", "order.finalized"),
        ];
        let secret = "fuzzing-secret";
        Self {
            body,
            platforms: Platform::ALL.to_vec(),
            signed: true,
            rsa: false,
            secret: Some(secret.to_owned()),
            whsec: whsec(Some(secret)),
            public_key_pem: Some(PUBLIC_PEM.to_owned()),
            client_id: Some("fuzzing-client".to_owned()),
            url: Some(DEFAULT_URL.to_owned()),
            now: DEFAULT_NOW,
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A body with the specification the fuzzer wrote after it.
    fn specified(body: &'a [u8], u: &mut Unstructured<'_>) -> arbitrary::Result<Self> {
        let platform = *u.choose(&Platform::ALL)?;
        let signed = u.arbitrary::<bool>()?;
        let secret = match u.int_in_range(0..=3u8)? {
            0 => None,
            1 => Some(u.arbitrary::<String>()?),
            2 => Some(PRIVATE_PEM.to_owned()),
            _ => Some(format!(
                "whsec_{}",
                schemes::base64(u.arbitrary::<&[u8]>()?)
            )),
        };
        let public_key_pem = match u.int_in_range(0..=2u8)? {
            0 => None,
            1 => Some(PUBLIC_PEM.to_owned()),
            _ => Some(u.arbitrary::<String>()?),
        };
        let client_id = u.arbitrary::<Option<String>>()?;
        let url = match u.int_in_range(0..=2u8)? {
            0 => None,
            1 => Some(DEFAULT_URL.to_owned()),
            _ => Some(u.arbitrary::<String>()?),
        };
        // A server's clock: between 1970 and 2100, near the default more often than not.
        let now = if u.arbitrary::<bool>()? {
            DEFAULT_NOW + i64::from(u.arbitrary::<i16>()?)
        } else {
            u.int_in_range(0..=4_102_444_800)?
        };
        let mut headers = Vec::new();
        for _ in 0..u.int_in_range(0..=8u8)? {
            let name = match u.int_in_range(0..=2u8)? {
                0 => (*u.choose(SIGNATURE_HEADERS)?).to_owned(),
                1 => (*u.choose(CONTEXT_HEADERS)?).to_owned(),
                _ => u.arbitrary::<String>()?,
            };
            let value = if u.arbitrary::<bool>()? {
                (*u.choose(HEADER_VALUES)?).to_owned()
            } else {
                u.arbitrary::<String>()?
            };
            headers.push((name, value));
        }
        let whsec = whsec(secret.as_deref());
        Ok(Self {
            whsec,
            body,
            platforms: vec![platform],
            signed,
            rsa: true,
            secret,
            public_key_pem,
            client_id,
            url,
            now,
            headers,
        })
    }

    /// The keys for `platform`: as given, or in signed cases ones that match what
    /// [`Case::signed_body`] and `concord_connectors::sign` sign with.
    pub fn keys(&self, platform: Platform) -> Keys<'_> {
        let given = Keys {
            secret: self.secret.as_deref(),
            public_key_pem: self.public_key_pem.as_deref(),
            client_id: self.client_id.as_deref(),
        };
        if !self.signed {
            return given;
        }
        match platform {
            // Adobe Commerce signs with the private key and is checked with the public one.
            Platform::Magento if self.rsa => Keys {
                secret: Some(PRIVATE_PEM),
                public_key_pem: Some(PUBLIC_PEM),
                ..given
            },
            Platform::Wix => Keys {
                public_key_pem: Some(PUBLIC_PEM),
                ..given
            },
            Platform::StandardWebhooks => Keys {
                secret: self.whsec.as_deref(),
                ..given
            },
            _ => given,
        }
    }

    /// The body as `platform` sends it. Wix sends a JWT whose claims carry the event, so
    /// its body is wrapped in one without a valid signature (its parser reads the claims
    /// without checking them).
    pub fn body_for(&self, platform: Platform) -> Cow<'a, [u8]> {
        if platform == Platform::Wix {
            Cow::Owned(unsigned_token(self.body).into_bytes())
        } else {
            Cow::Borrowed(self.body)
        }
    }

    /// The body as `platform` sends it, signed with this case's keys where the platform signs
    /// the body itself: for Wix, a JWT signed with [`PRIVATE_PEM`] (none when the body is not
    /// a JSON object, which cannot be a JWT's claims, or when the case does not sign with
    /// RSA).
    pub fn signed_body(&self, platform: Platform) -> Option<Cow<'a, [u8]>> {
        if platform != Platform::Wix {
            return Some(Cow::Borrowed(self.body));
        }
        if !self.rsa {
            return None;
        }
        let claims = std::str::from_utf8(self.body).ok()?;
        let token = jwt::sign(PRIVATE_PEM, claims, self.now).ok()?;
        Some(Cow::Owned(token.into_bytes()))
    }

    /// The context headers of a signed case: those no signature scheme reads.
    pub fn context_headers(&self) -> impl Iterator<Item = &(String, String)> {
        self.headers.iter().filter(|(name, _)| {
            !SIGNATURE_HEADERS
                .iter()
                .any(|signature| signature.eq_ignore_ascii_case(name))
        })
    }

    /// `platform`'s verdict on this case: on the body and headers as given, or in signed cases
    /// on the body signed the way the platform signs it (none when it cannot be signed with
    /// these keys, e.g. a platform that needs the URL and the case has none).
    pub fn verdict(&self, platform: Platform) -> Option<Result<(), Rejection>> {
        let keys = self.keys(platform);
        if !self.signed {
            let body = self.body_for(platform);
            let delivery = self.delivery(&body, &self.headers);
            return Some(verify(platform, &delivery, &keys, self.now));
        }
        let body = self.signed_body(platform)?;
        let mut headers = sign(platform, &body, &keys, self.url.as_deref(), self.now).ok()?;
        headers.extend(self.context_headers().cloned());
        let delivery = self.delivery(&body, &headers);
        Some(verify(platform, &delivery, &keys, self.now))
    }

    /// A delivery of `body` with `headers`, to this case's URL.
    pub fn delivery<'d>(&'d self, body: &'d [u8], headers: &'d [(String, String)]) -> Delivery<'d> {
        Delivery {
            body,
            headers,
            url: self.url.as_deref(),
        }
    }
}

/// `seed` as a Standard Webhooks secret: kept if it has the form, else `whsec_` and its
/// base64.
fn whsec(seed: Option<&str>) -> Option<String> {
    let seed = seed?;
    Some(if seed.starts_with("whsec_") {
        seed.to_owned()
    } else {
        format!("whsec_{}", schemes::base64(seed.as_bytes()))
    })
}

/// `claims` as the payload of a JWT with an RS256 header and a dummy signature.
pub fn unsigned_token(claims: &[u8]) -> String {
    let segment = |bytes: &[u8]| {
        schemes::base64(bytes)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    };
    format!(
        "{}.{}.AAAA",
        segment(br#"{"alg":"RS256","typ":"JWT"}"#),
        segment(claims)
    )
}
