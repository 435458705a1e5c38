//! Uploads through the API (R-PH-04, R-PH-05, R-PH-13, R-PH-19): the
//! images checked and cleaned, the contacts required, the code sent and
//! never kept in clear, the QR code, the studio's list, and deleting an
//! upload with its sealed files.

use citizen_api::dev::images::{
    METADATA_MARKER, face_jpeg, jpeg_bomb, jpeg_with_metadata, random_bytes, signature_png,
    truncated,
};
use image::GenericImageView;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};
use crate::photo_support::{Studio, Upload, link, send_upload, strong_citizen, studio, uploaded};

const OWNER: &str = "123456783";
const MARIA: &str = "094019245";
const MOBILE: &str = "+306900000020";

async fn with_studio(app: &TestApp) -> Studio {
    studio(app, "800123456", OWNER).await
}

#[tokio::test]
async fn r_ph_04_an_upload_needs_both_images_and_a_contact() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let mut upload = Upload::to_mobile(MOBILE);
    upload.mobile = None;
    let problem = assert_problem(
        send_upload(&app, &studio.owner, &studio.id, &upload).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem.errors[0].code, "contact_required");
    // An e-mail alone is enough.
    upload.email = Some("maria@example.gr".into());
    uploaded(&app, &studio.owner, &studio.id, &upload).await;
    // A face without a signature is not an upload.
    let form = reqwest::multipart::Form::new()
        .part(
            "face",
            reqwest::multipart::Part::bytes(face_jpeg(600, 750))
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .text("citizen_mobile", MOBILE);
    let response = app
        .post_as(
            &studio.owner,
            &format!("/v1/studios/{}/submissions", studio.id),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(
        (
            problem.errors[0].field.as_str(),
            problem.errors[0].code.as_str()
        ),
        ("signature", "required")
    );
}

#[tokio::test]
async fn r_ph_04_images_that_are_not_what_they_claim_are_refused_with_a_code_naming_the_problem() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let face = face_jpeg(600, 750);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a truncated JPEG",
            truncated(&face),
            422,
            "image_unreadable",
        ),
        (
            "a PNG sent as the face",
            signature_png(600, 800),
            415,
            "image_type_not_allowed",
        ),
        (
            "random bytes",
            random_bytes(80_000),
            415,
            "image_type_not_allowed",
        ),
        (
            "a decompression bomb",
            jpeg_bomb(),
            422,
            "image_dimensions_out_of_bounds",
        ),
        (
            "a face too small",
            face_jpeg(300, 400),
            422,
            "image_too_small",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let upload = Upload {
            face: bytes,
            ..Upload::to_mobile(MOBILE)
        };
        let response = send_upload(&app, &studio.owner, &studio.id, &upload).await;
        let problem = assert_problem(response, status, code).await;
        assert_eq!(problem.errors[0].field, "face", "{what}");
    }
    // Nothing was stored for any of them.
    let list: Value = app
        .get_json_as(
            &studio.owner,
            &format!("/v1/studios/{}/submissions", studio.id),
        )
        .await;
    assert_eq!(list["items"], serde_json::json!([]));
}

#[tokio::test]
async fn r_ph_04_a_part_over_its_cap_is_refused_before_it_is_read_whole() {
    let app = spawn_app_with(|settings| settings.images.face_max_bytes = 60_000).await;
    let studio = with_studio(&app).await;
    let upload = Upload {
        face: face_jpeg(1200, 1600),
        ..Upload::to_mobile(MOBILE)
    };
    assert!(upload.face.len() > 60_000);
    let response = send_upload(&app, &studio.owner, &studio.id, &upload).await;
    let problem = assert_problem(response, 413, "image_too_large").await;
    assert_eq!(problem.errors[0].field, "face");
}

#[tokio::test]
async fn r_ph_19_metadata_is_stripped_and_the_pixels_kept() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let clean = face_jpeg(600, 750);
    let upload = Upload {
        face: jpeg_with_metadata(&clean),
        ..Upload::to_mobile(MOBILE)
    };
    assert!(upload.face.windows(3).any(|w| w == METADATA_MARKER));
    let code = uploaded(&app, &studio.owner, &studio.id, &upload).await["kodikarithmos"]
        .as_str()
        .unwrap()
        .to_owned();
    let maria = strong_citizen(&app, MARIA, MOBILE).await;
    assert_eq!(link(&app, &maria, &code).await.status(), StatusCode::OK);
    let served = app
        .get_as(&maria, "/v1/me/photos/face")
        .send()
        .await
        .unwrap();
    let served = served.bytes().await.unwrap();
    assert!(
        !served.windows(3).any(|w| w == METADATA_MARKER),
        "GPS is gone"
    );
    let (decoded, original) = (
        image::load_from_memory(&served).unwrap(),
        image::load_from_memory(&clean).unwrap(),
    );
    assert_eq!(decoded.dimensions(), original.dimensions());
    assert_eq!(decoded.to_rgb8(), original.to_rgb8(), "the same pixels");
}

#[tokio::test]
async fn r_ph_05_r_ph_13_each_upload_gets_its_own_code_sent_by_sms_and_never_kept_in_clear() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let mut upload = Upload::to_mobile(MOBILE);
    upload.email = Some("maria@example.gr".into());
    let first = uploaded(&app, &studio.owner, &studio.id, &upload).await;
    // R-PH-13: a lost code is replaced by uploading again: a new one.
    let second = uploaded(&app, &studio.owner, &studio.id, &upload).await;
    let codes = [&first, &second].map(|s| s["kodikarithmos"].as_str().unwrap().to_owned());
    assert_ne!(codes[0], codes[1]);
    assert!(
        first["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || first["qr_svg"].as_str().unwrap().contains("<svg")
    );

    app.deliver_due().await;
    let sms = app.messages_to(MOBILE).await;
    let mail = app.messages_to("maria@example.gr").await;
    assert_eq!((sms.len(), mail.len()), (2, 2));
    assert!(sms[0]["body"].as_str().unwrap().contains(&codes[1]));
    assert!(mail[0]["body"].as_str().unwrap().contains(&codes[1]));

    // At rest, neither the code nor its canonical form appears anywhere in
    // the submissions or the outbox.
    let stored: Vec<Vec<u8>> = app
        .with_db(|conn| {
            use citizen_api::db::schema::{outbox_messages, photo_submissions};
            use diesel::prelude::*;
            let mut all: Vec<Vec<u8>> = photo_submissions::table
                .select((photo_submissions::code_hash, photo_submissions::code_sealed))
                .load::<(String, Vec<u8>)>(conn)?
                .into_iter()
                .flat_map(|(hash, sealed)| [hash.into_bytes(), sealed])
                .collect();
            let bodies: Vec<Option<Vec<u8>>> = outbox_messages::table
                .select(outbox_messages::body)
                .load(conn)?;
            all.extend(bodies.into_iter().flatten());
            Ok(all)
        })
        .await;
    for code in &codes {
        let canonical = code.replace('-', "");
        for value in &stored {
            let text = String::from_utf8_lossy(value);
            assert!(!text.contains(code.as_str()) && !text.contains(&canonical));
        }
    }

    // The studio's list: status and masked contacts, never the AFM or images.
    let list: Value = app
        .get_json_as(
            &studio.owner,
            &format!("/v1/studios/{}/submissions", studio.id),
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let item = &list["items"][0];
    assert_eq!(item["status"], "pending");
    assert_eq!(item["mobile"], "+3069*****020");
    assert_eq!(item["email"], "m***@example.gr");
    let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["created_at", "email", "id", "mobile", "status"]);
}

#[tokio::test]
async fn r_ph_12_the_qr_png_reads_as_the_code_while_it_waits() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let submitted = uploaded(&app, &studio.owner, &studio.id, &Upload::to_mobile(MOBILE)).await;
    let (id, code) = (
        submitted["id"].as_str().unwrap(),
        submitted["kodikarithmos"].as_str().unwrap(),
    );
    let path = format!("/v1/studios/{}/submissions/{id}/qr.png", studio.id);
    let png = app.get_as(&studio.owner, &path).send().await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let bitmap = image::load_from_memory(&png.bytes().await.unwrap())
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(bitmap);
    let grids = prepared.detect_grids();
    assert_eq!(grids[0].decode().unwrap().1, code);
    // Once linked, the code is the citizen's business alone.
    let maria = strong_citizen(&app, MARIA, MOBILE).await;
    assert_eq!(link(&app, &maria, code).await.status(), StatusCode::OK);
    let after = app.get_as(&studio.owner, &path).send().await.unwrap();
    assert_problem(after, 404, "not_found").await;
}

async fn object_keys(app: &TestApp, submission: String) -> Vec<String> {
    app.with_db(move |conn| {
        use citizen_api::db::schema::photo_files::dsl::*;
        use diesel::prelude::*;
        Ok(photo_files
            .filter(submission_id.eq(submission))
            .select(object_key)
            .load(conn)?)
    })
    .await
}

#[tokio::test]
async fn r_ph_19_files_are_sealed_at_rest_and_deleting_an_upload_removes_them_and_their_keys() {
    let data_dir = tempfile::tempdir().unwrap();
    let photos = data_dir.path().join("photos");
    let app = spawn_app_with(|settings| settings.storage.path = Some(photos.clone())).await;
    let studio = with_studio(&app).await;
    let upload = Upload::to_mobile(MOBILE);
    let submitted = uploaded(&app, &studio.owner, &studio.id, &upload).await;
    let id = submitted["id"].as_str().unwrap().to_owned();
    let keys = object_keys(&app, id.clone()).await;
    assert_eq!(keys.len(), 2);
    // Runs of 64 bytes from the start, middle and end of each image.
    let runs: Vec<&[u8]> = [&upload.face, &upload.signature]
        .into_iter()
        .flat_map(|image| {
            let last = image.len() - 64;
            [
                &image[..64],
                &image[last / 2..last / 2 + 64],
                &image[last..],
            ]
        })
        .collect();
    for key in &keys {
        let stored = std::fs::read(photos.join(key)).unwrap();
        assert!(stored.len() > 1000, "a real object");
        for run in &runs {
            assert!(
                !stored.windows(64).any(|w| w == *run),
                "sealed: no run of the image survives"
            );
        }
    }
    let path = format!("/v1/studios/{}/submissions/{id}", studio.id);
    let deleted = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&studio.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    for key in &keys {
        assert!(!photos.join(key).exists(), "the object is gone");
    }
    assert!(
        object_keys(&app, id.clone()).await.is_empty(),
        "the wrapped keys are gone"
    );
    let list: Value = app
        .get_json_as(
            &studio.owner,
            &format!("/v1/studios/{}/submissions", studio.id),
        )
        .await;
    assert_eq!(list["items"][0]["status"], "deleted");
    // A linked upload is the citizen's: the studio cannot delete it.
    let code = uploaded(&app, &studio.owner, &studio.id, &upload).await;
    let maria = strong_citizen(&app, MARIA, MOBILE).await;
    let linked_id = code["id"].as_str().unwrap();
    assert_eq!(
        link(&app, &maria, code["kodikarithmos"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
    let path = format!("/v1/studios/{}/submissions/{linked_id}", studio.id);
    let refused = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&studio.owner)
        .send()
        .await
        .unwrap();
    assert_problem(refused, 409, "submission_in_use").await;
}

#[tokio::test]
async fn r_ph_19_a_store_that_refuses_the_write_fails_the_upload_cleanly_and_leaves_no_row() {
    let blocked = tempfile::tempdir().unwrap();
    let folder = blocked.path().join("photos");
    let app = spawn_app_with(|settings| settings.storage.path = Some(folder.clone())).await;
    let studio = with_studio(&app).await;
    // A file where the store's folder was: every write under it fails.
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::write(&folder, b"not a folder").unwrap();
    let response = send_upload(&app, &studio.owner, &studio.id, &Upload::to_mobile(MOBILE)).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "storage_unavailable").await;
    let rows: i64 = app
        .with_db(|conn| {
            use citizen_api::db::schema::photo_submissions::dsl::*;
            use diesel::prelude::*;
            Ok(photo_submissions.count().get_result(conn)?)
        })
        .await;
    assert_eq!(rows, 0);
    app.deliver_due().await;
    assert!(app.messages_to(MOBILE).await.is_empty(), "no code was sent");
}

#[tokio::test]
async fn r_ph_19_rotating_the_photo_master_key_rewraps_every_data_key_and_code() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let key = |id: &str, byte: u8| format!("{id}:{}", STANDARD.encode([byte; 32]));
    let (old, new) = (key("p1", 1), key("p2", 2));
    let hmac = STANDARD.encode([9u8; 32]);
    let store = tempfile::tempdir().unwrap();
    let path = store.path().to_owned();
    let configure = move |keys: String| {
        let (path, hmac) = (path.clone(), hmac.clone());
        move |settings: &mut citizen_api::Settings| {
            settings.secrets.photo_keys = Some(keys.into());
            settings.secrets.hmac_key = Some(hmac.into());
            settings.storage.path = Some(path);
        }
    };
    let app = spawn_app_with(configure(old.clone())).await;
    let studio = with_studio(&app).await;
    let upload = Upload::to_mobile(MOBILE);
    let code = uploaded(&app, &studio.owner, &studio.id, &upload).await["kodikarithmos"]
        .as_str()
        .unwrap()
        .to_owned();

    // Steps 3 and 4: the new key first, the old one still listed; re-wrap.
    let mut rotated = citizen_api::Settings::default();
    configure(format!("{new},{old}"))(&mut rotated);
    let hash =
        citizen_api::auth::HmacKey::load(rotated.secrets.hmac_key.as_ref(), store.path()).unwrap();
    let photos = std::sync::Arc::new(citizen_api::app::photo_services(&rotated, hash).unwrap());
    let run = |photos: std::sync::Arc<citizen_api::photos::Photos>| {
        app.with_db(move |conn| {
            citizen_api::photos::rotation::rewrap(conn, &photos.vault, &photos.code_keys())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
    };
    let report = run(photos.clone()).await;
    assert_eq!((report.data_keys, report.codes), (2, 1));
    let again = run(photos).await;
    assert_eq!(
        (again.data_keys, again.codes),
        (0, 0),
        "nothing is left under p1"
    );

    // Step 5: p1 leaves the list, and everything still opens.
    let later = spawn_app_with(move |settings| {
        configure(new)(settings);
        settings.database.url = Some(app.database_url.clone());
    })
    .await;
    let maria = strong_citizen(&later, MARIA, MOBILE).await;
    assert_eq!(link(&later, &maria, &code).await.status(), StatusCode::OK);
    let linked: Value = later.get_json_as(&maria, "/v1/me/photos").await;
    assert!(
        linked["kodikarithmos"]
            .as_str()
            .unwrap()
            .ends_with(&code[15..])
    );
    let face = later
        .get_as(&maria, "/v1/me/photos/face")
        .send()
        .await
        .unwrap();
    assert_eq!(face.bytes().await.unwrap(), upload.face);
}
