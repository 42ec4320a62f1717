//! Parse-don't-validate newtypes for what users type: emails, passwords, organization names.

use std::fmt;

/// Why a value was refused; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The input field at fault.
    pub field: &'static str,
    /// What is wrong, in words a user understands.
    pub message: String,
}

impl ValidationError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A syntactically plausible email address, trimmed and lower-cased so one person has one
/// account however they type it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Normalizes and checks an address: one `@`, a non-empty local part, a dotted domain,
    /// no spaces or control characters.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let email = input.trim().to_lowercase();
        let bad = |m: &str| ValidationError::new("email", m);
        if email.is_empty() {
            return Err(bad("is required"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(bad("is longer than 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces"));
        }
        let (local, domain) = email
            .split_once('@')
            .ok_or_else(|| bad("must contain `@`"))?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain_ok {
            return Err(bad("is not a valid email address"));
        }
        Ok(Self(email))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the policy: 10 to 1024 characters. Length beats composition rules
/// (NIST SP 800-63B); the upper bound keeps hashing cheap for hostile input.
pub struct Password(String);

impl Password {
    /// Fewest characters accepted.
    pub const MIN_CHARS: usize = 10;
    /// Most characters accepted.
    pub const MAX_CHARS: usize = 1024;

    /// Checks a new password against the policy.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A tenant's display name: 1 to 120 characters once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationName(String);

impl OrganizationName {
    /// Most characters accepted.
    pub const MAX_CHARS: usize = 120;

    /// Trims and checks a name.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        parse_label("organization", input, Self::MAX_CHARS).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims and checks a short human label (a name shown in lists).
pub fn parse_label(
    field: &'static str,
    input: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if name.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized() {
        let e = Email::parse("  Alice@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "alice@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_reason() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "a@b",
            "a b@c.de",
            "a@@b.com",
            "a@b..com",
        ] {
            let err = Email::parse(bad).expect_err(bad);
            assert_eq!(err.field, "email");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_follow_the_length_policy() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough pass").is_ok());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("long enough pass").ok()),
            "Some(Password(***))"
        );
    }

    #[test]
    fn organization_names_are_trimmed_and_bounded() {
        assert_eq!(
            OrganizationName::parse("  Acme DVD ").map(|n| n.0),
            Ok("Acme DVD".into())
        );
        assert!(OrganizationName::parse("   ").is_err());
        assert!(OrganizationName::parse(&"x".repeat(121)).is_err());
        assert!(OrganizationName::parse("bad\u{0}name").is_err());
    }
}
