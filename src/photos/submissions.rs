//! A studio's uploads (R-PH-04, R-PH-05, R-PH-13, R-PH-19): the upload,
//! checked and sealed, with its kodikarithmos sent to the citizen; the
//! studio's list of its uploads; the code's QR code to print; deleting an
//! upload no citizen has linked.
//!
//! An upload takes two checkouts, not one: the caller is authorized before
//! the body is read, so that a stranger cannot make the server read and
//! decode megabytes, and no connection is held while the images are read,
//! checked and stored (docs/architecture.md, "A request's way through").

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Europe::Athens;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::codes::{code_hash, open_code, seal_code};
use super::images::CheckedImage;
use super::store::{self, FileRow, SubmissionRow};
use super::upload_form::{self, PartCaps};
use super::vault::SealedFile;
use super::{CodeKeys, ImageKind, Photos, qr, rules};
use crate::auth::{Caller, StudioMember};
use crate::clock::SharedClock;
use crate::db::{Db, DbConn};
use crate::domain::ids::{StudioId, SubmissionId};
use crate::domain::{Afm, Email, Kodikarithmos, Phone};
use crate::http::{
    ApiError, ErrorCode, FieldError, Lang, Page, PageExample, PageParams, Text, Validation,
    parse_path_id,
};
use crate::notify::{self, Channel, NewMessage, Template};
use crate::openapi::binary::BinaryBody;
use crate::openapi::problems::{
    Forbidden, NotFound, SubmissionInUse, Unauthenticated, UploadRefused, UploadTooLarge,
    UploadTypeRefused, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload_submission)
        .service(list_submissions)
        .service(qr_png)
        .service(delete_submission);
}

/// Where an upload stands, for the studio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "pending")]
pub enum SubmissionStatus {
    /// Waiting for the citizen to link it (or to link it again).
    Pending,
    /// Linked to a citizen's AFM.
    Linked,
    /// Past its window to link (R-PH-08, R-PH-10).
    Expired,
    /// Its files are deleted.
    Deleted,
}

impl SubmissionStatus {
    pub fn of(row: &SubmissionRow, now: DateTime<Utc>) -> SubmissionStatus {
        let deadline = rules::link_deadline(row.created_at.and_utc(), row.bound_afm.is_some());
        if row.deleted_at.is_some() {
            SubmissionStatus::Deleted
        } else if row.linked_afm.is_some() {
            SubmissionStatus::Linked
        } else if now >= deadline {
            SubmissionStatus::Expired
        } else {
            SubmissionStatus::Pending
        }
    }
}

/// A new upload, as the studio sees it once: the code, until when it can
/// be linked, and its QR code.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    pub id: SubmissionId,
    /// The code, in full, shown this once to the studio; the citizen also
    /// receives it by SMS and/or e-mail.
    #[schema(value_type = String, example = "7KQM-2XPD-9RTV-HC42")]
    pub kodikarithmos: String,
    /// Until when the citizen can link it (R-PH-08).
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-16T09:30:00Z")]
    pub expires_at: DateTime<Utc>,
    /// The code as a QR code (SVG), to print or show on screen (R-PH-12).
    #[schema(
        example = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"232\" height=\"232\">…</svg>"
    )]
    pub qr_svg: String,
}

/// One upload in the studio's list: never the citizen's AFM or images.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SubmissionSummary {
    pub id: SubmissionId,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-02T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    pub status: SubmissionStatus,
    /// The mobile the code was sent to, masked.
    #[schema(example = "+3069*****678")]
    pub mobile: Option<String>,
    /// The e-mail address the code was sent to, masked.
    #[schema(example = "g***@example.gr")]
    pub email: Option<String>,
}

impl PageExample for SubmissionSummary {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a08",
            "created_at": "2026-12-02T09:30:00Z",
            "status": "pending",
            "mobile": "+3069*****678",
            "email": null,
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!("01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a08")
    }
}

/// The multipart body of an upload, for the document.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: the body is read as a stream.
pub struct UploadBody {
    /// The face photo: a JPEG, portrait.
    #[schema(value_type = String, format = Binary, content_media_type = "image/jpeg", example = "(the JPEG file)")]
    face: Vec<u8>,
    /// The signature: a JPEG or a PNG.
    #[schema(value_type = String, format = Binary, example = "(the JPEG or PNG file)")]
    signature: Vec<u8>,
    /// The citizen's mobile; at least one of mobile and e-mail (R-PH-04).
    #[schema(value_type = Option<Phone>)]
    citizen_mobile: Option<String>,
    /// The citizen's e-mail address.
    #[schema(value_type = Option<Email>)]
    citizen_email: Option<String>,
}

/// The citizen's contacts, at least one (R-PH-04).
#[derive(Clone)]
pub struct Contacts {
    pub mobile: Option<Phone>,
    pub email: Option<Email>,
}

pub fn contacts(mobile: Option<&str>, email: Option<&str>) -> Result<Contacts, ApiError> {
    let mut v = Validation::default();
    let mobile = mobile.and_then(|m| v.check("citizen_mobile", Phone::parse(m)));
    let email = email.and_then(|e| v.check("citizen_email", Email::parse(e)));
    v.finish()?;
    if mobile.is_none() && email.is_none() {
        return Err(ApiError::validation(vec![FieldError::new(
            "citizen_mobile",
            "contact_required",
            Text::new(
                "Δώστε το κινητό ή το email του πολίτη (τουλάχιστον ένα).",
                "Give the citizen's mobile or e-mail (at least one).",
            ),
        )]));
    }
    Ok(Contacts { mobile, email })
}

/// Uploads a citizen's face photo and signature (owner or employee of the
/// studio). The images are checked (real decode, format, pixel and byte
/// bounds, decompression bombs), stripped of metadata and stored sealed
/// (R-PH-19); a kodikarithmos is created (R-PH-05) and sent by SMS and/or
/// e-mail, queued in the same transaction. A lost code is replaced by
/// uploading again (R-PH-13).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("studio_id" = String, Path, format = Uuid)),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Uploaded; the code is sent to the citizen.", body = Submitted),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 413, response = UploadTooLarge),
        (status = 415, response = UploadTypeRefused),
        (status = 422, response = UploadRefused),
    )
)]
#[post("/v1/studios/{studio_id}/submissions")]
async fn upload_submission(
    req: HttpRequest,
    caller: Caller<StudioMember>,
    path: web::Path<String>,
    payload: web::Payload,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let studio = parse_path_id::<StudioId>(&path, "studio_id");
    let (studio, studio_name, member) = db
        .run(move |conn| {
            let member = caller.resolve(conn)?;
            let studio = studio?;
            member.require(&studio)?;
            let name = store::studio(conn, &studio)?
                .ok_or_else(ApiError::not_found)?
                .name;
            Ok::<_, ApiError>((studio, name, member.session.afm))
        })
        .await?;
    let _let_in = photos.images.upload_permit().await;
    let caps = PartCaps {
        face: photos.images.max_bytes(ImageKind::Face),
        signature: photos.images.max_bytes(ImageKind::Signature),
    };
    let form = upload_form::read(&req, payload, caps).await?;
    let contacts = contacts(
        form.citizen_mobile.as_deref(),
        form.citizen_email.as_deref(),
    )?;
    let face = photos
        .images
        .check(
            ImageKind::Face,
            form.face.declared.as_ref(),
            form.face.bytes,
        )
        .await?;
    let signature = photos
        .images
        .check(
            ImageKind::Signature,
            form.signature.declared.as_ref(),
            form.signature.bytes,
        )
        .await?;
    let draft = Draft {
        studio,
        studio_name,
        uploaded_by: member,
        contacts,
        face,
        signature,
    };
    let submitted = submit(&photos, &db, draft, clock.now()).await?;
    Ok(HttpResponse::Created().json(submitted))
}

/// An upload whose images passed their checks, ready to store.
#[derive(Clone)]
pub struct Draft {
    pub studio: StudioId,
    pub studio_name: String,
    pub uploaded_by: Afm,
    pub contacts: Contacts,
    pub face: CheckedImage,
    pub signature: CheckedImage,
}

/// Stores a checked upload: both images sealed into the vault, then, in
/// one transaction, the submission with a new code, its files and the
/// messages that carry the code. If the transaction fails, the blobs are
/// removed again, so that a failed upload leaves nothing behind.
pub async fn submit(
    photos: &Photos,
    db: &Db,
    draft: Draft,
    now: DateTime<Utc>,
) -> Result<Submitted, ApiError> {
    let sealed = seal_both(photos, &draft.face, &draft.signature).await?;
    let object_keys: Vec<String> = sealed.iter().map(|(_, f)| f.object_key.clone()).collect();
    let context = photos.code_keys();
    let stored = db
        .run(move |conn| record(conn, &context, draft, sealed, now))
        .await;
    if stored.is_err() {
        for key in object_keys {
            if let Err(e) = photos.vault.delete(&key).await {
                tracing::warn!(error = %e, "an upload's blob could not be removed");
            }
        }
    }
    stored
}

/// Seals both images into the vault; if the second fails, the first is
/// removed again.
async fn seal_both(
    photos: &Photos,
    face: &CheckedImage,
    signature: &CheckedImage,
) -> Result<Vec<(ImageKind, SealedFile)>, ApiError> {
    let sealed_face = photos.vault.put(&face.bytes).await?;
    match photos.vault.put(&signature.bytes).await {
        Ok(sealed_signature) => Ok(vec![
            (ImageKind::Face, sealed_face),
            (ImageKind::Signature, sealed_signature),
        ]),
        Err(error) => {
            if let Err(e) = photos.vault.delete(&sealed_face.object_key).await {
                tracing::warn!(error = %e, "an upload's blob could not be removed");
            }
            Err(error.into())
        }
    }
}

/// The upload's transaction: the submission, its sealed files and the
/// messages that carry its code, all or nothing.
fn record(
    conn: &mut DbConn,
    keys: &CodeKeys,
    draft: Draft,
    sealed: Vec<(ImageKind, SealedFile)>,
    now: DateTime<Utc>,
) -> Result<Submitted, ApiError> {
    let id = SubmissionId::generate();
    let code = Kodikarithmos::generate();
    let expires_at = rules::link_deadline(now, false);
    let Draft {
        studio,
        studio_name,
        uploaded_by,
        contacts,
        face,
        signature,
    } = draft;
    let row = SubmissionRow {
        id: id.clone(),
        studio_id: studio,
        uploaded_by,
        code_hash: code_hash(&keys.hash, &code),
        code_sealed: seal_code(&keys.ring, &id, &code),
        mobile_hint: contacts.mobile.as_ref().map(Phone::masked),
        email_hint: contacts.email.as_ref().map(Email::masked),
        created_at: now.naive_utc(),
        bound_afm: None,
        linked_afm: None,
        linked_at: None,
        deleted_at: None,
    };
    let file_rows: Vec<FileRow> = sealed
        .into_iter()
        .zip([&face, &signature])
        .map(|((kind, sealed), checked)| FileRow {
            submission_id: id.clone(),
            kind,
            content_type: checked.format,
            object_key: sealed.object_key,
            wrapped_key: sealed.wrapped_key,
            master_key_id: sealed.master_key_id,
            size_bytes: i64::try_from(checked.bytes.len()).unwrap_or(i64::MAX),
            sha256: hex::encode(Sha256::digest(&checked.bytes)),
        })
        .collect();
    let template = Template::Kodikarithmos {
        code: code.to_string(),
        studio: studio_name,
        link_by: expires_at
            .with_timezone(&Athens)
            .format("%d/%m/%Y %H:%M")
            .to_string(),
    };
    let recipients = [
        contacts.mobile.map(|m| (Channel::Sms, m.to_string())),
        contacts.email.map(|e| (Channel::Email, e.to_string())),
    ];
    crate::db::write_transaction(conn, |tx| {
        store::insert_submission(tx, &row)?;
        store::insert_files(tx, &file_rows)?;
        for (channel, to) in recipients.into_iter().flatten() {
            let message = NewMessage {
                channel,
                to,
                language: Lang::El,
                template: template.clone(),
                attachments: Vec::new(),
            };
            // A code that can no longer be linked is worth nothing.
            notify::enqueue_expiring(tx, &message, now, expires_at)?;
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(Submitted {
        qr_svg: qr::svg(&code),
        id,
        kodikarithmos: code.to_string(),
        expires_at,
    })
}

/// The studio's uploads, oldest first, with their status and masked
/// contacts (owner or employee of the studio).
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("studio_id" = String, Path, format = Uuid), PageParams),
    responses(
        (status = 200, description = "A page of uploads.", body = Page<SubmissionSummary>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/studios/{studio_id}/submissions")]
async fn list_submissions(
    caller: Caller<StudioMember>,
    path: web::Path<String>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Page<SubmissionSummary>>, ApiError> {
    let studio = parse_path_id::<StudioId>(&path, "studio_id");
    let request = page.parse::<SubmissionId>();
    let now = clock.now();
    let (rows, limit) = db
        .run(move |conn| {
            let member = caller.resolve(conn)?;
            let studio = studio?;
            member.require(&studio)?;
            let request = request?;
            let rows = store::submissions_of(conn, &studio, request.after.as_ref(), request.limit)?;
            Ok::<_, ApiError>((rows, request.limit))
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|row| SubmissionSummary {
            status: SubmissionStatus::of(&row, now),
            id: row.id,
            created_at: row.created_at.and_utc(),
            mobile: row.mobile_hint,
            email: row.email_hint,
        })
        .collect();
    Ok(web::Json(Page::from_rows(
        items,
        limit,
        |s: &SubmissionSummary| s.id.clone(),
    )))
}

/// The submission of the studio that `caller` is a member of, on the
/// request's connection.
fn member_submission(
    conn: &mut DbConn,
    caller: Caller<StudioMember>,
    ids: (Result<StudioId, ApiError>, Result<SubmissionId, ApiError>),
) -> Result<SubmissionRow, ApiError> {
    let member = caller.resolve(conn)?;
    let (studio, id) = (ids.0?, ids.1?);
    member.require(&studio)?;
    store::submission_of_studio(conn, &studio, &id)?.ok_or_else(ApiError::not_found)
}

fn path_ids(
    path: web::Path<(String, String)>,
) -> (Result<StudioId, ApiError>, Result<SubmissionId, ApiError>) {
    let (studio, id) = path.into_inner();
    (
        parse_path_id(&studio, "studio_id"),
        parse_path_id(&id, "submission_id"),
    )
}

/// The code as a QR image, to print for the citizen (owner or employee of
/// the studio), while the upload waits to be linked.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(
        ("studio_id" = String, Path, format = Uuid),
        ("submission_id" = String, Path, format = Uuid),
    ),
    responses(
        (status = 200, description = "The QR code.", content_type = "image/png", body = BinaryBody),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/studios/{studio_id}/submissions/{submission_id}/qr.png")]
async fn qr_png(
    caller: Caller<StudioMember>,
    path: web::Path<(String, String)>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let ids = path_ids(path);
    let now = clock.now();
    let row = db
        .run(move |conn| member_submission(conn, caller, ids))
        .await?;
    // Once linked, expired or deleted, the code is no one's business but
    // the citizen's.
    if SubmissionStatus::of(&row, now) != SubmissionStatus::Pending || row.bound_afm.is_some() {
        return Err(ApiError::not_found());
    }
    let code = open_code(photos.code_ring(), &row.id, &row.code_sealed)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .body(qr::png(&code)))
}

/// Deletes an upload that no citizen has linked (owner or employee of the
/// studio), e.g. one made with the wrong photo: its files, their wrapped
/// keys and its code stop existing; the row stays in the list as
/// `deleted`.
#[utoipa::path(
    tag = "photos",
    security(("session_cookie" = []), ("bearer" = [])),
    params(
        ("studio_id" = String, Path, format = Uuid),
        ("submission_id" = String, Path, format = Uuid),
    ),
    responses(
        (status = 204, description = "Deleted, or already deleted."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = SubmissionInUse),
        (status = 422, response = ValidationFailed),
    )
)]
#[delete("/v1/studios/{studio_id}/submissions/{submission_id}")]
async fn delete_submission(
    caller: Caller<StudioMember>,
    path: web::Path<(String, String)>,
    photos: web::Data<Photos>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let ids = path_ids(path);
    let now = clock.now().naive_utc();
    let object_keys = db
        .run(move |conn| {
            crate::db::write_transaction(conn, |tx| {
                let row = member_submission(tx, caller, ids)?;
                if row.bound_afm.is_some() {
                    return Err(ApiError::new(ErrorCode::SubmissionInUse));
                }
                Ok(store::mark_deleted(tx, &row.id, now)?)
            })
        })
        .await?;
    // The wrapped data keys went with the rows: a blob left behind by a
    // failure here can no longer be opened by anyone.
    for key in object_keys {
        if let Err(e) = photos.vault.delete(&key).await {
            tracing::warn!(error = %e, "a deleted upload's blob could not be removed");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
