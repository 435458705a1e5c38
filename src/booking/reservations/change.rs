//! The citizen's changes to an upcoming reservation, each one transaction:
//! rectify the contact data (R-BK-11), cancel and free the seat, move to
//! another slot of the same service. Someone else's reservation is not
//! found, whatever else the request says.

use chrono::{DateTime, Utc};

use super::booking;
use super::messages::{
    BookingMessage, CancelledBy, ReservationLink, queue_cancellation_notice, queue_confirmation,
};
use super::store::{self, ContactChange, ReservationRow};
use super::view::{Reservation, Views};
use crate::db::{DbConn, write_transaction};
use crate::domain::Afm;
use crate::domain::ids::{ReservationId, SlotId};
use crate::http::{ApiError, ErrorCode};

/// The citizen's reservation, or `404`, also when it is someone else's.
pub(super) fn own(
    conn: &mut DbConn,
    id: &ReservationId,
    afm: &Afm,
) -> Result<ReservationRow, ApiError> {
    store::find(conn, id)?
        .filter(|r| r.citizen_afm.as_deref() == Some(afm.as_str()))
        .ok_or_else(ApiError::not_found)
}

fn invalid_transition() -> ApiError {
    ApiError::new(ErrorCode::InvalidTransition)
}

/// R-BK-11: only the fields in `change` change, and only while upcoming.
pub fn rectify(
    conn: &mut DbConn,
    citizen: &Afm,
    id: &ReservationId,
    change: &ContactChange,
) -> Result<Reservation, ApiError> {
    write_transaction(conn, |tx| {
        own(tx, id, citizen)?;
        if !store::rectify(tx, id, change, change.updated_at)? {
            return Err(invalid_transition());
        }
        let row = own(tx, id, citizen)?;
        Views::default().view(tx, row)
    })
}

/// Cancels, frees the seat and queues the withdrawal notice.
pub fn cancel(
    conn: &mut DbConn,
    citizen: &Afm,
    id: &ReservationId,
    reason: Option<&str>,
    link: &ReservationLink,
    now: DateTime<Utc>,
) -> Result<Reservation, ApiError> {
    write_transaction(conn, |tx| {
        let row = own(tx, id, citizen)?;
        store::lock_slots(tx, &[&row.slot_id])?;
        if !store::cancel(tx, id, &row.slot_id, reason, now.naive_utc())? {
            return Err(invalid_transition());
        }
        store::release_seat(tx, &row.slot_id)?;
        let row = own(tx, id, citizen)?;
        let context = store::service_context(tx, &row.service_id)?;
        queue_cancellation_notice(tx, &row, &context, link, CancelledBy::Citizen, now)?;
        Views::default().view(tx, row)
    })
}

/// Takes a seat in `slot_id` and frees the old one together, or changes
/// nothing; queues a new confirmation whose calendar file replaces the old.
pub fn reschedule(
    conn: &mut DbConn,
    citizen: &Afm,
    id: &ReservationId,
    slot_id: &SlotId,
    link: &ReservationLink,
    now: DateTime<Utc>,
) -> Result<Reservation, ApiError> {
    write_transaction(conn, |tx| {
        // Someone else's reservation is not found, whatever the target:
        // nothing about the slot may answer first.
        let row = own(tx, id, citizen)?;
        if row.slot_id == *slot_id {
            return Err(invalid_transition());
        }
        store::lock_slots(tx, &[&row.slot_id, slot_id])?;
        let (slot, context) = booking::take_seat(tx, slot_id, Some(&row.service_id), now)?;
        if !store::move_to_slot(tx, id, &row.slot_id, &slot, now.naive_utc())? {
            return Err(invalid_transition());
        }
        store::release_seat(tx, &row.slot_id)?;
        let row = own(tx, id, citizen)?;
        // R-BK-06 a, b again: the new time, and a calendar file that
        // replaces the old one.
        let message = BookingMessage::load(tx, &row, &context, link)?;
        queue_confirmation(tx, &message, now)?;
        let documents = message.documents;
        Views::seeded(context, documents).view(tx, row)
    })
}
