//! Collects every invalid field of a request, so that one `422` names them
//! all instead of one per round trip.

use chrono::NaiveDate;

use crate::domain::DomainError;

use super::{ApiError, FieldError, Text};

#[derive(Default)]
pub struct Validation(Vec<FieldError>);

impl Validation {
    /// Keeps a parsed value, or records why `field` did not parse.
    pub fn check<T>(&mut self, field: &'static str, parsed: Result<T, DomainError>) -> Option<T> {
        parsed
            .map_err(|e| {
                self.0.push(FieldError::new(
                    field,
                    e.code(),
                    Text::new(e.message_el(), e.to_string()),
                ))
            })
            .ok()
    }

    pub fn fail(&mut self, field: &'static str, code: &'static str, message: Text) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// An optional calendar date in a query (`YYYY-MM-DD`); absent is
    /// `None`, and so is one that does not parse, which is recorded.
    pub fn date(&mut self, field: &'static str, raw: Option<&str>) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(raw?, "%Y-%m-%d")
            .map_err(|_| {
                self.fail(
                    field,
                    "invalid_date",
                    Text::new("Ημερομηνία ΕΕΕΕ-ΜΜ-ΗΗ.", "A date as YYYY-MM-DD."),
                )
            })
            .ok()
    }

    /// Optional free text: at most `max` characters, no control characters
    /// but line breaks; blank means absent.
    pub fn free_text(
        &mut self,
        field: &'static str,
        text: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        if text.chars().count() > max || text.chars().any(|c| c.is_control() && c != '\n') {
            self.fail(
                field,
                "invalid_text",
                Text::new(
                    format!("Έως {max} χαρακτήρες, χωρίς χαρακτήρες ελέγχου."),
                    format!("At most {max} characters, without control characters."),
                ),
            );
            return None;
        }
        Some(text.to_owned())
    }

    /// Required text of `min..=max` characters, trimmed, without control characters.
    pub fn text(&mut self, field: &'static str, text: &str, min: usize, max: usize) -> String {
        let text = text.trim();
        let count = text.chars().count();
        if count < min || count > max || text.chars().any(char::is_control) {
            self.fail(
                field,
                "invalid_text",
                Text::new(
                    format!("Από {min} έως {max} χαρακτήρες, χωρίς χαρακτήρες ελέγχου."),
                    format!("From {min} to {max} characters, without control characters."),
                ),
            );
        }
        text.to_owned()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// Rust's `White_Space`, what `str::trim` removes, as the body of a regular
/// expression's character class.
const TRIMMED: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// The `pattern` of what [`Validation::text`] accepts: `min` (2 or more)
/// to `max` characters once trimmed, no control character.
pub fn text_pattern(min: usize, max: usize) -> String {
    // The first and last kept characters are neither blank nor control,
    // so trimming stops at them and the count is the one checked.
    format!(
        r"^[{TRIMMED}]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]{{{},{}}}[^\s\x00-\x1F\x7F-\x9F][{TRIMMED}]*$",
        min - 2,
        max - 2
    )
}

/// The `pattern` of what [`Validation::free_text`] accepts: blank, or at
/// most `max` characters once trimmed, with no control character but `\n`.
pub fn free_text_pattern(max: usize) -> String {
    format!(
        r"^[{TRIMMED}]*(?:[^\s\x00-\x1F\x7F-\x9F](?:[^\x00-\x09\x0B-\x1F\x7F-\x9F]{{0,{}}}[^\s\x00-\x1F\x7F-\x9F])?)?[{TRIMMED}]*$",
        max - 2
    )
}

/// Schemas for request fields checked by [`Validation::text`] or
/// [`Validation::free_text`], named with `#[schema(value_type = ...)]`, so
/// the document states the limits the server checks. They carry no example:
/// the request schemas that use them show one of their own.
macro_rules! text_schemas {
    ($( $name:ident = $pattern:expr, $description:literal; )+) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl utoipa::PartialSchema for $name {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .description(Some($description))
                        .pattern(Some($pattern))
                        .into()
                }
            }

            impl utoipa::ToSchema for $name {}
        )+
    };
}

text_schemas! {
    Name = text_pattern(2, 200),
        "2 to 200 characters, no control character; surrounding whitespace is trimmed.";
    DocumentTitle = text_pattern(2, 300),
        "2 to 300 characters, no control character; surrounding whitespace is trimmed.";
    Description = free_text_pattern(1000),
        "At most 1000 characters, line breaks allowed; blank means none.";
    Note = free_text_pattern(500),
        "At most 500 characters, line breaks allowed; blank means none.";
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::string::string_regex;

    use super::*;

    /// Strings `pattern` matches; the generator matches whole strings and
    /// takes no anchors.
    fn matching(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
        string_regex(&pattern[1..pattern.len() - 1]).unwrap()
    }

    proptest! {
        /// Issue 12, defect 10: every text the documented pattern allows,
        /// surrounding blanks included, `text` accepts.
        #[test]
        fn texts_the_document_allows_are_accepted(
            text in matching(&text_pattern(2, 200))
        ) {
            let mut v = Validation::default();
            v.text("name", &text, 2, 200);
            prop_assert!(v.finish().is_ok(), "{:?}", text);
        }

        /// Issue 12, defect 10: the same for `free_text`, blank included.
        #[test]
        fn free_texts_the_document_allows_are_accepted(
            text in matching(&free_text_pattern(500))
        ) {
            let mut v = Validation::default();
            v.free_text("note", Some(&text), 500);
            prop_assert!(v.finish().is_ok(), "{:?}", text);
        }
    }
}
