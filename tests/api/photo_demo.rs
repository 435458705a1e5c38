//! The walk the README shows, on the demo data: the demo citizen finds the
//! code of the demo studio's upload in the development outbox, confirms
//! her session by SMS, previews, links and downloads the archive (R-PH-14),
//! whose PDF shows the code and whose QR code reads as it.

use std::io::{Cursor, Read};

use citizen_api::dev::demo::CITIZEN;
use image::GrayImage;
use lopdf::Object;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_demo_app;
use crate::photo_support::{link, preview};

const MOBILE: &str = "+306912345678";

/// The zip's entries, by name, in order.
fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

/// The text of the QR code that is the PDF's one image.
fn qr_of(pdf: &lopdf::Document) -> String {
    let images: Vec<&lopdf::Stream> = pdf
        .objects
        .values()
        .filter_map(|object| object.as_stream().ok())
        .filter(|stream| {
            stream.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image")
        })
        .collect();
    assert_eq!(images.len(), 1, "the QR code is the page's one image");
    let size = |key: &[u8]| images[0].dict.get(key).unwrap().as_i64().unwrap() as u32;
    let pixels = images[0].decompressed_content().unwrap();
    let bitmap = GrayImage::from_raw(size(b"Width"), size(b"Height"), pixels).unwrap();
    let mut prepared = rqrr::PreparedImage::prepare(bitmap);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn r_ph_05_r_ph_14_the_demo_citizen_walks_upload_preview_link_and_download() {
    let app = spawn_demo_app().await;
    // R-PH-05: the demo upload's code went to her certified mobile.
    app.deliver_due().await;
    let messages = app.messages_to(MOBILE).await;
    let sms = messages
        .iter()
        .find(|m| m["body"].as_str().unwrap().contains("κωδικάριθμος"))
        .expect("the demo upload's SMS");
    let code = sms["body"]
        .as_str()
        .unwrap()
        .split([' ', '.'])
        .find(|word| word.len() == 19 && word.matches('-').count() == 3)
        .expect("the SMS carries the code")
        .to_owned();

    let token = app.sign_in(CITIZEN).await;
    let otp = app.request_otp(&token, MOBILE).await;
    let verified = app
        .post_json_as(&token, "/v1/auth/otp/verify", &json!({"code": otp}))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);

    let shown = preview(&app, &token, &code).await;
    assert_eq!(shown.status(), StatusCode::OK);
    let shown: Value = shown.json().await.unwrap();
    assert_eq!(shown["studio"], "Φωτογραφείο Φως");
    assert_eq!(link(&app, &token, &code).await.status(), StatusCode::OK);

    let response = app
        .get_as(&token, "/v1/me/photos/archive")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let zip = response.bytes().await.unwrap();
    let entries = entries(&zip);
    let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["face.jpg", "signature.png", "kodikarithmos.pdf"]);
    let face = app
        .get_as(&token, "/v1/me/photos/face")
        .send()
        .await
        .unwrap();
    assert_eq!(
        entries[0].1,
        face.bytes().await.unwrap(),
        "the face as stored"
    );
    let signature = app
        .get_as(&token, "/v1/me/photos/signature")
        .send()
        .await
        .unwrap();
    assert_eq!(entries[1].1, signature.bytes().await.unwrap());

    let pdf = lopdf::Document::load_mem(&entries[2].1).unwrap();
    let text = pdf.extract_text(&[1]).unwrap();
    assert!(text.contains(&code), "{code} not in {text:?}");
    assert!(text.contains("Φωτογραφείο Φως"), "{text:?}");
    assert_eq!(qr_of(&pdf), code);
}
