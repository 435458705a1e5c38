//! A PNG's container cleaned to what decoding and showing it need.
//!
//! `img-parts` reads the chunks (checking each one's CRC, and ignoring
//! anything after IEND, as PNG readers do) and writes the kept ones back
//! unchanged.

use bytes::Bytes;
use image::metadata::Orientation;
use img_parts::png::Png;

use super::Cleaned;
use super::problem::ImageProblem;

const IHDR: [u8; 4] = *b"IHDR";
const IEND: [u8; 4] = *b"IEND";
const EXIF: [u8; 4] = *b"eXIf";

/// The header, palette, transparency, pixel data and end, and the three
/// fixed-size chunks that say how to read the colours (gamma, chromaticities,
/// sRGB). Everything else goes: text (`tEXt`, `zTXt`, `iTXt`), `eXIf`,
/// `iCCP`, `tIME`, physical size, suggested palettes, animation frames,
/// and chunks of any kind not yet invented.
const KEPT: [[u8; 4]; 8] = [
    IHDR, *b"PLTE", *b"tRNS", *b"gAMA", *b"cHRM", *b"sRGB", *b"IDAT", IEND,
];

pub(super) fn clean(input: Bytes) -> Result<Cleaned, ImageProblem> {
    let mut png = Png::from_bytes(input).map_err(|e| ImageProblem::unreadable(e.to_string()))?;
    let chunks = png.chunks();
    if chunks.first().map(|c| c.kind()) != Some(IHDR) {
        return Err(ImageProblem::unreadable("no header first"));
    }
    if chunks.last().map(|c| c.kind()) != Some(IEND) {
        return Err(ImageProblem::unreadable("truncated: no end chunk"));
    }
    let (width, height) = png
        .dimensions()
        .ok_or(ImageProblem::unreadable("a header without a size"))?;
    let orientation = png
        .chunk_by_type(EXIF)
        .and_then(|exif| Orientation::from_exif_chunk(exif.contents()));
    png.chunks_mut()
        .retain(|chunk| KEPT.contains(&chunk.kind()));
    Ok(Cleaned {
        bytes: png.encoder().bytes().into(),
        width,
        height,
        orientation,
    })
}
