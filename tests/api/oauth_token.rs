//! `POST /oauth/token`: the client-credentials grant, its two client
//! authentication methods, and every error exactly as RFC 6749 §5.2 says.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};
use crate::oauth_support::{
    assert_oauth_error, claims_of, platform_admin, register_app, token, token_response,
};

#[tokio::test]
async fn a_client_takes_a_token_with_http_basic_or_with_the_form() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (_, client_id, secret) = register_app(
        &app,
        &admin,
        "driving_licences",
        &["photos:face", "photos:signature"],
    )
    .await;

    let basic = token_response(&app, &client_id, &secret, Some("photos:face")).await;
    assert_eq!(basic.status(), StatusCode::OK);
    assert_eq!(basic.headers()["cache-control"], "no-store");
    assert_eq!(basic.headers()["pragma"], "no-cache");
    let body: Value = basic.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "photos:face");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["sub"], client_id.as_str());
    assert_eq!(claims["scope"], "photos:face");

    let post = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    let body: Value = post.json().await.unwrap();
    assert_eq!(
        body["scope"], "photos:face photos:signature",
        "no scope asked: every scope registered"
    );
}

#[tokio::test]
async fn every_refusal_is_rfc_6749_json_never_cached() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (_, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let send = |form: Vec<(&'static str, String)>, basic: bool| {
        let mut request = app.client.post(app.url("/oauth/token")).form(&form);
        if basic {
            request = request.basic_auth(&client_id, Some(&secret));
        }
        request.send()
    };
    let grant = || ("grant_type", "client_credentials".to_owned());

    // Both authentication methods at once.
    let both = send(vec![grant(), ("client_secret", secret.clone())], true)
        .await
        .unwrap();
    assert_oauth_error(both, 400, "invalid_request").await;
    // No grant type; a repeated parameter; another grant type.
    let missing = send(vec![], true).await.unwrap();
    assert_oauth_error(missing, 400, "invalid_request").await;
    let repeated = send(vec![grant(), grant()], true).await.unwrap();
    assert_oauth_error(repeated, 400, "invalid_request").await;
    let password = send(vec![("grant_type", "password".to_owned())], true)
        .await
        .unwrap();
    assert_oauth_error(password, 400, "unsupported_grant_type").await;
    // JSON is not a form.
    let json = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(json, 400, "invalid_request").await;
    // A scope not registered (R-PH-18 keeps the signature from this one),
    // and one that does not exist.
    let signature = token_response(&app, &client_id, &secret, Some("photos:signature")).await;
    assert_oauth_error(signature, 400, "invalid_scope").await;
    let unknown = token_response(&app, &client_id, &secret, Some("openid")).await;
    assert_oauth_error(unknown, 400, "invalid_scope").await;
    // No credentials; no secret; a wrong one; an unknown client; a client
    // id that is not even one: all the same.
    let anonymous = send(vec![grant()], false).await.unwrap();
    assert_oauth_error(anonymous, 401, "invalid_client").await;
    let no_secret = send(vec![grant(), ("client_id", client_id.clone())], false)
        .await
        .unwrap();
    assert_oauth_error(no_secret, 401, "invalid_client").await;
    let wrong = token_response(&app, &client_id, "not-the-secret", None).await;
    let wrong = assert_oauth_error(wrong, 401, "invalid_client").await;
    let stranger =
        token_response(&app, "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a", &secret, None).await;
    assert_eq!(
        assert_oauth_error(stranger, 401, "invalid_client").await,
        wrong
    );
    let garbage = token_response(&app, "not-a-client", &secret, None).await;
    assert_eq!(
        assert_oauth_error(garbage, 401, "invalid_client").await,
        wrong
    );
}

#[tokio::test]
async fn a_rotated_out_secret_works_through_the_overlap_and_not_after() {
    let app = spawn_app_with(|settings| settings.oauth.secret_overlap_secs = 60).await;
    let admin = platform_admin(&app).await;
    let (app_id, client_id, old) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let rotated = app
        .post_as(&admin, &format!("/v1/apps/{app_id}/rotate-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(rotated["client_id"], client_id.as_str());
    let new = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    token(&app, &client_id, &old, None).await;
    token(&app, &client_id, &new, None).await;
    app.clock.advance(Duration::seconds(61));
    let retired = token_response(&app, &client_id, &old, None).await;
    assert_oauth_error(retired, 401, "invalid_client").await;
    token(&app, &client_id, &new, None).await;
}

#[tokio::test]
async fn token_requests_are_limited_per_client_and_per_address() {
    let app = spawn_app_with(|settings| {
        settings.oauth.token_requests_per_minute_per_client = 2;
        settings.oauth.token_requests_per_minute_per_address = 4;
    })
    .await;
    let admin = platform_admin(&app).await;
    let (_, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    token(&app, &client_id, &secret, None).await;
    token(&app, &client_id, &secret, None).await;
    let limited = token_response(&app, &client_id, &secret, None).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_oauth_error(limited, 429, "temporarily_unavailable").await;
    // The address has one request left: another client id takes it, then
    // the address is spent for every client.
    let other = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a";
    let refused = token_response(&app, other, "secret", None).await;
    assert_oauth_error(refused, 401, "invalid_client").await;
    let limited = token_response(&app, other, "secret", None).await;
    assert_oauth_error(limited, 429, "temporarily_unavailable").await;
}
