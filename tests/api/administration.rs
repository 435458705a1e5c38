//! Municipality administration (R-BK-09): departments, services,
//! schedules with Greek public holidays, slot generation and withdrawal,
//! and the usage statistics R-BK-07 keeps (its anonymizing after six
//! months is in `retention.rs`).

use chrono::{Datelike, Duration, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_support::{Town, grant, town};
use crate::helpers::{TestApp, assert_problem, named, spawn_app_with};
use citizen_api::auth::roles::ScopedRole;
use citizen_api::booking::schedule::holiday_on;

const PLATFORM_ADMIN: &str = "090000045";
const KALAMATA_ADMIN: &str = "094019245";
const MARIA: &str = "123456783";

/// The app with two municipalities of its own (answering the first): Kalamata (one department
/// with two services, "Service 0" and "Service 1"), administered by
/// [`KALAMATA_ADMIN`], and Sparta; and a platform admin.
async fn app() -> (TestApp, Town) {
    let app = spawn_app_with(|s| s.auth.rate_limit_per_minute = 100_000).await;
    let kalamata = town(&app, "Kalamata", 2).await;
    town(&app, "Sparta", 1).await;
    grant(&app, PLATFORM_ADMIN, ScopedRole::PlatformAdmin).await;
    let scope = ScopedRole::MunicipalityAdmin(kalamata.municipality.clone());
    grant(&app, KALAMATA_ADMIN, scope).await;
    (app, kalamata)
}

async fn send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A new department and a 30-minute service in Kalamata; answers the service id.
async fn new_service(app: &TestApp, kalamata: &Town, admin: &str) -> String {
    let kalamata = &kalamata.municipality;
    let department: Value = send(
        app,
        admin,
        reqwest::Method::POST,
        &format!("/v1/municipalities/{kalamata}/departments"),
        json!({ "name_el": "Τμήμα Αδειών", "name_en": "Permits Office", "email": "adeies@kalamata.example" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let response = send(
        app,
        admin,
        reqwest::Method::POST,
        &format!(
            "/v1/departments/{}/services",
            department["id"].as_str().unwrap()
        ),
        json!({
            "name_el": "Άδεια Κατάληψης Πεζοδρομίου", "name_en": "Pavement Use Permit",
            "duration_minutes": 30, "serves_legal_entities": true,
            "legal_entity_documents": [{ "el": "Καταστατικό", "en": "Statutes" }],
            "required_documents": [{ "el": "Τοπογραφικό", "en": "Site plan" }]
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let service: Value = response.json().await.unwrap();
    assert_eq!(service["department"]["name"]["en"], "Permits Office");
    assert_eq!(service["legal_entity_documents"][0]["en"], "Statutes");
    service["id"].as_str().unwrap().to_owned()
}

fn schedule(extra: Value) -> Value {
    let weekly: Vec<Value> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|d| json!({ "weekday": d, "from": "09:00", "to": "11:00" }))
        .collect();
    let mut schedule = json!({
        "weekly_hours": weekly,
        "seats_per_slot": 3,
        "min_notice_minutes": 0,
        "max_advance_days": 120,
    });
    schedule
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    schedule
}

async fn put_schedule(app: &TestApp, admin: &str, service: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/services/{service}/schedule");
    send(app, admin, reqwest::Method::PUT, &path, body).await
}

/// A new service with the default schedule saved.
async fn scheduled_service(app: &TestApp, kalamata: &Town, admin: &str) -> String {
    let service = new_service(app, kalamata, admin).await;
    let put = put_schedule(app, admin, &service, schedule(json!({}))).await;
    assert_eq!(put.status(), StatusCode::OK);
    service
}

fn athens_today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Athens)
        .date_naive()
}

async fn generate(app: &TestApp, admin: &str, service: &str, from: &str, to: &str) -> Value {
    let response = send(
        app,
        admin,
        reqwest::Method::POST,
        &format!("/v1/services/{service}/slots/generate"),
        json!({ "from": from, "to": to }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn r_bk_09_greek_public_holidays_are_closed_unless_opened_and_generation_is_idempotent() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = scheduled_service(&app, &kalamata, &admin).await;
    // 21-27 December 2026: Monday to Thursday open, Friday 25th is Christmas.
    // (Whether the dates are still ahead decides what else changes; the
    // counts below do not depend on it.)
    let counts = |v: Value| (v["slots_in_range"].clone(), v["created"].clone());
    let first = generate(&app, &admin, &service, "2026-12-21", "2026-12-27").await;
    assert_eq!(counts(first), (json!(16), json!(16)));
    let again = generate(&app, &admin, &service, "2026-12-21", "2026-12-27").await;
    assert_eq!(counts(again), (json!(16), json!(0)));

    let opened = schedule(json!({ "open_dates": ["2026-12-25"], "closed_dates": ["2026-12-21"] }));
    put_schedule(&app, &admin, &service, opened).await;
    let after = generate(&app, &admin, &service, "2026-12-21", "2026-12-27").await;
    assert_eq!(
        counts(after),
        (json!(16), json!(4)),
        "Christmas opened, the 21st closed"
    );
    // Clean Monday 2027 (15 March) is closed too.
    let clean_monday = generate(&app, &admin, &service, "2027-03-15", "2027-03-15").await;
    assert_eq!(clean_monday["slots_in_range"], 0);

    let stored: Value = app
        .get_json(&format!("/v1/services/{service}/schedule"))
        .await;
    assert_eq!(stored["open_dates"], json!(["2026-12-25"]));
}

/// The first Monday at least eight days ahead on which neither it nor the
/// Tuesday after is a public holiday.
fn working_monday() -> chrono::NaiveDate {
    let today = athens_today();
    (8..60)
        .map(|d| today + Duration::days(d))
        .find(|d| {
            d.weekday() == Weekday::Mon
                && holiday_on(*d).is_none()
                && holiday_on(*d + Duration::days(1)).is_none()
        })
        .unwrap()
}

#[tokio::test]
async fn r_bk_09_generating_again_brings_a_changed_schedules_slots_in_line() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = scheduled_service(&app, &kalamata, &admin).await;
    let monday = working_monday();
    let (mon, tue) = (monday.to_string(), (monday + Duration::days(1)).to_string());
    let first = generate(&app, &admin, &service, &mon, &tue).await;
    assert_eq!(
        (&first["created"], &first["withdrawn"]),
        (&json!(8), &json!(0))
    );
    let listed = |day: String| {
        let app = &app;
        let service = &service;
        async move {
            let page: Value = app
                .get_json(&format!(
                    "/v1/services/{service}/slots?from={day}&to={day}&include_full=true"
                ))
                .await;
            page["items"].as_array().unwrap().clone()
        }
    };
    let booked_slot = listed(mon.clone()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let citizen = app.sign_in(MARIA).await;
    let booking = app
        .post_json_as(
            &citizen,
            "/v1/reservations",
            &crate::booking_support::booking_body(&booked_slot),
        )
        .await;
    assert_eq!(booking.status(), StatusCode::CREATED);

    // Monday closes (a strike, say) and every slot gets five seats.
    let changed = schedule(json!({ "closed_dates": [mon], "seats_per_slot": 5 }));
    let put = put_schedule(&app, &admin, &service, changed).await;
    assert_eq!(put.status(), StatusCode::OK);
    let again = generate(&app, &admin, &service, &mon, &tue).await;
    assert_eq!(
        again,
        json!({
            "slots_in_range": 4, "created": 0, "resized": 4, "withdrawn": 3,
            "kept_booked": [booked_slot]
        })
    );
    // Monday keeps only the booked slot, full now: nobody else books a
    // closed day. Tuesday's slots have five seats.
    let monday_slots = listed(mon.clone()).await;
    assert_eq!(monday_slots.len(), 1);
    assert_eq!(
        (&monday_slots[0]["id"], &monday_slots[0]["remaining"]),
        (&json!(booked_slot), &json!(0))
    );
    let tuesday_slots = listed(tue.clone()).await;
    assert_eq!(tuesday_slots.len(), 4);
    assert!(
        tuesday_slots.iter().all(|s| s["capacity"] == 5),
        "{tuesday_slots:?}"
    );
    // Idempotent.
    let third = generate(&app, &admin, &service, &mon, &tue).await;
    assert_eq!(
        third,
        json!({
            "slots_in_range": 4, "created": 0, "resized": 0, "withdrawn": 0,
            "kept_booked": [booked_slot]
        })
    );

    // A longer service: Tuesday's unbooked slots are stretched where the
    // new length still starts them, the rest withdrawn.
    let service_row = service.clone();
    app.with_db(move |conn| {
        use citizen_api::db::schema::service_categories as s;
        use diesel::prelude::*;
        Ok(diesel::update(s::table.find(service_row))
            .set(s::duration_minutes.eq(60))
            .execute(conn)?)
    })
    .await;
    let longer = generate(&app, &admin, &service, &tue, &tue).await;
    assert_eq!(
        (
            &longer["slots_in_range"],
            &longer["created"],
            &longer["resized"],
            &longer["withdrawn"]
        ),
        (&json!(2), &json!(0), &json!(2), &json!(2)),
        "{longer}"
    );
    let tuesday_slots = listed(tue).await;
    let spans: Vec<(&str, &str)> = tuesday_slots
        .iter()
        .map(|s| {
            (
                &s["starts_at"].as_str().unwrap()[11..16],
                &s["ends_at"].as_str().unwrap()[11..16],
            )
        })
        .collect();
    assert_eq!(spans, [("09:00", "10:00"), ("10:00", "11:00")]);
}

#[tokio::test]
async fn r_bk_02_bookings_racing_a_closed_day_never_land_on_a_withdrawn_or_overfull_slot() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = scheduled_service(&app, &kalamata, &admin).await;
    let mon = working_monday().to_string();
    generate(&app, &admin, &service, &mon, &mon).await;
    let page: Value = app
        .get_json(&format!("/v1/services/{service}/slots?from={mon}&to={mon}"))
        .await;
    let ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 4);
    let people = crate::booking_support::citizens(&app, 16).await;
    let put = put_schedule(
        &app,
        &admin,
        &service,
        schedule(json!({ "closed_dates": [mon] })),
    )
    .await;
    assert_eq!(put.status(), StatusCode::OK);

    let bookings = people.iter().zip(ids.iter().cycle()).map(|(token, slot)| {
        app.post_as(token, "/v1/reservations")
            .json(&crate::booking_support::booking_body(slot))
            .send()
    });
    let (statuses, generated) = tokio::join!(
        futures_util::future::join_all(bookings),
        generate(&app, &admin, &service, &mon, &mon)
    );
    let statuses: Vec<u16> = statuses
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{statuses:?}"
    );
    let kept = generated["kept_booked"].as_array().unwrap().len();
    assert_eq!(
        generated["withdrawn"].as_u64().unwrap() as usize + kept,
        4,
        "{generated}"
    );

    // Each slot is withdrawn and empty, or open, full and holding exactly
    // the bookings that succeeded on it.
    let slots: Vec<(String, i32, i32, bool, i64)> = app
        .with_db(|conn| {
            use citizen_api::db::schema::{reservations as r, slots as s};
            use diesel::prelude::*;
            let rows: Vec<(String, i32, i32, bool)> = s::table
                .select((s::id, s::capacity, s::booked, s::withdrawn_at.is_not_null()))
                .load(conn)?;
            let mut out = Vec::new();
            for (id, capacity, booked, withdrawn) in rows {
                let held = r::table
                    .filter(r::slot_id.eq(&id))
                    .filter(r::status.ne("cancelled"))
                    .count()
                    .get_result(conn)?;
                out.push((id, capacity, booked, withdrawn, held));
            }
            Ok(out)
        })
        .await;
    let created = statuses.iter().filter(|s| **s == 201).count() as i64;
    let mut held_in_all = 0;
    for (id, capacity, booked, withdrawn, held) in slots.iter().filter(|s| ids.contains(&s.0)) {
        assert_eq!(i64::from(*booked), *held, "{id}");
        if *withdrawn {
            assert_eq!(*held, 0, "{id}");
        } else {
            assert_eq!(capacity, booked, "{id} is closed to new bookings");
        }
        held_in_all += held;
    }
    assert_eq!(held_in_all, created);
}

#[tokio::test]
async fn generated_slots_are_listed_in_athens_time_within_the_booking_window() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = scheduled_service(&app, &kalamata, &admin).await;
    let monday = working_monday();
    let (from, to) = (monday.to_string(), (monday + Duration::days(1)).to_string());
    generate(&app, &admin, &service, &from, &to).await;
    let page: Value = app
        .get_json(&format!("/v1/services/{service}/slots?from={from}&to={to}"))
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    let first = items[0]["starts_at"].as_str().unwrap();
    assert!(first.starts_with(&format!("{from}T09:00:00+0")), "{first}");
    assert_eq!(items[0]["remaining"], 3);

    // The listing keeps each service's window in memory for a few seconds,
    // but a schedule saved here applies to the very next page.
    let put = put_schedule(
        &app,
        &admin,
        &service,
        schedule(json!({ "max_advance_days": 7 })),
    )
    .await;
    assert_eq!(put.status(), StatusCode::OK);
    let narrowed: Value = app
        .get_json(&format!("/v1/services/{service}/slots?from={from}&to={to}"))
        .await;
    assert_eq!(narrowed["items"], json!([]), "{monday} is beyond 7 days");
}

#[tokio::test]
async fn invalid_schedules_name_every_bad_field() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = new_service(&app, &kalamata, &admin).await;
    let bad = json!({
        "weekly_hours": [
            { "weekday": "monday", "from": "09:00", "to": "12:00" },
            { "weekday": "monday", "from": "11:00", "to": "13:00" },
            { "weekday": "tuesday", "from": "14:00", "to": "10:00" }
        ],
        "seats_per_slot": 0, "min_notice_minutes": 0, "max_advance_days": 30,
        "open_dates": ["2026-12-01"]
    });
    let response = put_schedule(&app, &admin, &service, bad).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let codes = named(&problem);
    for expected in [
        ("weekly_hours[1]", "ranges_overlap"),
        ("weekly_hours[2].to", "range_empty"),
        ("seats_per_slot", "out_of_range"),
        ("open_dates[0]", "not_a_holiday"),
    ] {
        assert!(
            codes
                .iter()
                .any(|c| c.1 == expected.1 && c.0.starts_with(expected.0)),
            "{expected:?} in {codes:?}"
        );
    }

    let mistyped = put_schedule(
        &app,
        &admin,
        &service,
        json!({
            "weekly_hours": [{ "weekday": "mon", "from": "09:00", "to": "12:00" }],
            "seats_per_slot": 1, "min_notice_minutes": 0, "max_advance_days": 30
        }),
    )
    .await;
    let problem = assert_problem(mistyped, 422, "validation_failed").await;
    assert_eq!(
        named(&problem),
        [("weekly_hours[0].weekday", "invalid_shape")]
    );
}

/// R-BK-09: administrators correct what they created: a department's
/// names and e-mail, a service's whole definition (its documents replaced,
/// not added to), with the same checks as creating them.
#[tokio::test]
async fn r_bk_09_administrators_rename_departments_and_redefine_services() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = new_service(&app, &kalamata, &admin).await;
    let housing = kalamata.service(&app, 0).await;
    let redefined = json!({
        "name_el": "Άδεια Πεζοδρομίου", "name_en": "Pavement Permit",
        "description_en": "Tables and chairs on the pavement.",
        "duration_minutes": 45, "serves_legal_entities": false,
        "required_documents": [{ "el": "Σχέδιο", "en": "Drawing" }]
    });
    let path = format!("/v1/services/{service}");
    let answer = send(&app, &admin, reqwest::Method::PUT, &path, redefined.clone()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    let listed: Value = app
        .get_json(&format!(
            "/v1/municipalities/{}/services",
            kalamata.municipality
        ))
        .await;
    let listed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == service.as_str())
        .unwrap();
    assert_eq!(listed, &answer);
    assert_eq!(listed["name"]["en"], "Pavement Permit");
    assert_eq!(listed["duration_minutes"], 45);
    assert_eq!(listed["legal_entity_documents"], json!([]));
    assert_eq!(
        listed["required_documents"],
        json!([{ "el": "Σχέδιο", "en": "Drawing" }])
    );
    assert_eq!(listed["department"]["name"]["en"], "Permits Office");

    let invalid = json!({ "name_el": "Χ", "name_en": "X X", "duration_minutes": 7,
        "legal_entity_documents": [{ "el": "Καταστατικό", "en": "Statutes" }] });
    let refused = send(&app, &admin, reqwest::Method::PUT, &path, invalid).await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    let mut fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["duration_minutes", "legal_entity_documents", "name_el"]
    );
    // Service 0 takes the Greek name of another service of its department.
    let income = kalamata.service(&app, 1).await;
    let taken = json!({ "name_el": income.name.el, "name_en": "Taken", "duration_minutes": 20 });
    let other = format!("/v1/services/{}", housing.id);
    let conflict = send(&app, &admin, reqwest::Method::PUT, &other, taken).await;
    assert_problem(conflict, 409, "already_exists").await;
    let unknown = format!("/v1/services/{}", uuid::Uuid::now_v7());
    let body = json!({ "name_el": "Χ Χ", "name_en": "X X", "duration_minutes": 20 });
    let missing = send(&app, &admin, reqwest::Method::PUT, &unknown, body).await;
    assert_problem(missing, 404, "not_found").await;

    let department = format!("/v1/departments/{}", housing.department.id);
    let renamed = send(
        &app,
        &admin,
        reqwest::Method::PUT,
        &department,
        json!({ "name_el": "Πρόνοια", "name_en": "Welfare", "email": "pronoia@kalamata.example" }),
    )
    .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let housing = kalamata.service(&app, 0).await;
    assert_eq!(housing.department.name.en, "Welfare");
    let clash = send(
        &app,
        &admin,
        reqwest::Method::PUT,
        &department,
        json!({ "name_el": "Τμήμα Αδειών", "name_en": "Permits", "email": "not-an-email" }),
    )
    .await;
    let problem = assert_problem(clash, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].field, "email");
    let clash = send(
        &app,
        &admin,
        reqwest::Method::PUT,
        &department,
        json!({ "name_el": "Τμήμα Αδειών", "name_en": "Permits", "email": "p@kalamata.example" }),
    )
    .await;
    assert_problem(clash, 409, "already_exists").await;
}

#[tokio::test]
async fn only_the_municipalitys_administrators_manage_it() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = new_service(&app, &kalamata, &admin).await;
    let housing = kalamata.service(&app, 0).await;
    let kalamata = kalamata.municipality;
    let slot = crate::booking_support::slots(&app, &housing.id, &[30], 1).await[0].clone();
    let citizen = app.sign_in(MARIA).await;
    // A platform admin names Maria administrator of Sparta: still not Kalamata's.
    let page: Value = app.get_json("/v1/municipalities").await;
    let sparta = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"]["en"] == "Municipality of Sparta")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let platform = app.sign_in(PLATFORM_ADMIN).await;
    send(
        &app,
        &platform,
        reqwest::Method::PUT,
        &format!("/v1/municipalities/{sparta}/admins/{MARIA}"),
        json!({}),
    )
    .await;
    let attempts = [
        (
            reqwest::Method::PUT,
            format!("/v1/services/{service}/schedule"),
            schedule(json!({})),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/services/{service}/slots/generate"),
            json!({ "from": "2026-12-21", "to": "2026-12-22" }),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/municipalities/{kalamata}/departments"),
            json!({ "name_el": "Χ Χ", "name_en": "X X", "email": "x@kalamata.example" }),
        ),
        (
            reqwest::Method::GET,
            format!("/v1/municipalities/{kalamata}/statistics"),
            json!({}),
        ),
        (
            reqwest::Method::POST,
            format!("/v1/departments/{}/services", housing.department.id),
            json!({ "name_el": "Χ Χ", "name_en": "X X", "duration_minutes": 20 }),
        ),
        (
            reqwest::Method::DELETE,
            format!("/v1/slots/{slot}"),
            json!({}),
        ),
        (
            reqwest::Method::PUT,
            format!("/v1/services/{service}"),
            json!({ "name_el": "Χ Χ", "name_en": "X X", "duration_minutes": 20 }),
        ),
        (
            reqwest::Method::PUT,
            format!("/v1/departments/{}", housing.department.id),
            json!({ "name_el": "Χ Χ", "name_en": "X X", "email": "x@kalamata.example" }),
        ),
    ];
    for (method, path, body) in attempts {
        let response = send(&app, &citizen, method.clone(), &path, body).await;
        assert_problem(response, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn withdrawing_a_slot_cancels_its_bookings_and_tells_the_citizens() {
    let (app, kalamata) = app().await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let service = scheduled_service(&app, &kalamata, &admin).await;
    let today = athens_today();
    let day = (8..=14)
        .map(|d| today + Duration::days(d))
        .find(|d| d.weekday() == Weekday::Wed)
        .unwrap()
        .to_string();
    generate(&app, &admin, &service, &day, &day).await;
    let page: Value = app
        .get_json(&format!("/v1/services/{service}/slots?from={day}&to={day}"))
        .await;
    let slot = page["items"][0]["id"].as_str().unwrap().to_owned();
    let citizen = app.sign_in(MARIA).await;
    let body = json!({ "slot_id": slot, "full_name": "Μαρία Παπαδοπούλου", "email": "maria@example.gr", "phone": "6912345678" });
    let booked: Value = app
        .post_json_as(&citizen, "/v1/reservations", &body)
        .await
        .json()
        .await
        .unwrap();
    // The confirmation is delivered after the 201, by the outbox worker:
    // wait for it, so that the next message is the withdrawal's.
    let confirmation = app.next_message_to("maria@example.gr", 0).await;
    assert!(confirmation.contains("επιβεβαιώθηκε"), "{confirmation}");
    let known = 1;

    let withdrawn = app
        .client
        .delete(app.url(&format!("/v1/slots/{slot}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        withdrawn.json::<Value>().await.unwrap(),
        json!({ "cancelled_reservations": 1 })
    );
    let own: Value = app
        .get_as(
            &citizen,
            &format!("/v1/reservations/{}", booked["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (own["status"].as_str(), own["cancel_reason"].as_str()),
        (Some("cancelled"), Some("slot_withdrawn"))
    );
    let email = app.next_message_to("maria@example.gr", known).await;
    assert!(email.contains("ακυρώθηκε"), "{email}");
    // R-BK-10: the administrator's cancellation is on record.
    let reservation = booked["id"].as_str().unwrap().to_owned();
    let audited: Vec<(String, String)> = app
        .with_db(move |conn| {
            use citizen_api::db::schema::audit_events as a;
            use diesel::prelude::*;
            Ok(a::table
                .filter(a::subject_id.eq(reservation))
                .filter(a::action.eq("reservation.cancel_withdrawn"))
                .select((a::actor_afm, a::actor_role))
                .load(conn)?)
        })
        .await;
    assert_eq!(
        audited,
        [(KALAMATA_ADMIN.to_owned(), "municipality_admin".to_owned())]
    );
    let listed: Value = app
        .get_json(&format!(
            "/v1/services/{service}/slots?from={day}&to={day}&include_full=true"
        ))
        .await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != slot.as_str())
    );
    assert_problem(
        app.post_json_as(&citizen, "/v1/reservations", &body).await,
        409,
        "slot_unavailable",
    )
    .await;
    let again = app
        .client
        .delete(app.url(&format!("/v1/slots/{slot}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(again, 409, "invalid_transition").await;

    let stats: Value = app
        .client
        .get(app.url(&format!(
            "/v1/municipalities/{}/statistics?from={day}&to={day}",
            kalamata.municipality
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["counts"]["total"], 1);
    assert_eq!(stats["counts"]["cancelled"], 1);
    assert_eq!(stats["by_service"][0]["name"]["en"], "Pavement Use Permit");
    assert_eq!(stats["by_day"][0]["date"], day);
}

#[tokio::test]
async fn platform_admins_add_municipalities_once() {
    let (app, _) = app().await;
    let platform = app.sign_in(PLATFORM_ADMIN).await;
    let body = json!({ "name_el": "Δήμος Τρίπολης", "name_en": "Municipality of Tripoli", "contact_email": "info@tripoli.example" });
    let create = |key: &'static str| {
        app.post_as(&platform, "/v1/municipalities")
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let first = create("m-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let replay: Value = create("m-1").await.unwrap().json().await.unwrap();
    assert_eq!(first, replay);
    assert_problem(create("m-2").await.unwrap(), 409, "already_exists").await;
    let citizen = app.sign_in(MARIA).await;
    let refused = app
        .post_json_as(&citizen, "/v1/municipalities", &body)
        .await;
    assert_problem(refused, 403, "forbidden").await;
    let invalid = app
        .post_json_as(
            &platform,
            "/v1/municipalities",
            &json!({ "name_el": "", "name_en": "x", "contact_email": "no" }),
        )
        .await;
    let problem = assert_problem(invalid, 422, "validation_failed").await;
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name_el", "name_en", "contact_email"]);
}

/// The ids of a municipality's departments named "Permits Office".
async fn permits_offices(app: &TestApp, municipality: &str) -> Vec<String> {
    let page: Value = app
        .get_json(&format!("/v1/municipalities/{municipality}/departments"))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["name"]["en"] == "Permits Office")
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Defect (issue 12): idempotency records were keyed by caller and key
/// only, so a key sent to municipality A's departments and then to B's
/// replayed A's `201` and created nothing in B. The key is scoped by the
/// request's place (method, route and path parameters): the same key and
/// body to B creates B's department, and within one place two requests at
/// once still create exactly one.
#[tokio::test]
async fn one_idempotency_key_sent_to_two_municipalities_creates_a_department_in_each() {
    let (app, kalamata) = app().await;
    let platform = app.sign_in(PLATFORM_ADMIN).await;
    let kalamata = kalamata.municipality.to_string();
    let tripoli: Value = app
        .post_json_as(
            &platform,
            "/v1/municipalities",
            &json!({ "name_el": "Δήμος Τρίπολης", "name_en": "Municipality of Tripoli", "contact_email": "info@tripoli.example" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let tripoli = tripoli["id"].as_str().unwrap();
    let granted = app
        .client
        .put(app.url(&format!(
            "/v1/municipalities/{tripoli}/admins/{KALAMATA_ADMIN}"
        )))
        .bearer_auth(&platform)
        .send()
        .await
        .unwrap();
    assert!(granted.status().is_success());
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let body = json!({ "name_el": "Τμήμα Αδειών", "name_en": "Permits Office", "email": "adeies@example.gr" });
    let create = |municipality: &str| {
        app.post_as(
            &admin,
            &format!("/v1/municipalities/{municipality}/departments"),
        )
        .header("idempotency-key", "department-1")
        .json(&body)
        .send()
    };

    let (first, second) = tokio::join!(create(&kalamata), create(&kalamata));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::CREATED);
    let in_kalamata: Value = first.json().await.unwrap();
    assert_eq!(in_kalamata, second.json::<Value>().await.unwrap());
    assert_eq!(
        permits_offices(&app, &kalamata).await,
        [in_kalamata["id"].as_str().unwrap()]
    );

    let elsewhere = create(tripoli).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::CREATED);
    assert!(elsewhere.headers().get("idempotent-replayed").is_none());
    let in_tripoli: Value = elsewhere.json().await.unwrap();
    assert_ne!(in_tripoli["id"], in_kalamata["id"]);
    assert_eq!(
        permits_offices(&app, tripoli).await,
        [in_tripoli["id"].as_str().unwrap()]
    );

    let mut other = body.clone();
    other["name_en"] = json!("Licensing Office");
    let reused = app
        .post_as(&admin, &format!("/v1/municipalities/{tripoli}/departments"))
        .header("idempotency-key", "department-1")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_problem(reused, 422, "idempotency_key_reused").await;
}
