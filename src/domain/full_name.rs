use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

const MIN_CHARS: usize = 2;
const MAX_CHARS: usize = 100;

/// A person's full name as it may appear on a certificate or letter.
///
/// Surrounding whitespace is trimmed and inner whitespace runs collapse to a
/// single space, so that copy-pasted names compare equal and print cleanly.
/// Control characters (including tabs and line breaks) are rejected rather
/// than collapsed: inside a name they are a paste accident or an injection
/// attempt, and the citizen should see the error.
///
/// Only Greek and Latin letters are allowed, plus the punctuation real names
/// use (space, hyphen, apostrophe `'`/`’`, period for initials). The alphabet
/// is restricted because names are printed on official documents, passed to
/// other registries and rendered in PDFs, none of which cope with arbitrary
/// Unicode; digits, symbols, markup and emoji are never part of a name.
///
/// Length is counted in characters, not bytes, so a Greek name is not
/// penalised for taking two bytes per letter in UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String")]
#[schema(
    value_type = String,
    description = "Full name, 2-100 characters: Greek or Latin letters, spaces, hyphens, \
                   apostrophes and periods. Whitespace is normalized.",
    examples("Γιώργος Παπαδόπουλος")
)]
pub struct FullName(String);

super::string_value!(FullName);

impl FullName {
    /// Parses and normalizes a full name.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidFullName`] if the input breaks any of the rules above.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        if trimmed.chars().any(char::is_control) {
            return Err(DomainError::InvalidFullName);
        }
        let name = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");

        let length_ok = (MIN_CHARS..=MAX_CHARS).contains(&name.chars().count());
        let charset_ok = name
            .chars()
            .all(|c| is_letter(c) || matches!(c, ' ' | '-' | '\'' | '’' | '.'));
        let enough_letters = name.chars().filter(|&c| is_letter(c)).count() >= 2;
        let starts_ok = name.chars().next().is_some_and(is_letter);
        let ends_ok = name
            .chars()
            .next_back()
            .is_some_and(|c| is_letter(c) || c == '.');

        if length_ok && charset_ok && enough_letters && starts_ok && ends_ok {
            Ok(Self(name))
        } else {
            Err(DomainError::InvalidFullName)
        }
    }
}

/// A Greek or Latin letter.
///
/// The ranges alone also contain non-letters (the Greek question mark `;`,
/// spacing accents, `×`, `÷`, unassigned code points), which the
/// `is_alphabetic` check excludes.
fn is_letter(c: char) -> bool {
    c.is_alphabetic()
        && matches!(c,
            'A'..='Z'
            | 'a'..='z'
            | '\u{00C0}'..='\u{024F}' // Latin-1 Supplement letters, Latin Extended-A/B
            | '\u{0370}'..='\u{03FF}' // Greek and Coptic
            | '\u{1F00}'..='\u{1FFF}' // Greek Extended (polytonic)
        )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    use super::*;

    fn rejects(input: &str) {
        assert_eq!(
            FullName::parse(input),
            Err(DomainError::InvalidFullName),
            "{input:?}"
        );
    }

    #[test]
    fn accepts_greek_and_latin_names() {
        for name in [
            "Γιώργος Παπαδόπουλος",
            "Ελένη Κωνσταντίνου-Δημητρίου",
            "ΙΩΑΝΝΗΣ ΑΛΕΞΑΝΔΡΟΠΟΥΛΟΣ",
            "Ἀθανάσιος Ῥήγας",
            "Jean-Luc O'Neill",
            "Jean-Luc O’Neill",
            "José Müller",
            "Łukasz Żółć",
            "J. R. R. Tolkien",
            "Martin Luther King Jr.",
            "Γ. Π.",
            "Li",
        ] {
            assert_eq!(FullName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn normalizes_whitespace() {
        let name = FullName::parse("  Γιώργος \u{a0}  Παπαδόπουλος  ").unwrap();
        assert_eq!(name.as_str(), "Γιώργος Παπαδόπουλος");
    }

    #[test]
    fn trims_surrounding_line_breaks() {
        let name = FullName::parse("\tΕλένη Νικολάου\r\n").unwrap();
        assert_eq!(name.as_str(), "Ελένη Νικολάου");
    }

    #[test]
    fn rejects_markup_digits_and_symbols() {
        for input in [
            "<script>",
            "<script>alert(1)</script>",
            "12",
            "Γιώργος 2ος",
            "Robert'); DROP TABLE--",
            "John Smith;",
            "Γιώργος\u{37e} Παπάς", // Greek question mark
            "Γιώργος\u{387}Παπάς",  // ano teleia
            "A×B",
            "Jane @ Doe",
        ] {
            rejects(input);
        }
    }

    #[test]
    fn rejects_emoji_and_control_characters() {
        for input in [
            "Γιώργος 😀",
            "😀😀",
            "Γιώργος\u{0}Παπάς",
            "Γιώργος\u{7}",
            "Γιώργος\nΠαπαδόπουλος",
            "Γιώργος\tΠαπαδόπουλος",
            "Γιώργος\u{200b}Παπάς", // zero-width space
        ] {
            rejects(input);
        }
    }

    #[test]
    fn rejects_too_few_letters() {
        for input in ["", "   ", "A", "Ω", "A.", "A-", "A ."] {
            rejects(input);
        }
    }

    #[test]
    fn rejects_leading_or_trailing_punctuation() {
        for input in [
            "-Γιώργος",
            "Γιώργος-",
            "'Neill",
            "O'",
            "Γιώργος’",
            ".Γιώργος",
        ] {
            rejects(input);
        }
    }

    #[test]
    fn length_is_counted_in_characters() {
        let max = "Ω".repeat(MAX_CHARS);
        assert!(max.len() > MAX_CHARS, "Greek letters are 2 bytes each");
        assert!(FullName::parse(&max).is_ok());
        rejects(&"Ω".repeat(MAX_CHARS + 1));
    }

    #[test]
    fn display_and_as_ref_match_as_str() {
        let name = FullName::parse("Ελένη  Νικολάου").unwrap();
        assert_eq!(name.to_string(), "Ελένη Νικολάου");
        assert_eq!(name.as_ref(), "Ελένη Νικολάου");
    }

    #[test]
    fn deserialization_goes_through_parse() {
        let de = |s: &str| FullName::deserialize(s.into_deserializer());
        let name: Result<FullName, DeError> = de("  Ελένη   Νικολάου ");
        assert_eq!(name.unwrap().as_str(), "Ελένη Νικολάου");
        let err: Result<FullName, DeError> = de("<script>");
        assert_eq!(
            err.unwrap_err().to_string(),
            DomainError::InvalidFullName.to_string()
        );
    }

    proptest! {
        #[test]
        fn greek_lowercase_names_parse_and_are_idempotent(
            first in "[α-ωάέήίόύώϊϋΐΰ]{2,15}",
            rest in prop::collection::vec("[α-ωάέήίόύώϊϋΐΰ]{1,15}", 0..4),
            separator in "[ \u{a0}\u{2003}]{1,3}",
            padding in "[ ]{0,2}",
        ) {
            let words: Vec<&str> = std::iter::once(first.as_str())
                .chain(rest.iter().map(String::as_str))
                .collect();
            let input = format!("{padding}{}{padding}", words.join(&separator));

            let name = FullName::parse(&input).unwrap();
            prop_assert_eq!(name.as_str(), words.join(" "));
            prop_assert_eq!(FullName::parse(name.as_str()), Ok(name.clone()));
        }

        #[test]
        fn any_accepted_name_is_a_fixed_point(input in "[a-zA-Zα-ωΑ-Ω .'’-]{0,30}") {
            if let Ok(name) = FullName::parse(&input) {
                prop_assert_eq!(FullName::parse(name.as_str()), Ok(name.clone()));
            }
        }
    }
}
