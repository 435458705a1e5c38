//! The demo data of consent: on a fresh start the Ministry of Transport's
//! development credentials fetch the consenting demo citizen's photos, the
//! Police's do not, and a restart seeds nothing twice.

use citizen_api::dev::demo::CONSENTING_CITIZEN;
use citizen_api::dev::demo_apps::{POLICE, TRANSPORT};
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::consent_support::{app_token, assert_no_consent, demo_client, fetch};
use crate::helpers::{TestApp, spawn_app_with, spawn_demo_app};

/// Applications, consents and uploads, as counted in the database.
async fn seeded(app: &TestApp) -> (i64, i64, i64) {
    use citizen_api::db::schema::{apps, consents, photo_submissions};
    app.with_db(|conn| {
        Ok((
            apps::table.count().get_result(conn)?,
            consents::table.count().get_result(conn)?,
            photo_submissions::table.count().get_result(conn)?,
        ))
    })
    .await
}

#[tokio::test]
async fn r_ph_15_the_demo_transport_app_fetches_the_consenting_citizens_photos() {
    let app = spawn_demo_app().await;
    let transport = app_token(
        &app,
        &demo_client(&TRANSPORT),
        "photos:face photos:signature",
    )
    .await;
    for image in ["face", "signature"] {
        let fetched = fetch(&app, &transport, CONSENTING_CITIZEN, image).await;
        assert_eq!(fetched.status(), StatusCode::OK, "{image}");
        assert!(!fetched.bytes().await.unwrap().is_empty());
    }
    let police = app_token(&app, &demo_client(&POLICE), "photos:face").await;
    assert_no_consent(&app, &police, CONSENTING_CITIZEN, "face").await;
    // Two applications, one consent, and the two demo citizens' uploads.
    assert_eq!(seeded(&app).await, (2, 1, 2));

    let database = app.database_url.clone();
    let restarted = spawn_app_with(move |settings| {
        settings.demo_data = true;
        settings.database.url = Some(database);
    })
    .await;
    assert_eq!(
        seeded(&restarted).await,
        (2, 1, 2),
        "a restart seeds nothing"
    );
}
