//! Retention (R-BK-07; docs/api.md → Retention): reservations anonymized
//! six months after their start and still counted, overlapping passes, the
//! purges, and `citizen-api retention run`.

use chrono::{DateTime, Duration, Months, TimeZone, Utc};
use citizen_api::auth::roles::ScopedRole;
use citizen_api::db::schema::{idempotency_records, outbox_messages, reservations, sessions};
use citizen_api::domain::ids::SlotId;
use citizen_api::oauth::{AppPurpose, Scope};
use citizen_api::retention::{self, Report};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use crate::booking_support::{
    bookable_service, booking_body, citizens, grant, signed_in_with_role, slots, town,
};
use crate::consent_support::{app_token, register_app};
use crate::helpers::{TestApp, spawn_app};
use crate::oauth_support::{claims_of, introspect, post_form};

const WELFARE_STAFF: &str = "012312312";
const TOWN_ADMIN: &str = "094019245";

/// Books each slot for a citizen of its own; answers the reservations.
async fn book_all(app: &TestApp, slots: &[SlotId]) -> Vec<Value> {
    let people = citizens(app, u32::try_from(slots.len()).unwrap()).await;
    let mut booked = Vec::new();
    for (slot, citizen) in slots.iter().zip(&people) {
        let response = app
            .post_as(citizen, "/v1/reservations")
            .header("idempotency-key", format!("retention-{slot}"))
            .json(&booking_body(slot))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        booked.push(response.json().await.unwrap());
    }
    booked
}

fn starts_at(reservation: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(reservation["slot"]["starts_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn pass(app: &TestApp, at: DateTime<Utc>) -> Report {
    let idle = citizen_api::Settings::default().auth.session_idle();
    app.with_db(move |conn| Ok(retention::run(conn, at, idle)?))
        .await
}

async fn anonymized_count(app: &TestApp) -> i64 {
    app.with_db(|conn| {
        Ok(reservations::table
            .filter(reservations::anonymized_at.is_not_null())
            .count()
            .get_result(conn)?)
    })
    .await
}

#[tokio::test]
async fn r_bk_07_reservations_are_anonymized_six_months_after_their_start_and_still_counted() {
    let app = spawn_app().await;
    let town = town(&app, "Testville", 1).await;
    let housing = &town.services[0];
    let ids = slots(&app, &housing.id, &[2, 72], 1).await;
    let booked = book_all(&app, &ids).await;
    let (first, second) = (starts_at(&booked[0]), starts_at(&booked[1]));
    let six_months = |t: DateTime<Utc>| t.checked_add_months(Months::new(6)).unwrap();

    // A second short of six months: kept as entered.
    let early = pass(&app, six_months(first) - Duration::seconds(1)).await;
    assert_eq!(early.reservations_anonymized, 0);
    // Six months to the second after the first's start: only the first.
    let due = pass(&app, six_months(first)).await;
    assert_eq!(due.reservations_anonymized, 1);
    assert_eq!(
        pass(&app, six_months(first)).await.reservations_anonymized,
        0
    );

    // Staff still see the visit, without the person.
    let welfare = &housing.department.id;
    grant(&app, WELFARE_STAFF, ScopedRole::Staff(welfare.clone())).await;
    let staff = app.sign_in(WELFARE_STAFF).await;
    let day = &booked[0]["slot"]["starts_at"].as_str().unwrap()[..10];
    let page: Value = app
        .get_json_as(
            &staff,
            &format!("/v1/departments/{welfare}/reservations?date={day}"),
        )
        .await;
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == booked[0]["id"])
        .expect("the anonymized reservation is still listed");
    assert_eq!(item["anonymized"], true);
    for field in [
        "full_name",
        "email",
        "phone",
        "special_requirements",
        "legal_entity",
    ] {
        assert!(item[field].is_null(), "{field} is gone: {item}");
    }
    assert_eq!(item["status"], "confirmed");
    assert_eq!(item["slot"]["starts_at"], booked[0]["slot"]["starts_at"]);
    // And the citizen, whose AFM is gone from it, no longer finds it.
    let id = booked[0]["id"].as_str().unwrap();
    let afm_left: Option<String> = app
        .with_db({
            let id = id.to_owned();
            move |conn| {
                Ok(reservations::table
                    .find(id)
                    .select(reservations::citizen_afm)
                    .first(conn)?)
            }
        })
        .await;
    assert_eq!(afm_left, None);

    // The statistics count it as before.
    let kalamata = &town.municipality;
    let admin = signed_in_with_role(
        &app,
        TOWN_ADMIN,
        ScopedRole::MunicipalityAdmin(kalamata.clone()),
    )
    .await;
    let stats: Value = app
        .get_json_as(
            &admin,
            &format!("/v1/municipalities/{kalamata}/statistics?from={day}&to={day}"),
        )
        .await;
    assert_eq!(stats["counts"]["total"], 1, "{stats}");

    // The second, three days later, waits for its own six months.
    assert_eq!(
        pass(&app, six_months(second)).await.reservations_anonymized,
        1
    );
    assert_eq!(anonymized_count(&app).await, 2);
}

/// Defect (issue 12): a reservation starting on a month's last day was
/// anonymized a day late (31 March on 1 October, not 30 September). Each
/// start here, on a month end or 29 February, is kept a second before
/// start + 6 calendar months (clamped to the month's end) and anonymized
/// at it, alone; the last two end on one clamped day, the later start
/// first.
#[tokio::test]
async fn r_bk_07_month_end_starts_are_anonymized_at_six_months_to_the_second() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let cases = [
        ((2027, 8, 31, 8), (2028, 2, 29, 8)),
        ((2028, 2, 29, 8), (2028, 8, 29, 8)),
        ((2028, 3, 31, 8), (2028, 9, 30, 8)),
        ((2028, 4, 30, 8), (2028, 10, 30, 8)),
        ((2028, 8, 31, 8), (2029, 2, 28, 8)),
        ((2029, 8, 30, 7), (2030, 2, 28, 7)),
        ((2029, 8, 28, 9), (2030, 2, 28, 9)),
    ];
    let ids = slots(&app, &housing.id, &[1, 2, 3, 4, 5, 6, 7], 1).await;
    let booked = book_all(&app, &ids).await;
    let at = |(y, m, d, h): (i32, u32, u32, u32)| Utc.with_ymd_and_hms(y, m, d, h, 30, 0).unwrap();
    for (reservation, (start, _)) in booked.iter().zip(cases) {
        let id = reservation["id"].as_str().unwrap().to_owned();
        let start = at(start).naive_utc();
        app.with_db(move |conn| {
            diesel::update(reservations::table.find(id))
                .set(reservations::starts_at.eq(start))
                .execute(conn)?;
            Ok(())
        })
        .await;
    }
    let anonymized = || {
        app.with_db(|conn| {
            Ok(reservations::table
                .filter(reservations::anonymized_at.is_not_null())
                .select(reservations::id)
                .load::<String>(conn)?)
        })
    };
    for (done, (reservation, (start, due))) in booked.iter().zip(cases).enumerate() {
        let due = at(due);
        let early = pass(&app, due - Duration::seconds(1)).await;
        assert_eq!(
            early.reservations_anonymized, 0,
            "{start:?} kept at {due} - 1s"
        );
        assert_eq!(anonymized().await.len(), done);
        let on_time = pass(&app, due).await;
        assert_eq!(
            on_time.reservations_anonymized, 1,
            "{start:?} anonymized at {due}"
        );
        assert!(
            anonymized()
                .await
                .contains(&reservation["id"].as_str().unwrap().to_owned())
        );
    }
}

#[tokio::test]
async fn r_bk_07_overlapping_passes_anonymize_each_reservation_once() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let hours: Vec<i64> = (1..=12).collect();
    let ids = slots(&app, &housing.id, &hours, 1).await;
    let booked = book_all(&app, &ids).await;
    let at = booked
        .iter()
        .map(starts_at)
        .max()
        .unwrap()
        .checked_add_months(Months::new(6))
        .unwrap();
    let passes = (0..4).map(|_| pass(&app, at));
    let reports = futures_util::future::join_all(passes).await;
    let total: usize = reports.iter().map(|r| r.reservations_anonymized).sum();
    assert_eq!(total, booked.len(), "{reports:?}");
    assert_eq!(anonymized_count(&app).await, 12);
}

#[tokio::test]
async fn ended_sessions_old_idempotency_records_and_delivered_messages_are_purged() {
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let ids = slots(&app, &housing.id, &[2], 1).await;
    book_all(&app, &ids).await;
    let citizen = app.sign_in(&crate::booking_support::afm(77)).await;
    // The development transport delivers the confirmation.
    let sent = app.deliver_due().await.sent as i64;
    assert!(sent > 0, "the confirmation was delivered");

    // Nothing is due yet.
    let now = Utc::now();
    let nothing = pass(&app, now).await;
    assert_eq!(nothing, Report::default());
    let me_status = || async {
        app.get_as(&citizen, "/v1/me")
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(me_status().await, 200);

    // A sign-in started and never finished.
    app.start_login(None).await;

    // Half an hour unused, the sessions have ended (idle) and go, long
    // before their absolute end, and so does the unfinished sign-in's
    // state (ten minutes); nothing else is due.
    // The booking citizen's session and this one's, every one there is.
    let (_, sessions, _) = kept(&app).await;
    assert_eq!(sessions, 2);
    let idle = pass(&app, now + Duration::minutes(31)).await;
    assert_eq!(idle.sessions_purged, 2, "{idle:?}");
    assert_eq!(kept(&app).await.1, 0, "no session is left");
    assert_eq!(idle.login_states_purged, 1, "{idle:?}");
    assert_eq!(
        (idle.idempotency_records_purged, idle.outbox_messages_purged),
        (0, 0),
        "{idle:?}"
    );
    assert_eq!(me_status().await, 401);

    // A month on: idempotency records (48 hours) and delivered messages
    // (30 days) are gone; the reservation, not yet six months past, is not.
    let later = pass(&app, now + Duration::days(31)).await;
    assert_eq!(later.sessions_purged, 0, "{later:?}");
    assert_eq!(later.idempotency_records_purged, 1, "{later:?}");
    assert_eq!(later.outbox_messages_purged as i64, sent, "{later:?}");
    assert_eq!(later.reservations_anonymized, 0);
    let left: (i64, i64) = app
        .with_db(|conn| {
            Ok((
                idempotency_records::table.count().get_result(conn)?,
                outbox_messages::table
                    .filter(outbox_messages::status.eq("sent"))
                    .count()
                    .get_result(conn)?,
            ))
        })
        .await;
    assert_eq!(left, (0, 0));
}

/// Runs `citizen-api retention run --now {now}` on the app's database, off
/// the runtime the app's tasks share.
async fn retention_command(app: &TestApp, now: &str) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-api"));
    command
        .args(["retention", "run", "--now", now])
        .env("CITIZEN_API_DATA_DIR", data.path())
        .env("DATABASE_URL", &app.database_url)
        .env("CITIZEN_API_LOG__FILTER", "warn");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// The reservations' (id, anonymized, AFM kept), and how many sessions
/// and idempotency records there are.
async fn kept(app: &TestApp) -> (Vec<(String, bool, bool)>, i64, i64) {
    app.with_db(|conn| {
        let rows: Vec<(String, Option<chrono::NaiveDateTime>, Option<String>)> =
            reservations::table
                .order(reservations::starts_at)
                .select((
                    reservations::id,
                    reservations::anonymized_at,
                    reservations::citizen_afm,
                ))
                .load(conn)?;
        Ok((
            rows.into_iter()
                .map(|(id, anonymized, afm)| (id, anonymized.is_some(), afm.is_some()))
                .collect(),
            sessions::table.count().get_result(conn)?,
            idempotency_records::table.count().get_result(conn)?,
        ))
    })
    .await
}

/// `citizen-api retention run --now` runs a pass on the database it is
/// given: at six months from the first booking's start it anonymizes that
/// one and leaves the one starting three days later as entered, and purges
/// the idle sessions and old idempotency records; it reports what it did.
/// A bad instant is refused and changes nothing.
#[tokio::test]
async fn the_retention_command_runs_a_pass_and_refuses_a_bad_instant() {
    let app = spawn_app().await;
    let town = town(&app, "Testville", 1).await;
    let housing = &town.services[0];
    let ids = slots(&app, &housing.id, &[2, 72], 1).await;
    let booked = book_all(&app, &ids).await;
    let (first, second) = (
        booked[0]["id"].as_str().unwrap(),
        booked[1]["id"].as_str().unwrap(),
    );
    let (before, sessions_before, records_before) = kept(&app).await;
    assert_eq!(
        before,
        [(first.into(), false, true), (second.into(), false, true)]
    );
    assert!(sessions_before >= 2 && records_before == 2);

    let refused = retention_command(&app, "next tuesday").await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("RFC 3339"));
    assert_eq!(kept(&app).await, (before, sessions_before, records_before));

    let due = starts_at(&booked[0])
        .checked_add_months(Months::new(6))
        .unwrap();
    let ran = retention_command(&app, &due.to_rfc3339()).await;
    assert!(ran.status.success(), "{ran:?}");
    let report: Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(report["reservations_anonymized"], 1, "{report}");
    assert_eq!(report["sessions_purged"], sessions_before, "{report}");
    assert_eq!(report["idempotency_records_purged"], 2, "{report}");
    assert_eq!(
        kept(&app).await,
        (
            vec![(first.into(), true, false), (second.into(), false, true)],
            0,
            0
        )
    );
}

/// A revocation is kept while its token could still be presented, and
/// forgotten once the token has expired anyway (its `exp` refuses it).
#[tokio::test]
async fn a_revocation_is_kept_until_its_token_expires() {
    let app = spawn_app().await;
    let client = register_app(
        &app,
        "Μεταφορές",
        AppPurpose::DrivingLicences,
        &[Scope::PhotosFace],
    )
    .await;
    let token = app_token(&app, &client, "photos:face").await;
    let credentials = (client.client_id.as_str(), client.client_secret.as_str());
    let revoked = post_form(&app, "/oauth/revoke", credentials, &[("token", &token)]).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let expires = DateTime::from_timestamp(claims_of(&token)["exp"].as_i64().unwrap(), 0).unwrap();
    let before = pass(&app, expires - Duration::seconds(1)).await;
    assert_eq!(before.revoked_tokens_purged, 0, "{before:?}");
    assert_eq!(introspect(&app, credentials, &token).await["active"], false);
    let after = pass(&app, expires).await;
    assert_eq!(after.revoked_tokens_purged, 1, "{after:?}");
    let again = pass(&app, expires).await;
    assert_eq!(again.revoked_tokens_purged, 0, "{again:?}");
}
