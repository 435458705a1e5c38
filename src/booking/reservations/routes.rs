//! The citizen's reservations: book, list, read, rectify, cancel,
//! reschedule, and the calendar file.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::booking::{self, Booking};
use super::change::{self, own};
use super::messages::{ReservationLink, appointment_calendar};
use super::store::{self, ContactChange};
use super::view::{LegalEntity, Reservation, Views};
use crate::auth::{AuthContext, Caller, CurrentSession};
use crate::db::Db;
use crate::domain::ids::{ReservationId, SlotId};
use crate::domain::{Afm, Email, FullName, Phone};
use crate::http::{
    ApiError, JsonBody, Lang, Name, Note, Page, PageParams, Text, Validation, parse_optional_json,
};
use crate::idempotency::{Idempotent, run_once_in};
use crate::openapi::problems::{
    BookingConflict, CreateRefused, Forbidden, MoveConflict, NotFound, StateConflict,
    Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(read)
        .service(rectify)
        .service(cancel)
        .service(reschedule)
        .service(ics);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Σύλλογος Φίλων του Δάσους", "afm": "094019245"}))]
pub struct LegalEntityRequest {
    #[schema(value_type = Name, inline)]
    pub name: String,
    #[schema(value_type = Afm, inline)]
    pub afm: String,
}

/// R-BK-03: name, e-mail, phone and special requirements, nothing else;
/// R-BK-04: the legal entity, when booking on its behalf.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "slot_id": "0193a1b2-0000-7000-8000-000000000001",
    "full_name": "Μαρία Παπαδοπούλου",
    "email": "maria@example.gr",
    "phone": "+306912345678",
    "special_requirements": "Πρόσβαση με αναπηρικό αμαξίδιο",
    "legal_entity": null
}))]
pub struct NewReservation {
    #[schema(format = Uuid, example = "0193a1b2-0000-7000-8000-000000000001")]
    pub slot_id: String,
    #[schema(value_type = FullName, inline)]
    pub full_name: String,
    #[schema(value_type = Email, inline)]
    pub email: String,
    #[schema(value_type = Phone, inline)]
    pub phone: String,
    /// Accessibility, interpreter, … (at most 500 characters).
    #[schema(value_type = Option<Note>, inline)]
    pub special_requirements: Option<String>,
    pub legal_entity: Option<LegalEntityRequest>,
}

impl NewReservation {
    fn validate(&self) -> Result<Booking, ApiError> {
        let mut v = Validation::default();
        let full_name = v.check("full_name", FullName::parse(&self.full_name));
        let email = v.check("email", Email::parse(&self.email));
        let phone = v.check("phone", Phone::parse(&self.phone));
        let special_requirements = v.free_text(
            "special_requirements",
            self.special_requirements.as_deref(),
            500,
        );
        let legal_entity = self.legal_entity.as_ref().and_then(|entity| {
            let name = entity.name.trim();
            if !(2..=200).contains(&name.chars().count()) || name.chars().any(char::is_control) {
                v.fail(
                    "legal_entity.name",
                    "invalid_text",
                    Text::new(
                        "Η επωνυμία έχει 2 έως 200 χαρακτήρες.",
                        "The name has 2 to 200 characters.",
                    ),
                );
            }
            let afm = v.check("legal_entity.afm", Afm::parse(&entity.afm))?;
            Some(LegalEntity {
                name: name.to_owned(),
                afm: afm.to_string(),
            })
        });
        let slot_id = self.slot_id.parse::<SlotId>().ok();
        if slot_id.is_none() {
            v.fail(
                "slot_id",
                "invalid_id",
                Text::new(
                    "Το slot_id πρέπει να είναι UUID.",
                    "slot_id must be a UUID.",
                ),
            );
        }
        v.finish()?;
        Ok(Booking {
            slot_id: slot_id.expect("checked"),
            full_name: full_name.expect("checked"),
            email: email.expect("checked"),
            phone: phone.expect("checked"),
            special_requirements,
            legal_entity,
        })
    }
}

/// Books a seat (R-BK-02). Never more bookings than seats, under any
/// concurrency; the confirmation e-mail with its `.ics` is queued in the
/// same transaction (R-BK-06 a, b). Honours `Idempotency-Key`.
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = NewReservation,
    params(("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters; the same key and body answer the first response again.")),
    responses(
        (status = 201, description = "Booked.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = BookingConflict),
        (status = 422, response = CreateRefused),
    )
)]
#[post("/v1/reservations")]
async fn create(
    req: HttpRequest,
    caller: Caller<CurrentSession>,
    request: Idempotent<NewReservation>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
    link: web::Data<ReservationLink>,
) -> Result<HttpResponse, ApiError> {
    let Idempotent { body, once } = request;
    let booking = body.validate();
    let language = Lang::from_headers(req.headers());
    let now = auth.clock.now();
    let answer = db
        .run(move |conn| {
            let citizen = caller.resolve(conn)?.afm;
            let booking = booking?;
            run_once_in(
                conn,
                citizen.to_string(),
                once,
                StatusCode::CREATED,
                now.naive_utc(),
                |tx| booking::book(tx, &citizen, booking, language, &link, now),
            )
        })
        .await?;
    Ok(answer.into_response())
}

/// The citizen's reservations, newest first.
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of reservations.", body = Page<Reservation>),
        (status = 401, response = Unauthenticated),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/reservations")]
async fn list(
    caller: Caller<CurrentSession>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<Reservation>>, ApiError> {
    let request = page.parse::<(NaiveDateTime, ReservationId)>();
    let page = db
        .run(move |conn| {
            let session = caller.resolve(conn)?;
            let request = request?;
            let rows = store::list_for_citizen(
                conn,
                session.afm.as_str(),
                request.after.as_ref(),
                request.limit,
            )?;
            Views::page(conn, rows, request.limit, |r| (r.created_at, r.id.clone()))
        })
        .await?;
    Ok(web::Json(page))
}

pub(super) fn reservation_id(raw: &str) -> Result<ReservationId, ApiError> {
    crate::http::parse_path_id(raw, "reservation_id")
}

/// One of the citizen's reservations.
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The reservation.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/reservations/{reservation_id}")]
async fn read(
    caller: Caller<CurrentSession>,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    let view = db
        .run(move |conn| {
            let session = caller.resolve(conn)?;
            let row = own(conn, &id?, &session.afm)?;
            Views::default().view(conn, row)
        })
        .await?;
    Ok(web::Json(view))
}

/// R-BK-11 rectification: only the fields sent change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "email": "maria.nikolaou@example.gr",
    "special_requirements": "Διερμηνέας νοηματικής γλώσσας"
}))]
pub struct ReservationChange {
    #[schema(value_type = Option<FullName>, inline)]
    pub full_name: Option<String>,
    #[schema(value_type = Option<Email>, inline)]
    pub email: Option<String>,
    #[schema(value_type = Option<Phone>, inline)]
    pub phone: Option<String>,
    /// `null` clears them.
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<Note>, inline)]
    pub special_requirements: Option<Option<String>>,
}

/// Rectifies the contact data of an upcoming reservation (R-BK-11).
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    request_body = ReservationChange,
    responses(
        (status = 200, description = "The reservation as changed.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = StateConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[patch("/v1/reservations/{reservation_id}")]
async fn rectify(
    caller: Caller<CurrentSession>,
    path: web::Path<String>,
    body: JsonBody<ReservationChange>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    let body = body.into_inner();
    let mut v = Validation::default();
    let full_name = body
        .full_name
        .as_deref()
        .and_then(|n| v.check("full_name", FullName::parse(n)));
    let email = body
        .email
        .as_deref()
        .and_then(|e| v.check("email", Email::parse(e)));
    let phone = body
        .phone
        .as_deref()
        .and_then(|p| v.check("phone", Phone::parse(p)));
    let special_requirements = body
        .special_requirements
        .map(|text| v.free_text("special_requirements", text.as_deref(), 500));
    let checked = v.finish();
    let now = auth.clock.now().naive_utc();
    let change = ContactChange {
        full_name: full_name.map(|n| n.to_string()),
        email: email.map(|e| e.to_string()),
        phone: phone.map(|p| p.to_string()),
        special_requirements,
        updated_at: now,
    };
    let view = db
        .run(move |conn| {
            let session = caller.resolve(conn)?;
            let id = id?;
            checked?;
            change::rectify(conn, &session.afm, &id, &change)
        })
        .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "Δεν θα βρίσκομαι στην πόλη εκείνη την ημέρα."}))]
pub struct Cancellation {
    /// Why, if the citizen wants to say (at most 500 characters).
    #[schema(value_type = Option<Note>, inline)]
    pub reason: Option<String>,
}

/// Cancels an upcoming reservation and frees its seat.
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    request_body(content = Option<Cancellation>, description = "Optional."),
    responses(
        (status = 200, description = "Cancelled.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = StateConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/reservations/{reservation_id}/cancel")]
async fn cancel(
    req: HttpRequest,
    caller: Caller<CurrentSession>,
    path: web::Path<String>,
    body: web::Bytes,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
    link: web::Data<ReservationLink>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    // The body is optional: none at all means no reason given.
    let reason = parse_optional_json::<Cancellation>(req.headers(), &body).and_then(|c| {
        let mut v = Validation::default();
        let reason = v.free_text("reason", c.reason.as_deref(), 500);
        v.finish().map(|()| reason)
    });
    let now = auth.clock.now();
    let view = db
        .run(move |conn| {
            let session = caller.resolve(conn)?;
            let (id, reason) = (id?, reason?);
            change::cancel(conn, &session.afm, &id, reason.as_deref(), &link, now)
        })
        .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Reschedule {
    /// Another slot of the same service.
    #[schema(format = Uuid, example = "0193a1b2-0000-7000-8000-000000000002")]
    pub slot_id: String,
}

/// Moves an upcoming reservation to another slot of the same service,
/// atomically: the new seat is taken and the old freed together, or
/// nothing changes.
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    request_body = Reschedule,
    responses(
        (status = 200, description = "Moved.", body = Reservation),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = MoveConflict),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/reservations/{reservation_id}/reschedule")]
async fn reschedule(
    caller: Caller<CurrentSession>,
    path: web::Path<String>,
    body: JsonBody<Reschedule>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
    link: web::Data<ReservationLink>,
) -> Result<web::Json<Reservation>, ApiError> {
    let id = reservation_id(&path);
    let slot_id = crate::http::parse_path_id::<SlotId>(&body.slot_id, "slot_id");
    let now = auth.clock.now();
    let view = db
        .run(move |conn| {
            let session = caller.resolve(conn)?;
            let (id, slot_id) = (id?, slot_id?);
            change::reschedule(conn, &session.afm, &id, &slot_id, &link, now)
        })
        .await?;
    Ok(web::Json(view))
}

/// The appointment as an iCalendar file (RFC 5545).
#[utoipa::path(
    tag = "reservations",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("reservation_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "iCalendar.", body = String, content_type = "text/calendar"),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/reservations/{reservation_id}/calendar.ics")]
async fn ics(
    caller: Caller<CurrentSession>,
    path: web::Path<String>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
    link: web::Data<ReservationLink>,
) -> Result<HttpResponse, ApiError> {
    let id = reservation_id(&path);
    let stamp: DateTime<Utc> = auth.clock.now();
    let text = db
        .run(move |conn| -> Result<_, ApiError> {
            let session = caller.resolve(conn)?;
            let id = id?;
            let link = link.to(&id);
            let row = own(conn, &id, &session.afm)?;
            let view = Views::default().view(conn, row.clone())?;
            Ok(appointment_calendar(
                &row,
                &view.service.name.el,
                &format!("{}, {}", view.department.name.el, view.municipality.name.el),
                &link,
                stamp,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"appointment.ics\"",
        ))
        .body(text))
}
