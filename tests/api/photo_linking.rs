//! The citizen's side of a kodikarithmos: strong sign-in (R-PH-02),
//! preview (R-PH-11), entry in any form (R-PH-12), link (R-PH-06, R-PH-07,
//! R-PH-08, R-PH-10), what is linked, the images, unlink (R-PH-16), and
//! the throttles on guessing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use citizen_api::clock::Clock;
use citizen_api::dev::fixtures::afm;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};
use crate::photo_support::{
    Studio, Upload, code_for, link, preview, strong_citizen, studio, unlink, uploaded,
};

const OWNER: &str = "123456783";
const MARIA: &str = "094019245";
const MARIA_MOBILE: &str = "+306900000010";
const NIKOS: &str = "012312312";
const NIKOS_MOBILE: &str = "+306900000011";

async fn with_studio(app: &TestApp) -> Studio {
    studio(app, &afm(700), OWNER).await
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn r_ph_02_every_photo_endpoint_needs_a_session_confirmed_by_sms() {
    let app = spawn_app().await;
    let weak = app.sign_in(MARIA).await;
    let body = json!({"kodikarithmos": "7KQM-2XPD-9RTV-HC42", "confirm": true});
    for (method, path) in [
        (reqwest::Method::POST, "/v1/me/photos/preview"),
        (reqwest::Method::POST, "/v1/me/photos/link"),
        (reqwest::Method::DELETE, "/v1/me/photos/link"),
        (reqwest::Method::GET, "/v1/me/photos"),
        (reqwest::Method::GET, "/v1/me/photos/face"),
        (reqwest::Method::GET, "/v1/me/photos/signature"),
        (reqwest::Method::GET, "/v1/me/photos/archive"),
    ] {
        let request = app.client.request(method.clone(), app.url(path));
        let request = if method == reqwest::Method::POST {
            request.json(&body)
        } else {
            request
        };
        let anonymous = request.try_clone().unwrap().send().await.unwrap();
        assert_problem(anonymous, 401, "unauthenticated").await;
        let response = request.bearer_auth(&weak).send().await.unwrap();
        assert_problem(response, 403, "strong_auth_required").await;
    }
}

#[tokio::test]
async fn r_ph_11_r_ph_12_preview_shows_the_images_as_stored_whatever_form_the_code_is_typed_in() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let upload = Upload::to_mobile(MARIA_MOBILE);
    let submitted = uploaded(&app, &studio.owner, &studio.id, &upload).await;
    let code = submitted["kodikarithmos"].as_str().unwrap().to_owned();
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    // Typed without dashes, in lower case, with O for 0 and l for 1.
    let sloppy: String = code
        .replace('-', "")
        .to_lowercase()
        .replace('0', "o")
        .replace('1', "l");
    for entered in [
        code.clone(),
        sloppy,
        format!(" {} ", code.replace('-', " ")),
    ] {
        let response = preview(&app, &maria, &entered).await;
        assert_eq!(response.status(), StatusCode::OK, "{entered}");
        let preview = json_of(response).await;
        assert_eq!(preview["studio"], "Φωτογραφείο Φως");
        assert_eq!(preview["face"]["content_type"], "image/jpeg");
        assert_eq!(preview["signature"]["content_type"], "image/png");
        let face = STANDARD
            .decode(preview["face"]["data"].as_str().unwrap())
            .unwrap();
        let signature = STANDARD
            .decode(preview["signature"]["data"].as_str().unwrap())
            .unwrap();
        // The fixtures carry no metadata, so stored is uploaded, byte for byte.
        assert_eq!(face, upload.face);
        assert_eq!(signature, upload.signature);
    }
    // Previewing links nothing (R-PH-11: without confirmation, unlinked).
    let status = app.get_as(&maria, "/v1/me/photos").send().await.unwrap();
    assert_problem(status, 404, "not_linked").await;
}

#[tokio::test]
async fn r_ph_06_r_ph_14_r_ph_16_link_read_download_and_unlink() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let upload = Upload::to_mobile(MARIA_MOBILE);
    let submitted = uploaded(&app, &studio.owner, &studio.id, &upload).await;
    let code = submitted["kodikarithmos"].as_str().unwrap().to_owned();
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;

    let unconfirmed = app
        .post_json_as(
            &maria,
            "/v1/me/photos/link",
            &json!({"kodikarithmos": code, "confirm": false}),
        )
        .await;
    let problem = assert_problem(unconfirmed, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].field, "confirm");

    let linked = link(&app, &maria, &code).await;
    assert_eq!(linked.status(), StatusCode::OK);
    let linked = json_of(linked).await;
    let last_group = code.rsplit('-').next().unwrap();
    assert_eq!(
        linked["kodikarithmos"],
        format!("••••-••••-••••-{last_group}")
    );
    let linked_at: DateTime<Utc> = linked["linked_at"].as_str().unwrap().parse().unwrap();
    let delete_at: DateTime<Utc> = linked["delete_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(delete_at, linked_at + chrono::Months::new(12), "R-PH-09");
    assert_eq!(
        app.get_json_as::<Value>(&maria, "/v1/me/photos").await,
        linked
    );

    // Linking it again is refused like any second link: every 200 counts.
    assert_problem(link(&app, &maria, &code).await, 409, "already_linked").await;

    let face = app
        .get_as(&maria, "/v1/me/photos/face")
        .send()
        .await
        .unwrap();
    assert_eq!(face.status(), StatusCode::OK);
    assert_eq!(face.headers()["content-type"], "image/jpeg");
    assert_eq!(face.headers()["cache-control"], "no-store");
    assert!(face.headers().contains_key("etag"));
    assert_eq!(face.bytes().await.unwrap(), upload.face);
    let signature = app
        .get_as(&maria, "/v1/me/photos/signature")
        .send()
        .await
        .unwrap();
    assert_eq!(signature.headers()["content-type"], "image/png");
    assert_eq!(signature.bytes().await.unwrap(), upload.signature);

    // R-PH-06: a second code cannot be linked while one is.
    let second = code_for(&app, &studio, MARIA_MOBILE).await;
    let refused = link(&app, &maria, &second).await;
    assert_problem(refused, 409, "already_linked").await;

    let unlinked = unlink(&app, &maria).await;
    assert_eq!(unlinked.status(), StatusCode::NO_CONTENT);
    let status = app.get_as(&maria, "/v1/me/photos").send().await.unwrap();
    assert_problem(status, 404, "not_linked").await;
    let face = app
        .get_as(&maria, "/v1/me/photos/face")
        .send()
        .await
        .unwrap();
    assert_problem(face, 404, "not_linked").await;
    assert_problem(unlink(&app, &maria).await, 404, "not_linked").await;
    // Now the second one links.
    assert_eq!(link(&app, &maria, &second).await.status(), StatusCode::OK);
}

async fn linked_to(app: &TestApp, who: &'static str) -> i64 {
    app.with_db(move |conn| {
        use citizen_api::db::schema::photo_submissions::dsl::*;
        use diesel::prelude::*;
        Ok(photo_submissions
            .filter(linked_afm.eq(who))
            .count()
            .get_result(conn)?)
    })
    .await
}

async fn taken_today(app: &TestApp, who: &'static str) -> i32 {
    app.with_db(move |conn| {
        use citizen_api::db::schema::photo_link_counts::dsl::*;
        use diesel::prelude::*;
        Ok(photo_link_counts
            .filter(afm.eq(who))
            .select(taken)
            .first(conn)
            .optional()?
            .unwrap_or(0))
    })
    .await
}

#[tokio::test]
async fn r_ph_06_two_codes_linked_at_once_by_one_afm_end_with_one_linked() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let codes = [
        code_for(&app, &studio, MARIA_MOBILE).await,
        code_for(&app, &studio, MARIA_MOBILE).await,
    ];
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let answers = join_all(codes.iter().map(|code| link(&app, &maria, code))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(linked_to(&app, MARIA).await, 1);
    assert_eq!(
        taken_today(&app, MARIA).await,
        1,
        "the refused link counted nothing"
    );
}

/// Links or unlinks, whichever the state allows: one operation that
/// should count.
async fn toggle(app: &TestApp, token: &str, code: &str, linked: bool) -> reqwest::Response {
    if linked {
        unlink(app, token).await
    } else {
        link(app, token, code).await
    }
}

#[tokio::test]
async fn r_ph_07_six_operations_racing_on_one_athens_day_end_with_exactly_five_counted() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let code = code_for(&app, &studio, MARIA_MOBILE).await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    // Three first: link, unlink, link.
    for n in 0..3 {
        let response = toggle(&app, &maria, &code, n % 2 == 1).await;
        assert!(response.status().is_success(), "operation {n}");
    }
    // Six at once, half unlinks and half links: two fit in the day.
    let racing = (0..6).map(|n| toggle(&app, &maria, &code, n % 2 == 0));
    let answers = join_all(racing).await;
    let done = answers.iter().filter(|r| r.status().is_success()).count();
    for answer in &answers {
        assert!(
            [200, 204, 404, 409, 429].contains(&answer.status().as_u16()),
            "{}",
            answer.status()
        );
    }
    assert!(done <= 2, "{done} of the six went through");
    assert_eq!(taken_today(&app, MARIA).await, 3 + done as i32);
    // Then one by one until the limit says no: five in all, exactly.
    let mut linked = linked_to(&app, MARIA).await == 1;
    let mut total = 3 + done;
    loop {
        let response = toggle(&app, &maria, &code, linked).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_problem(response, 429, "daily_limit_reached").await;
            break;
        }
        assert!(response.status().is_success(), "{}", response.status());
        linked = !linked;
        total += 1;
        assert!(total <= 5, "a sixth operation went through");
    }
    assert_eq!(total, 5);
    assert_eq!(taken_today(&app, MARIA).await, 5);
}

/// Moves the app's clock to `at` (which must be ahead of real time).
fn move_clock_to(app: &TestApp, at: DateTime<Utc>) {
    let now = app.clock.now();
    assert!(at > now, "the clock only moves ahead");
    app.clock.advance(at - now);
}

#[tokio::test]
async fn r_ph_07_the_limit_s_retry_after_points_at_athens_midnight_across_a_dst_change() {
    // 28 March 2027: Greek clocks go from 03:00 to 04:00. At 18:00 UTC
    // (21:00 in Athens, summer time) midnight is three hours away; counted
    // in winter time it would be four.
    for (at, midnight) in [
        ("2027-03-28T18:00:00Z", "2027-03-28T21:00:00Z"),
        // 31 October 2027: from 04:00 back to 03:00; 22:00 UTC is midnight.
        ("2027-10-31T18:00:00Z", "2027-10-31T22:00:00Z"),
    ] {
        let app = spawn_app().await;
        move_clock_to(&app, at.parse().unwrap());
        let studio = with_studio(&app).await;
        let code = code_for(&app, &studio, MARIA_MOBILE).await;
        let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
        for n in 0..5 {
            let response = if n % 2 == 0 {
                link(&app, &maria, &code).await
            } else {
                unlink(&app, &maria).await
            };
            assert!(response.status().is_success(), "operation {n}");
        }
        // The clock runs on while the request is served (slowly, on a
        // loaded machine): the answer lies between the two readings.
        let midnight: DateTime<Utc> = midnight.parse().unwrap();
        let latest = (midnight - app.clock.now()).num_seconds() + 1;
        let refused = unlink(&app, &maria).await;
        let earliest = (midnight - app.clock.now()).num_seconds();
        let retry_after: i64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (earliest..=latest).contains(&retry_after),
            "at {at}: Retry-After {retry_after}, midnight in {earliest} to {latest} s"
        );
        assert_problem(refused, 429, "daily_limit_reached").await;
    }
}

#[tokio::test]
async fn r_ph_08_a_code_not_linked_within_two_weeks_stops_working() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let code = code_for(&app, &studio, MARIA_MOBILE).await;
    app.clock.advance(Duration::days(14) - Duration::minutes(1));
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let shown = preview(&app, &maria, &code).await;
    assert_eq!(shown.status(), StatusCode::OK, "a minute before the end");
    app.clock.advance(Duration::minutes(1));
    let shown = preview(&app, &maria, &code).await;
    assert_problem(shown, 404, "code_not_found").await;
    assert_problem(link(&app, &maria, &code).await, 410, "code_expired").await;
    // Two weeks on, the owner's session is long over.
    let owner = app.sign_in(OWNER).await;
    let list: Value = app
        .get_json_as(&owner, &format!("/v1/studios/{}/submissions", studio.id))
        .await;
    assert_eq!(list["items"][0]["status"], "expired");
}

#[tokio::test]
async fn r_ph_10_only_the_first_afm_relinks_and_only_within_twelve_months_of_creation() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let code = code_for(&app, &studio, MARIA_MOBILE).await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    assert_eq!(link(&app, &maria, &code).await.status(), StatusCode::OK);
    // Linked to Maria: another AFM learns nothing of it.
    let nikos = strong_citizen(&app, NIKOS, NIKOS_MOBILE).await;
    assert_problem(link(&app, &nikos, &code).await, 404, "code_not_found").await;
    assert_eq!(unlink(&app, &maria).await.status(), StatusCode::NO_CONTENT);
    // Unlinked, it is still Maria's: bound to the first AFM that linked it.
    assert_problem(link(&app, &nikos, &code).await, 404, "code_not_found").await;
    let shown = preview(&app, &nikos, &code).await;
    assert_problem(shown, 404, "code_not_found").await;
    // Months later, past the first link's two weeks, Maria relinks it.
    app.clock.advance(Duration::days(200));
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    assert_eq!(link(&app, &maria, &code).await.status(), StatusCode::OK);
    assert_eq!(unlink(&app, &maria).await.status(), StatusCode::NO_CONTENT);
    // Past twelve months from its creation, not even Maria.
    app.clock.advance(Duration::days(170));
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    assert_problem(link(&app, &maria, &code).await, 410, "code_expired").await;
}

#[tokio::test]
async fn unknown_expired_and_other_afms_codes_answer_alike() {
    let app = spawn_app().await;
    let mut studio = with_studio(&app).await;
    let expired = code_for(&app, &studio, MARIA_MOBILE).await;
    app.clock.advance(Duration::days(15));
    studio.owner = app.sign_in(OWNER).await;
    let others = code_for(&app, &studio, NIKOS_MOBILE).await;
    let nikos = strong_citizen(&app, NIKOS, NIKOS_MOBILE).await;
    assert_eq!(link(&app, &nikos, &others).await.status(), StatusCode::OK);
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let unknown = citizen_api::domain::Kodikarithmos::generate().to_string();
    let mut answers = Vec::new();
    for code in [&unknown, &expired, &others] {
        let response = preview(&app, &maria, code).await;
        let status = response.status();
        let mut headers: Vec<String> = response
            .headers()
            .iter()
            .filter(|(name, _)| {
                !["date", "x-request-id", "content-length"].contains(&name.as_str())
            })
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect();
        headers.sort();
        let body: Value = response.json().await.unwrap();
        answers.push((status, headers, body));
    }
    assert_eq!(answers[0].0, StatusCode::NOT_FOUND);
    assert_eq!(answers[0].2["code"], "code_not_found");
    assert_eq!(answers[0], answers[1], "unknown and expired");
    assert_eq!(answers[0], answers[2], "unknown and another AFM's");
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_afm_in_the_database_and_right_ones_are_not_counted() {
    let app = spawn_app_with(|settings| {
        settings.photos.code_tries_per_hour = 3;
        settings.photos.code_tries_per_minute_per_address = 1000;
    })
    .await;
    let studio = with_studio(&app).await;
    let code = code_for(&app, &studio, MARIA_MOBILE).await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let try_code = |code: String| {
        let (app, maria) = (&app, &maria);
        async move { preview(app, maria, &code).await }
    };
    // Right codes give their try back: any number of them.
    for _ in 0..5 {
        assert_eq!(try_code(code.clone()).await.status(), StatusCode::OK);
    }
    // Wrong ones, in parallel: three are tried, the rest refused unread.
    let wrong: Vec<String> = (0..6)
        .map(|_| citizen_api::domain::Kodikarithmos::generate().to_string())
        .collect();
    let answers = join_all(wrong.into_iter().map(try_code)).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [404, 404, 404, 429, 429, 429]);
    // Now even the right code waits, and Retry-After says how long.
    let refused = try_code(code.clone()).await;
    let retry_after: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&retry_after), "{retry_after}");
    assert_problem(refused, 429, "rate_limited").await;
    // The count is in the database: another instance on it sees it.
    let attempts: i32 = app
        .with_db(|conn| {
            use citizen_api::db::schema::photo_code_attempts::dsl::*;
            use diesel::prelude::*;
            Ok(photo_code_attempts
                .filter(afm.eq(MARIA))
                .select(attempts)
                .first(conn)?)
        })
        .await;
    assert_eq!(attempts, 3);
    // Another AFM is not held back by Maria's guesses; an hour later she
    // is not either.
    let nikos = strong_citizen(&app, NIKOS, NIKOS_MOBILE).await;
    let theirs = preview(&app, &nikos, &code).await;
    assert_eq!(theirs.status(), StatusCode::OK);
    app.clock.advance(Duration::hours(1));
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let later = preview(&app, &maria, &code).await;
    assert_eq!(later.status(), StatusCode::OK);
}

#[tokio::test]
async fn code_tries_are_throttled_per_client_address() {
    let app = spawn_app_with(|settings| {
        settings.photos.code_tries_per_minute_per_address = 2;
    })
    .await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let unknown = citizen_api::domain::Kodikarithmos::generate().to_string();
    for _ in 0..2 {
        let response = preview(&app, &maria, &unknown).await;
        assert_problem(response, 404, "code_not_found").await;
    }
    let third = link(&app, &maria, &unknown).await;
    assert!(third.headers().contains_key("retry-after"));
    assert_problem(third, 429, "rate_limited").await;
}

#[tokio::test]
async fn a_mistyped_code_is_refused_by_its_check_character() {
    let app = spawn_app().await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    let code = citizen_api::domain::Kodikarithmos::generate().to_string();
    // Change one symbol: the check character catches it.
    let mut symbols: Vec<char> = code.chars().collect();
    symbols[0] = if symbols[0] == '7' { '8' } else { '7' };
    let typo: String = symbols.into_iter().collect();
    let response = preview(&app, &maria, &typo).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].field, "kodikarithmos");
}
