//! Reservations (R-BK-02 .. R-BK-06, R-BK-11): booking never overbooks under
//! any concurrency, one upcoming booking per citizen and service,
//! idempotency, rectification, cancellation and rescheduling.

use std::collections::HashSet;

use citizen_api::auth::roles::ScopedRole;
use citizen_api::domain::ids::{ServiceId, SlotId};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_support::{
    bookable_service, booking_body, citizens, documented_service, services, set_window,
    signed_in_with_role, slots, town,
};
use crate::helpers::{TestApp, assert_problem, named, spawn_app, spawn_app_with};

const MARIA: &str = "123456783";
/// The administrator of the test's municipality.
const TOWN_ADMIN: &str = "094019245";

async fn app() -> TestApp {
    // Many sign-ins come from one address here.
    spawn_app_with(|s| s.auth.rate_limit_per_minute = 100_000).await
}

async fn book(app: &TestApp, token: &str, slot_id: &SlotId) -> reqwest::Response {
    app.post_json_as(token, "/v1/reservations", &booking_body(slot_id))
        .await
}

async fn remaining(app: &TestApp, service_id: &ServiceId, slot_id: &SlotId) -> i64 {
    let page: Value = app
        .get_json(&format!(
            "/v1/services/{service_id}/slots?include_full=true&limit=200"
        ))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == slot_id.as_str())
        .unwrap()["remaining"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn r_bk_02_r_bk_06_a_booking_confirms_and_queues_the_email_with_its_calendar() {
    let app = spawn_app().await;
    let housing = documented_service(&app).await;
    let slot = &slots(&app, &housing.id, &[48], 2).await[0];
    let token = app.sign_in(MARIA).await;

    let response = book(&app, &token, slot).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reservation: Value = response.json().await.unwrap();
    assert_eq!(reservation["status"], "confirmed");
    assert_eq!(reservation["full_name"], "Μαρία Παπαδοπούλου");
    assert_eq!(reservation["phone"], "+306912345678");
    assert_eq!(reservation["department"]["name"]["en"], "Registry");
    assert_eq!(
        reservation["required_documents"][1]["en"],
        "Lease agreement"
    );
    let starts = reservation["slot"]["starts_at"].as_str().unwrap();
    assert!(
        starts.ends_with("+02:00") || starts.ends_with("+03:00"),
        "{starts}"
    );
    assert_eq!(remaining(&app, &housing.id, slot).await, 1);

    let email = app.next_message_to("maria@example.gr", 0).await;
    let id = reservation["id"].as_str().unwrap();
    assert!(email.contains(&format!("/v1/reservations/{id}")), "{email}");
    assert!(email.contains("Μισθωτήριο συμβόλαιο"), "{email}");

    let ics = app
        .get_as(&token, &format!("/v1/reservations/{id}/calendar.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(
        ics.text()
            .await
            .unwrap()
            .contains(&format!("UID:{id}@citizen-api"))
    );

    let listed: Value = app
        .get_as(&token, "/v1/reservations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id);
    let read: Value = app
        .get_as(&token, &format!("/v1/reservations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, reservation);
}

#[tokio::test]
async fn a_full_slot_is_409_slot_full_and_another_citizens_booking_is_404() {
    let app = app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[30], 1).await[0];
    let [first, second]: [String; 2] = citizens(&app, 2).await.try_into().unwrap();
    let created: Value = book(&app, &first, slot).await.json().await.unwrap();
    assert_problem(book(&app, &second, slot).await, 409, "slot_full").await;
    let theirs = app
        .get_as(
            &second,
            &format!("/v1/reservations/{}", created["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_problem(theirs, 404, "not_found").await;
}

/// Booking looks the session up in its own transaction's checkout; the
/// same refusals hold as everywhere, and none of them takes a seat.
#[tokio::test]
async fn booking_refuses_a_missing_or_ended_session_and_a_foreign_origin_without_taking_a_seat() {
    let app = app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[30], 1).await[0];
    let token = app.sign_in(MARIA).await;

    let anonymous = app
        .client
        .post(app.url("/v1/reservations"))
        .json(&booking_body(slot))
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401, "unauthenticated").await;
    let foreign = app
        .client
        .post(app.url("/v1/reservations"))
        .header("cookie", format!("sid={token}"))
        .header("origin", "https://evil.example")
        .json(&booking_body(slot))
        .send()
        .await
        .unwrap();
    assert_problem(foreign, 403, "origin_not_allowed").await;
    let ended = app.sign_in(MARIA).await;
    let logout = app.post_as(&ended, "/v1/auth/logout").send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_problem(book(&app, &ended, slot).await, 401, "unauthenticated").await;

    assert_eq!(remaining(&app, &housing.id, slot).await, 1);
    assert_eq!(book(&app, &token, slot).await.status(), StatusCode::CREATED);
}

/// Fires `n` bookings from `n` citizens at one slot at once; answers the statuses.
async fn race(app: &TestApp, slot: &SlotId, tokens: &[String]) -> Vec<u16> {
    let requests = tokens.iter().map(|token| book(app, token, slot));
    futures_util::future::join_all(requests)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect()
}

/// A hundred citizens book one slot of `seats` at once: exactly `seats`
/// succeed, the rest are `409`, and the slot ends full.
async fn hundred_race_for(seats: i32) {
    let app = app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[30], seats).await[0];
    let tokens = citizens(&app, 100).await;
    let statuses = race(&app, slot, &tokens).await;
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(count(201), seats as usize, "{statuses:?}");
    assert_eq!(count(409), 100 - seats as usize, "{statuses:?}");
    assert_eq!(remaining(&app, &housing.id, slot).await, 0);
}

#[tokio::test]
async fn a_slot_with_one_seat_takes_exactly_one_of_a_hundred_parallel_bookings() {
    hundred_race_for(1).await;
}

#[tokio::test]
async fn a_slot_with_five_seats_takes_exactly_five_of_a_hundred_parallel_bookings() {
    hundred_race_for(5).await;
}

#[tokio::test]
async fn one_idempotency_key_sent_twenty_times_at_once_books_once_and_answers_alike() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[30], 5).await[0];
    let token = app.sign_in(MARIA).await;
    let requests = (0..20).map(|_| {
        app.post_as(&token, "/v1/reservations")
            .header("idempotency-key", "booking-42")
            .json(&booking_body(slot))
            .send()
    });
    let mut answers = Vec::new();
    for response in futures_util::future::join_all(requests).await {
        let response = response.unwrap();
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    let distinct: HashSet<_> = answers.iter().collect();
    assert_eq!(distinct.len(), 1, "{distinct:?}");
    assert_eq!(answers[0].0, 201);
    assert_eq!(remaining(&app, &housing.id, slot).await, 4);
    let listed: Value = app
        .get_as(&token, "/v1/reservations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let mut other = booking_body(slot);
    other["full_name"] = json!("Άλλο Όνομα");
    let reused = app
        .post_as(&token, "/v1/reservations")
        .header("idempotency-key", "booking-42")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_problem(reused, 422, "idempotency_key_reused").await;
}

/// docs/api.md: a key's repeats get "the first response again", refusals
/// included. A booking refused after it took a seat (already booked for
/// the service) leaves nothing behind but its answer: the seat is free, and
/// the repeat is refused again even once the reason is gone, in the
/// repeat's own language, while a new key books.
#[tokio::test]
async fn a_refused_booking_is_kept_under_its_key_and_its_writes_are_undone() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let ids = slots(&app, &housing.id, &[30, 31], 2).await;
    let token = app.sign_in(MARIA).await;
    let held: Value = book(&app, &token, &ids[0]).await.json().await.unwrap();
    let keyed = |language: &'static str| {
        app.post_as(&token, "/v1/reservations")
            .header("idempotency-key", "move-me")
            .header("accept-language", language)
            .json(&booking_body(&ids[1]))
            .send()
    };
    let requests = (0..20).map(|_| keyed("el"));
    let mut answers = HashSet::new();
    for response in futures_util::future::join_all(requests).await {
        let response = response.unwrap();
        answers.insert((response.status().as_u16(), response.text().await.unwrap()));
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    let (status, body) = answers.into_iter().next().unwrap();
    assert_eq!(status, 409);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "already_booked"
    );
    assert_eq!(remaining(&app, &housing.id, &ids[1]).await, 2);

    let cancel = app
        .post_as(
            &token,
            &format!("/v1/reservations/{}/cancel", held["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    let repeat = keyed("en").await.unwrap();
    assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    assert_eq!(repeat.headers()["content-language"], "en");
    let problem = assert_problem(repeat, 409, "already_booked").await;
    assert_eq!(problem.title, "Already booked");
    assert_eq!(remaining(&app, &housing.id, &ids[1]).await, 2);

    let fresh = app
        .post_as(&token, "/v1/reservations")
        .header("idempotency-key", "move-me-2")
        .json(&booking_body(&ids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn one_upcoming_reservation_per_citizen_and_service_even_in_parallel() {
    let app = spawn_app().await;
    let [housing, income] = <[_; 2]>::try_from(services(&app, 2).await).unwrap();
    let ids = slots(
        &app,
        &housing.id,
        &[30, 31, 32, 33, 34, 35, 36, 37, 38, 39],
        3,
    )
    .await;
    let token = app.sign_in(MARIA).await;
    let requests = ids.iter().map(|slot| book(&app, &token, slot));
    let responses = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    for response in responses
        .into_iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
    {
        assert_problem(response, 409, "already_booked").await;
    }
    // Another service is another matter.
    let other = &slots(&app, &income.id, &[40], 1).await[0];
    assert_eq!(
        book(&app, &token, other).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn cancelling_frees_the_seat_once() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let service_id = housing.id.clone();
    let slot = &slots(&app, &service_id, &[30], 1).await[0];
    let token = app.sign_in(MARIA).await;
    let created: Value = book(&app, &token, slot).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(remaining(&app, &service_id, slot).await, 0);

    let cancel = || {
        app.post_as(&token, &format!("/v1/reservations/{id}/cancel"))
            .json(&json!({ "reason": "άλλη υποχρέωση" }))
            .send()
    };
    let cancelled: Value = cancel().await.unwrap().json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "άλλη υποχρέωση");
    assert_eq!(remaining(&app, &service_id, slot).await, 1);
    assert_problem(cancel().await.unwrap(), 409, "invalid_transition").await;
    assert_eq!(remaining(&app, &service_id, slot).await, 1);
    let malformed = app
        .post_as(&token, &format!("/v1/reservations/{id}/cancel"))
        .header("content-type", "application/json")
        .body("{\"reason\":")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "malformed_json").await;
    let not_json = app
        .post_as(&token, &format!("/v1/reservations/{id}/cancel"))
        .header("content-type", "text/plain")
        .body("{\"reason\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 415, "unsupported_media_type").await;
    // And the citizen may book that service again.
    assert_eq!(book(&app, &token, slot).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn rescheduling_moves_the_seat_atomically_and_races_fairly() {
    let app = app().await;
    let housing = bookable_service(&app).await;
    let service_id = housing.id.clone();
    let ids = slots(&app, &service_id, &[30, 50], 20).await;
    let tokens = citizens(&app, 20).await;
    let mut reservations = Vec::new();
    for token in &tokens {
        let created: Value = book(&app, token, &ids[0]).await.json().await.unwrap();
        reservations.push(created["id"].as_str().unwrap().to_owned());
    }
    let target = &slots(&app, &service_id, &[70], 1).await[0];
    let requests = tokens.iter().zip(&reservations).map(|(token, id)| {
        app.post_as(token, &format!("/v1/reservations/{id}/reschedule"))
            .json(&json!({ "slot_id": target }))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(remaining(&app, &service_id, target).await, 0);
    assert_eq!(
        remaining(&app, &service_id, &ids[0]).await,
        1,
        "the mover's old seat is free"
    );
}

/// Slots whose seat count differs from the reservations that hold a seat
/// (all but cancelled ones): `(slot, booked, holding)`.
async fn miscounted_seats(app: &TestApp) -> Vec<(String, i32, i64)> {
    use citizen_api::db::schema::{reservations, slots};
    use diesel::prelude::*;
    app.with_db(|conn| {
        let booked: Vec<(String, i32)> =
            slots::table.select((slots::id, slots::booked)).load(conn)?;
        let holding: Vec<(String, i64)> = reservations::table
            .filter(reservations::status.ne("cancelled"))
            .group_by(reservations::slot_id)
            .select((reservations::slot_id, diesel::dsl::count_star()))
            .load(conn)?;
        let holding: std::collections::HashMap<_, _> = holding.into_iter().collect();
        Ok(booked
            .into_iter()
            .map(|(slot, booked)| {
                let held = holding.get(&slot).copied().unwrap_or(0);
                (slot, booked, held)
            })
            .filter(|(_, booked, held)| i64::from(*booked) != *held)
            .collect())
    })
    .await
}

/// Books each citizen into `slot`; answers their reservation ids.
async fn book_each(app: &TestApp, tokens: &[String], slot: &SlotId) -> Vec<String> {
    let mut ids = Vec::new();
    for token in tokens {
        let created: Value = book(app, token, slot).await.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn reschedule(app: &TestApp, token: &str, id: &str, slot: &SlotId) -> u16 {
    app.post_json_as(
        token,
        &format!("/v1/reservations/{id}/reschedule"),
        &json!({ "slot_id": slot }),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn r_bk_02_moves_in_opposite_directions_at_once_all_succeed_and_keep_the_count() {
    let app = app().await;
    let housing = bookable_service(&app).await;
    let pair = slots(&app, &housing.id, &[30, 31], 20).await;
    let people = citizens(&app, 20).await;
    let (first, second) = people.split_at(10);
    let on_first = book_each(&app, first, &pair[0]).await;
    let on_second = book_each(&app, second, &pair[1]).await;

    // Each move locks both slots; taken in different orders, two moves
    // would wait for each other (PostgreSQL answers one with a deadlock).
    let moves = first
        .iter()
        .zip(&on_first)
        .map(|(token, id)| reschedule(&app, token, id, &pair[1]))
        .chain(
            second
                .iter()
                .zip(&on_second)
                .map(|(token, id)| reschedule(&app, token, id, &pair[0])),
        );
    let statuses = futures_util::future::join_all(moves).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(miscounted_seats(&app).await, []);
}

#[tokio::test]
async fn r_bk_02_a_reservation_cancelled_and_moved_at_once_frees_one_seat_once() {
    let app = app().await;
    let housing = bookable_service(&app).await;
    let pair = slots(&app, &housing.id, &[30, 31], 20).await;
    let people = citizens(&app, 10).await;
    let ids = book_each(&app, &people, &pair[0]).await;

    let (app, target) = (&app, &pair[1]);
    let both = people.iter().zip(&ids).map(|(token, id)| async move {
        let cancel = async {
            app.post_as(token, &format!("/v1/reservations/{id}/cancel"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        tokio::join!(cancel, reschedule(app, token, id, target))
    });
    let outcomes = futures_util::future::join_all(both).await;
    // Whichever came first won; the other found the reservation changed.
    for (cancelled, moved) in &outcomes {
        assert!(
            matches!((cancelled, moved), (200, 409) | (409, 200) | (200, 200)),
            "{outcomes:?}"
        );
    }
    assert_eq!(miscounted_seats(app).await, []);
}

#[tokio::test]
async fn moving_someone_elses_reservation_is_404_whatever_the_target() {
    let app = app().await;
    let [housing, other] = <[_; 2]>::try_from(services(&app, 2).await).unwrap();
    let service_id = housing.id.clone();
    let own = &slots(&app, &service_id, &[30], 5).await[0];
    let full = &slots(&app, &service_id, &[32], 1).await[0];
    let foreign = &slots(&app, &other.id, &[34], 5).await[0];
    let people = citizens(&app, 2).await;
    let id = &book_each(&app, &people[..1], own).await[0];
    book_each(&app, &people[1..], full).await;

    for target in [own, full, foreign] {
        assert_eq!(
            reschedule(&app, &people[1], id, target).await,
            404,
            "{target}"
        );
    }
    assert_eq!(remaining(&app, &service_id, own).await, 4);
    assert_eq!(miscounted_seats(&app).await, []);
}

#[tokio::test]
async fn r_bk_11_contact_data_can_be_rectified() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[30], 1).await[0];
    let token = app.sign_in(MARIA).await;
    let created: Value = book(&app, &token, slot).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/v1/reservations/{id}")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let changed: Value =
        patch(json!({ "email": "maria.p@example.gr", "special_requirements": null }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(changed["email"], "maria.p@example.gr");
    assert_eq!(changed["special_requirements"], Value::Null);
    assert_eq!(changed["full_name"], "Μαρία Παπαδοπούλου");
    let problem = assert_problem(
        patch(json!({ "email": "no", "phone": "12" }))
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "phone"]);
}

#[tokio::test]
async fn r_bk_03_every_invalid_field_is_named() {
    let app = spawn_app().await;
    let token = app.sign_in(MARIA).await;
    let body = json!({
        "slot_id": "x", "full_name": "1", "email": "a@", "phone": "abc",
        "special_requirements": "x".repeat(501),
        "legal_entity": { "name": "", "afm": "123" }
    });
    let response = app.post_json_as(&token, "/v1/reservations", &body).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let fields: HashSet<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    let expected: HashSet<&str> = [
        "slot_id",
        "full_name",
        "email",
        "phone",
        "special_requirements",
        "legal_entity.name",
        "legal_entity.afm",
    ]
    .into();
    assert_eq!(fields, expected);

    let unknown = book(&app, &token, &SlotId::generate()).await;
    let problem = assert_problem(unknown, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].code, "unknown_slot");

    // A missing field or a value of the wrong type is named too.
    let mut body = booking_body(SlotId::generate());
    let without_phone = {
        body.as_object_mut().unwrap().remove("phone");
        body.clone()
    };
    body["phone"] = json!("+306912345678");
    body["legal_entity"] = json!({ "name": "Σύλλογος", "afm": 94019245 });
    for (sent, field, code) in [
        (without_phone, "phone", "missing"),
        (body, "legal_entity.afm", "invalid_shape"),
    ] {
        let response = app.post_json_as(&token, "/v1/reservations", &sent).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        let named = named(&problem);
        assert_eq!(named, [(field, code)]);
    }
    assert_problem(
        app.post("/v1/reservations", &booking_body("x")).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn r_bk_04_legal_entities_only_where_the_service_serves_them() {
    let app = spawn_app().await;
    let token = app.sign_in(MARIA).await;
    let entity = json!({ "name": "Σύλλογος Φίλων του Δάσους", "afm": "094019245" });

    let town = town(&app, "Testville", 2).await;
    let housing = &town.services[0];
    let slot = &slots(&app, &housing.id, &[30], 1).await[0];
    let mut body = booking_body(slot);
    body["legal_entity"] = entity.clone();
    let refused = app.post_json_as(&token, "/v1/reservations", &body).await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].field, "legal_entity");

    let associations = town
        .serving_legal_entities(
            &app,
            1,
            &[
                ("Καταστατικό", "Articles of association"),
                ("Πρακτικό εκλογής ΔΣ", "Minutes electing the board"),
            ],
        )
        .await;
    let slot = &slots(&app, &associations.id, &[30], 1).await[0];
    let mut body = booking_body(slot);
    body["legal_entity"] = entity;
    let created: Value = app
        .post_json_as(&token, "/v1/reservations", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["legal_entity"]["afm"], "094019245");
    assert_eq!(
        created["legal_entity_documents"].as_array().unwrap().len(),
        2
    );
    let email = app.next_message_to("maria@example.gr", 0).await;
    assert!(
        email.contains("registry@example.gr") && email.contains("Καταστατικό"),
        "{email}"
    );
}

#[tokio::test]
async fn past_slots_are_unavailable() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[-1], 1).await[0];
    let token = app.sign_in(MARIA).await;
    assert_problem(book(&app, &token, slot).await, 409, "slot_unavailable").await;
}

#[tokio::test]
async fn r_bk_02_booking_holds_to_the_window_inside_minimum_notice_or_beyond_maximum_advance() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let service_id = housing.id.clone();
    let [soon, inside, far] =
        <[SlotId; 3]>::try_from(slots(&app, &service_id, &[1, 48, 24 * 40], 1).await).unwrap();
    set_window(&app, &service_id, 120, 30).await;
    let token = app.sign_in(MARIA).await;
    for slot in [&soon, &far] {
        assert_problem(book(&app, &token, slot).await, 409, "slot_unavailable").await;
    }
    assert_eq!(
        book(&app, &token, &inside).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(remaining(&app, &service_id, &inside).await, 0);
}

#[tokio::test]
async fn once_the_appointment_started_it_can_no_longer_be_changed_cancelled_or_moved() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let service_id = housing.id.clone();
    let pair = slots(&app, &service_id, &[1, 30], 1).await;
    let token = app.sign_in(MARIA).await;
    let created: Value = book(&app, &token, &pair[0]).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    app.clock.advance(chrono::Duration::hours(2));
    // The session would have idled out meanwhile.
    let token = app.sign_in(MARIA).await;

    let patched = app
        .client
        .patch(app.url(&format!("/v1/reservations/{id}")))
        .bearer_auth(&token)
        .json(&json!({ "phone": "6987654321" }))
        .send()
        .await
        .unwrap();
    assert_problem(patched, 409, "invalid_transition").await;
    let cancelled = app
        .post_as(&token, &format!("/v1/reservations/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_problem(cancelled, 409, "invalid_transition").await;
    assert_eq!(reschedule(&app, &token, id, &pair[1]).await, 409);
    assert_eq!(remaining(&app, &service_id, &pair[1]).await, 1);
    assert_eq!(miscounted_seats(&app).await, []);
}

#[tokio::test]
async fn someone_elses_reservation_cannot_be_changed_or_exported_and_a_move_stays_in_its_service() {
    let app = spawn_app().await;
    let [housing, income] = <[_; 2]>::try_from(services(&app, 2).await).unwrap();
    let own = &slots(&app, &housing.id, &[30], 5).await[0];
    let elsewhere = &slots(&app, &income.id, &[32], 5).await[0];
    let maria = app.sign_in(MARIA).await;
    let created: Value = book(&app, &maria, own).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let other = &citizens(&app, 1).await[0];

    let patched = app
        .client
        .patch(app.url(&format!("/v1/reservations/{id}")))
        .bearer_auth(other)
        .json(&json!({ "phone": "6987654321" }))
        .send()
        .await
        .unwrap();
    assert_problem(patched, 404, "not_found").await;
    let calendar = app
        .get_as(other, &format!("/v1/reservations/{id}/calendar.ics"))
        .send()
        .await
        .unwrap();
    assert_problem(calendar, 404, "not_found").await;
    let mine = app
        .get_text_as(&maria, &format!("/v1/reservations/{id}/calendar.ics"))
        .await;
    assert_lines(&mine, &["METHOD:PUBLISH"]);

    let moved = app
        .post_json_as(
            &maria,
            &format!("/v1/reservations/{id}/reschedule"),
            &json!({ "slot_id": elsewhere }),
        )
        .await;
    let problem = assert_problem(moved, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].field, "slot_id");
    assert_eq!(problem.errors[0].code, "other_service");
    assert_eq!(miscounted_seats(&app).await, []);
}

/// Asserts that each of `lines` is a whole line of `calendar`.
fn assert_lines(calendar: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            calendar.contains(&format!("{line}\r\n")),
            "{line} in {calendar}"
        );
    }
}

/// The `.ics` files of the messages to `to`, oldest first.
async fn calendars_sent_to(app: &TestApp, to: &str) -> Vec<String> {
    use citizen_api::db::schema::{outbox_attachments as a, outbox_messages as m};
    use diesel::prelude::*;
    let to = to.to_owned();
    let files: Vec<Vec<u8>> = app
        .with_db(move |conn| {
            Ok(a::table
                .inner_join(m::table)
                .filter(m::recipient.eq(to))
                .filter(a::filename.eq("appointment.ics"))
                .order(m::id)
                .select(a::content)
                .load(conn)?)
        })
        .await;
    files
        .into_iter()
        .map(|f| String::from_utf8(f).unwrap())
        .collect()
}

#[tokio::test]
async fn r_bk_06_a_move_is_confirmed_again_in_the_language_booked_in_with_a_calendar_that_replaces_the_first()
 {
    let app = spawn_app_with(|s| {
        s.notify.reservation_link = Some("https://mydimos.example/appointments/{id}".into());
    })
    .await;
    let town = town(&app, "Testville", 1).await;
    let housing = &town.services[0];
    let pair = slots(&app, &housing.id, &[30, 54], 1).await;
    let token = app.sign_in(MARIA).await;
    let booked: Value = app
        .post_as(&token, "/v1/reservations")
        .header("accept-language", "en")
        .json(&booking_body(&pair[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = booked["id"].as_str().unwrap();
    let first = app.next_message_to("maria@example.gr", 0).await;
    assert!(first.contains("Service 0"), "{first}");
    assert!(
        first.contains(&format!("https://mydimos.example/appointments/{id}")),
        "{first}"
    );

    // Asked without a language: the messages keep the one booked in.
    let moved: Value = app
        .post_json_as(
            &token,
            &format!("/v1/reservations/{id}/reschedule"),
            &json!({ "slot_id": pair[1] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_time =
        chrono::DateTime::parse_from_rfc3339(moved["slot"]["starts_at"].as_str().unwrap())
            .unwrap()
            .format("%d/%m/%Y %H:%M")
            .to_string();
    let second = app.next_message_to("maria@example.gr", 1).await;
    assert!(second.contains("Service 0"), "{second}");
    assert!(second.contains(&new_time), "{new_time} in {second}");
    let calendars = calendars_sent_to(&app, "maria@example.gr").await;
    assert_eq!(calendars.len(), 2);
    let uid = format!("UID:{id}@citizen-api");
    assert_lines(&calendars[0], &[&uid, "SEQUENCE:0"]);
    assert_lines(&calendars[1], &[&uid, "SEQUENCE:1"]);
    let downloaded = app
        .get_text_as(&token, &format!("/v1/reservations/{id}/calendar.ics"))
        .await;
    assert!(downloaded.contains("SEQUENCE:1\r\n"), "{downloaded}");

    // The municipality withdraws the new slot: told in English too.
    let admin = signed_in_with_role(
        &app,
        TOWN_ADMIN,
        ScopedRole::MunicipalityAdmin(town.municipality.clone()),
    )
    .await;
    let withdrawn = app
        .client
        .delete(app.url(&format!("/v1/slots/{}", pair[1])))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), StatusCode::OK);
    let notice = app.next_message_to("maria@example.gr", 2).await;
    assert!(
        notice.contains("your appointment was cancelled"),
        "{notice}"
    );
    assert!(notice.contains("Service 0"), "{notice}");
    // Its calendar file takes the appointment out of the calendar.
    let calendars = calendars_sent_to(&app, "maria@example.gr").await;
    assert_eq!(calendars.len(), 3);
    assert_lines(
        &calendars[2],
        &["METHOD:CANCEL", "STATUS:CANCELLED", "SEQUENCE:2"],
    );
}

#[tokio::test]
async fn r_bk_06_a_cancellation_is_confirmed_with_a_calendar_file_that_removes_the_appointment() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[30], 1).await[0];
    let token = app.sign_in(MARIA).await;
    let booked: Value = book(&app, &token, slot).await.json().await.unwrap();
    let id = booked["id"].as_str().unwrap();
    let cancelled = app
        .post_json_as(
            &token,
            &format!("/v1/reservations/{id}/cancel"),
            &json!({ "reason": "Δεν μπορώ να έρθω" }),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);

    let notice = app.next_message_to("maria@example.gr", 1).await;
    assert!(notice.contains("ακυρώθηκε, όπως ζητήσατε"), "{notice}");
    let calendars = calendars_sent_to(&app, "maria@example.gr").await;
    assert_eq!(calendars.len(), 2);
    let uid = format!("UID:{id}@citizen-api");
    assert_lines(
        &calendars[1],
        &["METHOD:CANCEL", "STATUS:CANCELLED", "SEQUENCE:1", &uid],
    );
    // Downloaded again, the file says the same.
    let downloaded = app
        .get_text_as(&token, &format!("/v1/reservations/{id}/calendar.ics"))
        .await;
    assert!(downloaded.contains("METHOD:CANCEL\r\n"), "{downloaded}");
}
