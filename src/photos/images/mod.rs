//! The face photo and signature image a studio uploads (R-PH-04), checked
//! before anything is kept, and cleaned of their metadata: what is stored
//! and later shown (R-PH-11) is the photographer's picture, bit for bit,
//! without the EXIF, GPS position, colour profile or comments that came
//! with it. docs/photos.md, "Image checks and metadata", says why the
//! container is cleaned rather than the pixels re-encoded.
//!
//! A check, cheapest first: the byte count; the format, sniffed from the
//! bytes (and held against the declared type); then, on the blocking pool
//! and at most `images.max_concurrent_decodes` at once, the container
//! walked and cleaned, its header's size held to the bounds (so that a
//! decompression bomb is refused before anything is allocated for its
//! pixels), and the cleaned bytes decoded under `image::Limits`.

mod admit;
mod decode;
#[doc(hidden)]
pub mod fixtures;
mod jpeg;
mod png;
mod problem;

use std::sync::Arc;

use bytes::Bytes;
use image::metadata::Orientation;
use mime::Mime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{ImageBounds, ImageSettings};
use crate::http::ApiError;

use problem::ImageProblem;

/// Which of the two uploaded images; stored, and shown, as its field name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
#[schema(example = "face")]
pub enum ImageKind {
    /// A JPEG, taller than wide.
    Face,
    /// A JPEG or PNG.
    Signature,
}

impl ImageKind {
    /// The image's part of the upload, the `field` of its errors, and
    /// how it is stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Face => "face",
            ImageKind::Signature => "signature",
        }
    }

    /// A face photo is what a camera gives; a signature is often scanned or
    /// drawn, and PNG keeps its strokes sharp.
    fn allows(self, format: StoredFormat) -> bool {
        match self {
            ImageKind::Face => format == StoredFormat::Jpeg,
            ImageKind::Signature => true,
        }
    }

    /// Passport photos are portraits; signatures come any way round.
    fn must_be_portrait(self) -> bool {
        self == ImageKind::Face
    }
}

/// The format an image is stored and served in: the one it came in;
/// stored as its content type.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum StoredFormat {
    Jpeg,
    Png,
}

impl std::str::FromStr for ImageKind {
    type Err = String;

    fn from_str(stored: &str) -> Result<Self, Self::Err> {
        [ImageKind::Face, ImageKind::Signature]
            .into_iter()
            .find(|kind| kind.as_str() == stored)
            .ok_or_else(|| format!("no such image kind: {stored}"))
    }
}

impl std::str::FromStr for StoredFormat {
    type Err = String;

    fn from_str(stored: &str) -> Result<Self, Self::Err> {
        [StoredFormat::Jpeg, StoredFormat::Png]
            .into_iter()
            .find(|format| format.as_str() == stored)
            .ok_or_else(|| format!("no such image format: {stored}"))
    }
}

crate::db::sql_text!(ImageKind, StoredFormat);

impl StoredFormat {
    pub fn as_str(self) -> &'static str {
        self.content_type()
    }

    pub fn content_type(self) -> &'static str {
        match self {
            StoredFormat::Jpeg => "image/jpeg",
            StoredFormat::Png => "image/png",
        }
    }

    /// For file names, e.g. in the download archive (R-PH-14).
    pub fn extension(self) -> &'static str {
        match self {
            StoredFormat::Jpeg => "jpg",
            StoredFormat::Png => "png",
        }
    }

    fn image_format(self) -> image::ImageFormat {
        match self {
            StoredFormat::Jpeg => image::ImageFormat::Jpeg,
            StoredFormat::Png => image::ImageFormat::Png,
        }
    }
}

/// An image that passed every check, as it is to be stored: the uploaded
/// container without its metadata, the pixel data untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    pub bytes: Vec<u8>,
    pub format: StoredFormat,
    pub width: u32,
    pub height: u32,
}

/// Checks uploaded images; clones share the two bounds that keep memory
/// flat under load: on uploads let in, and on decodes at once.
#[derive(Debug, Clone)]
pub struct ImageChecker {
    face: ImageBounds,
    signature: ImageBounds,
    permits: Arc<Semaphore>,
    uploads: Arc<Semaphore>,
}

impl ImageChecker {
    pub fn new(settings: &ImageSettings) -> ImageChecker {
        ImageChecker {
            face: settings.face(),
            signature: settings.signature(),
            permits: Arc::new(Semaphore::new(settings.max_concurrent_decodes)),
            uploads: Arc::new(Semaphore::new(settings.max_concurrent_uploads)),
        }
    }

    /// Waits until an upload may be let in, before its body is read: the
    /// uploads that wait hold no memory of ours (their bytes stay in the
    /// socket), so memory grows with `images.max_concurrent_uploads`, not
    /// with how many studios send at once. Held until the upload is stored.
    pub async fn upload_permit(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.uploads)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Checks `bytes` as the `kind` of image, sent as `declared` (the part's
    /// `Content-Type`, if it had one), and gives it back cleaned; or the
    /// refusal, naming the image and the bound it broke.
    pub async fn check(
        &self,
        kind: ImageKind,
        declared: Option<&Mime>,
        bytes: Bytes,
    ) -> Result<CheckedImage, ApiError> {
        let bounds = self.bounds(kind);
        let refuse = |problem: ImageProblem| problem.into_api_error(kind, &bounds);
        let format = admit::admit(kind, &bounds, declared, &bytes).map_err(refuse)?;
        // An owned permit, moved into the blocking task: if the request is
        // dropped while it waits (the client went away), the decode runs
        // on, and only its end may let another one start.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let inspected = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inspect(kind, &bounds, format, bytes)
        })
        .await;
        match inspected {
            Ok(checked) => checked.map_err(refuse),
            // A decoder that panics on hostile input has refused it; the
            // panic is a bug to report upstream, so it is logged loudly.
            Err(error) if error.is_panic() => {
                tracing::error!(image = kind.as_str(), "the image decoder panicked");
                Err(refuse(ImageProblem::unreadable("the decoder panicked")))
            }
            Err(error) => Err(ApiError::internal(error)),
        }
    }

    /// The most bytes an image of `kind` may have: the cap on its part of
    /// an upload, read before anything is checked.
    pub fn max_bytes(&self, kind: ImageKind) -> usize {
        self.bounds(kind).max_bytes
    }

    fn bounds(&self, kind: ImageKind) -> ImageBounds {
        match kind {
            ImageKind::Face => self.face,
            ImageKind::Signature => self.signature,
        }
    }
}

/// A container cleaned of its metadata, with what its header says.
struct Cleaned {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
    orientation: Option<Orientation>,
}

/// The checks that cost: run on the blocking pool, under a permit.
fn inspect(
    kind: ImageKind,
    bounds: &ImageBounds,
    format: StoredFormat,
    bytes: Bytes,
) -> Result<CheckedImage, ImageProblem> {
    let cleaned = match format {
        StoredFormat::Jpeg => jpeg::clean(&bytes)?,
        StoredFormat::Png => png::clean(bytes)?,
    };
    if cleaned
        .orientation
        .is_some_and(|o| o != Orientation::NoTransforms)
    {
        return Err(ImageProblem::OrientationNotApplied);
    }
    let (width, height) = (cleaned.width, cleaned.height);
    let within = (bounds.min_width..=bounds.max_width).contains(&width)
        && (bounds.min_height..=bounds.max_height).contains(&height)
        && (!kind.must_be_portrait() || height > width);
    if !within {
        return Err(ImageProblem::DimensionsOutOfBounds { width, height });
    }
    let decoded = decode::decode(format, &cleaned.bytes, bounds)?;
    if (decoded.width(), decoded.height()) != (width, height) {
        return Err(ImageProblem::unreadable(
            "the decoded size is not the header's",
        ));
    }
    Ok(CheckedImage {
        bytes: cleaned.bytes,
        format,
        width,
        height,
    })
}

#[cfg(test)]
mod tests;
