//! The citizen's operations on a kodikarithmos, each one transaction:
//! `preview` (R-PH-11), `link` (R-PH-06, R-PH-07, R-PH-08, R-PH-10) and
//! `unlink` (R-PH-16, R-PH-07).
//!
//! A code that is unknown, expired before any link, deleted, or bound to
//! another AFM answers `404 code_not_found` alike, and on one path: the
//! lookup runs the same queries whatever it finds, and the one branch on
//! its result comes after them, so neither the answer nor its timing tells
//! one case from another.

use chrono::{DateTime, Duration, Utc};

use super::rules::{self, DAILY_LIMIT};
use super::store::{self, LinkRefused, SubmissionRow};
use crate::db::DbConn;
use crate::domain::Afm;
use crate::http::{ApiError, ErrorCode};

/// Who acts and the hash of the code they typed.
pub struct Attempt<'a> {
    pub afm: &'a Afm,
    pub code_hash: &'a str,
    pub tries_per_hour: i32,
}

/// What a try of a code came to. A wrong code is not an error of the
/// transaction: the try it took must be committed, so that it counts.
pub enum Tried<T> {
    Found(T),
    NotFound,
}

impl<T> Tried<T> {
    pub fn found(self) -> Result<T, ApiError> {
        match self {
            Tried::Found(found) => Ok(found),
            Tried::NotFound => Err(ApiError::new(ErrorCode::CodeNotFound)),
        }
    }
}

/// Takes a try from the AFM's allowance, then finds the submission the
/// code names if `visible` says the caller may see it; a right code gives
/// its try back.
fn find(
    tx: &mut DbConn,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
    visible: impl Fn(&SubmissionRow) -> bool,
) -> Result<Tried<SubmissionRow>, ApiError> {
    store::take_code_attempt(
        tx,
        attempt.afm,
        now.naive_utc(),
        Duration::hours(1),
        attempt.tries_per_hour,
    )?
    .map_err(|wait| ApiError::new(ErrorCode::RateLimited).retry_after(wait))?;
    let found = store::submission_by_code(tx, attempt.code_hash)?.filter(visible);
    match found {
        Some(row) => {
            store::give_back_code_attempt(tx, attempt.afm)?;
            Ok(Tried::Found(row))
        }
        None => Ok(Tried::NotFound),
    }
}

/// Whether `afm` may see the submission: it is linked to them, or bound
/// to them and within the relink window, or bound to no one and within the
/// first link window.
fn visible_to(row: &SubmissionRow, afm: &Afm, now: DateTime<Utc>) -> bool {
    match (&row.linked_afm, &row.bound_afm) {
        (Some(linked), _) => linked == afm,
        (None, Some(bound)) => bound == afm && now < deadline(row),
        (None, None) => now < deadline(row),
    }
}

fn deadline(row: &SubmissionRow) -> DateTime<Utc> {
    rules::link_deadline(row.created_at.and_utc(), row.bound_afm.is_some())
}

/// R-PH-11: the submission the citizen may look at before linking.
pub fn preview(
    tx: &mut DbConn,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
) -> Result<Tried<SubmissionRow>, ApiError> {
    find(tx, attempt, now, |row| visible_to(row, attempt.afm, now))
}

/// Links the code to the caller's AFM. Anything linked to them already,
/// this code included, is `409 already_linked`, so that every link that
/// answers `200` is one of the day's five. A code past its window is `410`,
/// told apart from an unknown one only for the AFM it is bound to, or for
/// anyone while it is bound to no one.
///
/// The submission's row is changed before the day's count, and the same
/// holds in [`unlink`]: racing links and unlinks take their locks in one
/// order, and an operation refused by the count rolls back with it.
pub fn link(
    tx: &mut DbConn,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
) -> Result<Tried<SubmissionRow>, ApiError> {
    let afm = attempt.afm;
    let tried = find(tx, attempt, now, |row| {
        row.bound_afm.as_ref().is_none_or(|bound| bound == afm)
    })?;
    let Tried::Found(row) = tried else {
        return Ok(Tried::NotFound);
    };
    if row.linked_afm.is_some() {
        return Err(ApiError::new(ErrorCode::AlreadyLinked));
    }
    if now >= deadline(&row) {
        return Err(ApiError::new(ErrorCode::CodeExpired));
    }
    match store::link(tx, &row.id, afm, now.naive_utc())? {
        Ok(()) => {}
        Err(LinkRefused::AnotherLinked) => return Err(ApiError::new(ErrorCode::AlreadyLinked)),
        // Another request linked or bound it since the lookup: this AFM's
        // own link of it is a link already made; anyone else's, a code
        // that is not theirs.
        Err(LinkRefused::NotAvailable) => {
            return match store::linked_to(tx, afm)? {
                Some(_) => Err(ApiError::new(ErrorCode::AlreadyLinked)),
                None => Ok(Tried::NotFound),
            };
        }
    }
    take_daily_operation(tx, afm, now)?;
    Ok(Tried::Found(SubmissionRow {
        bound_afm: Some(afm.clone()),
        linked_afm: Some(afm.clone()),
        linked_at: Some(now.naive_utc()),
        ..row
    }))
}

/// R-PH-16: detaches what is linked to the AFM; it stays bound to them,
/// and relinkable until its relink window closes (R-PH-10).
pub fn unlink(tx: &mut DbConn, afm: &Afm, now: DateTime<Utc>) -> Result<(), ApiError> {
    store::unlink(tx, afm)?.ok_or_else(|| ApiError::new(ErrorCode::NotLinked))?;
    take_daily_operation(tx, afm, now)
}

/// R-PH-07: one of the day's five, or `429` until Athens midnight.
fn take_daily_operation(tx: &mut DbConn, afm: &Afm, now: DateTime<Utc>) -> Result<(), ApiError> {
    if store::take_daily_operation(tx, afm, rules::athens_day(now), DAILY_LIMIT)? {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::DailyLimitReached)
        .retry_after(rules::next_athens_midnight(now) - now))
}
