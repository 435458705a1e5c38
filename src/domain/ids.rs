//! Typed ids: UUIDv7 (time-ordered, so indexes stay compact), stored and
//! shown as text. A distinct type per entity keeps a department id from
//! being passed where a municipality id is expected, in rows, queries and
//! handlers alike; `crate::db` maps them to SQL text on both backends.
//!
//! An id holds its canonical text (lowercase, hyphenated), so that queries
//! can bind it without formatting it again; only [`FromStr`] and
//! `generate` make one outside the database, and both give that form.
//! Deserializing goes through `FromStr` too, so an id read back from a
//! page cursor (which a client could have edited) is a UUID as well.

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $example:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        // A newtype serializes as its text; reading one parses it.
        #[serde(try_from = "String")]
        #[schema(value_type = String, format = Uuid, example = $example)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// A new id, ordered after every id made before it.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().hyphenated().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::try_parse(s).map(|id| Self(id.hyphenated().to_string()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = uuid::Error;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
    };
}

typed_id!(
    /// A municipality (Δήμος).
    MunicipalityId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a01"
);
typed_id!(
    /// A department of a municipality, the unit that serves citizens.
    DepartmentId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02"
);
typed_id!(
    /// A thematic service category that citizens book.
    ServiceId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a03"
);
typed_id!(
    /// A document a service asks citizens for.
    DocumentId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a07"
);
typed_id!(
    /// A bookable time of a service, with a number of seats.
    SlotId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a05"
);
typed_id!(
    /// A citizen's reservation of a seat in a slot.
    ReservationId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a06"
);
typed_id!(
    /// A signed-in session; its one-time codes are keyed by it.
    SessionId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a08"
);
typed_id!(
    /// An outbox message; receivers use it to drop duplicate deliveries.
    MessageId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a04"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_are_time_ordered() {
        let first = MunicipalityId::generate();
        let second = MunicipalityId::generate();
        assert!(first < second);
        assert_eq!(first.to_string().parse::<MunicipalityId>().unwrap(), first);
        assert!("not-a-uuid".parse::<MunicipalityId>().is_err());
        // Any spelling of a UUID becomes the one the database holds.
        let upper = first.to_string().to_uppercase();
        assert_eq!(upper.parse::<MunicipalityId>().unwrap(), first);
    }

    #[test]
    fn ids_read_from_json_are_uuids_and_written_as_text() {
        let id = ServiceId::generate();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<ServiceId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ServiceId>("\"not-a-uuid\"").is_err());
    }
}
typed_id!(
    /// A registered photo studio (R-PH-01).
    StudioId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a07"
);
typed_id!(
    /// One upload of a face photo and a signature, with its kodikarithmos.
    SubmissionId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a08"
);
typed_id!(
    /// A registered third-party application (a ministry system).
    AppId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a09"
);
typed_id!(
    /// An application's OAuth client identifier, what it authenticates as.
    ClientId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a"
);
typed_id!(
    /// A citizen's authorization of an application (R-PH-15).
    ConsentId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0b"
);
typed_id!(
    /// One call of an application for a citizen's photo, in the access log;
    /// time-ordered, so the log pages newest first by it.
    AccessLogId, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0c"
);
