//! The kodikarithmos as a QR code (R-PH-05), so a phone's camera can enter
//! it (R-PH-12): an SVG for JSON answers, a PNG for `qr.png` and the PDF.
//!
//! The content is the grouped text, `7KQM-2XPD-9RTV-HC42`, exactly what is
//! printed beside it: upper-case letters, digits and dashes are all in the
//! QR alphanumeric set, so the 19 characters fit version 1 (21 × 21
//! modules) at error-correction level M, which survives 15 % damage (a
//! fold, a smudge on a printout).

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::QrCode;
use qrcode::render::svg;

use crate::domain::Kodikarithmos;

/// Pixels per module in the PNG: 8 makes a 232-pixel square with the
/// standard four-module quiet zone, sharp on screen and at 4 cm in print.
const MODULE_PIXELS: u32 = 8;

fn encode(code: &Kodikarithmos) -> QrCode {
    QrCode::new(code.to_string()).expect("19 alphanumeric characters fit a version 1 QR code")
}

/// An SVG document, one path of unit squares, black on white.
pub fn svg(code: &Kodikarithmos) -> String {
    encode(code)
        .render::<svg::Color<'_>>()
        .module_dimensions(MODULE_PIXELS, MODULE_PIXELS)
        .build()
}

/// A greyscale PNG.
pub fn png(code: &Kodikarithmos) -> Vec<u8> {
    let image = encode(code)
        .render::<Luma<u8>>()
        .module_dimensions(MODULE_PIXELS, MODULE_PIXELS)
        .build();
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .expect("a PNG encodes into memory");
    bytes
}

#[cfg(test)]
pub(crate) mod tests {
    use image::GrayImage;

    use super::*;

    /// What a QR reader finds in the image: the one code's text.
    pub(crate) fn read(image: GrayImage) -> String {
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        let (_, content) = grids[0].decode().expect("the QR code decodes");
        content
    }

    #[test]
    fn the_png_reads_back_as_the_grouped_code() {
        let code = Kodikarithmos::generate();
        let png = png(&code);
        let image = image::load_from_memory_with_format(&png, ImageFormat::Png).unwrap();
        assert_eq!(image.width(), (21 + 8) * MODULE_PIXELS);
        assert_eq!(read(image.to_luma8()), code.to_string());
    }

    /// The SVG's squares, painted onto a bitmap, read back as the code.
    #[test]
    fn the_svg_reads_back_as_the_grouped_code() {
        let code = Kodikarithmos::generate();
        let svg = svg(&code);
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        let side = (21 + 8) * MODULE_PIXELS;
        assert!(svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")));
        let mut image = GrayImage::from_pixel(side, side, Luma([255]));
        let square = regex::Regex::new(r"M(\d+) (\d+)h(\d+)v(\d+)").unwrap();
        for found in square.captures_iter(&svg) {
            let [x, y, w, h] = [1, 2, 3, 4].map(|i| found[i].parse::<u32>().unwrap());
            for (dx, dy) in (0..w).flat_map(|dx| (0..h).map(move |dy| (dx, dy))) {
                image.put_pixel(x + dx, y + dy, Luma([0]));
            }
        }
        assert_eq!(read(image), code.to_string());
    }
}
