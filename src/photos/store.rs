//! Studio, submission and file queries. The rules that must hold under
//! concurrency are decided by the database: one linked code per AFM by the
//! UNIQUE `linked_afm`, the binding to the first AFM by the UPDATE that
//! names it, the daily count and the wrong-code throttle by conditional
//! statements whose row counts answer.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{
    photo_code_attempts, photo_files, photo_link_counts, photo_submissions, studios,
};
use crate::db::{DbConn, on_backend};
use crate::domain::Afm;
use crate::domain::ids::{StudioId, SubmissionId};
use crate::photos::images::{ImageKind, StoredFormat};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = studios)]
pub struct StudioRow {
    pub id: StudioId,
    pub name: String,
    pub business_afm: Afm,
    pub owner_afm: Afm,
    pub created_at: NaiveDateTime,
}

/// The studio registered under `business_afm`, if any.
pub fn studio_of_business(conn: &mut DbConn, business_afm: &Afm) -> QueryResult<Option<StudioRow>> {
    studios::table
        .filter(studios::business_afm.eq(business_afm))
        .select(StudioRow::as_select())
        .first(conn)
        .optional()
}

/// Registers a studio; answers false when its business AFM already has one.
pub fn insert_studio(conn: &mut DbConn, row: &StudioRow) -> QueryResult<bool> {
    let inserted = on_backend!(conn, |c| diesel::insert_into(studios::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub fn studio(conn: &mut DbConn, id: &StudioId) -> QueryResult<Option<StudioRow>> {
    studios::table
        .find(id)
        .select(StudioRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = photo_submissions)]
pub struct SubmissionRow {
    pub id: SubmissionId,
    pub studio_id: StudioId,
    pub uploaded_by: Afm,
    /// The keyed hash of the code's canonical form.
    pub code_hash: String,
    /// The code sealed under the photo master key, bound to `id`.
    pub code_sealed: Vec<u8>,
    pub mobile_hint: Option<String>,
    pub email_hint: Option<String>,
    pub created_at: NaiveDateTime,
    pub bound_afm: Option<Afm>,
    pub linked_afm: Option<Afm>,
    pub linked_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
}

pub fn insert_submission(conn: &mut DbConn, row: &SubmissionRow) -> QueryResult<()> {
    diesel::insert_into(photo_submissions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The studio's submissions after `after`, oldest first; one more than
/// `limit`, for the next page's cursor.
pub fn submissions_of(
    conn: &mut DbConn,
    studio: &StudioId,
    after: Option<&SubmissionId>,
    limit: u32,
) -> QueryResult<Vec<SubmissionRow>> {
    let mut query = photo_submissions::table
        .filter(photo_submissions::studio_id.eq(studio))
        .order(photo_submissions::id)
        .limit(i64::from(limit) + 1)
        .select(SubmissionRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(photo_submissions::id.gt(after.clone()));
    }
    query.load(conn)
}

pub fn submission_of_studio(
    conn: &mut DbConn,
    studio: &StudioId,
    id: &SubmissionId,
) -> QueryResult<Option<SubmissionRow>> {
    photo_submissions::table
        .find(id)
        .filter(photo_submissions::studio_id.eq(studio))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// The submission whose code hashes to `code_hash`, files not deleted.
pub fn submission_by_code(
    conn: &mut DbConn,
    code_hash: &str,
) -> QueryResult<Option<SubmissionRow>> {
    photo_submissions::table
        .filter(photo_submissions::code_hash.eq(code_hash))
        .filter(photo_submissions::deleted_at.is_null())
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// What is linked to `afm` now, if anything.
pub fn linked_to(conn: &mut DbConn, afm: &Afm) -> QueryResult<Option<SubmissionRow>> {
    photo_submissions::table
        .filter(photo_submissions::linked_afm.eq(afm))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// Why a link did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefused {
    /// Another code is linked to the AFM (the UNIQUE index said so).
    AnotherLinked,
    /// The code is linked now, or bound to another AFM, or deleted.
    NotAvailable,
}

/// Links the submission to `afm`, binding it to that AFM if it is the first.
pub fn link(
    conn: &mut DbConn,
    id: &SubmissionId,
    afm: &Afm,
    now: NaiveDateTime,
) -> QueryResult<Result<(), LinkRefused>> {
    let available = photo_submissions::table
        .find(id)
        .filter(photo_submissions::linked_afm.is_null())
        .filter(photo_submissions::deleted_at.is_null())
        .filter(
            photo_submissions::bound_afm
                .is_null()
                .or(photo_submissions::bound_afm.eq(afm)),
        );
    let updated = diesel::update(available)
        .set((
            photo_submissions::linked_afm.eq(afm),
            photo_submissions::bound_afm.eq(afm),
            photo_submissions::linked_at.eq(now),
        ))
        .execute(conn);
    match updated {
        Ok(1) => Ok(Ok(())),
        Ok(_) => Ok(Err(LinkRefused::NotAvailable)),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(Err(LinkRefused::AnotherLinked))
        }
        Err(e) => Err(e),
    }
}

/// Detaches whatever is linked to `afm`; answers what it was.
pub fn unlink(conn: &mut DbConn, afm: &Afm) -> QueryResult<Option<SubmissionId>> {
    diesel::update(photo_submissions::table.filter(photo_submissions::linked_afm.eq(afm)))
        .set((
            photo_submissions::linked_afm.eq(None::<Afm>),
            photo_submissions::linked_at.eq(None::<NaiveDateTime>),
        ))
        .returning(photo_submissions::id)
        .get_result(conn)
        .optional()
}

/// Marks the submission's files deleted and drops their rows, wrapped data
/// keys included; answers the object keys to remove from the blob store.
pub fn mark_deleted(
    conn: &mut DbConn,
    id: &SubmissionId,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    diesel::update(
        photo_submissions::table
            .find(id)
            .filter(photo_submissions::deleted_at.is_null())
            .filter(photo_submissions::linked_afm.is_null()),
    )
    .set(photo_submissions::deleted_at.eq(now))
    .execute(conn)?;
    diesel::delete(photo_files::table.filter(photo_files::submission_id.eq(id)))
        .returning(photo_files::object_key)
        .load(conn)
}

/// Submissions' sealed codes by id, after `after`: a page of at most
/// `limit`.
pub fn sealed_codes_after(
    conn: &mut DbConn,
    after: Option<&SubmissionId>,
    limit: i64,
) -> QueryResult<Vec<(SubmissionId, Vec<u8>)>> {
    let mut query = photo_submissions::table
        .order(photo_submissions::id)
        .limit(limit)
        .select((photo_submissions::id, photo_submissions::code_sealed))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(photo_submissions::id.gt(after.clone()));
    }
    query.load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = photo_files)]
pub struct FileRow {
    pub submission_id: SubmissionId,
    pub kind: ImageKind,
    pub content_type: StoredFormat,
    pub object_key: String,
    pub wrapped_key: Vec<u8>,
    pub master_key_id: String,
    pub size_bytes: i64,
    pub sha256: String,
}

pub fn insert_files(conn: &mut DbConn, rows: &[FileRow]) -> QueryResult<()> {
    // One statement per row: the multi-backend connection has no batch
    // insert, and an upload has two files.
    for row in rows {
        diesel::insert_into(photo_files::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn files(conn: &mut DbConn, id: &SubmissionId) -> QueryResult<Vec<FileRow>> {
    photo_files::table
        .filter(photo_files::submission_id.eq(id))
        .order(photo_files::kind)
        .select(FileRow::as_select())
        .load(conn)
}

/// Takes one of the AFM's link and unlink operations for `day`; false
/// when `limit` are already taken (R-PH-07).
pub fn take_daily_operation(
    conn: &mut DbConn,
    afm: &Afm,
    day: NaiveDate,
    limit: i32,
) -> QueryResult<bool> {
    let day = day.to_string();
    let first = (
        photo_link_counts::afm.eq(afm),
        photo_link_counts::day.eq(&day),
        photo_link_counts::taken.eq(0),
    );
    on_backend!(conn, |c| diesel::insert_into(photo_link_counts::table)
        .values(first)
        .on_conflict_do_nothing()
        .execute(c))?;
    let taken = diesel::update(
        photo_link_counts::table
            .find((afm, &day))
            .filter(photo_link_counts::taken.lt(limit)),
    )
    .set(photo_link_counts::taken.eq(photo_link_counts::taken + 1))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Takes one try of a code from the AFM's allowance of `limit` per
/// `window`, or says how long until the window starts again.
pub fn take_code_attempt(
    conn: &mut DbConn,
    afm: &Afm,
    now: NaiveDateTime,
    window: Duration,
    limit: i32,
) -> QueryResult<Result<(), Duration>> {
    let first = (
        photo_code_attempts::afm.eq(afm),
        photo_code_attempts::window_start.eq(now),
        photo_code_attempts::attempts.eq(0),
    );
    on_backend!(conn, |c| diesel::insert_into(photo_code_attempts::table)
        .values(first)
        .on_conflict_do_nothing()
        .execute(c))?;
    let row = photo_code_attempts::table.find(afm);
    diesel::update(row.filter(photo_code_attempts::window_start.le(now - window)))
        .set((
            photo_code_attempts::window_start.eq(now),
            photo_code_attempts::attempts.eq(0),
        ))
        .execute(conn)?;
    let taken = diesel::update(row.filter(photo_code_attempts::attempts.lt(limit)))
        .set(photo_code_attempts::attempts.eq(photo_code_attempts::attempts + 1))
        .execute(conn)?;
    if taken == 1 {
        return Ok(Ok(()));
    }
    let window_start: NaiveDateTime = row.select(photo_code_attempts::window_start).first(conn)?;
    Ok(Err(window_start + window - now))
}

/// Gives back the try a right code took: only wrong codes count.
pub fn give_back_code_attempt(conn: &mut DbConn, afm: &Afm) -> QueryResult<()> {
    diesel::update(
        photo_code_attempts::table
            .find(afm)
            .filter(photo_code_attempts::attempts.gt(0)),
    )
    .set(photo_code_attempts::attempts.eq(photo_code_attempts::attempts - 1))
    .execute(conn)
    .map(drop)
}
