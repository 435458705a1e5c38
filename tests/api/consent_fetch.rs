//! An application's fetch of a citizen's photo (R-PH-15): one refusal for
//! every citizen it may not read, revocation that bites at once, and what
//! is refused before any consent is asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use citizen_api::clock::Clock;
use citizen_api::dev::fixtures::afm;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::consent_support::{
    app_token, fetch, granted, linked_citizen, revoke, transport_and_police,
};
use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::oauth_support::{claims_of, platform_admin, post_form, sign};
use crate::photo_support::{Studio, strong_citizen, studio};

const OWNER: &str = "123456783";
const MARIA: &str = "094019245";
const MARIA_MOBILE: &str = "+306900000030";
const NIKOS: &str = "012312312";
const NIKOS_MOBILE: &str = "+306900000031";

async fn with_studio(app: &TestApp) -> Studio {
    studio(app, &afm(720), OWNER).await
}

/// Everything an answer says, but the headers that differ on every
/// request.
async fn answer_of(response: reqwest::Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !["x-request-id", "date"].contains(&name.as_str()))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn r_ph_15_the_refusal_is_the_same_whether_the_citizen_is_unknown_unlinked_or_unwilling() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let (transport, police) = transport_and_police(&app).await;
    // Maria has photos and authorized the Police only; Nikos signed in and
    // has nothing linked; the third AFM is nobody's the service knows.
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    granted(&app, &maria, &police).await;
    strong_citizen(&app, NIKOS, NIKOS_MOBILE).await;
    let stranger = afm(4242);
    let token = app_token(&app, &transport, "photos:face photos:signature").await;
    for image in ["face", "signature"] {
        let mut answers = Vec::new();
        for who in [MARIA, NIKOS, stranger.as_str()] {
            answers.push(answer_of(fetch(&app, &token, who, image).await).await);
        }
        let (status, headers, body) = &answers[0];
        assert_eq!(*status, 403);
        let problem: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(problem["code"], "consent_required");
        assert!(
            headers
                .iter()
                .any(|(name, value)| name == "content-type" && value == "application/problem+json"),
            "{headers:?}"
        );
        assert_eq!(
            answers[1], answers[0],
            "{image}: a citizen with nothing linked"
        );
        assert_eq!(answers[2], answers[0], "{image}: an AFM no one holds");
    }
}

#[tokio::test]
async fn r_ph_15_no_fetch_that_starts_after_a_revocation_answered_gets_the_photo() {
    let app = Arc::new(spawn_app().await);
    let studio = with_studio(&app).await;
    let (transport, _) = transport_and_police(&app).await;
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    granted(&app, &maria, &transport).await;
    let token = Arc::new(app_token(&app, &transport, "photos:face").await);

    // Fetchers call in a loop, each call noting when it started and what
    // it got, while the citizen revokes.
    let stop = Arc::new(AtomicBool::new(false));
    let fetchers: Vec<_> = (0..4)
        .map(|_| {
            let (app, token, stop) = (app.clone(), token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut calls = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let status = fetch(&app, &token, MARIA, "face").await.status();
                    calls.push((started, status));
                }
                calls
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let revoked = revoke(&app, &maria, &transport).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let answered = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let mut before = Vec::new();
    let mut after = Vec::new();
    for fetcher in fetchers {
        for (started, status) in fetcher.await.unwrap() {
            if started > answered {
                after.push(status);
            } else {
                before.push(status);
            }
        }
    }
    assert!(
        before.contains(&StatusCode::OK),
        "fetches ran before the revocation"
    );
    assert!(!after.is_empty(), "fetches ran after the revocation");
    assert!(
        after.iter().all(|status| *status == StatusCode::FORBIDDEN),
        "{after:?}"
    );
}

/// How many calls the access log holds without an AFM.
async fn calls_without_afm(app: &TestApp) -> i64 {
    use citizen_api::db::schema::photo_access_log;
    app.with_db(|conn| {
        Ok(photo_access_log::table
            .filter(photo_access_log::afm.is_null())
            .count()
            .get_result(conn)?)
    })
    .await
}

#[tokio::test]
async fn a_malformed_afm_is_refused_as_such_and_logged_without_one() {
    let app = spawn_app().await;
    let (transport, _) = transport_and_police(&app).await;
    let token = app_token(&app, &transport, "photos:face").await;
    for malformed in ["123456789", "12345", "not-an-afm"] {
        let problem = assert_problem(
            fetch(&app, &token, malformed, "face").await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem.errors[0].field, "afm");
    }
    assert_eq!(calls_without_afm(&app).await, 3);
}

#[tokio::test]
async fn a_call_without_a_valid_token_is_refused_before_anything_is_read() {
    let app = spawn_app().await;
    let anonymous = app.get(&format!("/v1/citizens/{MARIA}/photos/face")).await;
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"citizen-api\""
    );
    assert_problem(anonymous, 401, "unauthenticated").await;
    let forged = fetch(&app, "not.a.token", MARIA, "face").await;
    let challenge = forged.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert_problem(forged, 401, "invalid_token").await;
    // A citizen's session is no application's token.
    let maria = app.sign_in(MARIA).await;
    assert_problem(
        fetch(&app, &maria, MARIA, "face").await,
        401,
        "invalid_token",
    )
    .await;
    // With no application to attribute them to, these calls are not logged.
    use citizen_api::db::schema::photo_access_log;
    let logged: i64 = app
        .with_db(|conn| Ok(photo_access_log::table.count().get_result(conn)?))
        .await;
    assert_eq!(logged, 0);
}

/// What makes a token stop counting bites at the photo endpoint on the very
/// next call: revocation (RFC 7009), the application disabled, and expiry;
/// a token signed by a key the service does not hold never counts.
#[tokio::test]
async fn a_revoked_expired_or_disabled_token_is_refused_at_the_next_fetch() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let (transport, _) = transport_and_police(&app).await;
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    granted(&app, &maria, &transport).await;
    let refused = |response: reqwest::Response| assert_problem(response, 401, "invalid_token");

    let revoked = app_token(&app, &transport, "photos:face").await;
    assert_eq!(
        fetch(&app, &revoked, MARIA, "face").await.status(),
        StatusCode::OK
    );
    let credentials = (
        transport.client_id.as_str(),
        transport.client_secret.as_str(),
    );
    let answer = post_form(&app, "/oauth/revoke", credentials, &[("token", &revoked)]).await;
    assert_eq!(answer.status(), StatusCode::OK);
    refused(fetch(&app, &revoked, MARIA, "face").await).await;

    let expiring = app_token(&app, &transport, "photos:face").await;
    assert_eq!(
        fetch(&app, &expiring, MARIA, "face").await.status(),
        StatusCode::OK
    );
    let lifetime = claims_of(&expiring)["exp"].as_i64().unwrap()
        - claims_of(&expiring)["iat"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::seconds(lifetime + 1));
    refused(fetch(&app, &expiring, MARIA, "face").await).await;

    // Signed under the service's key id, by a key it does not hold.
    let mut claims = claims_of(&app_token(&app, &transport, "photos:face").await);
    let current = app.clock.now().timestamp();
    claims["iat"] = current.into();
    claims["exp"] = (current + 60).into();
    let kid = jsonwebtoken::decode_header(&app_token(&app, &transport, "photos:face").await)
        .unwrap()
        .kid
        .unwrap();
    refused(fetch(&app, &sign(&claims, &kid, [9; 32]), MARIA, "face").await).await;

    let live = app_token(&app, &transport, "photos:face").await;
    assert_eq!(
        fetch(&app, &live, MARIA, "face").await.status(),
        StatusCode::OK
    );
    let admin = platform_admin(&app).await;
    let disabled = app
        .post_as(&admin, &format!("/v1/apps/{}/disable", transport.app_id))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    refused(fetch(&app, &live, MARIA, "face").await).await;
}
