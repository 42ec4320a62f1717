//! Retail barcodes (GTIN family: UPC-A, EAN-13, EAN-8, GTIN-14) with check-digit validation.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A GTIN whose check digit is correct. Stored as its digits; UPC-A stays 12 digits so it
/// prints as users expect, though it equals the EAN-13 with a leading zero for matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);

impl Barcode {
    /// Parses and checks a barcode: 8, 12, 13 or 14 digits (spaces and dashes ignored) whose
    /// last digit is the GS1 mod-10 check digit of the others.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let bad = |m: String| ValidationError {
            field: "barcode",
            message: m,
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad(format!("`{input}` must contain only digits")));
        }
        if !matches!(digits.len(), 8 | 12 | 13 | 14) {
            return Err(bad(format!(
                "`{input}` has {} digits; UPC-A has 12, EAN-13 13, EAN-8 8, GTIN-14 14",
                digits.len()
            )));
        }
        let (body, check) = digits.split_at(digits.len() - 1);
        let expected = check_digit(body);
        if check.as_bytes()[0] - b'0' != expected {
            return Err(bad(format!(
                "`{input}` has a wrong check digit (expected {expected})"
            )));
        }
        Ok(Self(digits))
    }

    /// The digits as printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 14-digit GTIN form, for matching a UPC-A against the same code written as EAN-13.
    pub fn gtin14(&self) -> String {
        format!("{:0>14}", self.0)
    }
}

/// The GS1 check digit of `body`: weights 3 and 1 alternate from the rightmost digit.
pub fn check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Barcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Barcode {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Barcode> for String {
    fn from(b: Barcode) -> String {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn real_codes_validate() {
        for code in [
            "036000291452",
            "4006381333931",
            "96385074",
            "5012345678900",
            "00012345600012",
        ] {
            assert!(Barcode::parse(code).is_ok(), "{code}");
        }
        assert_eq!(
            Barcode::parse("4006-3813 33931").map(|b| b.0),
            Ok("4006381333931".into())
        );
    }

    #[test]
    fn wrong_check_digits_lengths_and_characters_are_refused() {
        let err = Barcode::parse("036000291453").expect_err("bad check digit");
        assert!(err.message.contains("expected 2"), "{}", err.message);
        assert!(Barcode::parse("12345").is_err());
        assert!(Barcode::parse("40063813339X1").is_err());
        assert!(Barcode::parse("").is_err());
    }

    #[test]
    fn upc_a_and_its_ean_13_form_match() {
        let upc = Barcode::parse("036000291452").expect("upc");
        let ean = Barcode::parse("0036000291452").expect("ean");
        assert_eq!(upc.gtin14(), ean.gtin14());
    }

    proptest! {
        #[test]
        fn any_body_with_its_check_digit_validates(body in "[0-9]{12}") {
            let code = format!("{body}{}", check_digit(&body));
            prop_assert!(Barcode::parse(&code).is_ok());
        }

        #[test]
        fn changing_one_digit_is_always_caught(body in "[0-9]{12}", pos in 0usize..13, bump in 1u8..10) {
            let mut code: Vec<u8> = format!("{body}{}", check_digit(&body)).into_bytes();
            code[pos] = b'0' + (code[pos] - b'0' + bump) % 10;
            let changed = String::from_utf8(code).expect("digits");
            prop_assert!(Barcode::parse(&changed).is_err());
        }
    }
}
