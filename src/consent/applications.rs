//! The applications' side: a citizen's face photo or signature, fetched
//! with an access token (OAuth2 client credentials; docs/integrators.md)
//! and only while that citizen's consent for the application counts
//! (R-PH-15, R-PH-16, R-PH-18). Every call by an application whose token
//! holds is logged, allowed or refused; a call without a valid token has
//! no application to attribute it to and is not.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

use super::access;
use crate::clock::SharedClock;
use crate::db::{Db, write_transaction};
use crate::domain::Afm;
use crate::http::ApiError;
use crate::oauth::AppCaller;
use crate::openapi::binary::BinaryBody;
use crate::openapi::problems::{AppUnauthenticated, PhotoRefused, ValidationFailed};
use crate::photos::{ImageKind, Photos, served};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(citizen_face).service(citizen_signature);
}

/// One resolve, one decision and one log row in a transaction; the image
/// is read from the vault only after it committed, and not at all when the
/// caller already holds it (`If-None-Match`).
async fn fetch(
    req: HttpRequest,
    caller: AppCaller,
    afm: String,
    kind: ImageKind,
    photos: &Photos,
    db: &Db,
    clock: &SharedClock,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now().naive_utc();
    let file = db
        .run(move |conn| {
            write_transaction(conn, |tx| {
                let app = caller.resolve(tx)?;
                access::fetch(tx, &app, &afm, kind, now)
            })
        })
        .await??;
    let mut answer = if served::is_held(&req, &file) {
        served::not_modified(&file)
    } else {
        served::image(&file, photos.read(&file).await?)
    };
    // No cache on the way may keep a biometric image: said here, whatever
    // the service's defaults become.
    answer
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(answer)
}

/// A citizen's face photo, as stored, for an application the citizen
/// authorized (R-PH-15). Without that authorization the answer is `403
/// consent_required`, the same whether the citizen is unknown, has no
/// photos, or has photos and did not authorize this application. A path
/// that holds no well-formed AFM is `422` (an AFM's form is public
/// knowledge: the refusal tells nothing about anyone). Every call is in the
/// citizen's access log.
#[utoipa::path(
    tag = "photos",
    security(("oauth2" = ["photos:face"])),
    params(("afm" = Afm, Path)),
    responses(
        (status = 200, description = "The face photo, as stored.", content_type = "image/jpeg", body = BinaryBody,
         headers(("ETag" = String, description = "The SHA-256 of the image."),
                 ("Cache-Control" = String, description = "`no-store`: no copy may be kept."))),
        (status = 304, description = "`If-None-Match` named the image's `ETag`: the caller holds it.",
         headers(("ETag" = String, description = "The SHA-256 of the image."))),
        (status = 401, response = AppUnauthenticated),
        (status = 403, response = PhotoRefused),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/citizens/{afm}/photos/face")]
async fn citizen_face(
    req: HttpRequest,
    caller: AppCaller,
    path: web::Path<String>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let afm = path.into_inner();
    fetch(req, caller, afm, ImageKind::Face, &photos, &db, &clock).await
}

/// A citizen's signature image, as stored (JPEG or PNG), for an
/// application the citizen authorized whose token carries
/// `photos:signature`, which only applications for driving licences are
/// given (R-PH-18). Refusals as for the face photo.
#[utoipa::path(
    tag = "photos",
    security(("oauth2" = ["photos:signature"])),
    params(("afm" = Afm, Path)),
    responses(
        (status = 200, description = "The signature, as stored: JPEG or PNG.",
         content((BinaryBody = "image/jpeg"), (BinaryBody = "image/png")),
         headers(("ETag" = String, description = "The SHA-256 of the image."),
                 ("Cache-Control" = String, description = "`no-store`: no copy may be kept."))),
        (status = 304, description = "`If-None-Match` named the image's `ETag`: the caller holds it.",
         headers(("ETag" = String, description = "The SHA-256 of the image."))),
        (status = 401, response = AppUnauthenticated),
        (status = 403, response = PhotoRefused),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/citizens/{afm}/photos/signature")]
async fn citizen_signature(
    req: HttpRequest,
    caller: AppCaller,
    path: web::Path<String>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let afm = path.into_inner();
    fetch(req, caller, afm, ImageKind::Signature, &photos, &db, &clock).await
}
