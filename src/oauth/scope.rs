//! What an application may read (`photos:face`, `photos:signature`) and what
//! it was registered for, which bounds the first (R-PH-18).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One image an access token may read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[schema(example = "photos:face")]
pub enum Scope {
    /// The face photo.
    #[serde(rename = "photos:face")]
    PhotosFace,
    /// The signature image; only for driving licences (R-PH-18).
    #[serde(rename = "photos:signature")]
    PhotosSignature,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::PhotosFace, Scope::PhotosSignature];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PhotosFace => "photos:face",
            Scope::PhotosSignature => "photos:signature",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(text: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| UnknownScope(text.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: the scopes are photos:face and photos:signature")]
pub struct UnknownScope(pub String);

/// A set of scopes, written as RFC 6749 §3.3 writes them: space-separated,
/// in a fixed order, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// `scope` as a request or a token carries it; an empty text is no
    /// scope at all.
    pub fn parse(text: &str) -> Result<Scopes, UnknownScope> {
        text.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Scopes)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, of: &Scopes) -> bool {
        self.0.is_subset(&of.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Scopes {
        Scopes(scopes.into_iter().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

/// What an application is registered for: the public service it provides
/// with the photos (R-PH-18).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
#[schema(example = "driving_licences")]
pub enum AppPurpose {
    /// Driving licences (Ministry of Transport): the face and the signature.
    DrivingLicences,
    /// Identity cards and passports (Hellenic Police): the face only.
    IdentityDocuments,
}

impl AppPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            AppPurpose::DrivingLicences => "driving_licences",
            AppPurpose::IdentityDocuments => "identity_documents",
        }
    }

    /// R-PH-18: the signature image is used only for driving licences.
    pub fn allows(self, scope: Scope) -> bool {
        match scope {
            Scope::PhotosFace => true,
            Scope::PhotosSignature => self == AppPurpose::DrivingLicences,
        }
    }
}

impl std::str::FromStr for AppPurpose {
    type Err = String;

    fn from_str(stored: &str) -> Result<AppPurpose, String> {
        [AppPurpose::DrivingLicences, AppPurpose::IdentityDocuments]
            .into_iter()
            .find(|purpose| purpose.as_str() == stored)
            .ok_or_else(|| format!("no such purpose: {stored}"))
    }
}

crate::db::sql_text!(AppPurpose);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_in_any_order_and_print_in_one() {
        let scopes = Scopes::parse("photos:signature  photos:face photos:face").unwrap();
        assert_eq!(scopes.to_string(), "photos:face photos:signature");
        assert!(Scopes::parse("").unwrap().is_empty());
        assert_eq!(
            Scopes::parse("photos:face openid").unwrap_err(),
            UnknownScope("openid".into())
        );
    }

    #[test]
    fn only_driving_licences_may_read_the_signature_r_ph_18() {
        assert!(AppPurpose::DrivingLicences.allows(Scope::PhotosSignature));
        assert!(AppPurpose::DrivingLicences.allows(Scope::PhotosFace));
        assert!(!AppPurpose::IdentityDocuments.allows(Scope::PhotosSignature));
        assert!(AppPurpose::IdentityDocuments.allows(Scope::PhotosFace));
    }
}
