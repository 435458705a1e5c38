//! An application's call for a citizen's photo (R-PH-15, R-PH-18), decided
//! and logged in one transaction: the answer goes out only once its row in
//! the access log is committed.
//!
//! A citizen who is unknown, has nothing linked, or has photos but no
//! consent for this application answers the same `403 consent_required`,
//! on one path: the same statements run whoever the AFM is, and the one
//! branch on what they found comes after them, so neither the answer nor
//! the work behind it tells one case from another.

use chrono::NaiveDateTime;

use super::rules::{self, AccessOutcome, Link};
use super::store::{self, AccessRow};
use crate::db::DbConn;
use crate::domain::Afm;
use crate::domain::ids::{AccessLogId, AppId};
use crate::http::{ApiError, ErrorCode, parse_path_afm};
use crate::oauth::{App, Scope};
use crate::photos::ImageKind;
use crate::photos::store::{self as photos, FileRow};

/// The scope a token needs for each image (R-PH-18: applications get the
/// signature's only when registered for driving licences).
pub fn scope_for(kind: ImageKind) -> Scope {
    match kind {
        ImageKind::Face => Scope::PhotosFace,
        ImageKind::Signature => Scope::PhotosSignature,
    }
}

/// Why a call was refused, in the order the checks run.
enum Refusal {
    Scope(ApiError),
    Afm(ApiError),
    NoConsent,
}

impl Refusal {
    fn outcome(&self) -> AccessOutcome {
        match self {
            Refusal::Scope(_) => AccessOutcome::InsufficientScope,
            Refusal::Afm(_) => AccessOutcome::InvalidAfm,
            Refusal::NoConsent => AccessOutcome::ConsentRequired,
        }
    }

    fn into_error(self) -> ApiError {
        match self {
            Refusal::Scope(error) | Refusal::Afm(error) => error,
            Refusal::NoConsent => ApiError::new(ErrorCode::ConsentRequired),
        }
    }
}

/// Decides `app`'s call for the `kind` image of the AFM written `afm` in
/// the path, and logs it, allowed or refused. The outer error is the
/// transaction's (it rolls back); the inner one is the call's answer, its
/// log row committed.
pub fn fetch(
    tx: &mut DbConn,
    app: &App,
    afm: &str,
    kind: ImageKind,
    now: NaiveDateTime,
) -> Result<Result<FileRow, ApiError>, ApiError> {
    let scoped = app.require(scope_for(kind)).map_err(Refusal::Scope);
    let afm = parse_path_afm(afm);
    let logged_afm = afm.as_ref().ok().cloned();
    let decided = match (scoped, afm) {
        (Err(refusal), _) => Err(refusal),
        (Ok(()), Err(error)) => Err(Refusal::Afm(error)),
        (Ok(()), Ok(afm)) => consented_file(tx, &app.id, &afm, kind)?.ok_or(Refusal::NoConsent),
    };
    let outcome = decided
        .as_ref()
        .map_or_else(Refusal::outcome, |_| AccessOutcome::Allowed);
    store::log_access(
        tx,
        &AccessRow {
            id: AccessLogId::generate(),
            app_id: app.id.clone(),
            afm: logged_afm,
            kind,
            outcome,
            at: now,
        },
    )?;
    Ok(decided.map_err(Refusal::into_error))
}

/// The `kind` file of the photos linked to `afm`, if `app` holds a consent
/// that counts now (R-PH-15, R-PH-16).
fn consented_file(
    tx: &mut DbConn,
    app: &AppId,
    afm: &Afm,
    kind: ImageKind,
) -> Result<Option<FileRow>, ApiError> {
    let current = photos::linked_to(tx, afm)?.as_ref().and_then(Link::of);
    let open = store::open_for(tx, app, afm)?;
    let consented =
        current.filter(|link| open.iter().any(|c| rules::is_active(&c.link(), Some(link))));
    let Some(link) = consented else {
        return Ok(None);
    };
    let file = photos::files(tx, &link.submission)?
        .into_iter()
        .find(|file| file.kind == kind)
        .ok_or_else(|| ApiError::internal("a linked submission without one of its files"))?;
    Ok(Some(file))
}
