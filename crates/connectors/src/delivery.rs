//! A webhook delivery as received, and the keys that authenticate it.

/// One delivery: the raw body, its headers and the URL it was sent to.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The body, byte for byte.
    pub body: &'a [u8],
    /// Headers as received; names are compared case-insensitively.
    pub headers: &'a [(String, String)],
    /// The notification URL exactly as configured on the platform, for schemes that sign it.
    pub url: Option<&'a str>,
}

impl<'a> Delivery<'a> {
    /// The first header called `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// The body as UTF-8 text, if it is.
    pub fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.body).ok()
    }
}

/// What a connection holds to authenticate deliveries, as the platform shows it to the
/// merchant; each scheme applies its platform's own key derivation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keys<'a> {
    /// The shared signing secret (client secret, webhook secret, signature key, …).
    pub secret: Option<&'a str>,
    /// The platform's public key in PEM, for schemes signed with a private key.
    pub public_key_pem: Option<&'a str>,
    /// The app's client id, for schemes that bind deliveries to it.
    pub client_id: Option<&'a str>,
}

impl<'a> Keys<'a> {
    /// The secret, or the rejection a scheme that needs one gives without it.
    pub fn require_secret(&self) -> Result<&'a str, crate::Rejection> {
        self.secret.ok_or(crate::Rejection::MissingKey("secret"))
    }
}
