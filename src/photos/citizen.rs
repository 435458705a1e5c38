//! The citizen's side (R-PH-02: every endpoint needs a strong session):
//! preview a code's photos (R-PH-11), link it with `confirm: true`
//! (R-PH-06, R-PH-07, R-PH-08, R-PH-10), see what is linked, fetch the two
//! images, download the archive (R-PH-14), unlink (R-PH-16).

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::archive::{self, ArchiveInput};
use super::codes::{code_hash, open_code};
use super::linking::{self, Attempt};
use super::store::{self, FileRow, SubmissionRow};
use super::{ImageKind, Photos, rules, served};
use crate::auth::{Caller, StrongCitizen};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::Kodikarithmos;
use crate::http::{ApiError, FieldError, JsonBody, Text};
use crate::openapi::binary::BinaryBody;
use crate::openapi::problems::{
    CodeExpired, CodeNotFound, CodeTries, LinkConflict, LinkRefused, NotLinked, StrongAuthRequired,
    Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(preview_code)
        .service(link_code)
        .service(unlink_photos)
        .service(linked_photos)
        .service(face_image)
        .service(signature_image)
        .service(download_archive);
}

/// A kodikarithmos as the citizen typed, pasted or scanned it (R-PH-12):
/// with or without dashes, in any case.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"kodikarithmos": "7KQM-2XPD-9RTV-HC42"}))]
pub struct CodeEntry {
    #[schema(value_type = Kodikarithmos, inline)]
    pub kodikarithmos: String,
}

/// A code to link, and the citizen's confirmation that the photos are
/// theirs (R-PH-11).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"kodikarithmos": "7KQM-2XPD-9RTV-HC42", "confirm": true}))]
pub struct LinkRequest {
    #[schema(value_type = Kodikarithmos, inline)]
    pub kodikarithmos: String,
    /// Must be `true`: the citizen saw the photos and confirms they are theirs.
    pub confirm: bool,
}

/// An image in a JSON answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmbeddedImage {
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// The image exactly as stored, in base64.
    #[schema(
        example = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
    )]
    pub data: String,
}

/// What a code holds, shown before the citizen links it (R-PH-11).
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    /// The studio that uploaded the photos.
    #[schema(example = "Φωτογραφείο Φως")]
    pub studio: String,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-01T09:30:00Z")]
    pub uploaded_at: DateTime<Utc>,
    pub face: EmbeddedImage,
    pub signature: EmbeddedImage,
}

/// The photos linked to the caller's AFM.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedPhotos {
    /// The code, all but its last group hidden.
    #[schema(example = "••••-••••-••••-HC42")]
    pub kodikarithmos: String,
    #[schema(example = "Φωτογραφείο Φως")]
    pub studio: String,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-01T09:30:00Z")]
    pub uploaded_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-02T10:00:00Z")]
    pub linked_at: DateTime<Utc>,
    /// When the files are deleted, one year after linking (R-PH-09).
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2027-12-02T10:00:00Z")]
    pub delete_at: DateTime<Utc>,
}

fn parse_code(raw: &str) -> Result<Kodikarithmos, ApiError> {
    Kodikarithmos::parse(raw).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            "kodikarithmos",
            e.code(),
            Text::new(e.message_el(), e.to_string()),
        )])
    })
}

/// The submission row and its studio's name, as a read found them.
struct Found {
    row: SubmissionRow,
    studio: String,
    files: Vec<FileRow>,
}

fn found(conn: &mut crate::db::DbConn, row: SubmissionRow) -> Result<Found, ApiError> {
    let studio = store::studio(conn, &row.studio_id)?
        .ok_or_else(|| ApiError::internal("a submission without its studio"))?
        .name;
    let files = store::files(conn, &row.id)?;
    Ok(Found { row, studio, files })
}

async fn image(
    photos: &Photos,
    files: &[FileRow],
    kind: ImageKind,
) -> Result<(FileRow, Vec<u8>), ApiError> {
    let file = files
        .iter()
        .find(|f| f.kind == kind)
        .ok_or_else(|| ApiError::internal("a submission without one of its files"))?;
    let bytes = photos.read(file).await?;
    Ok((file.clone(), bytes))
}

fn embedded((file, bytes): (FileRow, Vec<u8>)) -> EmbeddedImage {
    EmbeddedImage {
        content_type: file.content_type.content_type().to_owned(),
        data: STANDARD.encode(bytes),
    }
}

/// Shows the photos a code holds, before linking (R-PH-11): exactly as
/// stored, with the studio and the upload time.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = CodeEntry,
    responses(
        (status = 200, description = "The photos the code holds.", body = Preview),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = CodeNotFound),
        (status = 422, response = ValidationFailed),
        (status = 429, response = CodeTries),
    )
)]
#[post("/v1/me/photos/preview")]
async fn preview_code(
    req: HttpRequest,
    caller: Caller<StrongCitizen>,
    body: JsonBody<CodeEntry>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Preview>, ApiError> {
    let code = parse_code(&body.kodikarithmos);
    let now = clock.now();
    let (keys, tries_per_hour) = (photos.code_keys(), photos.tries_per_hour());
    let admitted = photos.admit(&req);
    let found = db
        .run(move |conn| {
            let StrongCitizen(session) = caller.resolve(conn)?;
            admitted?;
            let hash = code_hash(&keys.hash, &code?);
            let attempt = Attempt {
                afm: &session.afm,
                code_hash: &hash,
                tries_per_hour,
            };
            let row = crate::db::write_transaction(conn, |tx| linking::preview(tx, &attempt, now))?
                .found()?;
            found(conn, row)
        })
        .await?;
    Ok(web::Json(Preview {
        studio: found.studio,
        uploaded_at: found.row.created_at.and_utc(),
        face: embedded(image(&photos, &found.files, ImageKind::Face).await?),
        signature: embedded(image(&photos, &found.files, ImageKind::Signature).await?),
    }))
}

fn linked_view(ring: &crate::crypto::KeyRing, found: Found) -> Result<LinkedPhotos, ApiError> {
    let linked_at = found
        .row
        .linked_at
        .ok_or_else(|| ApiError::internal("a linked submission without its time"))?
        .and_utc();
    Ok(LinkedPhotos {
        kodikarithmos: open_code(ring, &found.row.id, &found.row.code_sealed)?.masked(),
        studio: found.studio,
        uploaded_at: found.row.created_at.and_utc(),
        linked_at,
        delete_at: rules::delete_at(linked_at),
    })
}

/// Links the code's photos to the caller's AFM, once they confirm the
/// photos are theirs. Each link that answers `200` is one of the day's
/// five operations (R-PH-07); with anything linked already, this code
/// included, the answer is `409 already_linked`.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = LinkRequest,
    responses(
        (status = 200, description = "Linked.", body = LinkedPhotos),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = CodeNotFound),
        (status = 409, response = LinkConflict),
        (status = 410, response = CodeExpired),
        (status = 422, response = ValidationFailed),
        (status = 429, response = LinkRefused),
    )
)]
#[post("/v1/me/photos/link")]
async fn link_code(
    req: HttpRequest,
    caller: Caller<StrongCitizen>,
    body: JsonBody<LinkRequest>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<LinkedPhotos>, ApiError> {
    let body = body.into_inner();
    let code = parse_code(&body.kodikarithmos);
    let confirmed = if body.confirm {
        Ok(())
    } else {
        Err(ApiError::validation(vec![FieldError::new(
            "confirm",
            "confirmation_required",
            Text::new(
                "Επιβεβαιώστε ότι οι φωτογραφίες είναι δικές σας.",
                "Confirm that the photos are yours.",
            ),
        )]))
    };
    let now = clock.now();
    let admitted = photos.admit(&req);
    let (keys, tries_per_hour) = (photos.code_keys(), photos.tries_per_hour());
    let linked = db
        .run(move |conn| {
            let StrongCitizen(session) = caller.resolve(conn)?;
            admitted?;
            let code = code?;
            confirmed?;
            let hash = code_hash(&keys.hash, &code);
            let attempt = Attempt {
                afm: &session.afm,
                code_hash: &hash,
                tries_per_hour,
            };
            let row = crate::db::write_transaction(conn, |tx| linking::link(tx, &attempt, now))?
                .found()?;
            linked_view(&keys.ring, found(conn, row)?)
        })
        .await?;
    Ok(web::Json(linked))
}

/// Unlinks the photos from the caller's AFM (R-PH-16): one of the day's
/// five operations (R-PH-07). The code can be linked again, by this AFM
/// only, until twelve months after its creation (R-PH-10).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Unlinked."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotLinked),
        (status = 429, response = LinkRefused),
    )
)]
#[delete("/v1/me/photos/link")]
async fn unlink_photos(
    caller: Caller<StrongCitizen>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let now = clock.now();
    db.run(move |conn| {
        let StrongCitizen(session) = caller.resolve(conn)?;
        crate::db::write_transaction(conn, |tx| linking::unlink(tx, &session.afm, now))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What is linked to the caller's AFM, read on the request's connection.
async fn linked_to(caller: Caller<StrongCitizen>, db: &Db) -> Result<Found, ApiError> {
    db.run(move |conn| {
        let StrongCitizen(session) = caller.resolve(conn)?;
        let row = store::linked_to(conn, &session.afm)?
            .ok_or_else(|| ApiError::new(crate::http::ErrorCode::NotLinked))?;
        found(conn, row)
    })
    .await
}

/// The photos linked to the caller's AFM: the code (masked), the studio,
/// when they were linked and when they will be deleted.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "What is linked.", body = LinkedPhotos),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotLinked),
    )
)]
#[get("/v1/me/photos")]
async fn linked_photos(
    caller: Caller<StrongCitizen>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
) -> Result<web::Json<LinkedPhotos>, ApiError> {
    let found = linked_to(caller, &db).await?;
    Ok(web::Json(linked_view(photos.code_ring(), found)?))
}

/// One linked image, as stored, with its digest as `ETag`.
async fn linked_image(
    caller: Caller<StrongCitizen>,
    photos: &Photos,
    db: &Db,
    kind: ImageKind,
) -> Result<HttpResponse, ApiError> {
    let found = linked_to(caller, db).await?;
    let (file, bytes) = image(photos, &found.files, kind).await?;
    Ok(served::image(&file, bytes))
}

/// The linked face photo.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The face photo, as stored.", content_type = "image/jpeg", body = BinaryBody,
         headers(("ETag" = String, description = "The SHA-256 of the image."))),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotLinked),
    )
)]
#[get("/v1/me/photos/face")]
async fn face_image(
    caller: Caller<StrongCitizen>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    linked_image(caller, &photos, &db, ImageKind::Face).await
}

/// The linked signature image.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The signature, as stored: JPEG or PNG.",
         content((BinaryBody = "image/jpeg"), (BinaryBody = "image/png")),
         headers(("ETag" = String, description = "The SHA-256 of the image."))),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotLinked),
    )
)]
#[get("/v1/me/photos/signature")]
async fn signature_image(
    caller: Caller<StrongCitizen>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    linked_image(caller, &photos, &db, ImageKind::Signature).await
}

/// The linked photos as a zip (R-PH-14): `face.jpg`, `signature.jpg` or
/// `signature.png`, and `kodikarithmos.pdf` showing the code and its QR
/// code.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The archive.", content_type = "application/zip", body = BinaryBody),
        (status = 401, response = Unauthenticated),
        (status = 403, response = StrongAuthRequired),
        (status = 404, response = NotLinked),
    )
)]
#[get("/v1/me/photos/archive")]
async fn download_archive(
    caller: Caller<StrongCitizen>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let found = linked_to(caller, &db).await?;
    let code = open_code(photos.code_ring(), &found.row.id, &found.row.code_sealed)?;
    let (_, face) = image(&photos, &found.files, ImageKind::Face).await?;
    let (signature_file, signature) = image(&photos, &found.files, ImageKind::Signature).await?;
    let linked_at = found.row.linked_at.map(|at| at.and_utc());
    // A PDF and a zip of a few megabytes: work for the blocking pool.
    let zip = web::block(move || {
        archive::build(ArchiveInput {
            face: &face,
            signature: &signature,
            signature_format: signature_file.content_type,
            kodikarithmos: &code,
            studio_name: &found.studio,
            linked_at,
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("photos.zip".into())],
        })
        .body(zip))
}
