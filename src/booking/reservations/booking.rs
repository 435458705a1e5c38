//! Booking a seat (R-BK-02 .. R-BK-06): one transaction that takes the seat,
//! enforces one upcoming reservation per citizen and service, records the
//! reservation and queues the confirmation e-mail with its `.ics`.

use chrono::{DateTime, Duration, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::messages::{BookingMessage, ReservationLink, queue_confirmation};
use super::store::{self, BookingWindow, ReservationRow, ServiceContext, SlotRow};
use super::view::{LegalEntity, Reservation, Views};
use crate::db::DbConn;
use crate::domain::ids::{ReservationId, ServiceId, SlotId};
use crate::domain::{Afm, Email, FullName, Phone};
use crate::http::{ApiError, ErrorCode, FieldError, Lang, Text};

/// A validated booking request.
#[derive(Clone)]
pub struct Booking {
    pub slot_id: SlotId,
    pub full_name: FullName,
    pub email: Email,
    pub phone: Phone,
    pub special_requirements: Option<String>,
    pub legal_entity: Option<LegalEntity>,
}

/// Why a seat could not be taken, read after the conditional UPDATE said no.
fn refusal(
    conn: &mut DbConn,
    slot_id: &SlotId,
    earliest: DateTime<Utc>,
) -> Result<ApiError, ApiError> {
    Ok(match store::slot(conn, slot_id)? {
        None => ApiError::validation(vec![FieldError::new(
            "slot_id",
            "unknown_slot",
            Text::new("Δεν υπάρχει τέτοια ώρα.", "There is no such slot."),
        )]),
        Some(slot) if slot.withdrawn_at.is_some() || slot.starts_at <= earliest.naive_utc() => {
            ApiError::new(ErrorCode::SlotUnavailable)
        }
        Some(slot) if slot.booked >= slot.capacity => ApiError::new(ErrorCode::SlotFull),
        Some(_) => ApiError::new(ErrorCode::SlotUnavailable),
    })
}

/// Takes a seat in `slot_id` for a booking of `service` (any service when
/// `None`), within the service's booking window.
pub fn take_seat(
    conn: &mut DbConn,
    slot_id: &SlotId,
    service: Option<&ServiceId>,
    now: DateTime<Utc>,
) -> Result<(SlotRow, ServiceContext), ApiError> {
    // The widest window first; the service's own is checked once known.
    let taken = store::take_seat(
        conn,
        slot_id,
        now.naive_utc(),
        (now + Duration::days(366)).naive_utc(),
    )?;
    let Some(slot) = taken else {
        return Err(refusal(conn, slot_id, now)?);
    };
    if service.is_some_and(|s| *s != slot.service_id) {
        return Err(ApiError::validation(vec![FieldError::new(
            "slot_id",
            "other_service",
            Text::new(
                "Η ώρα ανήκει σε άλλη υπηρεσία.",
                "The slot belongs to another service.",
            ),
        )]));
    }
    let context = store::service_context(conn, &slot.service_id)?;
    // No schedule, no bookable slot; a slot made by hand is bookable within a year.
    let window = context.booking_window().unwrap_or(BookingWindow {
        min_notice_minutes: 0,
        max_advance_days: 365,
    });
    let earliest = now + Duration::minutes(i64::from(window.min_notice_minutes));
    let latest = now + Duration::days(i64::from(window.max_advance_days));
    if slot.starts_at <= earliest.naive_utc() || slot.starts_at > latest.naive_utc() {
        // Returning the error rolls the seat back with the transaction.
        return Err(ApiError::new(ErrorCode::SlotUnavailable));
    }
    Ok((slot, context))
}

pub fn upcoming_key(afm: &Afm, service_id: &ServiceId) -> String {
    format!("{afm}:{service_id}")
}

/// The whole booking, inside the caller's transaction.
pub fn book(
    conn: &mut DbConn,
    citizen: &Afm,
    booking: Booking,
    language: Lang,
    link: &ReservationLink,
    now: DateTime<Utc>,
) -> Result<Reservation, ApiError> {
    let (slot, context) = take_seat(conn, &booking.slot_id, None, now)?;
    if booking.legal_entity.is_some() && !context.serves_legal_entities {
        return Err(ApiError::validation(vec![FieldError::new(
            "legal_entity",
            "not_accepted",
            Text::new(
                "Η υπηρεσία δεν εξυπηρετεί νομικά πρόσωπα.",
                "This service does not serve legal entities.",
            ),
        )]));
    }
    let key = upcoming_key(citizen, &slot.service_id);
    store::release_past_upcoming(conn, &key, now.naive_utc())?;
    let row = ReservationRow {
        id: ReservationId::generate(),
        slot_id: slot.id.clone(),
        service_id: slot.service_id.clone(),
        department_id: context.department_id.clone(),
        municipality_id: context.municipality_id.clone(),
        starts_at: slot.starts_at,
        ends_at: slot.ends_at,
        status: store::ReservationStatus::Confirmed,
        citizen_afm: Some(citizen.to_string()),
        full_name: Some(booking.full_name.to_string()),
        email: Some(booking.email.to_string()),
        phone: Some(booking.phone.to_string()),
        special_requirements: booking.special_requirements,
        legal_entity_name: booking.legal_entity.as_ref().map(|e| e.name.clone()),
        legal_entity_afm: booking.legal_entity.as_ref().map(|e| e.afm.clone()),
        upcoming_key: Some(key),
        identity_document: None,
        cancel_reason: None,
        checked_in_at: None,
        closed_at: None,
        anonymized_at: None,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        language: language.tag().into(),
        revision: 0,
        reminder_handled_at: None,
    };
    match store::insert(conn, &row) {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(ApiError::new(ErrorCode::AlreadyBooked));
        }
        other => other?,
    }
    let message = BookingMessage::load(conn, &row, &context, link)?;
    queue_confirmation(conn, &message, now)?;
    // The view needs what was just loaded: no second round of queries
    // while the seat's row lock is held.
    let documents = message.documents;
    Views::seeded(context, documents).view(conn, row)
}
