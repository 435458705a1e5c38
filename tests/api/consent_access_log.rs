//! The citizen's access log: every call an application made for their
//! photos, allowed or refused, newest first, page by page, and only their
//! own.

use citizen_api::dev::fixtures::afm;
use serde_json::Value;

use crate::consent_support::{app_token, fetch, granted, linked_citizen, transport_and_police};
use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::photo_support::{strong_citizen, studio};

const OWNER: &str = "123456783";
const MARIA: &str = "094019245";
const MARIA_MOBILE: &str = "+306900000040";
const NIKOS: &str = "012312312";
const NIKOS_MOBILE: &str = "+306900000041";

/// The whole log, following `next_cursor` with pages of `limit`.
async fn log_of(app: &TestApp, citizen: &str, limit: u32) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/me/photos/access-log?limit={limit}&cursor={cursor}"),
            None => format!("/v1/me/photos/access-log?limit={limit}"),
        };
        let page: Value = app.get_json_as(citizen, &path).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize);
        entries.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return entries,
        }
    }
}

#[tokio::test]
async fn r_ph_15_the_access_log_shows_every_call_allowed_or_refused_newest_first_and_only_ones_own()
{
    let app = spawn_app().await;
    let studio = studio(&app, &afm(730), OWNER).await;
    let (transport, police) = transport_and_police(&app).await;
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    let nikos = strong_citizen(&app, NIKOS, NIKOS_MOBILE).await;
    let transport_token = app_token(&app, &transport, "photos:face photos:signature").await;
    let police_token = app_token(&app, &police, "photos:face").await;

    // Oldest first, as they happen.
    let calls = [
        (&police_token, "face", 403, "consent_required", "Αστυνομία"),
        (
            &transport_token,
            "face",
            403,
            "consent_required",
            "Μεταφορές",
        ),
        (&transport_token, "face", 200, "allowed", "Μεταφορές"),
        (&transport_token, "signature", 200, "allowed", "Μεταφορές"),
        (
            &police_token,
            "signature",
            403,
            "insufficient_scope",
            "Αστυνομία",
        ),
    ];
    for (i, (token, image, status, _, _)) in calls.iter().enumerate() {
        if i == 2 {
            granted(&app, &maria, &transport).await;
        }
        let answer = fetch(&app, token, MARIA, image).await;
        assert_eq!(answer.status().as_u16(), *status, "call {i}");
    }
    // Another citizen's call is not Maria's to see, nor is a malformed one.
    fetch(&app, &transport_token, NIKOS, "face").await;
    fetch(&app, &transport_token, "12345", "face").await;

    let log = log_of(&app, &maria, 2).await;
    let seen: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|entry| {
            (
                entry["image"].as_str().unwrap(),
                entry["outcome"].as_str().unwrap(),
                entry["app_name"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str, &str)> = calls
        .iter()
        .rev()
        .map(|(_, image, _, outcome, name)| (*image, *outcome, *name))
        .collect();
    assert_eq!(seen, expected);
    let ats: Vec<&str> = log.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|pair| pair[0] >= pair[1]), "{ats:?}");
    assert_eq!(log[0]["app_id"], police.app_id);
    assert_eq!(
        log_of(&app, &maria, 200).await,
        log,
        "the same log in one page"
    );

    let nikos_log = log_of(&app, &nikos, 50).await;
    assert_eq!(nikos_log.len(), 1);
    assert_eq!(nikos_log[0]["outcome"], "consent_required");

    let weak = app.sign_in(MARIA).await;
    let refused = app
        .get_as(&weak, "/v1/me/photos/access-log")
        .send()
        .await
        .unwrap();
    assert_problem(refused, 403, "strong_auth_required").await;
    let bad_cursor = app
        .get_as(&maria, "/v1/me/photos/access-log?cursor=bm90LWFuLWlk")
        .send()
        .await
        .unwrap();
    assert_problem(bad_cursor, 422, "validation_failed").await;
}
