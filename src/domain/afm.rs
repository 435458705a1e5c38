use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

/// A Greek tax identification number (ΑΦΜ), always 9 ASCII digits with a
/// valid check digit.
///
/// Surrounding whitespace is trimmed because values from TAXISnet's userinfo
/// endpoint may carry surrounding spaces, and refusing to log a citizen in over
/// padding would be absurd. Anything else (inner spaces, letters, a wrong
/// check digit) is rejected, since a mistyped AFM silently accepted would be
/// attached to the wrong taxpayer.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(try_from = "String")]
#[schema(
    value_type = String,
    description = "Greek tax identification number (ΑΦΜ): 9 digits with a valid check digit.",
    pattern = "^[0-9]{9}$",
    examples("090000045")
)]
pub struct Afm(String);

super::string_value!(Afm);

impl std::str::FromStr for Afm {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Afm {
    /// Parses an AFM, trimming surrounding whitespace.
    ///
    /// The check digit is the weighted sum of the first eight digits (weights
    /// 2^8 down to 2^1), modulo 11, modulo 10. `000000000` satisfies that
    /// formula but is never issued, so it is rejected explicitly.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidAfm`] if the input is not a valid AFM.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let afm = input.trim();
        let bytes = afm.as_bytes();
        if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) || afm == "000000000" {
            return Err(DomainError::InvalidAfm);
        }
        let digit = |i: usize| u32::from(bytes[i] - b'0');
        let sum: u32 = (0..8).map(|i| digit(i) << (8 - i)).sum();
        if sum % 11 % 10 != digit(8) {
            return Err(DomainError::InvalidAfm);
        }
        Ok(Self(afm.to_owned()))
    }

    /// The AFM with all but the last 3 digits hidden, e.g. `******045`.
    ///
    /// Enough for a citizen to recognise their own AFM on screen or in an
    /// email, without exposing the full identifier.
    pub fn masked(&self) -> String {
        format!("******{}", &self.0[6..])
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    use super::*;

    /// Independent oracle for the check digit, written as a Horner-style fold
    /// so it does not just repeat the production code.
    fn check_digit(first_eight: &[u8]) -> u8 {
        let sum = first_eight
            .iter()
            .fold(0u32, |acc, &d| (acc + u32::from(d)) * 2);
        (sum % 11 % 10) as u8
    }

    #[test]
    fn accepts_valid_afms() {
        for afm in [
            "090000045",
            "094019245",
            "123456783",
            "012312312",
            "997105306",
            "801234560",
        ] {
            assert_eq!(Afm::parse(afm).unwrap().as_str(), afm);
        }
    }

    #[test]
    fn trims_surrounding_whitespace() {
        let afm = Afm::parse("  090000045\t\n").unwrap();
        assert_eq!(afm.as_str(), "090000045");
    }

    #[test]
    fn rejects_wrong_length() {
        for afm in [
            "",
            "   ",
            "09000004",
            "0900000450",
            "12345678",
            "1234567890",
        ] {
            assert_eq!(Afm::parse(afm), Err(DomainError::InvalidAfm), "{afm:?}");
        }
    }

    #[test]
    fn rejects_non_digits() {
        for afm in [
            "09000004a",
            "090 000 045",
            "090-000-045",
            "+09000045",
            "０９００００045", // full-width digits
            "٠٩٠٠٠٠٠٤٥",       // Arabic-Indic digits
        ] {
            assert_eq!(Afm::parse(afm), Err(DomainError::InvalidAfm), "{afm:?}");
        }
    }

    #[test]
    fn rejects_wrong_check_digit() {
        for afm in ["090000046", "123456789", "997105300", "801234567"] {
            assert_eq!(Afm::parse(afm), Err(DomainError::InvalidAfm), "{afm:?}");
        }
    }

    #[test]
    fn rejects_all_zeros_even_though_checksum_matches() {
        assert_eq!(Afm::parse("000000000"), Err(DomainError::InvalidAfm));
    }

    #[test]
    fn masked_shows_only_last_three_digits() {
        assert_eq!(Afm::parse("123456783").unwrap().masked(), "******783");
    }

    #[test]
    fn display_and_as_ref_match_as_str() {
        let afm = Afm::parse("090000045").unwrap();
        assert_eq!(afm.to_string(), "090000045");
        assert_eq!(afm.as_ref(), "090000045");
    }

    #[test]
    fn deserialization_goes_through_parse() {
        let de = |s: &str| Afm::deserialize(s.into_deserializer());
        let afm: Result<Afm, DeError> = de(" 090000045 ");
        assert_eq!(afm.unwrap().as_str(), "090000045");
        let err: Result<Afm, DeError> = de("090000046");
        assert_eq!(
            err.unwrap_err().to_string(),
            DomainError::InvalidAfm.to_string()
        );
    }

    fn first_eight() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(0u8..=9, 8).prop_filter("not all zero", |d| d.iter().any(|&x| x != 0))
    }

    fn render(digits: &[u8]) -> String {
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    proptest! {
        #[test]
        fn computed_check_digit_parses_and_round_trips(digits in first_eight()) {
            let mut all = digits.clone();
            all.push(check_digit(&digits));
            let text = render(&all);
            let afm = Afm::parse(&text).unwrap();
            prop_assert_eq!(afm.as_str(), text.as_str());
            let displayed = afm.to_string();
            prop_assert_eq!(Afm::parse(&displayed), Ok(afm));
        }

        #[test]
        fn any_other_check_digit_fails(digits in first_eight(), offset in 1u8..=9) {
            let mut all = digits.clone();
            all.push((check_digit(&digits) + offset) % 10);
            prop_assert_eq!(Afm::parse(&render(&all)), Err(DomainError::InvalidAfm));
        }
    }
}
