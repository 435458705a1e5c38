//! Consents and the access log. A consent's row names the link it was
//! given on; whether it still counts is [`super::rules::is_active`] against
//! the citizen's current link, so no statement here ends one on unlinking.
//! One open consent per application and link is the partial UNIQUE index
//! `consents_one_open_idx`, so grants that race leave one row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rules::{AccessOutcome, Link};
use crate::db::schema::{apps, consents, photo_access_log};
use crate::db::{DbConn, on_backend};
use crate::domain::Afm;
use crate::domain::ids::{AccessLogId, AppId, ConsentId, SubmissionId};
use crate::oauth::store::AppRow;
use crate::photos::ImageKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub id: ConsentId,
    pub app_id: AppId,
    pub afm: Afm,
    pub submission_id: SubmissionId,
    pub linked_at: NaiveDateTime,
    pub granted_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ConsentRow {
    /// The link the consent was given on.
    pub fn link(&self) -> Link {
        Link {
            submission: self.submission_id.clone(),
            linked_at: self.linked_at,
        }
    }
}

/// Records a consent; false when an open one for the same application and
/// link exists (the partial UNIQUE index said so), and then nothing is
/// written.
pub fn insert_open(conn: &mut DbConn, row: &ConsentRow) -> QueryResult<bool> {
    let inserted = on_backend!(conn, |c| diesel::insert_into(consents::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// The consents of `afm` for `app` not revoked, on whichever link.
pub fn open_for(conn: &mut DbConn, app: &AppId, afm: &Afm) -> QueryResult<Vec<ConsentRow>> {
    consents::table
        .filter(consents::app_id.eq(app))
        .filter(consents::afm.eq(afm))
        .filter(consents::revoked_at.is_null())
        .select(ConsentRow::as_select())
        .load(conn)
}

/// Whether `afm` ever consented to anything, revoked and ended included.
pub fn ever_consented(conn: &mut DbConn, afm: &Afm) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        consents::table.filter(consents::afm.eq(afm)),
    ))
    .get_result(conn)
}

/// Every consent of `afm` not revoked, with its application, oldest first.
pub fn open_of(conn: &mut DbConn, afm: &Afm) -> QueryResult<Vec<(ConsentRow, AppRow)>> {
    consents::table
        .inner_join(apps::table)
        .filter(consents::afm.eq(afm))
        .filter(consents::revoked_at.is_null())
        .order((consents::granted_at, consents::id))
        .select((ConsentRow::as_select(), AppRow::as_select()))
        .load(conn)
}

/// Revokes the consent if no one did first; the row count decides.
pub fn revoke(conn: &mut DbConn, id: &ConsentId, now: NaiveDateTime) -> QueryResult<bool> {
    let revoked = diesel::update(
        consents::table
            .find(id)
            .filter(consents::revoked_at.is_null()),
    )
    .set(consents::revoked_at.eq(now))
    .execute(conn)?;
    Ok(revoked == 1)
}

/// One call of an application for a citizen's photo.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = photo_access_log)]
pub struct AccessRow {
    pub id: AccessLogId,
    pub app_id: AppId,
    /// `None` when the path held no well-formed AFM.
    pub afm: Option<Afm>,
    pub kind: ImageKind,
    pub outcome: AccessOutcome,
    pub at: NaiveDateTime,
}

pub fn log_access(conn: &mut DbConn, row: &AccessRow) -> QueryResult<()> {
    diesel::insert_into(photo_access_log::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The calls for `afm`'s photos before `before`, newest first (ids are
/// time-ordered), with the calling application's name; one more than
/// `limit`, for the next page's cursor.
pub fn accesses_of(
    conn: &mut DbConn,
    afm: &Afm,
    before: Option<&AccessLogId>,
    limit: u32,
) -> QueryResult<Vec<(AccessRow, String)>> {
    let mut query = photo_access_log::table
        .inner_join(apps::table)
        .filter(photo_access_log::afm.eq(afm))
        .order(photo_access_log::id.desc())
        .limit(i64::from(limit) + 1)
        .select((AccessRow::as_select(), apps::name))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(photo_access_log::id.lt(before.clone()));
    }
    query.load(conn)
}
