//! Who administers and who serves (R-BK-08, R-BK-09): platform admins name
//! each municipality's administrators; a municipality's administrators name
//! the staff of its departments. Granting is idempotent (PUT), and so is
//! taking back (DELETE).

use actix_web::{HttpResponse, delete, put, web};
use chrono::NaiveDateTime;

use super::catalogue::store;
use crate::auth::roles::{self, Role};
use crate::auth::{MunicipalityAdmin, PlatformAdmin};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::Afm;
use crate::domain::ids::{DepartmentId, MunicipalityId};
use crate::http::problem_docs::{Forbidden, NotFound, Unauthenticated, ValidationFailed};
use crate::http::{ApiError, FieldError, Text, parse_path_id};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(grant_municipality_admin)
        .service(revoke_municipality_admin)
        .service(grant_staff)
        .service(revoke_staff);
}

#[derive(Clone, Copy)]
enum Change {
    Grant,
    Revoke,
}

fn parse_afm(raw: &str) -> Result<Afm, ApiError> {
    Afm::parse(raw).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            "afm",
            e.code(),
            Text::new(e.message_el(), e.to_string()),
        )])
    })
}

/// A role for an AFM, scoped to a municipality or department.
struct Target {
    afm: Afm,
    role: Role,
    scope: String,
}

/// Applies a grant change after `exists` confirmed the scope, in one
/// transaction.
async fn change(
    db: &Db,
    change: Change,
    Target { afm, role, scope }: Target,
    by: Afm,
    now: NaiveDateTime,
    exists: fn(&mut crate::db::DbConn, &str) -> diesel::QueryResult<bool>,
) -> Result<HttpResponse, ApiError> {
    db.run(move |conn| {
        crate::db::write_transaction(conn, |tx| {
            if !exists(tx, &scope)? {
                return Err(ApiError::not_found());
            }
            match change {
                Change::Grant => roles::grant(tx, &afm, role, Some(&scope), by.as_str(), now)?,
                Change::Revoke => roles::revoke(tx, &afm, role, Some(&scope))?,
            };
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn department_exists(conn: &mut crate::db::DbConn, id: &str) -> diesel::QueryResult<bool> {
    store::department_municipality(conn, id).map(|m| m.is_some())
}

/// The municipality of a department, for the admin check.
async fn municipality_of(db: &Db, department: DepartmentId) -> Result<String, ApiError> {
    db.run(move |conn| {
        store::department_municipality(conn, &department.to_string())?
            .ok_or_else(ApiError::not_found)
    })
    .await
}

/// Makes an AFM an administrator of the municipality (platform admins only).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(
        ("municipality_id" = String, Path, format = Uuid),
        ("afm" = String, Path, description = "The new administrator's AFM."),
    ),
    responses(
        (status = 204, description = "The AFM administers the municipality."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/municipalities/{municipality_id}/admins/{afm}")]
async fn grant_municipality_admin(
    admin: PlatformAdmin,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    municipality_admin(admin, path, db, clock, Change::Grant).await
}

/// Takes the administrator role back (platform admins only).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("municipality_id" = String, Path, format = Uuid), ("afm" = String, Path)),
    responses(
        (status = 204, description = "The AFM no longer administers the municipality."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[delete("/v1/municipalities/{municipality_id}/admins/{afm}")]
async fn revoke_municipality_admin(
    admin: PlatformAdmin,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    municipality_admin(admin, path, db, clock, Change::Revoke).await
}

async fn municipality_admin(
    admin: PlatformAdmin,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
    how: Change,
) -> Result<HttpResponse, ApiError> {
    let (municipality, afm) = path.into_inner();
    let municipality: MunicipalityId = parse_path_id(&municipality, "municipality_id")?;
    let target = Target {
        afm: parse_afm(&afm)?,
        role: Role::MunicipalityAdmin,
        scope: municipality.to_string(),
    };
    let now = clock.now().naive_utc();
    change(
        &db,
        how,
        target,
        admin.0.afm,
        now,
        store::municipality_exists,
    )
    .await
}

/// Makes an AFM staff of the department (R-BK-08), by an administrator of
/// the department's municipality (R-BK-09).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid), ("afm" = String, Path)),
    responses(
        (status = 204, description = "The AFM serves the department."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/departments/{department_id}/staff/{afm}")]
async fn grant_staff(
    admin: MunicipalityAdmin,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    staff(admin, path, db, clock, Change::Grant).await
}

/// Takes the staff role back.
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid), ("afm" = String, Path)),
    responses(
        (status = 204, description = "The AFM no longer serves the department."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[delete("/v1/departments/{department_id}/staff/{afm}")]
async fn revoke_staff(
    admin: MunicipalityAdmin,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    staff(admin, path, db, clock, Change::Revoke).await
}

async fn staff(
    admin: MunicipalityAdmin,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
    how: Change,
) -> Result<HttpResponse, ApiError> {
    let (department, afm) = path.into_inner();
    let department: DepartmentId = parse_path_id(&department, "department_id")?;
    let target = Target {
        afm: parse_afm(&afm)?,
        role: Role::Staff,
        scope: department.to_string(),
    };
    admin.require(&municipality_of(&db, department).await?)?;
    let now = clock.now().naive_utc();
    change(&db, how, target, admin.session.afm, now, department_exists).await
}
