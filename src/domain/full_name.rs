use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct FullName(String);

/// Documented with a `pattern` that only names [`FullName::parse`] accepts
/// match, so a client (or a test generator) that follows the document is
/// never refused: it starts and ends with a letter (an initial's period may
/// follow), has 2 to 100 characters and no whitespace but plain spaces
/// inside. The letters are those of [`is_letter`], listed from it. Names
/// with other whitespace are accepted too, but are not a contract.
impl utoipa::PartialSchema for FullName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let letter = letter_class();
        let inner = format!("{letter} .'’-");
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some(
                "Full name, 2-100 characters: Greek or Latin letters, spaces, hyphens, \
                 apostrophes and periods. Whitespace is normalized.",
            ))
            .pattern(Some(format!(
                "^[{letter}][{inner}]{{0,{}}}[{letter}]\\.?$",
                MAX_CHARS - 3
            )))
            .examples(["Γιώργος Παπαδόπουλος"])
            .into()
    }
}

impl utoipa::ToSchema for FullName {}

/// The characters of [`is_letter`] as the body of a regular expression's
/// character class: runs of consecutive letters as `\uXXXX-\uYYYY`.
fn letter_class() -> String {
    let mut class = String::new();
    let mut run: Option<(char, char)> = None;
    let close = |run: (char, char), class: &mut String| {
        class.push_str(&format!("\\u{:04X}", u32::from(run.0)));
        if run.1 != run.0 {
            class.push_str(&format!("-\\u{:04X}", u32::from(run.1)));
        }
    };
    for c in ('A'..='\u{1FFF}').filter(|&c| is_letter(c)) {
        run = match run {
            Some((first, last)) if u32::from(c) == u32::from(last) + 1 => Some((first, c)),
            Some(done) => {
                close(done, &mut class);
                Some((c, c))
            }
            None => Some((c, c)),
        };
    }
    if let Some(done) = run {
        close(done, &mut class);
    }
    class
}

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

    /// The documented pattern (issue 12, defect 10), read from the schema,
    /// without its `^` and `$`.
    fn documented_pattern() -> String {
        use utoipa::PartialSchema;
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let RefOr::T(Schema::Object(schema)) = FullName::schema() else {
            panic!("an inline object schema");
        };
        let pattern = schema.pattern.expect("a pattern");
        // The generator matches whole strings and takes no anchors.
        pattern[1..pattern.len() - 1].to_owned()
    }

    proptest! {
        /// Issue 12, defect 10: every name the document's pattern allows
        /// parses, so a client that follows the document is not refused.
        #[test]
        fn names_the_document_allows_parse(
            name in proptest::string::string_regex(&documented_pattern()).unwrap()
        ) {
            prop_assert!(FullName::parse(&name).is_ok(), "{:?}", name);
        }

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
