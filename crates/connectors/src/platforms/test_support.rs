//! Scaffolding the platform modules' tests share: deliveries and keys built in one line, the
//! negative cases every signed platform must refuse, and the checks for unsigned platforms.

pub(crate) use super::Inbound;
use crate::{Delivery, Keys, ParseError, Rejection};

/// Headers from `(name, value)` pairs.
pub(crate) fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// A delivery of `body` with `headers` and no URL.
pub(crate) fn delivery<'a>(body: &'a str, headers: &'a [(String, String)]) -> Delivery<'a> {
    Delivery {
        body: body.as_bytes(),
        headers,
        url: None,
    }
}

/// A delivery of `body` alone.
pub(crate) fn bare(body: &str) -> Delivery<'_> {
    delivery(body, &[])
}

/// Keys holding only `secret`.
pub(crate) fn secret(secret: &str) -> Keys<'_> {
    Keys {
        secret: Some(secret),
        ..Keys::default()
    }
}

/// Each body, delivered without headers, is a [`ParseError::Malformed`].
pub(crate) fn assert_malformed(module: &dyn Inbound, bodies: &[&str]) {
    for body in bodies {
        assert!(
            matches!(module.parse(&bare(body)), Err(ParseError::Malformed { .. })),
            "{body}"
        );
    }
}

/// Verification refuses every delivery as unsigned, saying why (the reason mentions `why`),
/// and signing adds no header.
pub(crate) fn assert_unsigned(module: &dyn Inbound, why: &str) {
    assert!(matches!(
        module.verify(&bare("{}"), &Keys::default(), 0),
        Err(Rejection::Unsigned(reason)) if reason.contains(why)
    ));
    assert_eq!(module.sign(b"{}", &Keys::default(), None, 0), Ok(vec![]));
}

/// A fixed vector for a platform that signs with one header over the body and a secret.
pub(crate) struct Vector<'a> {
    /// The platform.
    pub(crate) module: &'a dyn Inbound,
    /// The signature header, as the platform names it.
    pub(crate) header: &'static str,
    /// The signing secret.
    pub(crate) secret: &'a str,
    /// Another secret in the same format.
    pub(crate) other_secret: &'a str,
    /// The signed body.
    pub(crate) body: &'a str,
    /// The body with something changed.
    pub(crate) tampered: String,
    /// The header's value for `body` under `secret`.
    pub(crate) signature: &'a str,
}

impl Vector<'_> {
    fn verify(
        &self,
        body: &str,
        headers: &[(String, String)],
        keys: &Keys<'_>,
    ) -> Result<(), Rejection> {
        self.module.verify(&delivery(body, headers), keys, 0)
    }

    /// The vector verifies, whatever the case of the header's name.
    pub(crate) fn assert_accepted(&self) {
        for name in [self.header.to_owned(), self.header.to_ascii_lowercase()] {
            let signed = headers(&[(&name, self.signature)]);
            assert_eq!(
                self.verify(self.body, &signed, &secret(self.secret)),
                Ok(())
            );
        }
    }

    /// A tampered body and another secret do not match; a missing header or secret is said.
    pub(crate) fn assert_refusals(&self) {
        let signed = headers(&[(self.header, self.signature)]);
        let keys = secret(self.secret);
        assert_eq!(
            self.verify(&self.tampered, &signed, &keys),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            self.verify(self.body, &signed, &secret(self.other_secret)),
            Err(Rejection::Mismatch)
        );
        assert_eq!(
            self.verify(self.body, &[], &keys),
            Err(Rejection::MissingHeader(self.header))
        );
        assert_eq!(
            self.verify(self.body, &signed, &Keys::default()),
            Err(Rejection::MissingKey("secret"))
        );
    }

    /// Signing gives exactly the vector's header, which verifies; without a secret it cannot.
    pub(crate) fn assert_sign_round_trips(&self) {
        let keys = secret(self.secret);
        let signed = self
            .module
            .sign(self.body.as_bytes(), &keys, None, 0)
            .expect("sign");
        assert_eq!(signed, headers(&[(self.header, self.signature)]));
        assert_eq!(self.verify(self.body, &signed, &keys), Ok(()));
        assert_eq!(
            self.module
                .sign(self.body.as_bytes(), &Keys::default(), None, 0),
            Err(Rejection::MissingKey("secret"))
        );
    }
}
