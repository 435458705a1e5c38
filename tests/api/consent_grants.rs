//! The citizen's consents (R-PH-15): authorize, list and revoke; what an
//! application may fetch with them (R-PH-18), and how unlinking ends them
//! (R-PH-16).

use citizen_api::dev::fixtures::afm;
use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::consent_support::{
    Client, app_token, assert_no_consent, fetch, grant, granted, linked_citizen, revoke,
    transport_and_police,
};
use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::photo_support::{Studio, code_for, link, strong_citizen, studio, unlink};

const OWNER: &str = "123456783";
const MARIA: &str = "094019245";
const MARIA_MOBILE: &str = "+306900000020";

async fn with_studio(app: &TestApp) -> Studio {
    studio(app, &afm(710), OWNER).await
}

async fn consents(app: &TestApp, citizen: &str) -> Vec<Value> {
    let list: Value = app.get_json_as(citizen, "/v1/me/consents").await;
    list["items"].as_array().unwrap().clone()
}

/// How many consent rows the AFM has for the application, open or not.
async fn consent_rows(app: &TestApp, afm: &str, client: &Client) -> (i64, i64) {
    use citizen_api::db::schema::consents;
    let (afm, app_id) = (afm.to_owned(), client.app_id.clone());
    app.with_db(move |conn| {
        let all = consents::table
            .filter(consents::afm.eq(&afm))
            .filter(consents::app_id.eq(&app_id));
        let rows: i64 = all.count().get_result(conn)?;
        let open: i64 = all
            .filter(consents::revoked_at.is_null())
            .count()
            .get_result(conn)?;
        Ok((rows, open))
    })
    .await
}

#[tokio::test]
async fn r_ph_15_a_consent_lets_the_application_fetch_until_it_is_revoked() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let (transport, _) = transport_and_police(&app).await;
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    let token = app_token(&app, &transport, "photos:face photos:signature").await;
    assert_no_consent(&app, &token, MARIA, "face").await;

    let granted = grant(&app, &maria, &transport).await;
    assert_eq!(granted.status(), StatusCode::CREATED);
    let granted: Value = granted.json().await.unwrap();
    assert_eq!(granted["app_id"], transport.app_id);
    assert_eq!(granted["app_name"], "Μεταφορές");
    assert_eq!(granted["organization"], "Μεταφορές");
    assert_eq!(
        granted["scopes"],
        serde_json::json!(["photos:face", "photos:signature"])
    );
    assert_eq!(consents(&app, &maria).await, std::slice::from_ref(&granted));
    // Authorizing again changes nothing and says so.
    let again = grant(&app, &maria, &transport).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap(), granted);

    for image in ["face", "signature"] {
        let own = app
            .get_as(&maria, &format!("/v1/me/photos/{image}"))
            .send()
            .await
            .unwrap();
        let fetched = fetch(&app, &token, MARIA, image).await;
        assert_eq!(fetched.status(), StatusCode::OK, "{image}");
        for header in ["content-type", "etag"] {
            assert_eq!(fetched.headers()[header], own.headers()[header], "{header}");
        }
        assert_eq!(fetched.headers()["cache-control"], "no-store");
        let etag = fetched.headers()["etag"].clone();
        assert_eq!(fetched.bytes().await.unwrap(), own.bytes().await.unwrap());
        // The application already holds it: nothing is sent again.
        let held = app
            .get_as(&token, &format!("/v1/citizens/{MARIA}/photos/{image}"))
            .header("if-none-match", etag.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(held.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(held.headers()["etag"], etag);
        assert!(held.bytes().await.unwrap().is_empty());
    }

    let revoked = revoke(&app, &maria, &transport).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert!(consents(&app, &maria).await.is_empty());
    assert_no_consent(&app, &token, MARIA, "face").await;
    assert_problem(revoke(&app, &maria, &transport).await, 404, "not_found").await;
    // The revoked consent is kept, as its history.
    assert_eq!(consent_rows(&app, MARIA, &transport).await, (1, 0));
}

#[tokio::test]
async fn r_ph_18_police_cannot_read_a_signature_even_with_consent() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let (transport, police) = transport_and_police(&app).await;
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    for client in [&transport, &police] {
        granted(&app, &maria, client).await;
    }
    let police_token = app_token(&app, &police, "photos:face").await;
    assert_eq!(
        fetch(&app, &police_token, MARIA, "face").await.status(),
        StatusCode::OK
    );
    let refused = fetch(&app, &police_token, MARIA, "signature").await;
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_problem(refused, 403, "insufficient_scope").await;
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"photos:signature\""),
        "{challenge}"
    );
    // A token asked for the face only reads the face only, whoever holds it.
    let face_only = app_token(&app, &transport, "photos:face").await;
    let refused = fetch(&app, &face_only, MARIA, "signature").await;
    assert_problem(refused, 403, "insufficient_scope").await;
}

#[tokio::test]
async fn r_ph_15_authorizing_needs_linked_photos_and_an_enabled_application() {
    let app = spawn_app().await;
    let (transport, _) = transport_and_police(&app).await;
    let weak = app.sign_in(MARIA).await;
    assert_problem(
        grant(&app, &weak, &transport).await,
        403,
        "strong_auth_required",
    )
    .await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    assert_problem(grant(&app, &maria, &transport).await, 409, "nothing_linked").await;

    let studio = with_studio(&app).await;
    let code = code_for(&app, &studio, MARIA_MOBILE).await;
    assert_eq!(link(&app, &maria, &code).await.status(), StatusCode::OK);
    let unknown = Client {
        app_id: citizen_api::domain::ids::AppId::generate().to_string(),
        ..transport.clone()
    };
    assert_problem(grant(&app, &maria, &unknown).await, 404, "not_found").await;
    let app_id = transport.app_id.clone();
    app.with_db(move |conn| {
        let id: citizen_api::domain::ids::AppId = app_id.parse()?;
        Ok(citizen_api::oauth::store::disable(
            conn,
            &id,
            chrono::Utc::now().naive_utc(),
        )?)
    })
    .await;
    assert_problem(grant(&app, &maria, &transport).await, 404, "not_found").await;
    let not_an_id = Client {
        app_id: "transport".into(),
        ..transport.clone()
    };
    let problem = assert_problem(
        grant(&app, &maria, &not_an_id).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem.errors[0].field, "app_id");
}

#[tokio::test]
async fn r_ph_16_unlinking_ends_every_consent_and_relinking_does_not_bring_them_back() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let (transport, police) = transport_and_police(&app).await;
    let code = code_for(&app, &studio, MARIA_MOBILE).await;
    let maria = strong_citizen(&app, MARIA, MARIA_MOBILE).await;
    assert_eq!(link(&app, &maria, &code).await.status(), StatusCode::OK);
    for client in [&transport, &police] {
        granted(&app, &maria, client).await;
    }
    let token = app_token(&app, &transport, "photos:face").await;
    assert_eq!(
        fetch(&app, &token, MARIA, "face").await.status(),
        StatusCode::OK
    );

    assert_eq!(unlink(&app, &maria).await.status(), StatusCode::NO_CONTENT);
    assert!(consents(&app, &maria).await.is_empty());
    assert_no_consent(&app, &token, MARIA, "face").await;
    assert_problem(revoke(&app, &maria, &transport).await, 404, "not_found").await;

    // The same code linked again is another link: no consent covers it.
    assert_eq!(link(&app, &maria, &code).await.status(), StatusCode::OK);
    assert!(consents(&app, &maria).await.is_empty());
    assert_no_consent(&app, &token, MARIA, "face").await;
    // Authorizing anew on this link works as a first time.
    granted(&app, &maria, &transport).await;
    assert_eq!(
        fetch(&app, &token, MARIA, "face").await.status(),
        StatusCode::OK
    );
    assert_eq!(consent_rows(&app, MARIA, &transport).await.0, 2);
}

#[tokio::test]
async fn r_ph_15_parallel_authorizations_leave_one_consent() {
    let app = spawn_app().await;
    let studio = with_studio(&app).await;
    let (transport, _) = transport_and_police(&app).await;
    let maria = linked_citizen(&app, &studio, MARIA, MARIA_MOBILE).await;
    let answers = join_all((0..8).map(|_| grant(&app, &maria, &transport))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    let mut bodies = Vec::new();
    for answer in answers {
        bodies.push(answer.json::<Value>().await.unwrap());
    }
    assert!(bodies.iter().all(|body| body == &bodies[0]), "{bodies:?}");
    assert_eq!(consent_rows(&app, MARIA, &transport).await, (1, 1));
    assert_eq!(consents(&app, &maria).await.len(), 1);
}
