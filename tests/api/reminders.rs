//! The documents reminder before a visit (R-BK-05): sent once, in
//! reasonable time, only where the service asks for documents and only to
//! appointments booked well ahead; passes running at once send each once.

use chrono::{DateTime, Duration, Utc};
use citizen_api::booking::reservations::ReservationLink;
use citizen_api::booking::reservations::reminders;
use citizen_api::clock::Clock;
use citizen_api::domain::ids::SlotId;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::booking_support::{bookable_service, booking_body, citizens, documented_service, slots};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const LEAD: i64 = 72;

async fn pass(app: &TestApp, at: DateTime<Utc>) -> usize {
    app.with_db(move |conn| {
        let link = ReservationLink::new(None, "http://citizen-api.example")?;
        reminders::run(conn, at, Duration::hours(LEAD), &link).map_err(|e| anyhow::anyhow!("{e:?}"))
    })
    .await
}

/// The subjects and bodies of the messages queued to `to` by `at`, oldest
/// first: delivered as of `at` (the app's clock moved there, since a pass
/// queues at its instant), and read from the development outbox, since
/// the table keeps texts sealed.
async fn queued_to(app: &TestApp, to: &str, at: DateTime<Utc>) -> Vec<(String, String)> {
    let ahead = at - app.clock.now();
    if ahead > Duration::zero() {
        app.clock.advance(ahead);
    }
    while app.deliver_due().await.claimed > 0 {}
    let mut messages: Vec<(String, String)> = app
        .messages_to(to)
        .await
        .into_iter()
        .map(|m| (text(&m["subject"]), text(&m["body"])))
        .collect();
    messages.reverse();
    messages
}

fn text(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}

/// How many messages were queued to `to`.
async fn queued_count(app: &TestApp, to: &str) -> i64 {
    use citizen_api::db::schema::outbox_messages as m;
    let to = to.to_owned();
    app.with_db(move |conn| {
        Ok(m::table
            .filter(m::recipient.eq(to))
            .count()
            .get_result(conn)?)
    })
    .await
}

/// Books `slot` for a new citizen whose e-mail is `email`; answers the reservation.
async fn book_as(app: &TestApp, token: &str, slot: &SlotId, email: &str) -> Value {
    let mut body = booking_body(slot);
    body["email"] = email.into();
    let response = app.post_json_as(token, "/v1/reservations", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn r_bk_05_documents_are_reminded_once_in_reasonable_time_to_appointments_booked_ahead() {
    let app = spawn_app().await;
    let housing = documented_service(&app).await;
    // Five days ahead, and (booked now) two days ahead.
    let ids = slots(&app, &housing.id, &[120, 121, 48], 2).await;
    let people = citizens(&app, 3).await;
    let ahead = book_as(&app, &people[0], &ids[0], "ahead@example.gr").await;
    let cancelled = book_as(&app, &people[1], &ids[1], "cancelled@example.gr").await;
    book_as(&app, &people[2], &ids[2], "late@example.gr").await;
    let cancel = app
        .post_as(
            &people[1],
            &format!(
                "/v1/reservations/{}/cancel",
                cancelled["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    let now = Utc::now();

    // Five days ahead is not due yet; two days ahead was booked inside
    // the lead, so its confirmation was the reminder.
    assert_eq!(pass(&app, now).await, 0);
    // Sixty hours before the visit: due, once.
    assert_eq!(pass(&app, now + Duration::hours(60)).await, 1);
    assert_eq!(pass(&app, now + Duration::hours(61)).await, 0);

    let sent = queued_to(&app, "ahead@example.gr", now + Duration::hours(61)).await;
    assert_eq!(sent.len(), 2, "the confirmation, then the reminder");
    let (subject, body) = &sent[1];
    assert!(
        subject.starts_with("Υπενθύμιση ραντεβού: Υπηρεσία 0,"),
        "{subject}"
    );
    assert!(body.contains("- Μισθωτήριο συμβόλαιο"), "{body}");
    let id = ahead["id"].as_str().unwrap();
    assert!(body.contains(&format!("/v1/reservations/{id}")), "{body}");
    for quiet in ["cancelled@example.gr", "late@example.gr"] {
        let subjects: Vec<String> = queued_to(&app, quiet, now + Duration::hours(61))
            .await
            .into_iter()
            .map(|(subject, _)| subject)
            .collect();
        assert!(
            subjects.iter().all(|s| !s.starts_with("Υπενθύμιση")),
            "{quiet}: {subjects:?}"
        );
    }
}

#[tokio::test]
async fn r_bk_05_a_service_that_asks_for_no_documents_sends_no_reminder() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    assert!(housing.required_documents.is_empty());
    let service_id = housing.id.clone();
    let slot = &slots(&app, &service_id, &[120], 1).await[0];
    let people = citizens(&app, 1).await;
    book_as(&app, &people[0], slot, "nothing@example.gr").await;
    assert_eq!(pass(&app, Utc::now() + Duration::hours(60)).await, 0);
    let queued = queued_to(&app, "nothing@example.gr", Utc::now() + Duration::hours(60)).await;
    assert_eq!(queued.len(), 1);
}

#[tokio::test]
async fn r_bk_05_passes_running_at_once_remind_each_appointment_once() {
    let app = spawn_app_with(|s| s.auth.rate_limit_per_minute = 100_000).await;
    let housing = documented_service(&app).await;
    let ids = slots(&app, &housing.id, &[120], 12).await;
    let people = citizens(&app, 12).await;
    for (n, token) in people.iter().enumerate() {
        book_as(&app, token, &ids[0], &format!("p{n}@example.gr")).await;
    }
    let at = Utc::now() + Duration::hours(60);
    let passes = (0..4).map(|_| pass(&app, at));
    let sent: usize = futures_util::future::join_all(passes)
        .await
        .into_iter()
        .sum();
    assert_eq!(sent, 12);
    for n in 0..12 {
        let to = format!("p{n}@example.gr");
        let queued = queued_to(&app, &to, at).await;
        let subjects: Vec<String> = queued.into_iter().map(|(subject, _)| subject).collect();
        let reminders = subjects
            .iter()
            .filter(|s| s.starts_with("Υπενθύμιση ραντεβού:"))
            .count();
        assert_eq!(reminders, 1, "{to}: {subjects:?}");
    }
}

#[tokio::test]
async fn the_server_runs_the_reminder_pass_itself() {
    let app = spawn_app_with(|s| s.reminders.interval_secs = 1).await;
    let housing = documented_service(&app).await;
    let slot = &slots(&app, &housing.id, &[120], 1).await[0];
    let people = citizens(&app, 1).await;
    book_as(&app, &people[0], slot, "server@example.gr").await;
    app.clock.advance(Duration::hours(60));
    // The pass runs every second; the outbox delivers when told.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while queued_count(&app, "server@example.gr").await < 2 {
        assert!(std::time::Instant::now() < deadline, "no reminder queued");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let reminder = app.next_message_to("server@example.gr", 1).await;
    assert!(reminder.contains("Μισθωτήριο συμβόλαιο"), "{reminder}");
}
