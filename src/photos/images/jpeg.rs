//! A JPEG's container cleaned to what decoding needs, marker by marker, with
//! the scan data copied byte for byte.
//!
//! Our own walk rather than `img-parts`' `Jpeg`: that one parses segments
//! only up to the first scan and keeps everything after it as one opaque
//! block, so the segments between a progressive file's scans and whatever
//! follows the end of the image (phones put a second, full-size JPEG with
//! its own EXIF there) would pass through untouched.

use std::borrow::Cow;

use image::metadata::Orientation;

use super::Cleaned;
use super::problem::ImageProblem;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DQT: u8 = 0xDB;
const DRI: u8 = 0xDD;
const DHT: u8 = 0xC4;
const JPG: u8 = 0xC8;
const DAC: u8 = 0xCC;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP14: u8 = 0xEE;

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const JFIF_PREFIX: &[u8] = b"JFIF\0";
/// `JFIF\0`, version (2), units (1), densities (2 + 2); then come the
/// thumbnail's width and height (1 + 1) and its pixels.
const JFIF_HEADER: usize = 12;
/// `Adobe`, version (2), flags (2 + 2), colour transform (1): how to read
/// the components of a CMYK or RGB JPEG.
const ADOBE_PREFIX: &[u8] = b"Adobe";
const ADOBE_LEN: usize = 12;

/// The segments kept: SOI, the frame, tables, restart interval, scans and
/// EOI, a JFIF header without its thumbnail and an Adobe colour transform.
/// Dropped: APP1..APP13 and APP15 (EXIF with its GPS tags, XMP, ICC
/// profiles, IPTC, makers' notes), comments, any other segment, and
/// anything after the end of the image. The EXIF orientation is read
/// before it goes, so that a picture that stands upright only through it
/// can be refused rather than stored lying on its side.
pub(super) fn clean(input: &[u8]) -> Result<Cleaned, ImageProblem> {
    let mut reader = Reader { input, at: 0 };
    if reader.take(2)? != [0xFF, SOI] {
        return Err(ImageProblem::unreadable("no start of image"));
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut frame = None;
    let mut scans = 0usize;
    let mut orientation = None;
    loop {
        let marker = reader.marker()?;
        if marker == EOI {
            break;
        }
        if !has_length(marker) {
            return Err(ImageProblem::unreadable("a marker out of place"));
        }
        let contents = reader.segment()?;
        if is_frame(marker) {
            if frame.is_some() {
                return Err(ImageProblem::unreadable("a second frame"));
            }
            frame = Some(frame_size(contents)?);
        }
        if marker == APP1
            && let Some(exif) = contents.strip_prefix(EXIF_PREFIX)
        {
            orientation = orientation.or_else(|| Orientation::from_exif_chunk(exif));
        }
        if let Some(kept) = kept(marker, contents) {
            write_segment(&mut out, marker, &kept);
        }
        if marker == SOS {
            if frame.is_none() {
                return Err(ImageProblem::unreadable("a scan before the frame"));
            }
            out.extend_from_slice(reader.entropy_coded()?);
            scans += 1;
        }
    }
    let Some((width, height)) = frame.filter(|_| scans > 0) else {
        return Err(ImageProblem::unreadable(
            "an image without a frame or a scan",
        ));
    };
    out.extend_from_slice(&[0xFF, EOI]);
    Ok(Cleaned {
        bytes: out,
        width,
        height,
        orientation,
    })
}

/// What of a segment is kept: all of it, a part, or nothing.
fn kept(marker: u8, contents: &[u8]) -> Option<Cow<'_, [u8]>> {
    match marker {
        SOS | DQT | DHT | DRI | DAC => Some(Cow::Borrowed(contents)),
        m if is_frame(m) => Some(Cow::Borrowed(contents)),
        // Without its thumbnail: that is a second picture, and not
        // necessarily of the same face.
        APP0 if contents.starts_with(JFIF_PREFIX) => contents
            .get(..JFIF_HEADER)
            .map(|header| Cow::Owned([header, &[0, 0]].concat())),
        APP14 if contents.starts_with(ADOBE_PREFIX) => contents.get(..ADOBE_LEN).map(Cow::Borrowed),
        _ => None,
    }
}

fn write_segment(out: &mut Vec<u8>, marker: u8, contents: &[u8]) {
    let length = u16::try_from(contents.len() + 2).expect("a read segment fits its length");
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(contents);
}

/// SOF0..SOF15, without DHT, JPG and DAC, which share the range.
fn is_frame(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, DHT | JPG | DAC)
}

/// Every marker but TEM, RST0..RST7, SOI and EOI carries a length.
fn has_length(marker: u8) -> bool {
    !matches!(marker, 0x01 | 0xD0..=0xD9)
}

/// Width and height from a frame header: precision (1), height (2), width (2).
fn frame_size(contents: &[u8]) -> Result<(u32, u32), ImageProblem> {
    let [_, h1, h2, w1, w2, ..] = *contents else {
        return Err(ImageProblem::unreadable("a short frame header"));
    };
    let height = u32::from(u16::from_be_bytes([h1, h2]));
    let width = u32::from(u16::from_be_bytes([w1, w2]));
    // A height of 0 is given later by a DNL segment, which decoders
    // rarely read; no camera or editor writes one.
    if width == 0 || height == 0 {
        return Err(ImageProblem::unreadable("a frame without a size"));
    }
    Ok((width, height))
}

struct Reader<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ImageProblem> {
        let taken = self
            .input
            .get(self.at..self.at + n)
            .ok_or(ImageProblem::unreadable("truncated"))?;
        self.at += n;
        Ok(taken)
    }

    /// The next marker's code, past any 0xFF fill bytes before it.
    fn marker(&mut self) -> Result<u8, ImageProblem> {
        if self.take(1)? != [0xFF] {
            return Err(ImageProblem::unreadable("data where a marker belongs"));
        }
        loop {
            match self.take(1)?[0] {
                0xFF => continue,
                code => return Ok(code),
            }
        }
    }

    /// A segment's contents, after its two-byte length (which counts itself).
    fn segment(&mut self) -> Result<&'a [u8], ImageProblem> {
        let length = usize::from(u16::from_be_bytes(
            self.take(2)?.try_into().expect("two bytes"),
        ));
        let contents = length
            .checked_sub(2)
            .ok_or(ImageProblem::unreadable("a segment length below 2"))?;
        self.take(contents)
    }

    /// A scan's entropy-coded data, up to the next marker. In it, 0xFF is
    /// followed by 0x00 (a stuffed byte) or by a restart marker; anything
    /// else after 0xFF starts the next segment. Data that just stops is a
    /// truncated file.
    fn entropy_coded(&mut self) -> Result<&'a [u8], ImageProblem> {
        let start = self.at;
        loop {
            let ff = self.input[self.at..]
                .iter()
                .position(|&b| b == 0xFF)
                .map(|i| self.at + i)
                .ok_or(ImageProblem::unreadable("truncated in a scan"))?;
            match self.input.get(ff + 1) {
                None => return Err(ImageProblem::unreadable("truncated in a scan")),
                Some(0x00 | 0xD0..=0xD7) => self.at = ff + 2,
                Some(_) => {
                    self.at = ff;
                    return Ok(&self.input[start..ff]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest stream the walk accepts, with a segment of every kind
    /// it drops or trims around one that it keeps.
    fn stream(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    const FRAME: &[u8] = &[0xFF, 0xC0, 0, 11, 8, 0, 2, 0, 3, 1, 1, 0x11, 0];
    const SCAN_HEADER: &[u8] = &[0xFF, SOS, 0, 8, 1, 1, 0, 0, 63, 0];

    #[test]
    fn metadata_segments_and_trailing_data_go_and_the_scan_stays_byte_for_byte() {
        let entropy: &[u8] = &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        let jfif_with_thumbnail: &[u8] = &[
            0xFF, APP0, 0, 19, b'J', b'F', b'I', b'F', 0, 1, 2, 0, 0, 1, 0, 1, 1, 1, 9, 9, 9,
        ];
        let input = stream(&[
            &[0xFF, SOI],
            jfif_with_thumbnail,
            &[0xFF, APP1, 0, 7, b'E', b'x', b'i', b'f', 0],
            &[0xFF, 0xFE, 0, 5, b'G', b'P', b'S'],
            FRAME,
            SCAN_HEADER,
            entropy,
            // Between scans, as in a progressive file.
            &[0xFF, 0xED, 0, 5, b'G', b'P', b'S'],
            &[0xFF, 0xFF, DHT, 0, 2],
            SCAN_HEADER,
            entropy,
            &[0xFF, EOI],
            b"GPS after the end",
        ]);
        let cleaned = clean(&input).unwrap();
        let expected = stream(&[
            &[0xFF, SOI],
            &[
                0xFF, APP0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 0, 0, 1, 0, 1, 0, 0,
            ],
            FRAME,
            SCAN_HEADER,
            entropy,
            &[0xFF, DHT, 0, 2],
            SCAN_HEADER,
            entropy,
            &[0xFF, EOI],
        ]);
        assert_eq!(cleaned.bytes, expected);
        assert_eq!((cleaned.width, cleaned.height), (3, 2));
    }

    #[test]
    fn a_stream_cut_anywhere_is_unreadable() {
        let input = stream(&[&[0xFF, SOI], FRAME, SCAN_HEADER, &[1, 2, 3], &[0xFF, EOI]]);
        clean(&input).unwrap();
        for end in 0..input.len() {
            assert!(clean(&input[..end]).is_err(), "cut at {end}");
        }
    }

    #[test]
    fn a_stream_without_a_frame_or_a_scan_is_unreadable() {
        assert!(clean(&stream(&[&[0xFF, SOI], FRAME, &[0xFF, EOI]])).is_err());
        assert!(clean(&stream(&[&[0xFF, SOI], SCAN_HEADER, &[1], &[0xFF, EOI]])).is_err());
    }
}
