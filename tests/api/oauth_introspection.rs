//! What an application learns of tokens: the metadata and the keys to
//! verify them itself, introspection of its own tokens (RFC 7662) and
//! their revocation (RFC 7009).

use chrono::Duration;
use citizen_api::domain::ids::ClientId;
use citizen_api::oauth::store;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::oauth_support::{
    KEY_SEED, KID, assert_oauth_error, claims_of, introspect, platform_admin, post_form,
    register_app, sign, token, with_known_signing_key,
};

#[tokio::test]
async fn the_metadata_names_every_endpoint_and_what_they_take() {
    let app = spawn_app().await;
    let response = app.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let metadata: Value = response.json().await.unwrap();
    let base = &app.address;
    let methods = json!(["client_secret_basic", "client_secret_post"]);
    assert_eq!(
        metadata,
        json!({
            "issuer": base,
            "token_endpoint": format!("{base}/oauth/token"),
            "jwks_uri": format!("{base}/oauth/jwks"),
            "introspection_endpoint": format!("{base}/oauth/introspect"),
            "revocation_endpoint": format!("{base}/oauth/revoke"),
            "scopes_supported": ["photos:face", "photos:signature"],
            "response_types_supported": [],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "service_documentation": format!("{base}/swagger-ui/")
        })
    );
}

#[tokio::test]
async fn a_token_verifies_with_the_key_published_at_the_jwks() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (_, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let access = token(&app, &client_id, &secret, None).await;

    let response = app.get("/oauth/jwks").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert_eq!(
        response.headers()["content-type"],
        "application/jwk-set+json"
    );
    let keys: JwkSet = response.json().await.unwrap();
    let header = jsonwebtoken::decode_header(&access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = keys
        .find(header.kid.as_deref().unwrap())
        .expect("the key is published");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.address]);
    validation.set_audience(&[format!("{}/v1/citizens", app.address)]);
    let claims =
        jsonwebtoken::decode::<Value>(&access, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("the token verifies")
            .claims;
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["scope"], "photos:face");
}

#[tokio::test]
async fn introspection_shows_the_caller_s_own_live_token_only() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (_, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let (_, other_id, other_secret) = register_app(
        &app,
        &admin,
        "driving_licences",
        &["photos:face", "photos:signature"],
    )
    .await;
    let access = token(&app, &client_id, &secret, None).await;
    let claims = claims_of(&access);

    let own = introspect(&app, (&client_id, &secret), &access).await;
    assert_eq!(
        own,
        json!({
            "active": true,
            "scope": "photos:face",
            "client_id": client_id,
            "token_type": "Bearer",
            "exp": claims["exp"],
            "iat": claims["iat"],
            "sub": client_id,
            "aud": format!("{}/v1/citizens", app.address),
            "iss": app.address,
            "jti": claims["jti"]
        })
    );
    let others = introspect(&app, (&other_id, &other_secret), &access).await;
    assert_eq!(others, json!({"active": false}), "not the caller's");
    let garbage = introspect(&app, (&client_id, &secret), "not.a.token").await;
    assert_eq!(garbage, json!({"active": false}));

    let missing = post_form(&app, "/oauth/introspect", (&client_id, &secret), &[]).await;
    assert_oauth_error(missing, 400, "invalid_request").await;
    let wrong = post_form(
        &app,
        "/oauth/introspect",
        (&client_id, "wrong"),
        &[("token", &access)],
    )
    .await;
    assert_oauth_error(wrong, 401, "invalid_client").await;
}

#[tokio::test]
async fn expired_tampered_foreign_audience_and_foreign_key_tokens_are_inactive() {
    let app = spawn_app_with(with_known_signing_key).await;
    let admin = platform_admin(&app).await;
    let (_, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let client = (client_id.as_str(), secret.as_str());
    let access = token(&app, &client_id, &secret, None).await;
    let claims = claims_of(&access);
    assert_eq!(introspect(&app, client, &access).await["active"], true);
    // Signed with the server's own key, as the server would: active.
    assert_eq!(
        introspect(&app, client, &sign(&claims, KID, KEY_SEED)).await["active"],
        true
    );

    let inactive = json!({"active": false});
    let mut tampered: Vec<String> = access.split('.').map(str::to_owned).collect();
    let mut wider = claims.clone();
    wider["scope"] = json!("photos:face photos:signature");
    tampered[1] = sign(&wider, KID, KEY_SEED)
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(
        introspect(&app, client, &tampered.join(".")).await,
        inactive
    );

    let mut elsewhere = claims.clone();
    elsewhere["aud"] = json!("https://other.example/api");
    assert_eq!(
        introspect(&app, client, &sign(&elsewhere, KID, KEY_SEED)).await,
        inactive
    );
    assert_eq!(
        introspect(&app, client, &sign(&claims, KID, [9; 32])).await,
        inactive
    );
    assert_eq!(
        introspect(&app, client, &sign(&claims, "other", [9; 32])).await,
        inactive
    );

    app.clock.advance(Duration::seconds(300));
    assert_eq!(introspect(&app, client, &access).await, inactive, "expired");
}

#[tokio::test]
async fn a_revoked_token_or_one_of_a_disabled_client_is_inactive() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (app_id, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let (_, other_id, other_secret) = register_app(
        &app,
        &admin,
        "driving_licences",
        &["photos:face", "photos:signature"],
    )
    .await;
    let client = (client_id.as_str(), secret.as_str());
    let first = token(&app, &client_id, &secret, None).await;
    let second = token(&app, &client_id, &secret, None).await;

    // Another client cannot revoke it: the answer is the same, nothing changes.
    let by_other = post_form(
        &app,
        "/oauth/revoke",
        (&other_id, &other_secret),
        &[("token", &first)],
    )
    .await;
    assert_eq!(by_other.status(), StatusCode::OK);
    assert_eq!(introspect(&app, client, &first).await["active"], true);

    for _ in 0..2 {
        let revoked = post_form(&app, "/oauth/revoke", client, &[("token", &first)]).await;
        assert_eq!(revoked.status(), StatusCode::OK, "again, the same");
    }
    assert_eq!(
        introspect(&app, client, &first).await,
        json!({"active": false})
    );
    assert_eq!(introspect(&app, client, &second).await["active"], true);
    let unknown = post_form(&app, "/oauth/revoke", client, &[("token", "not.a.token")]).await;
    assert_eq!(unknown.status(), StatusCode::OK);
    let missing = post_form(
        &app,
        "/oauth/revoke",
        client,
        &[("token_type_hint", "access_token")],
    )
    .await;
    assert_oauth_error(missing, 400, "invalid_request").await;

    let standing = |token: &str| {
        let client: ClientId = client_id.parse().unwrap();
        let jti = claims_of(token)["jti"].as_str().unwrap().to_owned();
        app.with_db(move |conn| Ok(store::standing(conn, &client, &jti)?.is_some()))
    };
    assert!(standing(&second).await);
    let disabled = app
        .post_as(&admin, &format!("/v1/apps/{app_id}/disable"))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    // What introspection and the resource endpoints ask of the database
    // now says no; the disabled client cannot even authenticate to ask.
    assert!(!standing(&second).await);
    let refused = post_form(&app, "/oauth/introspect", client, &[("token", &second)]).await;
    assert_oauth_error(refused, 401, "invalid_client").await;
    assert_eq!(
        introspect(&app, (&other_id, &other_secret), &second).await,
        json!({"active": false})
    );
}
