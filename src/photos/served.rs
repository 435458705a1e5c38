//! A stored image as an answer: the same bytes, type, digest and file name
//! whoever reads it, the citizen (their own photos) or an application (with
//! the citizen's consent).

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::{
    self, ContentDisposition, DispositionParam, DispositionType, EntityTag, Header, IfNoneMatch,
};

use super::store::FileRow;

/// The image's `ETag`: its SHA-256, which names the bytes exactly.
pub fn entity_tag(file: &FileRow) -> EntityTag {
    EntityTag::new_strong(file.sha256.clone())
}

/// Whether the caller already holds these bytes (`If-None-Match` names
/// their tag, or `*`), so that a `304` can spare reading and sending them.
pub fn is_held(req: &HttpRequest, file: &FileRow) -> bool {
    match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => {
            let ours = entity_tag(file);
            tags.iter().any(|tag| tag.weak_eq(&ours))
        }
        Err(_) => false,
    }
}

/// `304 Not Modified` for an image the caller holds: its tag again, no body.
pub fn not_modified(file: &FileRow) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header(header::ETag(entity_tag(file)))
        .finish()
}

/// `200` with the image as stored, its type, its tag, and a file name
/// (`face.jpg`, `signature.png`) for whoever saves it.
pub fn image(file: &FileRow, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(file.content_type.content_type())
        .insert_header(header::ETag(entity_tag(file)))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Inline,
            parameters: vec![DispositionParam::Filename(format!(
                "{}.{}",
                file.kind.as_str(),
                file.content_type.extension()
            ))],
        })
        .body(bytes)
}
