//! When a consent counts (R-PH-15, R-PH-16), and what the access log calls
//! each answer to an application: pure, so that tests hit them directly.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ids::SubmissionId;
use crate::photos::store::SubmissionRow;

/// One link of a citizen's photos: the submission, and when it was linked.
/// Linking the same submission again makes another link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub submission: SubmissionId,
    pub linked_at: NaiveDateTime,
}

impl Link {
    /// The link a submission row stands for, if it is linked now.
    pub fn of(row: &SubmissionRow) -> Option<Link> {
        row.linked_at.map(|linked_at| Link {
            submission: row.id.clone(),
            linked_at,
        })
    }
}

/// R-PH-15, R-PH-16: a consent not revoked counts only while the link it
/// was given on is the citizen's current link. Unlinking ends it, and a
/// later link of the same submission is another link, which it does not
/// cover.
pub fn is_active(given_on: &Link, current: Option<&Link>) -> bool {
    current == Some(given_on)
}

/// What an application's call for a photo came to, as the access log
/// keeps it. Refusals are named in the order they are checked: the token's
/// scope, then the AFM's form, then the consent.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
#[schema(example = "allowed")]
pub enum AccessOutcome {
    /// The image was served.
    Allowed,
    /// The token was not issued for this image.
    InsufficientScope,
    /// The path held no well-formed AFM; such a row names no citizen.
    InvalidAfm,
    /// No active consent of this citizen for this application.
    ConsentRequired,
}

impl AccessOutcome {
    const ALL: [AccessOutcome; 4] = [
        AccessOutcome::Allowed,
        AccessOutcome::InsufficientScope,
        AccessOutcome::InvalidAfm,
        AccessOutcome::ConsentRequired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessOutcome::Allowed => "allowed",
            AccessOutcome::InsufficientScope => "insufficient_scope",
            AccessOutcome::InvalidAfm => "invalid_afm",
            AccessOutcome::ConsentRequired => "consent_required",
        }
    }
}

impl std::str::FromStr for AccessOutcome {
    type Err = String;

    fn from_str(stored: &str) -> Result<AccessOutcome, String> {
        AccessOutcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == stored)
            .ok_or_else(|| format!("no such access outcome: {stored}"))
    }
}

crate::db::sql_text!(AccessOutcome);

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn link(submission: &SubmissionId, minute: i64) -> Link {
        let epoch = "2026-12-02T10:00:00".parse::<NaiveDateTime>().unwrap();
        Link {
            submission: submission.clone(),
            linked_at: epoch + Duration::minutes(minute),
        }
    }

    #[test]
    fn r_ph_15_r_ph_16_a_consent_counts_only_on_the_link_it_was_given_on() {
        let (first, second) = (SubmissionId::generate(), SubmissionId::generate());
        let given_on = link(&first, 0);
        assert!(is_active(&given_on, Some(&link(&first, 0))));
        // Unlinked: nothing is linked now.
        assert!(!is_active(&given_on, None));
        // The same submission linked again is another link.
        assert!(!is_active(&given_on, Some(&link(&first, 5))));
        // Another submission linked since.
        assert!(!is_active(&given_on, Some(&link(&second, 0))));
    }

    #[test]
    fn outcomes_are_stored_as_their_names_and_read_back() {
        for outcome in AccessOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<AccessOutcome>(), Ok(outcome));
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::Value::from(outcome.as_str())
            );
        }
        assert!("maybe".parse::<AccessOutcome>().is_err());
    }
}
