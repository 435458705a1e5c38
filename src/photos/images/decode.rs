//! The cleaned bytes decoded under explicit limits, which prove that what
//! is stored still makes the picture.

use std::io::Cursor;

use image::{DynamicImage, ImageReader, Limits};

use crate::config::ImageBounds;

use super::StoredFormat;
use super::problem::ImageProblem;

/// The header's size was checked against `bounds` before this is called;
/// the limits hold the decoder to the same bounds in case the decoder reads
/// another size than the container's header says, and cap what it may
/// allocate at the largest picture the bounds allow.
pub(super) fn decode(
    format: StoredFormat,
    bytes: &[u8],
    bounds: &ImageBounds,
) -> Result<DynamicImage, ImageProblem> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits(format, bounds));
    reader
        .decode()
        .map_err(|error| ImageProblem::unreadable(error.to_string()))
}

fn limits(format: StoredFormat, bounds: &ImageBounds) -> Limits {
    // The most bytes a pixel decodes to: a JPEG gives at most 8-bit RGBA,
    // a PNG up to 16-bit RGBA.
    let bytes_per_pixel = match format {
        StoredFormat::Jpeg => 4,
        StoredFormat::Png => 8,
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(bounds.max_width);
    limits.max_image_height = Some(bounds.max_height);
    limits.max_alloc =
        Some(u64::from(bounds.max_width) * u64::from(bounds.max_height) * bytes_per_pixel);
    limits
}
