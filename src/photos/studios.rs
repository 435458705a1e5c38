//! Photo studios and who may upload for them (R-PH-01): platform admins
//! register a studio with its owner, who becomes its photographer; the
//! owner authorizes and removes employees. Both are role grants scoped to
//! the studio, each written with its audit row.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, post, put, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{self, StudioRow};
use crate::auth::roles::{self, Change, Role, ScopedRole};
use crate::auth::{Caller, PlatformAdmin, StudioOwner};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::Afm;
use crate::domain::ids::StudioId;
use crate::http::{ApiError, ErrorCode, Validation, parse_path_afm, parse_path_id};
use crate::idempotency::{Answer, Idempotent, run_once_in};
use crate::openapi::problems::{
    AlreadyExists, CreateRefused, Forbidden, Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(register_studio)
        .service(authorize_employee)
        .service(remove_employee);
}

/// A studio to register: its `name`, the business's AFM (`afm`: one studio
/// per business) and the owner's own (`owner_afm`: the owner may upload
/// and authorize employees).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Φωτογραφείο Φως",
    "afm": "094019245",
    "owner_afm": "123456783"
}))]
pub struct NewStudio {
    #[schema(value_type = crate::http::Name, inline)]
    pub name: String,
    // Described on the struct: a description here would wrap the inlined
    // schema in a one-armed `oneOf`.
    #[schema(value_type = Afm, inline)]
    pub afm: String,
    #[schema(value_type = Afm, inline)]
    pub owner_afm: String,
}

/// A registered studio.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Studio {
    pub id: StudioId,
    #[schema(example = "Φωτογραφείο Φως")]
    pub name: String,
    pub afm: Afm,
    pub owner_afm: Afm,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:45:00Z")]
    pub created_at: DateTime<Utc>,
}

impl From<StudioRow> for Studio {
    fn from(row: StudioRow) -> Studio {
        Studio {
            id: row.id,
            name: row.name,
            afm: row.business_afm,
            owner_afm: row.owner_afm,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// Registers a studio and makes its owner the studio's photographer
/// (platform admins).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = NewStudio,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, description = "Registered.", body = Studio),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = AlreadyExists),
        (status = 422, response = CreateRefused),
    )
)]
#[post("/v1/studios")]
async fn register_studio(
    caller: Caller<PlatformAdmin>,
    request: Idempotent<NewStudio>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let Idempotent { body, once } = request;
    let mut v = Validation::default();
    let name = v.text("name", &body.name, 2, 200);
    let business_afm = v.check("afm", Afm::parse(&body.afm));
    let owner_afm = v.check("owner_afm", Afm::parse(&body.owner_afm));
    let now = clock.now().naive_utc();
    let row = v.finish().map(|()| StudioRow {
        id: StudioId::generate(),
        name,
        business_afm: business_afm.expect("checked"),
        owner_afm: owner_afm.expect("checked"),
        created_at: now,
    });
    db.run(move |conn| {
        let PlatformAdmin(admin) = caller.resolve(conn)?;
        let row = row?;
        run_once_in(
            conn,
            admin.afm.to_string(),
            once,
            StatusCode::CREATED,
            now,
            |tx| {
                if !store::insert_studio(tx, &row)? {
                    return Err(ApiError::new(ErrorCode::AlreadyExists));
                }
                let owner = ScopedRole::Photographer(row.id.clone());
                let by = (admin.afm.as_str(), Role::PlatformAdmin.as_str());
                roles::change(tx, Change::Grant, (&row.owner_afm, &owner), by, now)?;
                Ok(Studio::from(row))
            },
        )
    })
    .await
    .map(Answer::into_response)
}

/// Authorizes an AFM to upload for the studio (its owner only); doing it
/// again changes nothing.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(
        ("studio_id" = String, Path, format = Uuid),
        ("afm" = Afm, Path, description = "The employee's AFM."),
    ),
    responses(
        (status = 204, description = "The AFM may upload for the studio."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/studios/{studio_id}/employees/{afm}")]
async fn authorize_employee(
    caller: Caller<StudioOwner>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    employee(caller, path, db, clock.now().naive_utc(), Change::Grant).await
}

/// Takes the authorization back (the studio's owner only); taking back one
/// not held changes nothing.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("studio_id" = String, Path, format = Uuid), ("afm" = Afm, Path)),
    responses(
        (status = 204, description = "The AFM may no longer upload for the studio."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed),
    )
)]
#[delete("/v1/studios/{studio_id}/employees/{afm}")]
async fn remove_employee(
    caller: Caller<StudioOwner>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    employee(caller, path, db, clock.now().naive_utc(), Change::Revoke).await
}

async fn employee(
    caller: Caller<StudioOwner>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    now: NaiveDateTime,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let (studio, afm) = path.into_inner();
    let studio = parse_path_id::<StudioId>(&studio, "studio_id");
    let afm = parse_path_afm(&afm);
    db.run(move |conn| {
        let owner = caller.resolve(conn)?;
        let (studio, afm) = (studio?, afm?);
        owner.require(&studio)?;
        crate::db::write_transaction(conn, |tx| {
            let employee = ScopedRole::StudioEmployee(studio);
            let by = (owner.session.afm.as_str(), Role::Photographer.as_str());
            roles::change(tx, change, (&afm, &employee), by, now).map_err(ApiError::from)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
