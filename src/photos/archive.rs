//! What a linked citizen downloads (R-PH-14): a zip of the face photo and
//! the signature exactly as stored, and `kodikarithmos.pdf`, one A4 page
//! with the code, its QR code, the studio and the linking date.
//!
//! The PDF is made with `krilla`, which embeds the subset of the font the
//! page uses and writes its ToUnicode map, so any reader can select, copy
//! and search the Greek text. The font is DejaVu Sans
//! (`assets/fonts/DejaVuSans.ttf`, covering Greek; licence beside it).

use std::io::{Cursor, Write};

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Athens;
use krilla::Document;
use krilla::color::rgb;
use krilla::error::KrillaError;
use krilla::geom::{Point, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use zip::result::{ZipError, ZipResult};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::images::StoredFormat;
use super::qr;
use crate::domain::Kodikarithmos;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// A4 in points.
const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 56.0;
const QR_SIDE: f32 = 170.0;
/// Characters of the studio's name per line at 11 pt: DejaVu Sans averages
/// under 0.72 em a character even in capitals, so 60 fit the 483 pt between
/// the margins.
const STUDIO_LINE_CHARS: usize = 60;

/// The stored images and what the PDF shows.
pub struct ArchiveInput<'a> {
    /// The face photo as stored (JPEG).
    pub face: &'a [u8],
    pub signature: &'a [u8],
    pub signature_format: StoredFormat,
    pub kodikarithmos: &'a Kodikarithmos,
    pub studio_name: &'a str,
    pub linked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the PDF could not be made: {0}")]
    Pdf(#[from] KrillaError),
    #[error("the zip could not be written: {0}")]
    Zip(#[from] ZipError),
}

/// The zip's bytes. The images are stored as they are: JPEG and PNG are
/// compressed already, so deflating them gains nothing and costs time
/// (two 5 MB images: about 0.5 s deflated, under 25 ms stored, in a
/// release build). The PDF is deflated.
///
/// # Errors
///
/// [`ArchiveError`] if the PDF or the zip cannot be written; neither
/// depends on the images' content, which is copied unread.
pub fn build(input: ArchiveInput<'_>) -> Result<Vec<u8>, ArchiveError> {
    let pdf = code_sheet(&input)?;
    // Entries are dated at the linking, in Athens time: zip dates have no
    // zone, and the citizen reads them as local time.
    let modified = input
        .linked_at
        .and_then(|at| zip::DateTime::try_from(at.with_timezone(&Athens).naive_local()).ok())
        .unwrap_or_default();
    let options = SimpleFileOptions::default().last_modified_time(modified);
    let stored = options.compression_method(CompressionMethod::Stored);
    let deflated = options.compression_method(CompressionMethod::Deflated);
    let signature_name = format!("signature.{}", input.signature_format.extension());
    Ok(zip([
        ("face.jpg", input.face, stored),
        (&signature_name, input.signature, stored),
        ("kodikarithmos.pdf", &pdf, deflated),
    ])?)
}

fn zip<const N: usize>(entries: [(&str, &[u8], SimpleFileOptions); N]) -> ZipResult<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, options) in entries {
        writer.start_file(name, options)?;
        writer.write_all(bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// The PDF page: each label in Greek with its English beside it.
fn code_sheet(input: &ArchiveInput<'_>) -> Result<Vec<u8>, KrillaError> {
    let font = Font::new(FONT.into(), 0).expect("the bundled DejaVu Sans parses");
    let qr_code = Image::from_png(qr::png(input.kodikarithmos).into(), false)
        .expect("the QR code's PNG decodes");
    let code = input.kodikarithmos.to_string();
    let linked = input
        .linked_at
        .map(|at| at.with_timezone(&Athens).format("%d/%m/%Y"));

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "Κωδικάριθμος / Kodikarithmos {}",
                input.kodikarithmos.masked()
            ))
            .language("el".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE.0, PAGE.1).expect("A4 is a valid page size");
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let mut text = |y: f32, size: f32, grey: u8, line: &str| {
        surface.set_fill(Some(Fill {
            paint: rgb::Color::new(grey, grey, grey).into(),
            ..Fill::default()
        }));
        surface.draw_text(
            Point::from_xy(MARGIN, y),
            font.clone(),
            size,
            line,
            false,
            TextDirection::LeftToRight,
        );
    };
    text(
        MARGIN + 20.0,
        20.0,
        0,
        "Κωδικάριθμος φωτογραφίας και υπογραφής",
    );
    text(
        MARGIN + 40.0,
        12.0,
        90,
        "Kodikarithmos of your photo and signature",
    );
    text(MARGIN + 100.0, 30.0, 0, &code);
    let qr_top = MARGIN + 125.0;
    let mut y = qr_top + QR_SIDE + 30.0;
    text(y, 11.0, 0, "Φωτογραφείο / Studio:");
    for line in wrap(input.studio_name, STUDIO_LINE_CHARS) {
        y += 15.0;
        text(y, 11.0, 0, &line);
    }
    if let Some(date) = linked {
        y += 25.0;
        text(
            y,
            11.0,
            0,
            &format!("Ημερομηνία σύνδεσης / Linked on: {date}"),
        );
    }
    y += 35.0;
    text(
        y,
        9.0,
        90,
        "Σαρώστε τον κωδικό QR ή πληκτρολογήστε τον κωδικάριθμο.",
    );
    text(
        y + 13.0,
        9.0,
        90,
        "Scan the QR code or type the kodikarithmos.",
    );
    surface.push_transform(&Transform::from_translate(MARGIN, qr_top));
    surface.draw_image(
        qr_code,
        Size::from_wh(QR_SIDE, QR_SIDE).expect("a positive size"),
    );
    surface.pop();
    surface.finish();
    page.finish();
    document.finish()
}

/// Lines of at most `width` characters, broken between words; a longer
/// word is cut. Text is counted, not measured: see [`STUDIO_LINE_CHARS`].
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(width) {
            if !line.is_empty() && line.chars().count() + 1 + piece.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.extend(piece);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use chrono::TimeZone;
    use image::GrayImage;
    use lopdf::Object;

    use super::*;

    fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(seed);
        std::iter::repeat_with(|| rng.u8(..)).take(len).collect()
    }

    /// Each entry's name and bytes, in the zip's order.
    fn read_entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes).unwrap();
                (file.name().unwrap().into_owned(), bytes)
            })
            .collect()
    }

    fn archive(code: &Kodikarithmos, format: StoredFormat) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let face = random_bytes(300_000, 1);
        let signature = random_bytes(40_000, 2);
        let zip = build(ArchiveInput {
            face: &face,
            signature: &signature,
            signature_format: format,
            kodikarithmos: code,
            studio_name: "Φωτογραφείο Λάμψη",
            // 01:30 on 14 March in Athens, still the 13th in UTC.
            linked_at: Some(Utc.with_ymd_and_hms(2026, 3, 13, 23, 30, 0).unwrap()),
        })
        .unwrap();
        (zip, face, signature)
    }

    fn pdf(zip: &[u8]) -> lopdf::Document {
        let entries = read_entries(zip);
        let (_, pdf) = entries
            .iter()
            .find(|(name, _)| name == "kodikarithmos.pdf")
            .unwrap();
        lopdf::Document::load_mem(pdf).unwrap()
    }

    /// R-PH-14: the two images exactly as stored, and the PDF.
    #[test]
    fn r_ph_14_the_zip_holds_the_images_as_given_and_the_pdf() {
        let code = Kodikarithmos::generate();
        let (zip, face, signature) = archive(&code, StoredFormat::Png);
        let entries = read_entries(&zip);
        let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["face.jpg", "signature.png", "kodikarithmos.pdf"]);
        assert!(entries[0].1 == face);
        assert!(entries[1].1 == signature);
        assert!(entries[2].1.starts_with(b"%PDF-"));

        let (zip, _, signature) = archive(&code, StoredFormat::Jpeg);
        let entries = read_entries(&zip);
        assert_eq!(entries[1].0, "signature.jpg");
        assert!(entries[1].1 == signature);
    }

    /// The text is extracted through the font's ToUnicode map, so a
    /// reader finds the code and the Greek labels as text.
    #[test]
    fn r_ph_14_the_pdf_text_holds_the_code_and_greek_labels() {
        let code = Kodikarithmos::generate();
        let text = pdf(&archive(&code, StoredFormat::Jpeg).0)
            .extract_text(&[1])
            .unwrap();
        for expected in [
            code.to_string().as_str(),
            "Κωδικάριθμος φωτογραφίας και υπογραφής",
            "Φωτογραφείο / Studio",
            "Φωτογραφείο Λάμψη",
            "Ημερομηνία σύνδεσης / Linked on: 14/03/2026",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text:?}");
        }
    }

    /// The page's one image is the QR code, and it reads as the code.
    #[test]
    fn r_ph_14_the_pdf_qr_code_reads_as_the_code() {
        let code = Kodikarithmos::generate();
        let pdf = pdf(&archive(&code, StoredFormat::Png).0);
        let images: Vec<&lopdf::Stream> = pdf
            .objects
            .values()
            .filter_map(|object| object.as_stream().ok())
            .filter(|stream| {
                stream.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image")
            })
            .collect();
        assert_eq!(images.len(), 1);
        let image = images[0];
        let dimension = |key: &[u8]| image.dict.get(key).unwrap().as_i64().unwrap() as u32;
        assert_eq!(
            image.dict.get(b"ColorSpace").unwrap().as_name().unwrap(),
            b"DeviceGray"
        );
        let pixels = image.decompressed_content().unwrap();
        let bitmap =
            GrayImage::from_raw(dimension(b"Width"), dimension(b"Height"), pixels).unwrap();
        assert_eq!(qr::tests::read(bitmap), code.to_string());
    }

    #[test]
    fn long_studio_names_wrap_between_words_and_long_words_are_cut() {
        let name = "ΦΩΤΟΓΡΑΦΕΙΟ ".repeat(16) + &"Λ".repeat(130);
        let lines = wrap(&name, STUDIO_LINE_CHARS);
        assert!(lines.iter().all(|l| l.chars().count() <= STUDIO_LINE_CHARS));
        assert_eq!(lines[0], "ΦΩΤΟΓΡΑΦΕΙΟ ".repeat(5).trim_end());
        assert_eq!(lines.concat().replace(' ', ""), name.replace(' ', ""));
        assert_eq!(wrap(" Studio  Photo ", 60), ["Studio Photo"]);
    }

    #[test]
    fn without_a_linking_date_the_pdf_leaves_it_out() {
        let code = Kodikarithmos::generate();
        let zip = build(ArchiveInput {
            face: b"face",
            signature: b"signature",
            signature_format: StoredFormat::Png,
            kodikarithmos: &code,
            studio_name: "Studio",
            linked_at: None,
        })
        .unwrap();
        let text = pdf(&zip).extract_text(&[1]).unwrap();
        assert!(text.contains(&code.to_string()));
        assert!(!text.contains("Ημερομηνία σύνδεσης"));
    }
}
