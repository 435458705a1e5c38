//! Why an image was refused, and how that is told: an error code of its
//! own per cause, a detail that names the image and the bound it broke,
//! and an `errors` entry whose `field` is the image's part of the upload.

use std::borrow::Cow;

use crate::config::ImageBounds;
use crate::domain::Text;
use crate::http::{ApiError, ErrorCode, FieldError};

use super::ImageKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ImageProblem {
    /// More bytes than `max_bytes`.
    TooLarge {
        bytes: usize,
    },
    /// Fewer bytes than `min_bytes`.
    TooSmall {
        bytes: usize,
    },
    /// Not a format this kind allows, or not the type the upload declared.
    TypeNotAllowed {
        /// The sniffed format's media type; `None`: no image format known.
        found: Option<&'static str>,
        /// What the upload declared, when that is what disagrees.
        declared: Option<String>,
    },
    /// Truncated or corrupt: why, for the log only.
    Unreadable(Cow<'static, str>),
    DimensionsOutOfBounds {
        width: u32,
        height: u32,
    },
    /// Upright only through an EXIF orientation, which is stripped.
    OrientationNotApplied,
}

impl ImageProblem {
    pub(super) fn unreadable(why: impl Into<Cow<'static, str>>) -> ImageProblem {
        ImageProblem::Unreadable(why.into())
    }

    pub(super) fn into_api_error(self, kind: ImageKind, bounds: &ImageBounds) -> ApiError {
        let (code, detail) = self.explain(kind, bounds);
        if let ImageProblem::Unreadable(why) = &self {
            tracing::info!(image = kind.as_str(), %why, "image unreadable");
        }
        ApiError::new(code)
            .with_detail(detail.clone())
            .with_field_error(FieldError::new(kind.as_str(), code.as_str(), detail))
    }

    fn explain(&self, kind: ImageKind, bounds: &ImageBounds) -> (ErrorCode, Text) {
        let (el, en) = match kind {
            ImageKind::Face => ("Η φωτογραφία προσώπου", "The face photo"),
            ImageKind::Signature => ("Η εικόνα της υπογραφής", "The signature image"),
        };
        match self {
            ImageProblem::TooLarge { bytes } => (
                ErrorCode::ImageTooLarge,
                Text::new(
                    format!(
                        "{el} έχει μέγεθος {}· το όριο είναι {}.",
                        size(*bytes, true, ','),
                        size(bounds.max_bytes, false, ',')
                    ),
                    format!(
                        "{en} is {}; the limit is {}.",
                        size(*bytes, true, '.'),
                        size(bounds.max_bytes, false, '.')
                    ),
                ),
            ),
            ImageProblem::TooSmall { bytes } => (
                ErrorCode::ImageTooSmall,
                Text::new(
                    format!(
                        "{el} έχει μέγεθος μόλις {}· χρειάζεται τουλάχιστον {}, αλλιώς η συμπίεση έχει χαλάσει τη λεπτομέρεια.",
                        size(*bytes, false, ','),
                        size(bounds.min_bytes, true, ',')
                    ),
                    format!(
                        "{en} is only {}; it needs at least {}, or the compression has destroyed the detail.",
                        size(*bytes, false, '.'),
                        size(bounds.min_bytes, true, '.')
                    ),
                ),
            ),
            ImageProblem::TypeNotAllowed { found, declared } => {
                let allowed = match kind {
                    ImageKind::Face => ("JPEG", "a JPEG"),
                    ImageKind::Signature => ("JPEG ή PNG", "a JPEG or PNG"),
                };
                let (found_el, found_en) = match found {
                    Some(found) => (format!("σε μορφή {found}"), (*found).to_owned()),
                    None => (
                        "σε μορφή εικόνας που δεν αναγνωρίζεται".to_owned(),
                        "in no image format known here".to_owned(),
                    ),
                };
                let text = match declared {
                    Some(declared) => Text::new(
                        format!(
                            "{el} δηλώθηκε ως {declared}, αλλά το περιεχόμενό της είναι {found_el}."
                        ),
                        format!("{en} was declared as {declared}, but its content is {found_en}."),
                    ),
                    None => Text::new(
                        format!(
                            "{el} πρέπει να είναι {}· το περιεχόμενό της είναι {found_el}.",
                            allowed.0
                        ),
                        format!("{en} must be {}; its content is {found_en}.", allowed.1),
                    ),
                };
                (ErrorCode::ImageTypeNotAllowed, text)
            }
            ImageProblem::Unreadable(_) => (
                ErrorCode::ImageUnreadable,
                Text::new(
                    format!("{el} είναι κομμένη ή κατεστραμμένη: δεν αποκωδικοποιείται."),
                    format!("{en} is truncated or corrupt: it does not decode."),
                ),
            ),
            ImageProblem::DimensionsOutOfBounds { width, height } => {
                let ImageBounds {
                    min_width,
                    min_height,
                    max_width,
                    max_height,
                    ..
                } = bounds;
                let (portrait_el, portrait_en) = if kind.must_be_portrait() {
                    (
                        ", με ύψος μεγαλύτερο από το πλάτος",
                        ", and taller than wide",
                    )
                } else {
                    ("", "")
                };
                (
                    ErrorCode::ImageDimensionsOutOfBounds,
                    Text::new(
                        format!(
                            "{el} έχει {width}×{height} pixel· πρέπει να έχει από {min_width}×{min_height} έως {max_width}×{max_height}{portrait_el}."
                        ),
                        format!(
                            "{en} is {width}×{height} pixels; it must be from {min_width}×{min_height} to {max_width}×{max_height}{portrait_en}."
                        ),
                    ),
                )
            }
            ImageProblem::OrientationNotApplied => (
                ErrorCode::ImageOrientationNotApplied,
                Text::new(
                    format!(
                        "{el} στέκεται όρθια μόνο χάρη στην ένδειξη προσανατολισμού EXIF, που δεν διατηρείται· αποθηκεύστε την με την περιστροφή εφαρμοσμένη."
                    ),
                    format!(
                        "{en} stands upright only through its EXIF orientation tag, which is not kept; save it with the rotation applied."
                    ),
                ),
            ),
        }
    }
}

/// A byte count in KB or MB (of 1000) with at most one decimal, rounded up
/// or down as the sentence needs, so that a size just past a limit never
/// reads as the limit itself.
fn size(bytes: usize, round_up: bool, decimal_mark: char) -> String {
    let (tenth_of_unit, unit) = match bytes {
        1_000_000.. => (100_000, "MB"),
        1_000.. => (100, "KB"),
        _ => return format!("{bytes} bytes"),
    };
    let tenths = if round_up {
        bytes.div_ceil(tenth_of_unit)
    } else {
        bytes / tenth_of_unit
    };
    match (tenths / 10, tenths % 10) {
        (whole, 0) => format!("{whole} {unit}"),
        (whole, tenth) => format!("{whole}{decimal_mark}{tenth} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_just_past_a_limit_does_not_read_as_the_limit() {
        assert_eq!(size(10_000_001, true, '.'), "10.1 MB");
        assert_eq!(size(10_000_000, false, '.'), "10 MB");
        assert_eq!(size(49_999, false, ','), "49,9 KB");
        assert_eq!(size(50_000, true, '.'), "50 KB");
        assert_eq!(size(999, true, '.'), "999 bytes");
    }
}
