//! What the OAuth tests share: applications registered through the API,
//! tokens taken from `/oauth/token`, and a signing key the test knows, to
//! make tokens the server did not issue.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use citizen_api::auth::roles::ScopedRole;
use citizen_api::config::Settings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::booking_support::signed_in_with_role;
use crate::helpers::TestApp;

/// The demo platform admin, signed in.
pub async fn platform_admin(app: &TestApp) -> String {
    signed_in_with_role(app, "090000045", ScopedRole::PlatformAdmin).await
}

/// Registers an application named after its purpose and scopes through
/// the API; answers its id, client id and secret.
pub async fn register_app(
    app: &TestApp,
    admin_token: &str,
    purpose: &str,
    scopes: &[&str],
) -> (String, String, String) {
    let name = format!("{purpose} {}", scopes.join(" "));
    let organization = "Υπουργείο Μεταφορών";
    register_named(app, admin_token, (&name, organization), purpose, scopes).await
}

/// Registers an application of `(name, organization)` through the API;
/// answers its id, client id and secret.
pub async fn register_named(
    app: &TestApp,
    admin_token: &str,
    (name, organization): (&str, &str),
    purpose: &str,
    scopes: &[&str],
) -> (String, String, String) {
    let response = app
        .post_json_as(
            admin_token,
            "/v1/apps",
            &json!({"name": name, "organization": organization, "purpose": purpose, "scopes": scopes}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let text = |field: &str| body[field].as_str().unwrap().to_owned();
    (text("app_id"), text("client_id"), text("client_secret"))
}

/// `POST /oauth/token` with HTTP Basic, `scope` when given.
pub async fn token_response(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> Response {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend(scope.map(|scope| ("scope", scope)));
    app.client
        .post(app.url("/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// An access token for the client, for `scope` (all registered when `None`).
pub async fn token(app: &TestApp, client_id: &str, secret: &str, scope: Option<&str>) -> String {
    let response = token_response(app, client_id, secret, scope).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// `POST` of a client-authenticated form (HTTP Basic) to `path`.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    (client_id, secret): (&str, &str),
    form: &[(&str, &str)],
) -> Response {
    app.client
        .post(app.url(path))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// What `/oauth/introspect` says of `token`, asked by its client.
pub async fn introspect(app: &TestApp, client: (&str, &str), token: &str) -> Value {
    let response = post_form(app, "/oauth/introspect", client, &[("token", token)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The signing key's seed the tests configure, so that they can sign
/// tokens the server did not issue.
pub const KEY_SEED: [u8; 32] = [7; 32];
pub const KID: &str = "test-key";

pub fn with_known_signing_key(settings: &mut Settings) {
    settings.secrets.token_signing_keys =
        Some(format!("{KID}:{}", STANDARD.encode(KEY_SEED)).into());
}

/// Signs `claims` as an access token under `kid` with the Ed25519 `seed`.
pub fn sign(claims: &Value, kid: &str, seed: [u8; 32]) -> String {
    // PKCS #8 of an Ed25519 seed (RFC 8410): a fixed prefix, then the seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let header = Header {
        typ: Some("at+jwt".to_owned()),
        kid: Some(kid.to_owned()),
        ..Header::new(Algorithm::EdDSA)
    };
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der)).unwrap()
}

/// The claims of a token, unverified.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Checks an RFC 6749 §5.2 error answer: status, `error`, JSON (not
/// problem+json) and never cached.
pub async fn assert_oauth_error(response: Response, status: u16, error: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    if status == 401 {
        assert_eq!(headers["www-authenticate"], "Basic realm=\"citizen-api\"");
    }
    body
}
