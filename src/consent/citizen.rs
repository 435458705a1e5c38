//! The citizen's side (every endpoint needs a strong session, R-PH-02):
//! the applications they authorized (R-PH-15), authorizing and revoking,
//! and the log of every call an application made for their photos.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::grants::{self, Active};
use super::rules::AccessOutcome;
use super::store;
use crate::auth::{Caller, StrongCitizen};
use crate::clock::SharedClock;
use crate::db::{Db, DbConn, write_transaction};
use crate::domain::Afm;
use crate::domain::ids::{AccessLogId, AppId};
use crate::http::{ApiError, Page, PageExample, PageParams, parse_path_id};
use crate::oauth::{Scope, Scopes};
use crate::openapi::problems::{
    NotFound, NothingLinked, StrongAuthRequired, Unauthenticated, ValidationFailed,
};
use crate::photos::ImageKind;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_consents)
        .service(grant_consent)
        .service(revoke_consent)
        .service(access_log);
}

/// An application the citizen authorized, on their current link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    pub app_id: AppId,
    #[schema(example = "Υπουργείο Υποδομών και Μεταφορών")]
    pub app_name: String,
    #[schema(example = "Υπουργείο Υποδομών και Μεταφορών")]
    pub organization: String,
    /// The images the application may read with this authorization.
    #[schema(inline, example = json!(["photos:face", "photos:signature"]))]
    pub scopes: Vec<Scope>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-02T10:05:00Z")]
    pub granted_at: DateTime<Utc>,
}

/// The applications that may fetch the citizen's photos now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consents {
    /// Oldest first. At most one per application.
    pub items: Vec<Consent>,
}

fn consent(Active { consent, app }: Active) -> Result<Consent, ApiError> {
    let scopes = Scopes::parse(&app.scopes).map_err(ApiError::internal)?;
    Ok(Consent {
        app_id: app.id,
        app_name: app.name,
        organization: app.organization,
        scopes: scopes.iter().collect(),
        granted_at: consent.granted_at.and_utc(),
    })
}

/// The applications the caller authorized to fetch their photos, as long
/// as the photos they were authorized on stay linked (R-PH-15, R-PH-16).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The authorizations that count now.", body = Consents),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
    )
)]
#[get("/v1/me/consents")]
async fn list_consents(
    caller: Caller<StrongCitizen>,
    db: web::Data<Db>,
) -> Result<web::Json<Consents>, ApiError> {
    let active = db
        .run(move |conn| {
            let StrongCitizen(session) = caller.resolve(conn)?;
            grants::active(conn, &session.afm)
        })
        .await?;
    let items = active.into_iter().map(consent).collect::<Result<_, _>>()?;
    Ok(web::Json(Consents { items }))
}

/// A change to the caller's consent for the application the path names,
/// in one transaction, after the caller is resolved.
async fn on_consent<T: Send + 'static>(
    caller: Caller<StrongCitizen>,
    app_id: &str,
    db: &Db,
    clock: &SharedClock,
    change: fn(&mut DbConn, &Afm, &AppId, NaiveDateTime) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let app = parse_path_id::<AppId>(app_id, "app_id");
    let now = clock.now().naive_utc();
    db.run(move |conn| {
        let StrongCitizen(session) = caller.resolve(conn)?;
        let app = app?;
        write_transaction(conn, |tx| change(tx, &session.afm, &app, now))
    })
    .await
}

/// Authorizes an application, chosen from `GET /v1/apps`, to fetch the
/// photos linked now (R-PH-15). Idempotent: `201` when this request
/// authorized it, `200` when it already was. The authorization holds for
/// this link only: unlinking ends it, and linking again does not bring it
/// back (R-PH-16).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("app_id" = String, Path, format = Uuid)),
    responses(
        (status = 201, description = "Authorized.", body = Consent),
        (status = 200, description = "It already was.", body = Consent),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotFound),
        (status = 409, response = NothingLinked),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/me/consents/{app_id}")]
async fn grant_consent(
    caller: Caller<StrongCitizen>,
    path: web::Path<String>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let granted = on_consent(caller, &path, &db, &clock, grants::grant).await?;
    let status = if granted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(consent(granted.active)?))
}

/// Revokes the authorization: the application's very next request for the
/// photos is refused (`403 consent_required`).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("app_id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[delete("/v1/me/consents/{app_id}")]
async fn revoke_consent(
    caller: Caller<StrongCitizen>,
    path: web::Path<String>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    on_consent(caller, &path, &db, &clock, grants::revoke).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One call of an application for the citizen's photos.
#[derive(Debug, Serialize, ToSchema)]
pub struct Access {
    pub id: AccessLogId,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-02T10:15:00Z")]
    pub at: DateTime<Utc>,
    pub app_id: AppId,
    #[schema(example = "Υπουργείο Υποδομών και Μεταφορών")]
    pub app_name: String,
    pub image: ImageKind,
    /// `allowed`: the image was sent; `consent_required`: no authorization
    /// counted then; `insufficient_scope`: the application's token did not
    /// cover that image.
    pub outcome: AccessOutcome,
}

impl PageExample for Access {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0c",
            "at": "2026-12-02T10:15:00Z",
            "app_id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a09",
            "app_name": "Υπουργείο Υποδομών και Μεταφορών",
            "image": "face",
            "outcome": "allowed",
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!("01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0c")
    }
}

/// Every call an application made for the caller's photos, allowed or
/// refused, newest first.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of the access log.", body = Page<Access>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/me/photos/access-log")]
async fn access_log(
    caller: Caller<StrongCitizen>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
) -> Result<web::Json<Page<Access>>, ApiError> {
    let request = page.parse::<AccessLogId>();
    let (rows, limit) = db
        .run(move |conn| {
            let StrongCitizen(session) = caller.resolve(conn)?;
            let request = request?;
            let rows =
                store::accesses_of(conn, &session.afm, request.after.as_ref(), request.limit)?;
            Ok::<_, ApiError>((rows, request.limit))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|(row, app_name)| Access {
            id: row.id,
            at: row.at.and_utc(),
            app_id: row.app_id,
            app_name,
            image: row.kind,
            outcome: row.outcome,
        })
        .collect();
    Ok(web::Json(Page::from_rows(items, limit, |a: &Access| {
        a.id.clone()
    })))
}
