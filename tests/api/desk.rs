//! The serving department's desk (R-BK-06 c-e, R-BK-08, R-BK-10).

use chrono::Duration;
use citizen_api::auth::roles::ScopedRole;
use citizen_api::db::schema::audit_events;
use citizen_api::domain::ids::DepartmentId;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::booking_support::{Town, booking_body, grant, signed_in_with_role, slots, town};
use crate::helpers::{TestApp, assert_problem, spawn_app};

const MARIA: &str = "123456783";
/// Staff of the department that serves the booked service.
const WELFARE_STAFF: &str = "012312312";
const TOWN_ADMIN: &str = "094019245";
const OTHER_STAFF: &str = "801234560";

/// A confirmed reservation, `hours` from now, at the department of a new
/// municipality that [`WELFARE_STAFF`] serves: (its JSON, the department id).
async fn booked(app: &TestApp, hours: i64) -> (Value, DepartmentId) {
    let (reservation, town) = booked_in_town(app, hours).await;
    (reservation, town.department)
}

/// [`booked`], answering the whole municipality.
async fn booked_in_town(app: &TestApp, hours: i64) -> (Value, Town) {
    let town = town(app, "Testville", 1).await;
    grant(
        app,
        WELFARE_STAFF,
        ScopedRole::Staff(town.department.clone()),
    )
    .await;
    let housing = &town.services[0];
    let slot = &slots(app, &housing.id, &[hours], 1).await[0];
    let citizen = app.sign_in(MARIA).await;
    let response = app
        .post_json_as(&citizen, "/v1/reservations", &booking_body(slot))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    (response.json().await.unwrap(), town)
}

fn day_of(reservation: &Value) -> String {
    reservation["slot"]["starts_at"].as_str().unwrap()[..10].to_owned()
}

async fn audit_count(app: &TestApp, action: &'static str, subject: &str) -> i64 {
    let subject = subject.to_owned();
    app.with_db(move |conn| {
        Ok(audit_events::table
            .filter(audit_events::action.eq(action))
            .filter(audit_events::subject_id.eq(subject))
            .count()
            .get_result(conn)?)
    })
    .await
}

#[tokio::test]
async fn r_bk_08_r_bk_10_staff_list_their_departments_day_and_every_read_is_audited() {
    let app = spawn_app().await;
    let (reservation, welfare) = booked(&app, 30).await;
    let staff = app.sign_in(WELFARE_STAFF).await;
    let path = format!(
        "/v1/departments/{welfare}/reservations?date={}",
        day_of(&reservation)
    );
    let page: Value = app
        .get_as(&staff, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], reservation["id"]);
    assert_eq!(page["items"][0]["full_name"], "Μαρία Παπαδοπούλου");
    let id = reservation["id"].as_str().unwrap();
    assert_eq!(audit_count(&app, "reservation.list", id).await, 1);

    let filtered: Value = app
        .get_as(&staff, &format!("{path}&status=completed"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"], json!([]));
    let bad = app
        .get_as(
            &staff,
            &format!("/v1/departments/{welfare}/reservations?date=tomorrow&status=x"),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(bad, 422, "validation_failed").await;
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["date", "status"]);
}

#[tokio::test]
async fn r_bk_06_check_in_with_an_identity_document_then_complete() {
    let app = spawn_app().await;
    let (reservation, _) = booked(&app, 30).await;
    let id = reservation["id"].as_str().unwrap();
    let early = app.sign_in(WELFARE_STAFF).await;
    let check_in_as = |staff: String, verified: bool| {
        app.post_as(&staff, &format!("/v1/reservations/{id}/check-in"))
            .json(&json!({ "identity_document": "id_card", "verified": verified }))
            .send()
    };
    // Not on another day than the appointment's.
    assert_problem(
        check_in_as(early, true).await.unwrap(),
        409,
        "invalid_transition",
    )
    .await;
    app.clock.advance(Duration::hours(30));
    let staff = app.sign_in(WELFARE_STAFF).await;
    let check_in = |verified: bool| check_in_as(staff.clone(), verified);
    assert_problem(check_in(false).await.unwrap(), 422, "validation_failed").await;
    let checked: Value = check_in(true).await.unwrap().json().await.unwrap();
    assert_eq!(checked["status"], "checked_in");
    assert_eq!(checked["identity_document"], "id_card");
    assert_problem(check_in(true).await.unwrap(), 409, "invalid_transition").await;

    let done: Value = app
        .post_as(&staff, &format!("/v1/reservations/{id}/complete"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(audit_count(&app, "reservation.check_in", id).await, 1);
    assert_eq!(audit_count(&app, "reservation.complete", id).await, 1);

    // The citizen sees the outcome too.
    let citizen = app.sign_in(MARIA).await;
    let own: Value = app
        .get_as(&citizen, &format!("/v1/reservations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["status"], "completed");
}

#[tokio::test]
async fn a_no_show_is_marked_only_once_the_time_has_come() {
    let app = spawn_app().await;
    let (reservation, _) = booked(&app, 2).await;
    let id = reservation["id"].as_str().unwrap();
    let staff = app.sign_in(WELFARE_STAFF).await;
    let no_show = |token: String| {
        let request = app.post_as(&token, &format!("/v1/reservations/{id}/no-show"));
        request.send()
    };
    assert_problem(no_show(staff).await.unwrap(), 409, "invalid_transition").await;
    app.clock.advance(Duration::hours(2) + Duration::minutes(5));
    // Two hours on, the earlier session has timed out (R-PH-17).
    let staff = app.sign_in(WELFARE_STAFF).await;
    let marked: Value = no_show(staff).await.unwrap().json().await.unwrap();
    assert_eq!(marked["status"], "no_show");
    // R-BK-10: the step is on record, once (the refused early try is not).
    assert_eq!(audit_count(&app, "reservation.no_show", id).await, 1);
}

#[tokio::test]
async fn r_bk_08_staff_of_another_department_are_refused_on_every_desk_endpoint() {
    let app = spawn_app().await;
    let (reservation, town) = booked_in_town(&app, 30).await;
    let welfare = &town.department;
    let id = reservation["id"].as_str().unwrap();
    // The municipality's admin makes someone staff of another department.
    let registry = town.department(&app, "Civil Registry").await;
    let admin = signed_in_with_role(
        &app,
        TOWN_ADMIN,
        ScopedRole::MunicipalityAdmin(town.municipality.clone()),
    )
    .await;
    let granted = app
        .client
        .put(app.url(&format!("/v1/departments/{registry}/staff/{OTHER_STAFF}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::NO_CONTENT);
    let other = app.sign_in(OTHER_STAFF).await;
    let citizen = app.sign_in(MARIA).await;

    let endpoints = [
        (
            Method::GET,
            format!("/v1/departments/{welfare}/reservations"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/reservations/{id}/check-in"),
            Some(json!({ "identity_document": "passport", "verified": true })),
        ),
        // What the body gets wrong is for the department's staff to hear.
        (
            Method::POST,
            format!("/v1/reservations/{id}/check-in"),
            Some(json!({ "identity_document": "passport", "verified": false })),
        ),
        (
            Method::POST,
            format!("/v1/reservations/{id}/complete"),
            None,
        ),
        (Method::POST, format!("/v1/reservations/{id}/no-show"), None),
    ];
    for token in [&other, &citizen, &admin] {
        for (method, path, body) in &endpoints {
            let mut request = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(token);
            if let Some(body) = body {
                request = request.json(body);
            }
            assert_problem(request.send().await.unwrap(), 403, "forbidden").await;
        }
    }
    // Their own department's list is theirs to see.
    let own = app
        .get_as(&other, &format!("/v1/departments/{registry}/reservations"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(audit_count(&app, "reservation.list", id).await, 0);
}
