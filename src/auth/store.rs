//! Login states and sessions in the database, so that several instances
//! share them. Secrets are looked up by their hash only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::{Text, Timestamp};

use crate::db::schema::{login_states, sessions};
use crate::db::{DbConn, fixed_update, on_backend};
use crate::domain::ids::SessionId;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_states)]
pub struct LoginStateRow {
    pub state_hash: String,
    pub pkce_verifier: String,
    pub return_to: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: SessionId,
    pub token_hash: String,
    pub afm: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub strong_at: Option<NaiveDateTime>,
}

pub fn insert_login_state(conn: &mut DbConn, row: &LoginStateRow) -> QueryResult<()> {
    diesel::insert_into(login_states::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Takes a login state once: the row is read and deleted in one
/// transaction, and only the caller whose DELETE removed it gets it, so a
/// replayed `state` fails even when both arrive at once.
pub fn take_login_state(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<LoginStateRow>> {
    crate::db::write_transaction(conn, |tx| {
        let row: Option<LoginStateRow> = login_states::table
            .find(hash)
            .select(LoginStateRow::as_select())
            .first(tx)
            .optional()?;
        let deleted = diesel::delete(login_states::table.find(hash)).execute(tx)?;
        Ok(row.filter(|r| deleted == 1 && r.expires_at > now))
    })
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The live session with this token hash: within its absolute limit and
/// used since `idle_since`. Touches `last_seen_at` (sliding expiry), but at
/// most once per `touch_every` to spare a write on every request.
pub fn live_session(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
    touch_every: chrono::Duration,
) -> QueryResult<Option<SessionRow>> {
    let found: Option<SessionRow> = on_backend!(conn, |c| sessions::table
        .filter(sessions::token_hash.eq(token_hash))
        .select(SessionRow::as_select())
        .first(c)
        .optional())?;
    let Some(mut session) = found else {
        return Ok(None);
    };
    if session.expires_at <= now || session.last_seen_at <= idle_since {
        diesel::delete(sessions::table.find(&session.id)).execute(conn)?;
        return Ok(None);
    }
    if now - session.last_seen_at >= touch_every {
        let touch = TouchSession {
            last_seen_at: &now,
            id: session.id.as_str(),
        };
        on_backend!(conn, |c| touch.execute(c))?;
        session.last_seen_at = now;
    }
    Ok(Some(session))
}

fixed_update! {
    TouchSession { last_seen_at: NaiveDateTime as Timestamp, id: str as Text }
    = "UPDATE sessions SET last_seen_at = ? WHERE id = ?"
}

pub fn mark_strong(
    conn: &mut DbConn,
    session_id: &SessionId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::strong_at.eq(Some(now)))
        .execute(conn)
        .map(drop)
}

pub fn delete_session(conn: &mut DbConn, session_id: &SessionId) -> QueryResult<()> {
    diesel::delete(sessions::table.find(session_id))
        .execute(conn)
        .map(drop)
}
