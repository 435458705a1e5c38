//! Domain value types.
//!
//! Each type follows "parse, don't validate": the only way to obtain a value
//! is through its `parse` constructor (directly, or via `serde` deserialization,
//! which is routed through `parse`). Handlers and services can therefore take
//! an [`Afm`], [`Email`], [`Phone`], [`FullName`] or [`Kodikarithmos`] and
//! rely on it being valid and already normalized, instead of re-checking raw
//! strings everywhere.

/// The trait impls every string-backed value type shares: reading it back
/// as text, and `TryFrom<String>` so that serde deserializes through `parse`.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
    };
}
use string_value;

mod afm;
mod email;
mod full_name;
pub mod ids;
mod kodikarithmos;
mod phone;
mod text;

pub use afm::Afm;
pub use email::Email;
pub use full_name::FullName;
pub use kodikarithmos::{Kodikarithmos, KodikarithmosError};
pub use phone::Phone;
pub use text::{Lang, Text};

/// Why a raw input could not become a domain value.
///
/// The variants deliberately carry no copy of the rejected input: AFMs, email
/// addresses, phone numbers and names are personal data, and error values end
/// up in logs and API responses.
///
/// `Display` gives the English message; [`DomainError::message_el`] gives the
/// Greek one shown to citizens; [`DomainError::code`] is a stable identifier
/// that API clients can match on without parsing either message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("The AFM must consist of 9 digits with a valid check digit.")]
    InvalidAfm,
    #[error("The email address is not valid.")]
    InvalidEmail,
    #[error(
        "The phone number is not valid. Use international format (e.g. +306912345678) \
         or a 10-digit Greek number."
    )]
    InvalidPhone,
    #[error(
        "The full name must be 2 to 100 characters long and contain only Greek or Latin \
         letters, spaces, hyphens, apostrophes and periods."
    )]
    InvalidFullName,
}

impl DomainError {
    /// Stable, machine-readable error code. Part of the public API contract:
    /// never rename an existing code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidAfm => "invalid_afm",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidFullName => "invalid_full_name",
        }
    }

    /// The message in Greek, for display to citizens.
    pub const fn message_el(&self) -> &'static str {
        match self {
            Self::InvalidAfm => "Ο ΑΦΜ πρέπει να έχει 9 ψηφία με έγκυρο ψηφίο ελέγχου.",
            Self::InvalidEmail => "Η διεύθυνση email δεν είναι έγκυρη.",
            Self::InvalidPhone => {
                "Ο αριθμός τηλεφώνου δεν είναι έγκυρος. Χρησιμοποιήστε διεθνή μορφή \
                 (π.χ. +306912345678) ή ελληνικό δεκαψήφιο αριθμό."
            }
            Self::InvalidFullName => {
                "Το ονοματεπώνυμο πρέπει να έχει από 2 έως 100 χαρακτήρες και να περιέχει \
                 μόνο ελληνικά ή λατινικά γράμματα, κενά, παύλες, αποστρόφους και τελείες."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{Schema, SchemaType, Type};

    use super::{Afm, DomainError, Email, FullName, Phone};

    const ALL: [DomainError; 4] = [
        DomainError::InvalidAfm,
        DomainError::InvalidEmail,
        DomainError::InvalidPhone,
        DomainError::InvalidFullName,
    ];

    #[test]
    fn codes_are_stable() {
        let codes: Vec<_> = ALL.iter().map(DomainError::code).collect();
        assert_eq!(
            codes,
            [
                "invalid_afm",
                "invalid_email",
                "invalid_phone",
                "invalid_full_name"
            ]
        );
    }

    #[test]
    fn every_variant_has_english_and_greek_messages() {
        for error in ALL {
            assert!(!error.to_string().is_empty());
            assert!(
                error
                    .message_el()
                    .chars()
                    .any(|c| ('\u{0370}'..='\u{03FF}').contains(&c)),
                "{error:?} has no Greek message"
            );
        }
    }

    /// Asserts `T` is documented as a plain OpenAPI string and returns its
    /// first example.
    fn string_schema_example<T: PartialSchema>() -> String {
        let RefOr::T(Schema::Object(schema)) = T::schema() else {
            panic!("expected an inline object schema");
        };
        assert!(matches!(schema.schema_type, SchemaType::Type(Type::String)));
        schema.examples[0].as_str().unwrap().to_owned()
    }

    #[test]
    fn openapi_schemas_are_strings_whose_examples_parse() {
        let afm = string_schema_example::<Afm>();
        assert_eq!(Afm::parse(&afm).unwrap().as_str(), afm);
        let email = string_schema_example::<Email>();
        assert_eq!(Email::parse(&email).unwrap().as_str(), email);
        let phone = string_schema_example::<Phone>();
        assert_eq!(Phone::parse(&phone).unwrap().as_str(), phone);
        let name = string_schema_example::<FullName>();
        assert_eq!(FullName::parse(&name).unwrap().as_str(), name);
    }
}
