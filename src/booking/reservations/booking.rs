//! Booking a seat (R-BK-02 .. R-BK-06): one transaction that takes the seat,
//! enforces one upcoming reservation per citizen and service, records the
//! reservation and queues the confirmation e-mail with its `.ics`.

use chrono::{DateTime, Duration, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::ics::{Appointment, calendar};
use super::store::{self, ReservationRow, ServiceContext, SlotRow};
use super::view::{LegalEntity, Reservation, Views, local, zone};
use crate::booking::catalogue::store::documents_for;
use crate::booking::catalogue::{LocalizedText, document_texts};
use crate::db::DbConn;
use crate::domain::{Afm, Email, FullName, Phone};
use crate::http::{ApiError, ErrorCode, FieldError, Lang, Text};
use crate::notify::{self, Attachment, Channel, Confirmation, NewMessage, Template};

/// A validated booking request.
#[derive(Clone)]
pub struct Booking {
    pub slot_id: String,
    pub full_name: FullName,
    pub email: Email,
    pub phone: Phone,
    pub special_requirements: Option<String>,
    pub legal_entity: Option<LegalEntity>,
}

/// Why a seat could not be taken, read after the conditional UPDATE said no.
fn refusal(
    conn: &mut DbConn,
    slot_id: &str,
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
    slot_id: &str,
    service: Option<&str>,
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
    if service.is_some_and(|s| s != slot.service_id) {
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
    let (min_notice, max_advance) = context.booking_window().unwrap_or((0, 365));
    let earliest = now + Duration::minutes(i64::from(min_notice));
    let latest = now + Duration::days(i64::from(max_advance));
    if slot.starts_at <= earliest.naive_utc() || slot.starts_at > latest.naive_utc() {
        // Returning the error rolls the seat back with the transaction.
        return Err(ApiError::new(ErrorCode::SlotUnavailable));
    }
    Ok((slot, context))
}

pub fn upcoming_key(afm: &Afm, service_id: &str) -> String {
    format!("{afm}:{service_id}")
}

/// The whole booking, inside the caller's transaction.
pub fn book(
    conn: &mut DbConn,
    citizen: &Afm,
    booking: Booking,
    language: Lang,
    link_base: &str,
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
        id: uuid::Uuid::now_v7().to_string(),
        slot_id: slot.id.clone(),
        service_id: slot.service_id.clone(),
        department_id: context.department_id.clone(),
        municipality_id: context.municipality_id.clone(),
        starts_at: slot.starts_at,
        ends_at: slot.ends_at,
        status: store::CONFIRMED.into(),
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
    };
    match store::insert(conn, &row) {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(ApiError::new(ErrorCode::AlreadyBooked));
        }
        other => other?,
    }
    let documents = document_texts(documents_for(conn, &[row.service_id.as_str()])?);
    queue_confirmation(conn, &row, &context, &documents, language, link_base, now)?;
    // The view needs what was just loaded: no second round of queries
    // while the seat's row lock is held.
    Views::seeded(context, documents).view(conn, row)
}

/// R-BK-06 a, b (and R-BK-04, R-BK-05): the confirmation e-mail with a link
/// and the `.ics`, queued in the booking's transaction.
fn queue_confirmation(
    conn: &mut DbConn,
    row: &ReservationRow,
    context: &ServiceContext,
    (legal_entity_documents, required_documents): &(Vec<LocalizedText>, Vec<LocalizedText>),
    language: Lang,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let pick = |el: &str, en: &str| match language {
        Lang::El => el.to_owned(),
        Lang::En => en.to_owned(),
    };
    let texts =
        |documents: &Vec<LocalizedText>| documents.iter().map(|d| pick(&d.el, &d.en)).collect();
    let service = pick(&context.service_el, &context.service_en);
    let municipality = pick(&context.municipality_el, &context.municipality_en);
    let department = pick(&context.department_el, &context.department_en);
    let when = local(row.starts_at, zone(context))
        .format("%d/%m/%Y %H:%M")
        .to_string();
    let link = format!("{link_base}/v1/reservations/{}", row.id);
    let ics = calendar(&Appointment {
        id: &row.id,
        starts_at: row.starts_at.and_utc(),
        ends_at: row.ends_at.and_utc(),
        summary: &service,
        location: &format!("{department}, {municipality}"),
        description: &link,
        stamp: now,
    });
    let message = NewMessage {
        channel: Channel::Email,
        to: row.email.clone().unwrap_or_default(),
        language,
        template: Template::ReservationConfirmed(Box::new(Confirmation {
            service,
            department,
            municipality,
            when,
            full_name: row.full_name.clone().unwrap_or_default(),
            link,
            department_email: context.department_email.clone(),
            required_documents: texts(required_documents),
            legal_entity: row.legal_entity_name.clone(),
            legal_entity_documents: texts(legal_entity_documents),
        })),
        attachments: vec![Attachment {
            filename: "appointment.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            content: ics.into_bytes(),
        }],
    };
    notify::enqueue(conn, &message, now)?;
    Ok(())
}
