//! The bounds an uploaded face photo and signature image must keep (R-PH-04),
//! and how many of them are decoded at once.
//!
//! Flat fields (`face_max_bytes`, `signature_max_bytes`, ...) rather than a
//! `face` and a `signature` table of one shared type: a table given in part
//! (one environment variable) must fall back to *that image's* defaults,
//! which a shared type's `Default` cannot know.

use serde::Deserialize;

use super::ConfigError;

/// `CITIZEN_API_IMAGES__…`. The face must also be taller than wide (a
/// portrait, as passport photos are); that is a rule, not a setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ImageSettings {
    /// Images decoded at once in the process; each decode holds the decoded
    /// pixels in memory (up to `max_width × max_height × 4` bytes for a
    /// JPEG, `× 8` for a 16-bit PNG), so this bounds that memory. Default:
    /// one per core.
    pub max_concurrent_decodes: usize,
    /// Uploads let in at once, bodies read or being checked and stored;
    /// the others wait before their bodies are read, in the socket rather
    /// than in memory. Each one let in holds its form and the cleaned and
    /// sealed copies (about three times its bytes), so this and
    /// `max_concurrent_decodes` bound an upload's memory together. Default:
    /// two per decode, so that a body is being read while another decodes.
    pub max_concurrent_uploads: usize,
    /// Face photo bounds, near passport-photo practice: at least 600×750
    /// pixels (a 35×45 mm passport photo at about 430 dpi) ...
    pub face_min_width: u32,
    pub face_min_height: u32,
    /// ... and at most 6000×6000: a 24-megapixel camera's whole frame
    /// (6000×4000) either way up.
    pub face_max_width: u32,
    pub face_max_height: u32,
    /// A 600×750 JPEG of a real face at a sensible quality is larger than
    /// 50 KB; fewer bytes means compression that has destroyed the detail.
    pub face_min_bytes: usize,
    /// Full-frame camera JPEGs at high quality stay under 10 MB.
    pub face_max_bytes: usize,
    /// Signature bounds. At least 300×100 pixels: a signature box on an ID
    /// card or driving licence is about 30×10 mm, and 300×100 is about 250
    /// dpi over it, the least that keeps the strokes legible ...
    pub signature_min_width: u32,
    pub signature_min_height: u32,
    /// ... at most 4000×4000: an A6 card scanned at 600 dpi (2480×3496)
    /// fits, and a 16-bit RGBA PNG of that size decodes in 128 MB.
    pub signature_max_width: u32,
    pub signature_max_height: u32,
    /// A signature is mostly white paper, so it compresses well: a legible
    /// 300×100 PNG takes a few KB, and under 1 KB nothing legible is left.
    pub signature_min_bytes: usize,
    /// A lossless 600 dpi scan of a signature stays well under 5 MB.
    pub signature_max_bytes: usize,
}

/// The pixel and byte bounds of one kind of image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageBounds {
    pub min_width: u32,
    pub min_height: u32,
    pub max_width: u32,
    pub max_height: u32,
    pub min_bytes: usize,
    pub max_bytes: usize,
}

impl ImageSettings {
    pub fn face(&self) -> ImageBounds {
        ImageBounds {
            min_width: self.face_min_width,
            min_height: self.face_min_height,
            max_width: self.face_max_width,
            max_height: self.face_max_height,
            min_bytes: self.face_min_bytes,
            max_bytes: self.face_max_bytes,
        }
    }

    pub fn signature(&self) -> ImageBounds {
        ImageBounds {
            min_width: self.signature_min_width,
            min_height: self.signature_min_height,
            max_width: self.signature_max_width,
            max_height: self.signature_max_height,
            min_bytes: self.signature_min_bytes,
            max_bytes: self.signature_max_bytes,
        }
    }

    /// No decode at all would leave every upload waiting forever; bounds
    /// whose least exceeds their most would refuse every image.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (count, setting) in [
            (
                self.max_concurrent_decodes,
                "images.max_concurrent_decodes (CITIZEN_API_IMAGES__MAX_CONCURRENT_DECODES)",
            ),
            (
                self.max_concurrent_uploads,
                "images.max_concurrent_uploads (CITIZEN_API_IMAGES__MAX_CONCURRENT_UPLOADS)",
            ),
        ] {
            if count == 0 {
                return Err(ConfigError::Unacceptable {
                    setting,
                    problem: "0".into(),
                    expected: "a whole number from 1 upwards",
                });
            }
        }
        for (bounds, setting) in [
            (self.face(), "images.face_* (CITIZEN_API_IMAGES__FACE_*)"),
            (
                self.signature(),
                "images.signature_* (CITIZEN_API_IMAGES__SIGNATURE_*)",
            ),
        ] {
            if let Some(problem) = bounds.contradiction() {
                return Err(ConfigError::Unacceptable {
                    setting,
                    problem,
                    expected: "each min_* at most its max_*, and a max_width and max_height from 1 upwards",
                });
            }
        }
        Ok(())
    }
}

impl ImageBounds {
    fn contradiction(&self) -> Option<String> {
        let pairs = [
            ("width", self.min_width as usize, self.max_width as usize),
            ("height", self.min_height as usize, self.max_height as usize),
            ("bytes", self.min_bytes, self.max_bytes),
        ];
        if let Some((name, min, max)) = pairs.into_iter().find(|(_, min, max)| min > max) {
            return Some(format!("min_{name} {min} exceeds max_{name} {max}"));
        }
        (self.max_width == 0 || self.max_height == 0)
            .then(|| "a max_width or max_height of 0".into())
    }
}

impl Default for ImageSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        ImageSettings {
            max_concurrent_decodes: cores,
            max_concurrent_uploads: 2 * cores,
            face_min_width: 600,
            face_min_height: 750,
            face_max_width: 6000,
            face_max_height: 6000,
            face_min_bytes: 50_000,
            face_max_bytes: 10_000_000,
            signature_min_width: 300,
            signature_min_height: 100,
            signature_max_width: 4000,
            signature_max_height: 4000,
            signature_min_bytes: 1_000,
            signature_max_bytes: 5_000_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_and_a_contradiction_names_its_setting() {
        let settings = ImageSettings::default();
        settings.validate().unwrap();
        assert!(settings.max_concurrent_decodes >= 1);
        let mut settings = ImageSettings {
            signature_min_bytes: 6_000_000,
            ..ImageSettings::default()
        };
        let err = settings.validate().unwrap_err().to_string();
        assert!(
            err.contains("CITIZEN_API_IMAGES__SIGNATURE_*") && err.contains("min_bytes 6000000"),
            "{err}"
        );
        settings = ImageSettings {
            max_concurrent_decodes: 0,
            ..ImageSettings::default()
        };
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("MAX_CONCURRENT_DECODES"), "{err}");
        settings = ImageSettings {
            max_concurrent_uploads: 0,
            ..ImageSettings::default()
        };
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("MAX_CONCURRENT_UPLOADS"), "{err}");
    }
}
