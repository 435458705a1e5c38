//! `POST /oauth/introspect` (RFC 7662): an application asks whether one of
//! its own tokens still counts. Another client's token, like a token that
//! is malformed, expired, signed by another key, revoked or of a disabled
//! client, is just `{"active": false}`: the answer never says whose a
//! token is, nor why it does not count.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::OAuth;
use super::access_token::Verified;
use super::client_auth::{Credentials, authenticate};
use super::form::OAuthForm;
use super::responses::{
    ClientRequestsLimited, InvalidClient, OAuthServerError, OAuthUnavailable, TokenParameterMissing,
};
use super::store;
use crate::db::Db;
use crate::http::ProtocolError;

/// The form of introspection and revocation, for the document; the client
/// authenticates as at the token endpoint.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: the form is read by `OAuthForm`.
pub struct TokenForm {
    /// The access token.
    #[schema(
        example = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2FwaS5leGFtcGxlIn0.c2lnbmF0dXJl"
    )]
    token: String,
    /// `access_token`, the only kind there is; any value is accepted
    /// (RFC 7009 §2.1, RFC 7662 §2.1: a hint only).
    #[schema(example = "access_token")]
    token_type_hint: Option<String>,
    /// With `client_secret_post`; with HTTP Basic it may repeat the id.
    #[schema(example = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a")]
    client_id: Option<String>,
    /// With `client_secret_post` only.
    #[schema(example = "q1U7c0e3m2kQ2Qd3b2b0Hk9Xh2x4Jp0cS4Ww1nKZt8E")]
    client_secret: Option<String>,
}

/// What a token is (RFC 7662 §2.2): of a token that does not count, only
/// `active: false`; of one that counts, its claims besides.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "active": true,
    "scope": "photos:face",
    "client_id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a",
    "token_type": "Bearer",
    "exp": 1796205900,
    "iat": 1796205600,
    "sub": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a",
    "aud": "https://api.example.gr/v1/citizens",
    "iss": "https://api.example.gr",
    "jti": "3f1c9a2e-7b4d-4e0a-9c55-0d2b6f8e1a47"
}))]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The client itself: the grant is the client's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    fn inactive() -> Introspection {
        Introspection {
            active: false,
            scope: None,
            client_id: None,
            token_type: None,
            exp: None,
            iat: None,
            sub: None,
            aud: None,
            iss: None,
            jti: None,
        }
    }

    fn active(token: Verified, oauth: &OAuth) -> Introspection {
        let settings = oauth.token_settings();
        Introspection {
            active: true,
            scope: Some(token.scopes.to_string()),
            client_id: Some(token.client_id.to_string()),
            token_type: Some("Bearer".to_owned()),
            exp: Some(token.expires_at.timestamp()),
            iat: Some(token.issued_at.timestamp()),
            sub: Some(token.client_id.to_string()),
            aud: Some(settings.audience.clone()),
            iss: Some(settings.issuer.clone()),
            jti: Some(token.jti),
        }
    }
}

/// Whether one of the calling application's access tokens still counts
/// (RFC 7662): not expired, not revoked, its client not disabled.
#[utoipa::path(
    tag = "applications",
    security((), ("client_basic" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is; `{\"active\": false}` for any token that does not count or is not the caller's.", body = Introspection),
        (status = 400, response = TokenParameterMissing),
        (status = 401, response = InvalidClient),
        (status = 429, response = ClientRequestsLimited),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
#[post("/oauth/introspect")]
pub async fn introspect(
    req: HttpRequest,
    form: OAuthForm,
    oauth: web::Data<OAuth>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ProtocolError> {
    let token = form.token()?;
    let credentials = Credentials::presented(&req, &form)?;
    // Signature, key, audience and lifetime need no database; whether it
    // was revoked or its client disabled is asked in the client's lookup.
    let verified = oauth.verify(token).ok();
    let asked = verified.clone();
    let (app, standing) = authenticate(&oauth, &db, &req, credentials, move |conn| {
        asked.map_or(Ok(false), |token| {
            store::standing(conn, &token.client_id, &token.jti).map(|app| app.is_some())
        })
    })
    .await?;
    let answer = verified
        .filter(|token| standing && token.client_id == app.client_id)
        .map_or_else(Introspection::inactive, |token| {
            Introspection::active(token, &oauth)
        });
    Ok(HttpResponse::Ok().json(answer))
}
