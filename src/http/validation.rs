//! Collects every invalid field of a request, so that one `422` names them
//! all instead of one per round trip.

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
