//! The serving department's desk (R-BK-06 c-e, R-BK-08, R-BK-10): staff see
//! only their own department's reservations, check the visitor's identity
//! document, and close the visit. Every read or change of personal data
//! here leaves an audit row in the same transaction.

use actix_web::{get, post, web};
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::routes::reservation_id;
use super::store;
use super::view::{IdentityDocument, Reservation, ReservationStatus, Views, local_midnight};
use super::visit;
use crate::audit;
use crate::auth::{Caller, Staff};
use crate::booking::catalogue::store::department_time_zone;
use crate::clock::SharedClock;
use crate::db::{Db, write_transaction};
use crate::domain::ids::{DepartmentId, ReservationId};
use crate::http::{ApiError, JsonBody, Page, PageParams, Text, Validation, parse_path_id};
use crate::openapi::problems::{
    Forbidden, NotFound, StateConflict, Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(department_reservations)
        .service(check_in)
        .service(complete)
        .service(no_show);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeskQuery {
    /// The day, `YYYY-MM-DD` in the municipality's zone; default today.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-01")]
    date: Option<String>,
    /// Only this status.
    #[param(value_type = Option<ReservationStatus>)]
    status: Option<String>,
}

/// A department's reservations for one day, by start time (staff of that
/// department only). Each one listed is recorded in the audit trail.
#[utoipa::path(
    tag = "desk",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid), DeskQuery, PageParams),
    responses(
        (status = 200, description = "A page of reservations.", body = Page<Reservation>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/departments/{department_id}/reservations")]
async fn department_reservations(
    caller: Caller<Staff>,
    path: web::Path<String>,
    query: web::Query<DeskQuery>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Page<Reservation>>, ApiError> {
    let department = parse_path_id::<DepartmentId>(&path, "department_id");
    let mut v = Validation::default();
    let date = v.date("date", query.date.as_deref());
    let status = match query.status.as_deref().map(str::parse::<ReservationStatus>) {
        None => None,
        Some(Ok(status)) => Some(status),
        Some(Err(_)) => {
            v.fail(
                "status",
                "invalid_status",
                Text::new("Άγνωστη κατάσταση.", "Unknown status."),
            );
            None
        }
    };
    let request = page.parse::<(NaiveDateTime, ReservationId)>();
    let checked = v.finish();
    let now = clock.now();
    let page = db
        .run(move |conn| {
            write_transaction(conn, |tx| {
                let staff = caller.resolve(tx)?;
                let department = department?;
                staff.require(&department)?;
                checked?;
                let request = request?;
                let zone =
                    department_time_zone(tx, &department)?.ok_or_else(ApiError::not_found)?;
                let day = date.unwrap_or_else(|| now.with_timezone(&zone).date_naive());
                let (from, to) = (
                    local_midnight(day, zone),
                    local_midnight(day + Duration::days(1), zone),
                );
                let rows = store::list_for_department(
                    tx,
                    &department,
                    from,
                    to,
                    status,
                    request.after.as_ref(),
                    request.limit,
                )?;
                let listed = rows
                    .iter()
                    .take(request.limit as usize)
                    .map(|r| ("reservation", r.id.as_str()));
                audit::record_many(
                    tx,
                    &visit::actor(&staff, &department),
                    "reservation.list",
                    listed,
                    now.naive_utc(),
                )?;
                Views::page(tx, rows, request.limit, |r| (r.starts_at, r.id.clone()))
            })
        })
        .await?;
    Ok(web::Json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckIn {
    pub identity_document: IdentityDocument,
    /// The employee saw the document and it matches the booking's name.
    #[schema(example = true)]
    pub verified: bool,
}

/// The visitor came and showed an identity document (R-BK-06 c, d). Only
/// on the appointment's day (in the municipality's zone): another day is
/// `409 invalid_transition`.
#[utoipa::path(
    tag = "desk",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    request_body = CheckIn,
    responses(
        (status = 200, description = "Checked in.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = StateConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/reservations/{reservation_id}/check-in")]
async fn check_in(
    caller: Caller<Staff>,
    path: web::Path<String>,
    body: JsonBody<CheckIn>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    let mut v = Validation::default();
    if !body.verified {
        v.fail(
            "verified",
            "not_verified",
            Text::new(
                "Ο έλεγχος ταυτότητας πρέπει να έχει γίνει.",
                "The identity document must have been checked.",
            ),
        );
    }
    let document = v.finish().map(|()| body.identity_document.as_str());
    let now = clock.now().naive_utc();
    let view = db
        .run(move |conn| {
            let staff = caller.resolve(conn)?;
            visit::check_in(conn, &staff, &id?, document, now)
        })
        .await?;
    Ok(web::Json(view))
}

/// The visitor was served (R-BK-06 e).
#[utoipa::path(
    tag = "desk",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Completed.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = StateConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/reservations/{reservation_id}/complete")]
async fn complete(
    caller: Caller<Staff>,
    path: web::Path<String>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    let now = clock.now().naive_utc();
    let view = db
        .run(move |conn| {
            let staff = caller.resolve(conn)?;
            visit::complete(conn, &staff, &id?, now)
        })
        .await?;
    Ok(web::Json(view))
}

/// The visitor did not come (only once the appointment has started).
#[utoipa::path(
    tag = "desk",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Marked as no-show.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = StateConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/reservations/{reservation_id}/no-show")]
async fn no_show(
    caller: Caller<Staff>,
    path: web::Path<String>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    let now = clock.now().naive_utc();
    let view = db
        .run(move |conn| {
            let staff = caller.resolve(conn)?;
            visit::no_show(conn, &staff, &id?, now)
        })
        .await?;
    Ok(web::Json(view))
}
