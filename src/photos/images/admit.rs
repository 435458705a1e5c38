//! The checks made on the bytes as they came, before a permit to decode is
//! waited for: how many there are, and what format they really are.

use image::ImageFormat;
use mime::Mime;

use crate::config::ImageBounds;

use super::problem::ImageProblem;
use super::{ImageKind, StoredFormat};

/// The format is sniffed from the bytes; a declared type is never believed,
/// only held against them. `application/octet-stream` declares nothing
/// (RFC 2046: "unknown type"), so it is treated as no declaration.
pub(super) fn admit(
    kind: ImageKind,
    bounds: &ImageBounds,
    declared: Option<&Mime>,
    bytes: &[u8],
) -> Result<StoredFormat, ImageProblem> {
    if bytes.len() > bounds.max_bytes {
        return Err(ImageProblem::TooLarge { bytes: bytes.len() });
    }
    let found = image::guess_format(bytes).ok();
    let format = match found {
        Some(ImageFormat::Jpeg) => Some(StoredFormat::Jpeg),
        Some(ImageFormat::Png) => Some(StoredFormat::Png),
        _ => None,
    };
    let Some(format) = format.filter(|format| kind.allows(*format)) else {
        return Err(ImageProblem::TypeNotAllowed {
            found: found.map(|format| format.to_mime_type()),
            declared: None,
        });
    };
    let declared = declared
        .map(Mime::essence_str)
        .filter(|declared| *declared != mime::APPLICATION_OCTET_STREAM.essence_str());
    if let Some(declared) = declared
        && declared != format.content_type()
    {
        return Err(ImageProblem::TypeNotAllowed {
            found: Some(format.content_type()),
            declared: Some(declared.to_owned()),
        });
    }
    if bytes.len() < bounds.min_bytes {
        return Err(ImageProblem::TooSmall { bytes: bytes.len() });
    }
    Ok(format)
}
