//! The checks against images made here (`fixtures`): each refusal with its
//! own code, and metadata gone with the pixels untouched.

use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use mime::Mime;

use super::fixtures::{self, METADATA_MARKER};
use super::*;
use crate::http::{ErrorCode, Lang};

fn checker() -> ImageChecker {
    ImageChecker::new(&ImageSettings::default())
}

async fn check(kind: ImageKind, bytes: Vec<u8>) -> Result<CheckedImage, ApiError> {
    checker().check(kind, None, Bytes::from(bytes)).await
}

async fn check_declared(
    kind: ImageKind,
    declared: &str,
    bytes: Vec<u8>,
) -> Result<CheckedImage, ApiError> {
    let declared: Mime = declared.parse().unwrap();
    checker()
        .check(kind, Some(&declared), Bytes::from(bytes))
        .await
}

/// The refusal's code, after checking that its status is the code's and
/// that it names the image it is about.
fn refusal(result: Result<CheckedImage, ApiError>, kind: ImageKind) -> ErrorCode {
    let error = result.expect_err("refused");
    let problem = error.problem(Lang::En);
    assert_eq!(problem.status, error.code().status().as_u16());
    assert_eq!(problem.errors.len(), 1, "{problem:?}");
    assert_eq!(problem.errors[0].field, kind.as_str());
    assert_eq!(problem.errors[0].code, error.code().as_str());
    let named = match kind {
        ImageKind::Face => "The face photo",
        ImageKind::Signature => "The signature image",
    };
    assert!(problem.detail.starts_with(named), "{}", problem.detail);
    error.code()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pixels(image: &[u8]) -> Vec<u8> {
    image::load_from_memory(image).unwrap().into_bytes()
}

#[tokio::test]
async fn a_portrait_jpeg_face_is_stored_as_it_came() {
    let face = fixtures::face_jpeg(600, 800);
    assert!(face.len() > 50_000, "{} bytes", face.len());
    let checked = check(ImageKind::Face, face.clone()).await.unwrap();
    assert_eq!(
        (checked.format, checked.width, checked.height),
        (StoredFormat::Jpeg, 600, 800)
    );
    // Without metadata to drop, the container is the encoder's, bit for bit.
    assert_eq!(checked.bytes, face);
    assert_eq!(
        (checked.format.content_type(), checked.format.extension()),
        ("image/jpeg", "jpg")
    );
}

#[tokio::test]
async fn a_face_out_of_its_pixel_bounds_or_not_a_portrait_is_refused_with_its_size() {
    for (width, height) in [(590, 800), (600, 740), (800, 700), (760, 760)] {
        let result = check(ImageKind::Face, fixtures::face_jpeg(width, height)).await;
        let detail = result.as_ref().unwrap_err().problem(Lang::En).detail;
        assert_eq!(
            refusal(result, ImageKind::Face),
            ErrorCode::ImageDimensionsOutOfBounds
        );
        assert!(
            detail.contains(&format!("{width}×{height} pixels"))
                && detail.contains("from 600×750 to 6000×6000, and taller than wide"),
            "{detail}"
        );
    }
}

#[tokio::test]
async fn a_truncated_image_is_unreadable() {
    let face = fixtures::truncated(&fixtures::face_jpeg(600, 800));
    assert_eq!(
        refusal(check(ImageKind::Face, face).await, ImageKind::Face),
        ErrorCode::ImageUnreadable
    );
    let signature = fixtures::truncated(&fixtures::png_with_metadata(&fixtures::signature_png(
        600, 200,
    )));
    assert_eq!(
        refusal(
            check(ImageKind::Signature, signature).await,
            ImageKind::Signature
        ),
        ErrorCode::ImageUnreadable
    );
}

#[tokio::test]
async fn a_png_face_random_bytes_and_a_type_the_bytes_belie_are_refused_as_the_wrong_type() {
    let png = fixtures::signature_png(600, 800);
    let face = fixtures::face_jpeg(600, 800);
    let cases = [
        (ImageKind::Face, None, png.clone()),
        (ImageKind::Face, None, fixtures::random_bytes(60_000)),
        (ImageKind::Face, Some("image/png"), face.clone()),
        (ImageKind::Signature, Some("image/jpeg"), png.clone()),
        (ImageKind::Signature, Some("image/gif"), png.clone()),
    ];
    for (kind, declared, bytes) in cases {
        let result = match declared {
            Some(declared) => check_declared(kind, declared, bytes).await,
            None => check(kind, bytes).await,
        };
        assert_eq!(
            refusal(result, kind),
            ErrorCode::ImageTypeNotAllowed,
            "{kind:?} {declared:?}"
        );
    }
    // Declared rightly, or as nothing in particular, they pass.
    check_declared(ImageKind::Face, "image/jpeg", face.clone())
        .await
        .unwrap();
    check_declared(ImageKind::Face, "application/octet-stream", face)
        .await
        .unwrap();
    let signature = check_declared(ImageKind::Signature, "image/png", png)
        .await
        .unwrap();
    assert_eq!(signature.format.extension(), "png");
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header() {
    for (kind, bomb, size) in [
        (ImageKind::Face, fixtures::jpeg_bomb(), "65535×65535"),
        (ImageKind::Signature, fixtures::png_bomb(), "100000×100000"),
    ] {
        assert!(bomb.len() < 70_000, "{} bytes", bomb.len());
        let result = check(kind, bomb).await;
        let detail = result.as_ref().unwrap_err().problem(Lang::En).detail;
        assert!(detail.contains(size), "{detail}");
        assert_eq!(refusal(result, kind), ErrorCode::ImageDimensionsOutOfBounds);
    }
}

/// Behind the header check, the decoder's own limits refuse the bomb
/// rather than allocate for it.
#[test]
fn the_decoder_limits_refuse_a_bomb_by_themselves() {
    let bounds = ImageSettings::default().signature();
    for (format, bomb) in [
        (StoredFormat::Jpeg, fixtures::jpeg_bomb()),
        (StoredFormat::Png, fixtures::png_bomb()),
    ] {
        let refused = decode::decode(format, &bomb, &bounds).unwrap_err();
        assert!(
            matches!(&refused, ImageProblem::Unreadable(why) if why.contains("limit")),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn jpeg_metadata_is_stripped_and_the_pixels_stay() {
    let plain = fixtures::face_jpeg(600, 800);
    let uploaded = fixtures::jpeg_with_metadata(&plain);
    for present in [
        METADATA_MARKER,
        b"Exif\0\0",
        b"ICC_PROFILE",
        b"http://ns.adobe.com/xap",
        b"Photoshop",
    ] {
        assert!(contains(&uploaded, present));
    }
    let checked = check(ImageKind::Face, uploaded).await.unwrap();
    assert!(!contains(&checked.bytes, METADATA_MARKER));
    assert!(!contains(&checked.bytes, b"Exif"));
    assert!(!contains(&checked.bytes, b"ICC_PROFILE"));
    assert!(!contains(&checked.bytes, &[0xFF, 0xE1]), "an APP1 segment");
    assert!(!contains(&checked.bytes, &[0xFF, 0xFE]), "a comment");
    assert!(checked.bytes.ends_with(&[0xFF, 0xD9]));
    // What went in before the metadata comes out: the pixels bit for bit.
    assert_eq!(checked.bytes, plain);
    assert_eq!(pixels(&checked.bytes), pixels(&plain));
}

#[tokio::test]
async fn png_metadata_chunks_are_stripped_and_the_pixels_stay() {
    let plain = fixtures::signature_png(600, 200);
    let uploaded = fixtures::png_with_metadata(&plain);
    let checked = check(ImageKind::Signature, uploaded.clone()).await.unwrap();
    let kinds = |png: &[u8]| -> Vec<[u8; 4]> {
        img_parts::png::Png::from_bytes(Bytes::copy_from_slice(png))
            .unwrap()
            .chunks()
            .iter()
            .map(|chunk| chunk.kind())
            .collect()
    };
    for dropped in [b"tEXt", b"iTXt", b"iCCP", b"eXIf", b"tIME"] {
        assert!(kinds(&uploaded).contains(dropped));
        assert!(!kinds(&checked.bytes).contains(dropped));
    }
    assert!(!contains(&checked.bytes, METADATA_MARKER));
    assert_eq!(checked.format, StoredFormat::Png);
    assert_eq!(pixels(&checked.bytes), pixels(&plain));
}

#[tokio::test]
async fn byte_bounds_answer_413_above_and_422_below() {
    let too_many = vec![0xFF; 10_000_001];
    assert_eq!(
        refusal(check(ImageKind::Face, too_many).await, ImageKind::Face),
        ErrorCode::ImageTooLarge
    );
    let too_many = fixtures::face_jpeg(600, 800);
    let small_limit = ImageChecker::new(&ImageSettings {
        signature_max_bytes: too_many.len() - 1,
        ..ImageSettings::default()
    });
    let result = small_limit
        .check(ImageKind::Signature, None, too_many.into())
        .await;
    assert_eq!(result.as_ref().unwrap_err().code().status().as_u16(), 413);
    assert_eq!(
        refusal(result, ImageKind::Signature),
        ErrorCode::ImageTooLarge
    );
    let signature = fixtures::signature_png(600, 200);
    let large_minimum = ImageChecker::new(&ImageSettings {
        signature_min_bytes: signature.len() + 1,
        ..ImageSettings::default()
    });
    let result = large_minimum
        .check(ImageKind::Signature, None, signature.into())
        .await;
    assert_eq!(
        refusal(result, ImageKind::Signature),
        ErrorCode::ImageTooSmall
    );
}

#[tokio::test]
async fn a_picture_upright_only_through_its_exif_orientation_is_refused() {
    let face = fixtures::face_jpeg(600, 800);
    let rotated = fixtures::jpeg_with_orientation(&face, 6);
    assert_eq!(
        refusal(check(ImageKind::Face, rotated).await, ImageKind::Face),
        ErrorCode::ImageOrientationNotApplied
    );
    let upright = fixtures::jpeg_with_orientation(&face, 1);
    assert_eq!(check(ImageKind::Face, upright).await.unwrap().bytes, face);
}

/// With one permit, a check waits while another holds it, and goes on when
/// it is given back: two decodes never overlap. The test holds the permit
/// itself; a check that did not wait for it would be done in milliseconds.
#[tokio::test]
async fn decodes_wait_for_a_permit() {
    let checker = ImageChecker::new(&ImageSettings {
        max_concurrent_decodes: 1,
        ..ImageSettings::default()
    });
    let face = Bytes::from(fixtures::face_jpeg(600, 800));
    let held = Arc::clone(&checker.permits).acquire_owned().await.unwrap();
    let mut waiting = pin!(checker.check(ImageKind::Face, None, face.clone()));
    let waited = tokio::time::timeout(Duration::from_millis(500), waiting.as_mut()).await;
    assert!(waited.is_err(), "checked without a permit");
    drop(held);
    waiting.await.unwrap();
    // A refused check gives its permit back as well.
    let refused = checker
        .check(ImageKind::Face, None, fixtures::truncated(&face).into())
        .await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::ImageUnreadable);
    assert_eq!(checker.permits.available_permits(), 1);
}
