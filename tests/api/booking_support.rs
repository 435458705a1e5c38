//! Arranging bookable slots and many citizens for the booking tests.

use chrono::{Duration, SubsecRound, Utc};
use citizen_api::booking::catalogue::{Municipality, Service};
use citizen_api::dev::fixtures;
use citizen_api::http::Page;
use diesel::QueryDsl;
use diesel::prelude::*;

use crate::helpers::TestApp;

pub use citizen_api::dev::fixtures::afm;

/// A demo service of Kalamata by English name.
pub async fn service(app: &TestApp, name_en: &str) -> Service {
    let page: Page<Municipality> = app.get_json("/v1/municipalities").await;
    let kalamata = page
        .items
        .iter()
        .find(|m| m.name.en == "Municipality of Kalamata")
        .unwrap();
    let services: Page<Service> = app
        .get_json(&format!("/v1/municipalities/{}/services", kalamata.id))
        .await;
    services
        .items
        .into_iter()
        .find(|s| s.name.en == name_en)
        .unwrap()
}

/// Gives the service a booking window and slots starting `hours` from now,
/// each with `capacity` seats; answers the slot ids in that order.
pub async fn slots(app: &TestApp, service_id: &str, hours: &[i64], capacity: i32) -> Vec<String> {
    let service_id = service_id.to_owned();
    let now = Utc::now().trunc_subsecs(0);
    let starts: Vec<_> = hours.iter().map(|h| now + Duration::hours(*h)).collect();
    app.with_db(move |conn| Ok(fixtures::slots(conn, &service_id, &starts, capacity)?))
        .await
}

pub fn booking_body(slot_id: &str) -> serde_json::Value {
    serde_json::json!({
        "slot_id": slot_id,
        "full_name": "Μαρία Παπαδοπούλου",
        "email": "maria@example.gr",
        "phone": "6912345678",
        "special_requirements": "Πρόσβαση με αμαξίδιο"
    })
}

/// Signs in `count` distinct citizens, in parallel.
pub async fn citizens(app: &TestApp, count: u32) -> Vec<String> {
    futures_util::future::join_all((0..count).map(|n| {
        let afm = afm(1000 + n);
        async move { app.sign_in(&afm).await }
    }))
    .await
}

/// The id of the demo Municipality of Kalamata.
pub async fn kalamata_id(app: &TestApp) -> String {
    let page: serde_json::Value = app.get_json("/v1/municipalities").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"]["en"] == "Municipality of Kalamata")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Changes the service's booking window, leaving its slots as they are.
pub async fn set_window(
    app: &TestApp,
    service_id: &str,
    min_notice_minutes: i32,
    max_advance_days: i32,
) {
    use citizen_api::db::schema::service_schedules::dsl as s;
    let service_id = service_id.to_owned();
    app.with_db(move |conn| {
        Ok(diesel::update(s::service_schedules.find(service_id))
            .set((
                s::min_notice_minutes.eq(min_notice_minutes),
                s::max_advance_days.eq(max_advance_days),
            ))
            .execute(conn)?)
    })
    .await;
}
