//! The visit at the serving department's desk (R-BK-06 c-e, R-BK-08), each
//! step one audited transaction: check-in with an identity document,
//! completion, no-show. Another department's staff get `403` before
//! anything about the reservation or the request answers.

use chrono::NaiveDateTime;

use super::store::{self, ReservationRow, ReservationStatus};
use super::view::{Reservation, Views, zone};
use crate::audit::{self, Actor};
use crate::auth::Staff;
use crate::auth::roles::Role;
use crate::db::{DbConn, write_transaction};
use crate::domain::ids::{DepartmentId, ReservationId};
use crate::http::{ApiError, ErrorCode};

/// Who acts, for the audit trail.
pub(super) fn actor<'a>(staff: &'a Staff, department: &'a DepartmentId) -> Actor<'a> {
    Actor {
        afm: staff.session.afm.as_str(),
        role: Role::Staff.as_str(),
        scope_id: department.as_str(),
    }
}

/// The reservation, for staff of its department: `404` if missing, `403`
/// if another department's (R-BK-08).
fn for_staff(
    conn: &mut DbConn,
    staff: &Staff,
    id: &ReservationId,
) -> Result<ReservationRow, ApiError> {
    let row = store::find(conn, id)?.ok_or_else(ApiError::not_found)?;
    staff.require(&row.department_id)?;
    Ok(row)
}

struct Step {
    from: ReservationStatus,
    to: ReservationStatus,
    action: &'static str,
    identity_document: Option<&'static str>,
}

/// The visitor came and showed `identity_document`, on the appointment's
/// day in the municipality's zone. `identity_document` is the request's
/// verdict on its body, answered only to staff of the department.
pub fn check_in(
    conn: &mut DbConn,
    staff: &Staff,
    id: &ReservationId,
    identity_document: Result<&'static str, ApiError>,
    now: NaiveDateTime,
) -> Result<Reservation, ApiError> {
    write_transaction(conn, |tx| {
        let row = for_staff(tx, staff, id)?;
        let document = identity_document?;
        let zone = zone(&store::service_context(tx, &row.service_id)?);
        let day = |at: NaiveDateTime| at.and_utc().with_timezone(&zone).date_naive();
        if day(now) != day(row.starts_at) {
            return Err(ApiError::new(ErrorCode::InvalidTransition));
        }
        let step = Step {
            from: ReservationStatus::Confirmed,
            to: ReservationStatus::CheckedIn,
            action: "reservation.check_in",
            identity_document: Some(document),
        };
        advance(tx, staff, row, step, now)
    })
}

/// The visitor was served.
pub fn complete(
    conn: &mut DbConn,
    staff: &Staff,
    id: &ReservationId,
    now: NaiveDateTime,
) -> Result<Reservation, ApiError> {
    write_transaction(conn, |tx| {
        let row = for_staff(tx, staff, id)?;
        let step = Step {
            from: ReservationStatus::CheckedIn,
            to: ReservationStatus::Completed,
            action: "reservation.complete",
            identity_document: None,
        };
        advance(tx, staff, row, step, now)
    })
}

/// The visitor did not come; only once the appointment has started.
pub fn no_show(
    conn: &mut DbConn,
    staff: &Staff,
    id: &ReservationId,
    now: NaiveDateTime,
) -> Result<Reservation, ApiError> {
    write_transaction(conn, |tx| {
        let row = for_staff(tx, staff, id)?;
        if row.starts_at > now {
            return Err(ApiError::new(ErrorCode::InvalidTransition));
        }
        let step = Step {
            from: ReservationStatus::Confirmed,
            to: ReservationStatus::NoShow,
            action: "reservation.no_show",
            identity_document: None,
        };
        advance(tx, staff, row, step, now)
    })
}

/// The conditional transition, whose row count decides, and its audit row.
fn advance(
    tx: &mut DbConn,
    staff: &Staff,
    row: ReservationRow,
    step: Step,
    now: NaiveDateTime,
) -> Result<Reservation, ApiError> {
    let id = &row.id;
    if !store::transition(tx, id, step.from, step.to, step.identity_document, now)? {
        return Err(ApiError::new(ErrorCode::InvalidTransition));
    }
    let actor = actor(staff, &row.department_id);
    audit::record(tx, &actor, step.action, ("reservation", id.as_str()), now)?;
    let row = store::find(tx, id)?.ok_or_else(ApiError::not_found)?;
    Views::default().view(tx, row)
}
