//! The append-only audit trail: every read or change of personal data by
//! staff or applications leaves a row saying who, when, what and under which
//! role (R-BK-10). Rows are written in the same transaction as the access,
//! so an access that happened is never missing from the trail.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::audit_events;

/// Who acted, in which role, within which scope (department, municipality).
pub struct Actor<'a> {
    pub afm: &'a str,
    pub role: &'static str,
    pub scope_id: &'a str,
}

/// One access to one subject, e.g. `("reservation.check_in", "reservation", id)`.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &str,
    subject: (&'static str, &str),
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_events::at.eq(now),
            audit_events::actor_afm.eq(actor.afm),
            audit_events::actor_role.eq(actor.role),
            audit_events::action.eq(action),
            audit_events::subject_type.eq(subject.0),
            audit_events::subject_id.eq(subject.1),
            audit_events::scope_id.eq(actor.scope_id),
        ))
        .execute(conn)
        .map(drop)
}

/// Records the same access for many subjects (a staff list view).
pub fn record_many<'s>(
    conn: &mut DbConn,
    actor: &Actor<'_>,
    action: &'static str,
    subjects: impl Iterator<Item = (&'static str, &'s str)>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    for subject in subjects {
        record(conn, actor, action, subject, now)?;
    }
    Ok(())
}
