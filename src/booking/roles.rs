//! Who administers and who serves (R-BK-08, R-BK-09): platform admins name
//! each municipality's administrators; a municipality's administrators name
//! the staff of its departments. Granting is idempotent (PUT), and so is
//! taking back (DELETE). Each can list whom they named (GET); the AFMs
//! listed are personal data, so every listing is in the audit trail.

use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalogue::store;
use crate::audit::{self, Actor};
use crate::auth::roles::{self, Role};
use crate::auth::{MunicipalityAdmin, PlatformAdmin};
use crate::clock::SharedClock;
use crate::db::{Db, DbConn};
use crate::domain::Afm;
use crate::domain::ids::{DepartmentId, MunicipalityId};
use crate::http::problem_docs::{Forbidden, NotFound, Unauthenticated, ValidationFailed};
use crate::http::{
    ApiError, FieldError, Page, PageExample, PageParams, PageRequest, Text, parse_path_id,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_municipality_admins)
        .service(grant_municipality_admin)
        .service(revoke_municipality_admin)
        .service(list_staff)
        .service(grant_staff)
        .service(revoke_staff);
}

/// Someone who holds a role in a municipality or department.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleHolder {
    #[schema(value_type = String, example = "123456783")]
    pub afm: String,
    /// The AFM of the administrator who granted the role.
    #[schema(example = "094019245")]
    pub granted_by: String,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:45:00Z")]
    pub granted_at: DateTime<Utc>,
}

impl PageExample for RoleHolder {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "afm": "123456783",
            "granted_by": "094019245",
            "granted_at": "2026-11-20T08:45:00Z",
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!("123456783")
    }
}

/// Who holds `role` within `scope`, a page of them by AFM, in one
/// transaction that first runs `authorize` (which answers the scope the
/// caller acts in, or refuses) and then records each one listed in the
/// audit trail as `action` by `actor` (AFM, role).
async fn holders_page(
    db: &Db,
    (role, scope): (Role, String),
    request: PageRequest<String>,
    actor: (Afm, &'static str),
    action: &'static str,
    now: NaiveDateTime,
    authorize: impl FnOnce(&mut DbConn) -> Result<String, ApiError> + Clone + Send + 'static,
) -> Result<web::Json<Page<RoleHolder>>, ApiError> {
    let holders = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |tx| {
                let acting_in = authorize(tx)?;
                let holders =
                    roles::holders(tx, role, &scope, request.after.as_deref(), request.limit)?;
                let listed = holders
                    .iter()
                    .take(request.limit as usize)
                    .map(|h| ("person", h.afm.as_str()));
                let actor = Actor {
                    afm: actor.0.as_str(),
                    role: actor.1,
                    scope_id: &acting_in,
                };
                audit::record_many(tx, &actor, action, listed, now)?;
                Ok::<_, ApiError>(holders)
            })
        })
        .await?;
    let items = holders
        .into_iter()
        .map(|h| RoleHolder {
            afm: h.afm,
            granted_by: h.granted_by,
            granted_at: h.granted_at.and_utc(),
        })
        .collect();
    Ok(web::Json(Page::from_rows(
        items,
        request.limit,
        |h: &RoleHolder| h.afm.clone(),
    )))
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
    exists: fn(&mut DbConn, &str) -> diesel::QueryResult<bool>,
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

fn department_exists(conn: &mut DbConn, id: &str) -> diesel::QueryResult<bool> {
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

/// The municipality's administrators, by AFM (platform admins only). The
/// listing is recorded in the audit trail.
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("municipality_id" = String, Path, format = Uuid), PageParams),
    responses(
        (status = 200, description = "A page of administrators.", body = Page<RoleHolder>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/municipalities/{municipality_id}/admins")]
async fn list_municipality_admins(
    admin: PlatformAdmin,
    path: web::Path<String>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Page<RoleHolder>>, ApiError> {
    let municipality: MunicipalityId = parse_path_id(&path, "municipality_id")?;
    let request = page.parse::<String>()?;
    let id = municipality.to_string();
    let now = clock.now().naive_utc();
    let known = id.clone();
    holders_page(
        &db,
        (Role::MunicipalityAdmin, id),
        request,
        (admin.0.afm, Role::PlatformAdmin.as_str()),
        "municipality_admin.list",
        now,
        move |tx| {
            if !store::municipality_exists(tx, &known)? {
                return Err(ApiError::not_found());
            }
            Ok(known)
        },
    )
    .await
}

/// Makes an AFM an administrator of the municipality (platform admins only).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(
        ("municipality_id" = String, Path, format = Uuid),
        ("afm" = crate::domain::Afm, Path, description = "The new administrator's AFM."),
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
    params(("municipality_id" = String, Path, format = Uuid), ("afm" = crate::domain::Afm, Path)),
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

/// The department's staff, by AFM (administrators of its municipality,
/// R-BK-09). The listing is recorded in the audit trail.
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid), PageParams),
    responses(
        (status = 200, description = "A page of the department's staff.", body = Page<RoleHolder>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/departments/{department_id}/staff")]
async fn list_staff(
    admin: MunicipalityAdmin,
    path: web::Path<String>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Page<RoleHolder>>, ApiError> {
    let department: DepartmentId = parse_path_id(&path, "department_id")?;
    let request = page.parse::<String>()?;
    let now = clock.now().naive_utc();
    let acting = admin.session.afm.clone();
    holders_page(
        &db,
        (Role::Staff, department.to_string()),
        request,
        (acting, Role::MunicipalityAdmin.as_str()),
        "staff.list",
        now,
        move |tx| {
            let municipality = store::department_municipality(tx, &department.to_string())?
                .ok_or_else(ApiError::not_found)?;
            admin.require(&municipality)?;
            Ok(municipality)
        },
    )
    .await
}

/// Makes an AFM staff of the department (R-BK-08), by an administrator of
/// the department's municipality (R-BK-09).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid), ("afm" = crate::domain::Afm, Path)),
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
    params(("department_id" = String, Path, format = Uuid), ("afm" = crate::domain::Afm, Path)),
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
