//! The citizen's operations on their consents, each on the caller's
//! transaction: `grant` (R-PH-15), `revoke`, and `active`, the consents
//! that count now. Each change is recorded in the audit trail.

use chrono::NaiveDateTime;

use super::rules::{self, Link};
use super::store::{self, ConsentRow};
use crate::audit::{self, Actor};
use crate::db::DbConn;
use crate::domain::Afm;
use crate::domain::ids::{AppId, ConsentId};
use crate::http::{ApiError, ErrorCode, Text};
use crate::oauth::store::{self as apps, AppRow};
use crate::photos;

/// A consent that counts, with the application it was given to.
pub struct Active {
    pub consent: ConsentRow,
    pub app: AppRow,
}

/// What a grant came to: the consent, and whether this grant made it.
pub struct Granted {
    pub active: Active,
    pub created: bool,
}

/// The citizen's current link, if anything is linked.
fn current_link(conn: &mut DbConn, afm: &Afm) -> Result<Option<Link>, ApiError> {
    Ok(photos::store::linked_to(conn, afm)?
        .as_ref()
        .and_then(Link::of))
}

/// The consents of `afm` that count now, oldest first.
pub fn active(conn: &mut DbConn, afm: &Afm) -> Result<Vec<Active>, ApiError> {
    let current = current_link(conn, afm)?;
    Ok(store::open_of(conn, afm)?
        .into_iter()
        .filter(|(consent, _)| rules::is_active(&consent.link(), current.as_ref()))
        .map(|(consent, app)| Active { consent, app })
        .collect())
}

/// The consent of `afm` for `app` that counts now, if any.
fn active_for(conn: &mut DbConn, app: &AppId, afm: &Afm) -> Result<Option<ConsentRow>, ApiError> {
    let current = current_link(conn, afm)?;
    Ok(store::open_for(conn, app, afm)?
        .into_iter()
        .find(|consent| rules::is_active(&consent.link(), current.as_ref())))
}

/// R-PH-15: authorizes `app` to fetch the photos linked to `afm` now, on
/// that link. Idempotent: a consent that already counts is answered as it
/// is. An application unknown or disabled is `404`; nothing linked, `409
/// nothing_linked`.
pub fn grant(
    tx: &mut DbConn,
    afm: &Afm,
    app: &AppId,
    now: NaiveDateTime,
) -> Result<Granted, ApiError> {
    let app = apps::app(tx, app)?
        .filter(|app| app.disabled_at.is_none())
        .ok_or_else(no_such_app)?;
    let link = current_link(tx, afm)?.ok_or_else(|| ApiError::new(ErrorCode::NothingLinked))?;
    let row = ConsentRow {
        id: ConsentId::generate(),
        app_id: app.id.clone(),
        afm: afm.clone(),
        submission_id: link.submission,
        linked_at: link.linked_at,
        granted_at: now,
        revoked_at: None,
    };
    if store::insert_open(tx, &row)? {
        audit::record(
            tx,
            &actor(afm),
            "consent.grant",
            ("app", app.id.as_str()),
            now,
        )?;
        return Ok(Granted {
            active: Active { consent: row, app },
            created: true,
        });
    }
    // Another grant on this link was first; it is the one that counts.
    let consent = active_for(tx, &app.id, afm)?
        .ok_or_else(|| ApiError::internal("a consent neither inserted nor found"))?;
    Ok(Granted {
        active: Active { consent, app },
        created: false,
    })
}

/// Revokes the consent of `afm` for `app` that counts now; `404` when
/// there is none (never given, revoked already, or ended by unlinking).
/// The application's next request is refused: every fetch reads the
/// consent anew.
pub fn revoke(tx: &mut DbConn, afm: &Afm, app: &AppId, now: NaiveDateTime) -> Result<(), ApiError> {
    let consent = active_for(tx, app, afm)?.ok_or_else(no_consent)?;
    if !store::revoke(tx, &consent.id, now)? {
        // A revocation at the same moment took it.
        return Err(no_consent());
    }
    audit::record(
        tx,
        &actor(afm),
        "consent.revoke",
        ("app", app.as_str()),
        now,
    )?;
    Ok(())
}

/// The citizen acts for themselves, within no municipality or department.
fn actor(afm: &Afm) -> Actor<'_> {
    Actor {
        afm: afm.as_str(),
        role: "citizen",
        scope_id: "",
    }
}

fn no_such_app() -> ApiError {
    ApiError::not_found().with_detail(Text::new(
        "Δεν υπάρχει ενεργή εφαρμογή με αυτό το αναγνωριστικό.",
        "No enabled application has this id.",
    ))
}

fn no_consent() -> ApiError {
    ApiError::not_found().with_detail(Text::new(
        "Δεν έχετε ενεργή εξουσιοδότηση για αυτή την εφαρμογή.",
        "You have no active authorization for this application.",
    ))
}
