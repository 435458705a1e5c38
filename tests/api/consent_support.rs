//! What the consent tests share: applications registered through
//! `POST /v1/apps` and their access tokens from `POST /oauth/token`; a
//! citizen with linked photos; and the calls of the consent endpoints and
//! of the photo fetch.

use citizen_api::dev::demo_apps::DemoApp;
use citizen_api::oauth::{AppPurpose, Scope};
use reqwest::{Response, StatusCode};

use crate::helpers::{TestApp, assert_problem};
use crate::oauth_support::{platform_admin, register_named, token};
use crate::photo_support::{Studio, code_for, link, strong_citizen};

/// An application's credentials, as its registration shows them once.
#[derive(Debug, Clone)]
pub struct Client {
    pub app_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Registers an application for `purpose` with `scopes` through the API,
/// as the demo platform admin.
pub async fn register_app(
    app: &TestApp,
    name: &str,
    purpose: AppPurpose,
    scopes: &[Scope],
) -> Client {
    let admin = platform_admin(app).await;
    let scopes: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    let (app_id, client_id, client_secret) =
        register_named(app, &admin, (name, name), purpose.as_str(), &scopes).await;
    Client {
        app_id,
        client_id,
        client_secret,
    }
}

/// A demo application's fixed development credentials.
pub fn demo_client(demo: &DemoApp) -> Client {
    Client {
        app_id: demo.id.to_owned(),
        client_id: demo.client_id.to_owned(),
        client_secret: demo.client_secret.to_owned(),
    }
}

/// An access token for `client` with `scopes` (space-separated), from
/// `POST /oauth/token`.
pub async fn app_token(app: &TestApp, client: &Client, scopes: &str) -> String {
    token(app, &client.client_id, &client.client_secret, Some(scopes)).await
}

/// Registers the two kinds of application the service serves: Transport
/// (driving licences: face and signature) and Police (identity documents:
/// the face only, R-PH-18).
pub async fn transport_and_police(app: &TestApp) -> (Client, Client) {
    let both = [Scope::PhotosFace, Scope::PhotosSignature];
    (
        register_app(app, "Μεταφορές", AppPurpose::DrivingLicences, &both).await,
        register_app(
            app,
            "Αστυνομία",
            AppPurpose::IdentityDocuments,
            &[Scope::PhotosFace],
        )
        .await,
    )
}

/// Signs `afm` in strongly and links a fresh upload of `studio` to them;
/// answers the session token.
pub async fn linked_citizen(app: &TestApp, studio: &Studio, afm: &str, mobile: &str) -> String {
    let code = code_for(app, studio, mobile).await;
    let token = strong_citizen(app, afm, mobile).await;
    assert_eq!(link(app, &token, &code).await.status(), StatusCode::OK);
    token
}

/// `PUT` (authorize) or `DELETE` (revoke) the citizen's consent for `client`.
async fn consent_call(
    app: &TestApp,
    method: reqwest::Method,
    citizen: &str,
    client: &Client,
) -> Response {
    let path = format!("/v1/me/consents/{}", client.app_id);
    app.client
        .request(method, app.url(&path))
        .bearer_auth(citizen)
        .send()
        .await
        .expect("the server answers")
}

pub async fn grant(app: &TestApp, citizen: &str, client: &Client) -> Response {
    consent_call(app, reqwest::Method::PUT, citizen, client).await
}

/// Authorizes `client` for the first time.
pub async fn granted(app: &TestApp, citizen: &str, client: &Client) {
    let answer = grant(app, citizen, client).await;
    assert_eq!(answer.status(), StatusCode::CREATED, "authorized");
}

pub async fn revoke(app: &TestApp, citizen: &str, client: &Client) -> Response {
    consent_call(app, reqwest::Method::DELETE, citizen, client).await
}

/// An application's call for the `image` (`face` or `signature`) of `afm`.
pub async fn fetch(app: &TestApp, token: &str, afm: &str, image: &str) -> Response {
    app.get_as(token, &format!("/v1/citizens/{afm}/photos/{image}"))
        .send()
        .await
        .expect("the server answers")
}

/// The application is refused the image: no consent of that citizen counts.
pub async fn assert_no_consent(app: &TestApp, token: &str, afm: &str, image: &str) {
    assert_problem(fetch(app, token, afm, image).await, 403, "consent_required").await;
}
