use email_address::{EmailAddress, Options};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::DomainError;

/// Longest address that fits in an SMTP forward-path (RFC 5321 §4.5.3.1.3:
/// 256 octets including the angle brackets).
const MAX_LEN: usize = 254;

/// An email address we can actually send to.
///
/// Syntax is checked by the `email_address` crate. On top of that we require
/// a dotted domain (no `user@localhost`), no domain literals (`user@[1.2.3.4]`)
/// and no display names (`Name <user@example.gr>`): all are valid RFC 5322 but
/// are typos or abuse when typed into a citizen's contact form.
///
/// The domain is lowercased (ASCII only, as DNS compares case-insensitively in
/// ASCII) so that `User@Example.GR` and `User@example.gr` are equal. The local
/// part is kept exactly as given, because it is case-sensitive by the RFCs and
/// some mail servers do honour that.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String")]
#[schema(
    value_type = String,
    format = Email,
    description = "Email address with a dotted domain; the domain part is returned lowercased.",
    examples("citizen@example.gr")
)]
pub struct Email(String);

super::string_value!(Email);

impl Email {
    /// Parses an email address, trimming surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`DomainError::InvalidEmail`] if the input is not an acceptable address.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let input = input.trim();
        if input.len() > MAX_LEN {
            return Err(DomainError::InvalidEmail);
        }
        let options = Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        let address = EmailAddress::parse_with_options(input, options)
            .map_err(|_| DomainError::InvalidEmail)?;
        Ok(Self(format!(
            "{}@{}",
            address.local_part(),
            address.domain().to_ascii_lowercase()
        )))
    }

    /// The address with its local part hidden but for its first character,
    /// e.g. `g***@example.gr`: enough to recognise, not to write to.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').expect("parsed addresses have an @");
        let first = local.chars().next().expect("local parts are not empty");
        format!("{first}***@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    use super::*;

    #[test]
    fn masked_shows_the_first_character_and_the_domain() {
        let email = Email::parse("giorgos.papadopoulos@gov.gr").unwrap();
        assert_eq!(email.masked(), "g***@gov.gr");
        let short = Email::parse("x@example.gr").unwrap();
        assert_eq!(short.masked(), "x***@example.gr");
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for email in [
            "citizen@example.gr",
            "giorgos.papadopoulos@gov.gr",
            "first.last+tag@mail.example.com",
            "o'neill@example.ie",
            "\"quoted local\"@example.gr",
        ] {
            assert_eq!(Email::parse(email).unwrap().as_str(), email);
        }
    }

    #[test]
    fn trims_and_lowercases_only_the_domain() {
        let email = Email::parse("  Giorgos.P@Example.GR \n").unwrap();
        assert_eq!(email.as_str(), "Giorgos.P@example.gr");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for email in [
            "",
            "   ",
            "plainaddress",
            "@example.gr",
            "user@",
            "user@@example.gr",
            "user@example..gr",
            "user@.example.gr",
            "user@-example.gr",
            "user name@example.gr",
            "user@exa mple.gr",
        ] {
            assert_eq!(
                Email::parse(email),
                Err(DomainError::InvalidEmail),
                "{email:?}"
            );
        }
    }

    #[test]
    fn rejects_domain_without_dot() {
        assert_eq!(
            Email::parse("user@localhost"),
            Err(DomainError::InvalidEmail)
        );
    }

    #[test]
    fn rejects_domain_literals_and_display_names() {
        for email in ["user@[192.168.0.1]", "Giorgos <user@example.gr>"] {
            assert_eq!(
                Email::parse(email),
                Err(DomainError::InvalidEmail),
                "{email:?}"
            );
        }
    }

    #[test]
    fn enforces_total_length_limit() {
        // 64-char local part + '@' + domain of four labels, 254 octets in all.
        let local = "a".repeat(64);
        let domain = format!("{0}.{0}.{0}.{1}", "b".repeat(60), "c".repeat(6));
        let longest = format!("{local}@{domain}");
        assert_eq!(longest.len(), MAX_LEN);
        assert!(Email::parse(&longest).is_ok());

        let too_long = format!("{local}@d.{domain}");
        assert_eq!(too_long.len(), MAX_LEN + 2);
        assert_eq!(Email::parse(&too_long), Err(DomainError::InvalidEmail));
    }

    #[test]
    fn display_and_as_ref_match_as_str() {
        let email = Email::parse("citizen@example.gr").unwrap();
        assert_eq!(email.to_string(), "citizen@example.gr");
        assert_eq!(email.as_ref(), "citizen@example.gr");
    }

    #[test]
    fn deserialization_goes_through_parse() {
        let de = |s: &str| Email::deserialize(s.into_deserializer());
        let email: Result<Email, DeError> = de(" a@Example.gr ");
        assert_eq!(email.unwrap().as_str(), "a@example.gr");
        let err: Result<Email, DeError> = de("not-an-email");
        assert_eq!(
            err.unwrap_err().to_string(),
            DomainError::InvalidEmail.to_string()
        );
    }

    proptest! {
        #[test]
        fn parse_of_display_is_identity(
            local in r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[A-Za-z0-9_+-]{1,10}){0,2}",
            domain in r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?(\.[A-Za-z]{2,10}){1,3}",
        ) {
            let email = Email::parse(&format!("{local}@{domain}")).unwrap();
            let displayed = email.to_string();
            prop_assert_eq!(Email::parse(&displayed), Ok(email));
        }
    }
}
