use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

/// A phone number in E.164 form: `+` followed by 8 to 15 digits, the first
/// non-zero (e.g. `+306912345678`).
///
/// Storing a single canonical form means numbers can be compared, deduplicated
/// and handed to an SMS gateway without further massaging.
///
/// Input is deliberately forgiving, because citizens type numbers the way they
/// see them written:
/// - whitespace, dashes, dots and parentheses are ignored (`+30 (691) 234-5678`);
/// - the `00` international prefix used in Greece and most of Europe is read as
///   `+` (`0030 6912345678`);
/// - a bare 10-digit Greek number starting with `69` (mobile) or `2`
///   (landline) gets `+30`, because that is how almost every Greek user writes
///   their own number and rejecting it would fail most sign-ups.
///
/// Any other number without a country code is rejected rather than guessed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String")]
#[schema(
    value_type = String,
    format = "e164",
    description = "Phone number in E.164 format. Input may also be a 10-digit Greek \
                   number (69xxxxxxxx or 2xxxxxxxxx) or use a 00 prefix; \
                   responses are always E.164.",
    examples("+306912345678"),
    // What every client can send: the forgiving input forms above are
    // accepted too, but are not a contract.
    pattern = r"^\+[1-9][0-9]{7,14}$"
)]
pub struct Phone(String);

super::string_value!(Phone);

impl Phone {
    /// Parses and normalizes a phone number to E.164.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidPhone`] if the input cannot be read as an E.164
    /// number by the rules above.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let mut digits = String::with_capacity(input.len());
        let mut has_plus = false;
        for c in input.chars() {
            match c {
                c if c.is_ascii_digit() => digits.push(c),
                '-' | '.' | '(' | ')' => {}
                // Any whitespace, so numbers pasted with non-breaking or thin
                // spaces as digit-group separators still parse.
                c if c.is_whitespace() => {}
                // A single `+`, before any digit: allows "(+30) 69...".
                '+' if !has_plus && digits.is_empty() => has_plus = true,
                _ => return Err(DomainError::InvalidPhone),
            }
        }

        let international = if has_plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if digits.len() == 10 && (digits.starts_with("69") || digits.starts_with('2')) {
            format!("30{digits}")
        } else {
            return Err(DomainError::InvalidPhone);
        };

        if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(DomainError::InvalidPhone);
        }
        Ok(Self(format!("+{international}")))
    }

    /// Whether this is a Greek mobile number (`+30 69x xxx xxxx`), i.e. one
    /// that can receive SMS.
    pub fn is_greek_mobile(&self) -> bool {
        self.0.len() == 13 && self.0.starts_with("+3069")
    }

    /// The number with all but the country prefix and last 3 digits replaced
    /// by `*`, e.g. `+3069*****678`, for showing "we sent a code to ..."
    /// without disclosing the full number.
    ///
    /// For Greek numbers the two digits after `+30` stay visible, because they
    /// tell mobile (`69`) from landline (`2x`); elsewhere the first two digits.
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let visible_prefix = if digits.starts_with("30") { 4 } else { 2 };
        let hidden = digits.len() - visible_prefix - 3;
        format!(
            "+{}{}{}",
            &digits[..visible_prefix],
            "*".repeat(hidden),
            &digits[digits.len() - 3..]
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    use super::*;

    fn parsed(input: &str) -> String {
        Phone::parse(input).unwrap().as_str().to_owned()
    }

    #[test]
    fn accepts_e164() {
        assert_eq!(parsed("+306912345678"), "+306912345678");
        assert_eq!(parsed("+442079460958"), "+442079460958");
        assert_eq!(parsed("+12025550123"), "+12025550123");
    }

    #[test]
    fn strips_separators() {
        for input in [
            "+30 691 234 5678",
            "+30-691-234-5678",
            "+30.691.234.5678",
            "+30 (691) 234-5678",
            "(+30) 6912345678",
            "  +306912345678  ",
            "+30\u{a0}691\u{202f}234\u{202f}5678",
        ] {
            assert_eq!(parsed(input), "+306912345678", "{input:?}");
        }
    }

    #[test]
    fn reads_00_as_plus() {
        assert_eq!(parsed("0030 6912345678"), "+306912345678");
        assert_eq!(parsed("0044 20 7946 0958"), "+442079460958");
    }

    #[test]
    fn greek_shorthand_gets_country_code() {
        assert_eq!(parsed("6912345678"), "+306912345678");
        assert_eq!(parsed("694 123 4567"), "+306941234567");
        assert_eq!(parsed("2101234567"), "+302101234567");
        assert_eq!(parsed("231-012-3456"), "+302310123456");
    }

    #[test]
    fn rejects_numbers_without_country_code_that_are_not_greek_shorthand() {
        for input in [
            "912345678",   // 9 digits
            "69123456789", // 11 digits
            "6812345678",  // 10 digits, not 69/2
            "3012345678",
            "0123456789",
        ] {
            assert_eq!(
                Phone::parse(input),
                Err(DomainError::InvalidPhone),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_e164() {
        for input in [
            "",
            "+",
            "+1234567",          // 7 digits
            "+1234567890123456", // 16 digits
            "+0306912345678",    // leading zero
            "000306912345678",   // 00 then leading zero
            "+30+6912345678",    // second plus
            "30+6912345678",     // plus after digits
            "+30 691 234 567x",
            "+30/6912345678",
            "+３０6912345678", // full-width digits
        ] {
            assert_eq!(
                Phone::parse(input),
                Err(DomainError::InvalidPhone),
                "{input:?}"
            );
        }
    }

    #[test]
    fn length_bounds_are_inclusive() {
        assert_eq!(parsed("+12345678"), "+12345678");
        assert_eq!(parsed("+123456789012345"), "+123456789012345");
    }

    #[test]
    fn detects_greek_mobiles() {
        assert!(Phone::parse("6912345678").unwrap().is_greek_mobile());
        assert!(!Phone::parse("2101234567").unwrap().is_greek_mobile());
        assert!(!Phone::parse("+4469123456789").unwrap().is_greek_mobile());
        assert!(!Phone::parse("+3069123456").unwrap().is_greek_mobile());
    }

    #[test]
    fn masks_all_but_prefix_and_last_three_digits() {
        let mask = |s: &str| Phone::parse(s).unwrap().masked();
        assert_eq!(mask("+306912345678"), "+3069*****678");
        assert_eq!(mask("2101234567"), "+3021*****567");
        assert_eq!(mask("+442079460958"), "+44*******958");
        assert_eq!(mask("+33612345678"), "+33******678");
        assert_eq!(mask("+12345678"), "+12***678");
    }

    #[test]
    fn display_and_as_ref_match_as_str() {
        let phone = Phone::parse("6912345678").unwrap();
        assert_eq!(phone.to_string(), "+306912345678");
        assert_eq!(phone.as_ref(), "+306912345678");
    }

    #[test]
    fn deserialization_goes_through_parse() {
        let de = |s: &str| Phone::deserialize(s.into_deserializer());
        let phone: Result<Phone, DeError> = de("691 234 5678");
        assert_eq!(phone.unwrap().as_str(), "+306912345678");
        let err: Result<Phone, DeError> = de("12345");
        assert_eq!(
            err.unwrap_err().to_string(),
            DomainError::InvalidPhone.to_string()
        );
    }

    proptest! {
        /// Issue 12, defect 10: every number the document's pattern allows
        /// parses, as itself.
        #[test]
        fn numbers_the_document_allows_parse(
            number in proptest::string::string_regex(r"\+[1-9][0-9]{7,14}").unwrap()
        ) {
            prop_assert_eq!(Phone::parse(&number).map(|p| p.to_string()), Ok(number));
        }

        #[test]
        fn greek_mobile_shorthand_normalizes_and_round_trips(rest in "[0-9]{8}") {
            let phone = Phone::parse(&format!("69{rest}")).unwrap();
            prop_assert_eq!(phone.as_str(), format!("+3069{rest}"));
            prop_assert!(phone.is_greek_mobile());
            prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
        }

        #[test]
        fn separators_do_not_change_the_result(
            number in "[1-9][0-9]{7,14}",
            separators in prop::collection::vec("[ .()-]{0,2}", 15),
        ) {
            let decorated: String = number
                .chars()
                .zip(&separators)
                .flat_map(|(digit, sep)| std::iter::once(digit).chain(sep.chars()))
                .collect();
            let phone = Phone::parse(&format!("+{decorated}")).unwrap();
            prop_assert_eq!(phone.as_str(), format!("+{number}"));
        }
    }
}
