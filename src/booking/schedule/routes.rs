//! Administrators set a service's schedule and materialize its slots
//! (R-BK-09); anyone may read a schedule (opening hours are public).

use crate::booking::listing_windows::ListingWindows;
use actix_web::{delete, get, post, put, web};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{self, ScheduleRow};
use super::weekly::Schedule;
use crate::audit::{self, Actor};
use crate::auth::roles::Role;
use crate::auth::{Caller, MunicipalityAdmin};
use crate::booking::reservations::store::{self as reservations, service_context};
use crate::booking::reservations::{CancelledBy, ReservationLink, queue_cancellation_notice};
use crate::clock::SharedClock;
use crate::db::{Db, DbConn, write_transaction};
use crate::domain::ids::{MunicipalityId, ServiceId, SlotId};
use crate::http::{ApiError, ErrorCode, FieldError, JsonBody, Text, Validation, parse_path_id};
use crate::openapi::problems::StateConflict;
use crate::openapi::problems::{Forbidden, NotFound, Unauthenticated, ValidationFailed};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(read_schedule)
        .service(put_schedule)
        .service(generate_slots)
        .service(withdraw_slot);
}

/// The municipality of a service, or `404`.
fn municipality_of(conn: &mut DbConn, service: &ServiceId) -> Result<MunicipalityId, ApiError> {
    Ok(service_context(conn, service)?.municipality_id)
}

/// A service's schedule.
#[utoipa::path(
    tag = "schedules",
    params(("service_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The schedule.", body = Schedule),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/services/{service_id}/schedule")]
async fn read_schedule(
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<web::Json<Schedule>, ApiError> {
    let service: ServiceId = parse_path_id(&path, "service_id")?;
    let row = db
        .run(move |conn| store::schedule(conn, &service)?.ok_or_else(ApiError::not_found))
        .await?;
    Ok(web::Json(row.schedule()?))
}

/// Sets a service's weekly opening hours, seats per slot, booking window and
/// the dates that differ. Greek public holidays are closed unless listed in
/// `open_dates`. Slots already generated change only when a range is
/// generated again, which brings them in line.
#[utoipa::path(
    tag = "schedules",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("service_id" = String, Path, format = Uuid)),
    request_body = Schedule,
    responses(
        (status = 200, description = "The schedule as stored.", body = Schedule),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/services/{service_id}/schedule")]
async fn put_schedule(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    body: JsonBody<Schedule>,
    db: web::Data<Db>,
    windows: web::Data<ListingWindows>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Schedule>, ApiError> {
    let service = parse_path_id::<ServiceId>(&path, "service_id");
    let schedule = body.into_inner();
    let checked = schedule.validate().map_err(|errors| {
        ApiError::validation(
            errors
                .into_iter()
                .map(|e| {
                    FieldError::new(
                        e.field.clone(),
                        e.code(),
                        Text::new(e.message_el(), e.message_en()),
                    )
                })
                .collect(),
        )
    });
    let now = clock.now().naive_utc();
    let stored = schedule.clone();
    let service = db
        .run(move |conn| -> Result<_, ApiError> {
            let admin = caller.resolve(conn)?;
            let service = service?;
            write_transaction(conn, |tx| {
                admin.require(&municipality_of(tx, &service)?)?;
                checked?;
                let row = ScheduleRow::new(service.clone(), &stored, now)?;
                store::save_schedule(tx, &row)?;
                Ok(service)
            })
        })
        .await?;
    windows.forget(&service);
    Ok(web::Json(schedule))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GenerateRange {
    /// First day, `YYYY-MM-DD` in the municipality's zone.
    #[schema(value_type = String, format = Date, example = "2026-12-01")]
    pub from: NaiveDate,
    /// Last day, inclusive; at most 366 days after `from`.
    #[schema(value_type = String, format = Date, example = "2026-12-31")]
    pub to: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Generated {
    /// Slots the schedule gives in the range.
    #[schema(example = 252)]
    pub slots_in_range: usize,
    /// Of those, the ones that did not exist yet.
    #[schema(example = 240)]
    pub created: usize,
    /// Future slots given the schedule's `seats_per_slot` (never fewer than
    /// they have booked) or, unbooked, the service's new length.
    #[schema(example = 8)]
    pub resized: usize,
    /// Future slots the schedule no longer gives (a date closed, hours or
    /// the service's length changed) that nobody had booked: withdrawn.
    #[schema(example = 3)]
    pub withdrawn: usize,
    /// Future slots the schedule no longer gives that hold bookings: kept
    /// for them, closed to new ones. `DELETE /v1/slots/{slot_id}` withdraws
    /// one and tells its citizens.
    #[schema(value_type = Vec<String>, example = json!(["0193a1b2-0000-7000-8000-000000000003"]))]
    pub kept_booked: Vec<SlotId>,
}

/// Brings the slots between two dates in line with the schedule: creates
/// the ones it gives, gives future ones its seats, and withdraws future
/// ones it no longer gives unless they are booked (those are listed).
/// Running it again over the same range changes nothing (idempotent), and
/// daylight saving changes neither shift, double nor drop a slot. Past and
/// withdrawn slots stay as they are.
#[utoipa::path(
    tag = "schedules",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("service_id" = String, Path, format = Uuid)),
    request_body = GenerateRange,
    responses(
        (status = 200, description = "Slots generated.", body = Generated),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/services/{service_id}/slots/generate")]
async fn generate_slots(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    body: JsonBody<GenerateRange>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Generated>, ApiError> {
    let service = parse_path_id::<ServiceId>(&path, "service_id");
    let GenerateRange { from, to } = body.into_inner();
    let mut v = Validation::default();
    if to < from || to - from > Duration::days(366) {
        v.fail(
            "to",
            "invalid_range",
            Text::new(
                "Το to είναι από το from έως 366 ημέρες μετά.",
                "to is from `from` up to 366 days after it.",
            ),
        );
    }
    let checked = v.finish();
    let now = clock.now().naive_utc();
    let generated = db
        .run(move |conn| {
            let admin = caller.resolve(conn)?;
            let id = service?;
            write_transaction(conn, |tx| {
                let context = service_context(tx, &id)?;
                admin.require(&context.municipality_id)?;
                checked?;
                if store::schedule(tx, &id)?.is_none() {
                    return Err(ApiError::validation(vec![FieldError::new(
                        "schedule",
                        "missing",
                        Text::new(
                            "Η υπηρεσία δεν έχει πρόγραμμα.",
                            "The service has no schedule yet.",
                        ),
                    )]));
                }
                let done = super::materialize(tx, &context, from, to, now)?;
                Ok(Generated {
                    slots_in_range: done.slots_in_range,
                    created: done.created,
                    resized: done.resized,
                    withdrawn: done.withdrawn,
                    kept_booked: done.kept_booked,
                })
            })
        })
        .await?;
    Ok(web::Json(generated))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Withdrawn {
    /// Reservations the withdrawal cancelled; each citizen was e-mailed.
    #[schema(example = 2)]
    pub cancelled_reservations: usize,
}

/// Withdraws a future slot: no one can book it any more, its reservations
/// are cancelled and their citizens told by e-mail, all in one transaction.
#[utoipa::path(
    tag = "schedules",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("slot_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Withdrawn.", body = Withdrawn),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = StateConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[delete("/v1/slots/{slot_id}")]
async fn withdraw_slot(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
    link: web::Data<ReservationLink>,
) -> Result<web::Json<Withdrawn>, ApiError> {
    let slot_id = parse_path_id::<SlotId>(&path, "slot_id");
    let now = clock.now();
    let withdrawn = db
        .run(move |conn| {
            let admin = caller.resolve(conn)?;
            let slot_id = slot_id?;
            write_transaction(conn, |tx| {
                let slot = reservations::slot(tx, &slot_id)?.ok_or_else(ApiError::not_found)?;
                let context = service_context(tx, &slot.service_id)?;
                admin.require(&context.municipality_id)?;
                if slot.starts_at <= now.naive_utc() {
                    return Err(ApiError::new(ErrorCode::InvalidTransition));
                }
                let ids = store::withdraw_slot(tx, &slot_id, now.naive_utc())?
                    .ok_or_else(|| ApiError::new(ErrorCode::InvalidTransition))?;
                let actor = Actor {
                    afm: admin.session.afm.as_str(),
                    role: Role::MunicipalityAdmin.as_str(),
                    scope_id: context.municipality_id.as_str(),
                };
                // What this request cancelled, not what it found.
                let mut cancelled = 0;
                for id in &ids {
                    if !reservations::cancel(
                        tx,
                        id,
                        &slot_id,
                        Some("slot_withdrawn"),
                        now.naive_utc(),
                    )? {
                        continue;
                    }
                    reservations::release_seat(tx, &slot_id)?;
                    cancelled += 1;
                    audit::record(
                        tx,
                        &actor,
                        "reservation.cancel_withdrawn",
                        ("reservation", id.as_str()),
                        now.naive_utc(),
                    )?;
                    let row = reservations::find(tx, id)?.ok_or_else(ApiError::not_found)?;
                    let by = CancelledBy::Service;
                    queue_cancellation_notice(tx, &row, &context, &link, by, now)?;
                }
                Ok(Withdrawn {
                    cancelled_reservations: cancelled,
                })
            })
        })
        .await?;
    Ok(web::Json(withdrawn))
}
