//! Images for tests, made by the tests so that no binary file is committed;
//! this module's unit tests and the API tests share them. The service never
//! calls them.
//!
//! Every fixture keeps the default byte bounds (`ImageSettings::default`),
//! so that it reaches the check it is about.

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, RgbImage};
use img_parts::jpeg::{Jpeg, JpegSegment};
use img_parts::png::{Png, PngChunk};

/// Bytes that every metadata fixture hides in its metadata (as GPS tags
/// name themselves) and that no cleaned image may contain.
pub const METADATA_MARKER: &[u8] = b"GPS";

/// A face-like JPEG: a shaded oval on a gradient, with the sensor noise of
/// a real photo, so that it compresses like one (some 110 KB at 600×800).
pub fn face_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut noise = fastrand::Rng::with_seed(u64::from(width) << 32 | u64::from(height));
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.2);
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let (dx, dy) = (
            (x as f32 - cx) / (width as f32 / 3.0),
            (y as f32 - cy) / (height as f32 / 2.6),
        );
        let base: [f32; 3] = if dx * dx + dy * dy < 1.0 {
            [224.0, 172.0, 150.0]
        } else {
            let shade = 120.0 + 100.0 * y as f32 / height as f32;
            [shade, shade, 230.0]
        };
        image::Rgb(base.map(|c| (c + noise.i8(-8..8) as f32).clamp(0.0, 255.0) as u8))
    });
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&picture)
        .expect("an RGB image encodes");
    jpeg
}

/// A signature-like PNG: dark strokes on white.
pub fn signature_png(width: u32, height: u32) -> Vec<u8> {
    let picture = GrayImage::from_fn(width, height, |x, y| {
        let t = x as f32 / width as f32 * 12.0;
        let stroke = height as f32 * (0.5 + 0.3 * t.sin() * (t * 0.37).cos());
        image::Luma([if (y as f32 - stroke).abs() < 2.5 {
            20
        } else {
            255
        }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut png, ImageFormat::Png)
        .expect("a grey image encodes");
    png.into_inner()
}

/// `jpeg` with what cameras, phones and editors add: EXIF with GPS tags
/// (APP1), XMP (APP1), an ICC profile (APP2), IPTC (APP13) and comments,
/// one before the frame and one between the scan and the end (where a
/// progressive file has its later scans), and bytes after the end (where
/// phones put a second, full-size JPEG).
pub fn jpeg_with_metadata(jpeg: &[u8]) -> Vec<u8> {
    let metadata = [
        (0xE1, [b"Exif\0\0".as_slice(), &exif(1)].concat()),
        (
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><rdf:Description exif:GPSLatitude=\"37,58.5N\"/></x:xmpmeta>"
                .to_vec(),
        ),
        // Not a real profile: it is only there to be dropped.
        (0xE2, b"ICC_PROFILE\0\x01\x01 Studio camera profile".to_vec()),
        (0xED, b"Photoshop 3.0\08BIM\x04\x04 GPS caption".to_vec()),
        (0xFE, b"Foto Studio Kalamata, GPS 37.97N 22.11E".to_vec()),
    ];
    let mut with = with_segments(jpeg, &metadata);
    let end = with.len() - 2;
    with.splice(end..end, segment(0xFE, b"another GPS comment"));
    with.extend_from_slice(b"\xFF\xD8 a second image with its own GPS tags");
    with
}

/// `jpeg` with an EXIF orientation tag (1 upright, 6 rotate 90° clockwise, ...).
pub fn jpeg_with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    with_segments(
        jpeg,
        &[(0xE1, [b"Exif\0\0".as_slice(), &exif(orientation)].concat())],
    )
}

/// `png` with text (`tEXt`, `iTXt`), a colour profile (`iCCP`), EXIF with
/// GPS tags (`eXIf`) and a modification time (`tIME`).
pub fn png_with_metadata(png: &[u8]) -> Vec<u8> {
    let mut parsed = Png::from_bytes(Bytes::copy_from_slice(png)).expect("a PNG");
    let metadata = [
        (
            *b"tEXt",
            b"Comment\0Foto Studio Kalamata, GPS 37.97N".to_vec(),
        ),
        (
            *b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta exif:GPSLatitude=\"37,58.5N\"/>".to_vec(),
        ),
        // Not a real compressed profile: it is only there to be dropped.
        (*b"iCCP", b"Studio profile\0\0 GPS".to_vec()),
        (*b"eXIf", exif(1)),
        (*b"tIME", vec![0x07, 0xEA, 4, 1, 12, 0, 0]),
    ];
    for (at, (kind, contents)) in metadata.into_iter().enumerate() {
        parsed
            .chunks_mut()
            .insert(1 + at, PngChunk::new(kind, contents.into()));
    }
    parsed.encoder().bytes().into()
}

/// The first two thirds of `image`: an upload cut short.
pub fn truncated(image: &[u8]) -> Vec<u8> {
    image[..image.len() * 2 / 3].to_vec()
}

/// Bytes of no image format.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut random = fastrand::Rng::with_seed(13);
    (0..len).map(|_| random.u8(..)).collect()
}

/// A decompression bomb: a 16×16 JPEG whose frame header declares
/// 65535×65535 pixels (the most JPEG can say, some 12.9 GB decoded),
/// padded with a comment to 64 KB to pass the byte bounds.
pub fn jpeg_bomb() -> Vec<u8> {
    let mut parsed = Jpeg::from_bytes(face_jpeg(16, 16).into()).expect("a JPEG");
    let frame = parsed
        .segments_mut()
        .iter_mut()
        .find(|s| s.marker() == 0xC0)
        .expect("a baseline frame");
    let mut header = frame.contents().to_vec();
    header[1..5].copy_from_slice(&[0xFF; 4]);
    *frame = JpegSegment::new_with_contents(0xC0, header.into());
    let padded = parsed.encoder().bytes();
    with_segments(&padded, &[(0xFE, vec![b' '; 64_000])])
}

/// A decompression bomb: a 16×16 PNG whose header declares 100000×100000
/// pixels (30 GB decoded), padded with a text chunk to 64 KB to pass the
/// byte bounds.
pub fn png_bomb() -> Vec<u8> {
    let mut parsed = Png::from_bytes(signature_png(16, 16).into()).expect("a PNG");
    let header = &mut parsed.chunks_mut()[0];
    let mut contents = header.contents().to_vec();
    contents[0..4].copy_from_slice(&100_000u32.to_be_bytes());
    contents[4..8].copy_from_slice(&100_000u32.to_be_bytes());
    *header = PngChunk::new(*b"IHDR", contents.into());
    let padding = PngChunk::new(
        *b"tEXt",
        [b"Comment\0".as_slice(), &[b' '; 64_000]].concat().into(),
    );
    parsed.chunks_mut().insert(1, padding);
    parsed.encoder().bytes().into()
}

/// `jpeg` with `segments` (marker, contents) right after its start.
fn with_segments(jpeg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut parsed = Jpeg::from_bytes(Bytes::copy_from_slice(jpeg)).expect("a JPEG");
    for (at, (marker, contents)) in segments.iter().enumerate() {
        parsed.segments_mut().insert(
            at,
            JpegSegment::new_with_contents(*marker, Bytes::copy_from_slice(contents)),
        );
    }
    parsed.encoder().bytes().into()
}

fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let length = u16::try_from(contents.len() + 2).expect("a short segment");
    [&[0xFF, marker], length.to_be_bytes().as_slice(), contents].concat()
}

/// EXIF (a big-endian TIFF structure) with an orientation and a GPS
/// position: 37°58'30" N, found through the GPS directory as cameras
/// write it, and a processing method that names GPS.
fn exif(orientation: u16) -> Vec<u8> {
    const IFD0: u32 = 8;
    const GPS_IFD: u32 = IFD0 + 2 + 2 * 12 + 4;
    const LATITUDE: u32 = GPS_IFD + 2 + 3 * 12 + 4;
    const METHOD: u32 = LATITUDE + 3 * 8;
    const METHOD_TEXT: &[u8] = b"ASCII\0\0\0GPS";
    fn entry(tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        tiff.extend_from_slice(&tag.to_be_bytes());
        tiff.extend_from_slice(&kind.to_be_bytes());
        tiff.extend_from_slice(&count.to_be_bytes());
        tiff.extend_from_slice(&value);
    }
    let (short, long, ascii, rational, undefined) = (3, 4, 2, 5, 7);
    let mut tiff = b"MM\0\x2A".to_vec();
    tiff.extend_from_slice(&IFD0.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    let [o1, o2] = orientation.to_be_bytes();
    entry(&mut tiff, 0x0112, short, 1, [o1, o2, 0, 0]);
    entry(&mut tiff, 0x8825, long, 1, GPS_IFD.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut tiff, 0x0001, ascii, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, rational, 3, LATITUDE.to_be_bytes());
    entry(
        &mut tiff,
        0x001B,
        undefined,
        METHOD_TEXT.len() as u32,
        METHOD.to_be_bytes(),
    );
    tiff.extend_from_slice(&0u32.to_be_bytes());
    for (numerator, denominator) in [(37u32, 1u32), (58, 1), (30, 1)] {
        tiff.extend_from_slice(&numerator.to_be_bytes());
        tiff.extend_from_slice(&denominator.to_be_bytes());
    }
    debug_assert_eq!(tiff.len(), METHOD as usize);
    tiff.extend_from_slice(METHOD_TEXT);
    tiff
}
