//! Reading an upload's `multipart/form-data` body as a stream, with a cap
//! on every part: a part is refused as soon as it passes its cap, so what
//! one upload holds in memory is bounded by the caps, not by what a client
//! sends.

use std::time::Duration;

use actix_multipart::{Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use mime::Mime;

use super::ImageKind;
use crate::http::{ApiError, ErrorCode, FieldError, Text};

/// The longest text field: an e-mail address is at most 254 characters.
const TEXT_CAP: usize = 320;

/// One image part as it came: its bytes and the type the client declared.
pub struct ImagePart {
    pub bytes: Bytes,
    pub declared: Option<Mime>,
}

/// The upload's parts (R-PH-04), not yet checked.
pub struct UploadForm {
    pub face: ImagePart,
    pub signature: ImagePart,
    pub citizen_mobile: Option<String>,
    pub citizen_email: Option<String>,
}

/// The caps on the image parts, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct PartCaps {
    pub face: usize,
    pub signature: usize,
}

fn field_error(field: &str, code: &'static str, el: &'static str, en: &'static str) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        field.to_owned(),
        code,
        Text::new(el, en),
    )])
}

fn malformed(error: MultipartError) -> ApiError {
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => ApiError::new(ErrorCode::UnsupportedMediaType)
            .with_detail(Text::new(
                "Το σώμα πρέπει να αποσταλεί ως multipart/form-data.",
                "The body must be sent as multipart/form-data.",
            )),
        other => ApiError::new(ErrorCode::BadRequest).with_detail(Text::new(
            "Το σώμα multipart δεν είναι έγκυρο.",
            format!("The multipart body is not valid: {other}."),
        )),
    }
}

/// An image over its cap is `image_too_large`, as the image checks would
/// answer; a text part over its own is a body too large.
fn too_large(part: &str, cap: usize) -> ApiError {
    let code = match part {
        "face" | "signature" => ErrorCode::ImageTooLarge,
        _ => ErrorCode::PayloadTooLarge,
    };
    let detail = Text::new(
        format!("Το πεδίο {part} υπερβαίνει τα {cap} bytes."),
        format!("The part {part} exceeds {cap} bytes."),
    );
    ApiError::new(code)
        .with_detail(detail.clone())
        .with_field_error(FieldError::new(part.to_owned(), code.as_str(), detail))
}

/// How long a refused form is read on, and discarded, at most.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads the parts, each up to its cap; an unknown or repeated part, or a
/// missing image, is refused.
///
/// A refused form is read on, and discarded, up to what a whole form may
/// hold and for [`DRAIN_TIME`] at most: a client still sending when the
/// refusal goes out would otherwise meet a closed connection, whose reset
/// makes its kernel drop the unread answer, and it would never learn why.
pub async fn read(
    req: &HttpRequest,
    payload: Payload,
    caps: PartCaps,
) -> Result<UploadForm, ApiError> {
    let mut form = Multipart::new(req.headers(), payload);
    let parts = read_parts(&mut form, caps).await;
    if parts.is_err() {
        let budget = caps.face + caps.signature + 2 * TEXT_CAP;
        // Whatever stops the draining, the refusal stands.
        let _ = tokio::time::timeout(DRAIN_TIME, drain(&mut form, budget)).await;
    }
    parts
}

/// Reads and drops what is left of `form`, up to `budget` bytes.
async fn drain(form: &mut Multipart, mut budget: usize) {
    while let Some(Ok(mut field)) = form.next().await {
        while let Some(Ok(chunk)) = field.next().await {
            budget = budget.saturating_sub(chunk.len());
            if budget == 0 {
                return;
            }
        }
    }
}

async fn read_parts(form: &mut Multipart, caps: PartCaps) -> Result<UploadForm, ApiError> {
    let (mut face, mut signature, mut mobile, mut email) = (None, None, None, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        let cap = match name.as_str() {
            "face" => caps.face,
            "signature" => caps.signature,
            "citizen_mobile" | "citizen_email" => TEXT_CAP,
            _ => {
                return Err(field_error(
                    &name,
                    "unknown_field",
                    "Άγνωστο πεδίο.",
                    "Unknown part: the form takes face, signature, citizen_mobile and citizen_email.",
                ));
            }
        };
        let declared = field.content_type().cloned();
        let mut bytes = BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if bytes.len() + chunk.len() > cap {
                return Err(too_large(&name, cap));
            }
            bytes.extend_from_slice(&chunk);
        }
        let bytes = bytes.freeze();
        let slot_taken = match name.as_str() {
            "face" => face.replace(ImagePart { bytes, declared }).is_some(),
            "signature" => signature.replace(ImagePart { bytes, declared }).is_some(),
            "citizen_mobile" => mobile.replace(text(&name, &bytes)?).is_some(),
            _ => email.replace(text(&name, &bytes)?).is_some(),
        };
        if slot_taken {
            return Err(field_error(
                &name,
                "repeated_field",
                "Το πεδίο δόθηκε δύο φορές.",
                "This part was sent twice.",
            ));
        }
    }
    let missing = |kind: ImageKind| {
        field_error(
            kind.as_str(),
            "required",
            "Η εικόνα λείπει.",
            "The image is missing.",
        )
    };
    Ok(UploadForm {
        face: face.ok_or_else(|| missing(ImageKind::Face))?,
        signature: signature.ok_or_else(|| missing(ImageKind::Signature))?,
        citizen_mobile: mobile.filter(|m: &String| !m.trim().is_empty()),
        citizen_email: email.filter(|e: &String| !e.trim().is_empty()),
    })
}

fn text(name: &str, bytes: &Bytes) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        field_error(
            name,
            "invalid_text",
            "Το πεδίο δεν είναι κείμενο UTF-8.",
            "The part is not UTF-8 text.",
        )
    })
}
