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
use crate::auth::roles::{self, Change, Role, ScopedRole};
use crate::auth::{Caller, MunicipalityAdmin, PlatformAdmin, Principal};
use crate::clock::SharedClock;
use crate::db::{Db, DbConn};
use crate::domain::Afm;
use crate::domain::ids::{DepartmentId, MunicipalityId};
use crate::http::{
    ApiError, Page, PageExample, PageParams, PageRequest, parse_path_afm, parse_path_id,
};
use crate::openapi::problems::{Forbidden, NotFound, Unauthenticated, ValidationFailed};

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

/// Where the roles this module grants are held: a municipality has
/// administrators, a department staff.
trait Scope: Clone + Send + 'static {
    /// The role held within this scope.
    fn held(self) -> ScopedRole;
}

impl Scope for MunicipalityId {
    fn held(self) -> ScopedRole {
        ScopedRole::MunicipalityAdmin(self)
    }
}

impl Scope for DepartmentId {
    fn held(self) -> ScopedRole {
        ScopedRole::Staff(self)
    }
}

/// Who holds the role within `scope`, a page of them by AFM, in one
/// transaction that first runs `authorize` (which answers who acts, in
/// which role and scope, or refuses) and then records each one listed in
/// the audit trail as `action`.
async fn holders_page<P: Principal + 'static, S: Scope>(
    db: &Db,
    caller: Caller<P>,
    scope: Result<S, ApiError>,
    request: Result<PageRequest<String>, ApiError>,
    action: &'static str,
    now: NaiveDateTime,
    authorize: fn(&mut DbConn, P, &S) -> Result<Acting, ApiError>,
) -> Result<web::Json<Page<RoleHolder>>, ApiError> {
    let (holders, limit) = db
        .run(move |conn| {
            let principal = caller.resolve(conn)?;
            let scope = scope?;
            crate::db::write_transaction(conn, |tx| {
                let acting = authorize(tx, principal, &scope)?;
                let request = request?;
                let held = scope.held();
                let holders = roles::holders(tx, &held, request.after.as_deref(), request.limit)?;
                let listed = holders
                    .iter()
                    .take(request.limit as usize)
                    .map(|h| ("person", h.afm.as_str()));
                let actor = Actor {
                    afm: acting.afm.as_str(),
                    role: acting.role.as_str(),
                    scope_id: acting.scope.as_str(),
                };
                audit::record_many(tx, &actor, action, listed, now)?;
                Ok::<_, ApiError>((holders, request.limit))
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
        limit,
        |h: &RoleHolder| h.afm.clone(),
    )))
}

/// Who acts on roles, in which role and municipality, for the audit trail.
struct Acting {
    afm: Afm,
    role: Role,
    scope: MunicipalityId,
}

/// An AFM and the municipality or department whose role it gets or loses.
#[derive(Clone)]
struct Target<S> {
    afm: Afm,
    scope: S,
}

/// Applies a grant change of the role within the target's scope, in one
/// transaction with its audit row, once `authorize` has answered who acts
/// on that scope (`404` for an unknown scope, `403` for one the caller does
/// not administer).
async fn change<P: Principal + 'static, S: Scope>(
    db: &Db,
    caller: Caller<P>,
    change: Change,
    target: Result<Target<S>, ApiError>,
    now: NaiveDateTime,
    authorize: fn(&mut DbConn, P, &S) -> Result<Acting, ApiError>,
) -> Result<HttpResponse, ApiError> {
    db.run(move |conn| {
        let principal = caller.resolve(conn)?;
        let Target { afm, scope } = target?;
        crate::db::write_transaction(conn, |tx| {
            let acting = authorize(tx, principal, &scope)?;
            let target = (&afm, &scope.held());
            let by = (acting.afm.as_str(), acting.role.as_str());
            roles::change(tx, change, target, by, now).map_err(ApiError::from)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A platform admin acts on any municipality that exists.
fn platform_admin_in(
    conn: &mut DbConn,
    PlatformAdmin(admin): PlatformAdmin,
    municipality: &MunicipalityId,
) -> Result<Acting, ApiError> {
    if !store::municipality_exists(conn, municipality)? {
        return Err(ApiError::not_found());
    }
    Ok(Acting {
        afm: admin.afm,
        role: Role::PlatformAdmin,
        scope: municipality.clone(),
    })
}

/// A municipality's administrator acts on its departments (R-BK-09).
fn municipality_admin_of(
    conn: &mut DbConn,
    admin: MunicipalityAdmin,
    department: &DepartmentId,
) -> Result<Acting, ApiError> {
    let municipality =
        store::department_municipality(conn, department)?.ok_or_else(ApiError::not_found)?;
    admin.require(&municipality)?;
    Ok(Acting {
        afm: admin.session.afm,
        role: Role::MunicipalityAdmin,
        scope: municipality,
    })
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
    caller: Caller<PlatformAdmin>,
    path: web::Path<String>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Page<RoleHolder>>, ApiError> {
    let municipality = parse_path_id::<MunicipalityId>(&path, "municipality_id");
    holders_page(
        &db,
        caller,
        municipality,
        page.parse::<String>(),
        "municipality_admin.list",
        clock.now().naive_utc(),
        platform_admin_in,
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
    caller: Caller<PlatformAdmin>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    municipality_admin(caller, path, db, clock, Change::Grant).await
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
    caller: Caller<PlatformAdmin>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    municipality_admin(caller, path, db, clock, Change::Revoke).await
}

async fn municipality_admin(
    caller: Caller<PlatformAdmin>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
    how: Change,
) -> Result<HttpResponse, ApiError> {
    let (municipality, afm) = path.into_inner();
    let target = parse_path_id::<MunicipalityId>(&municipality, "municipality_id").and_then(
        |municipality| {
            Ok(Target {
                afm: parse_path_afm(&afm)?,
                scope: municipality,
            })
        },
    );
    let now = clock.now().naive_utc();
    change(&db, caller, how, target, now, platform_admin_in).await
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
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Page<RoleHolder>>, ApiError> {
    let department = parse_path_id::<DepartmentId>(&path, "department_id");
    holders_page(
        &db,
        caller,
        department,
        page.parse::<String>(),
        "staff.list",
        clock.now().naive_utc(),
        municipality_admin_of,
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
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    staff(caller, path, db, clock, Change::Grant).await
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
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    staff(caller, path, db, clock, Change::Revoke).await
}

async fn staff(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
    how: Change,
) -> Result<HttpResponse, ApiError> {
    let (department, afm) = path.into_inner();
    let target =
        parse_path_id::<DepartmentId>(&department, "department_id").and_then(|department| {
            Ok(Target {
                afm: parse_path_afm(&afm)?,
                scope: department,
            })
        });
    let now = clock.now().naive_utc();
    change(&db, caller, how, target, now, municipality_admin_of).await
}
