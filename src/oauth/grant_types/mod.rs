//! `POST /oauth/token` (RFC 6749 §3.2): the form, the grant it names, and
//! the answer. One file per grant type; `client_credentials` is the only
//! one, as every client is a ministry system acting for itself.

mod client_credentials;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::OAuth;
use super::client_auth::Credentials;
use super::error::{invalid_request, unsupported_grant_type};
use super::form::OAuthForm;
use super::responses::{
    ClientRequestsLimited, InvalidClient, OAuthServerError, OAuthUnavailable, TokenRefused,
};
use crate::db::Db;
use crate::http::ProtocolError;

/// The token request's form, for the document.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: the form is read by `OAuthForm`.
pub struct TokenRequest {
    /// Always `client_credentials`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// Space-separated scopes, a subset of those registered for the
    /// client; absent, all of them.
    #[schema(example = "photos:face")]
    scope: Option<String>,
    /// With `client_secret_post`; with HTTP Basic it may repeat the id.
    #[schema(example = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0a")]
    client_id: Option<String>,
    /// With `client_secret_post` only.
    #[schema(example = "q1U7c0e3m2kQ2Qd3b2b0Hk9Xh2x4Jp0cS4Ww1nKZt8E")]
    client_secret: Option<String>,
}

/// An access token (RFC 6749 §5.1).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// An RFC 9068 JWT (`typ: at+jwt`, EdDSA), verifiable with the keys
    /// at `/oauth/jwks`.
    #[schema(
        example = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2FwaS5leGFtcGxlIn0.c2lnbmF0dXJl"
    )]
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds the token lives (`oauth.token_lifetime_secs`, at most 600).
    #[schema(example = 300)]
    pub expires_in: i64,
    /// The scopes granted, space-separated.
    #[schema(example = "photos:face")]
    pub scope: String,
}

/// An access token for the calling application (RFC 6749 §4.4: the
/// client-credentials grant). The client authenticates with its id and
/// secret by HTTP Basic or in the form, not both; errors are RFC 6749
/// §5.2 JSON, not problem+json.
#[utoipa::path(
    tag = "applications",
    security((), ("client_basic" = [])),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Issued. Never cached (`Cache-Control: no-store`, `Pragma: no-cache`); reuse it until shortly before `expires_in` runs out.",
            body = TokenResponse,
            headers(("Pragma" = String, description = "`no-cache`"))),
        (status = 400, response = TokenRefused),
        (status = 401, response = InvalidClient),
        (status = 429, response = ClientRequestsLimited),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
#[post("/oauth/token")]
pub async fn token(
    req: HttpRequest,
    form: OAuthForm,
    oauth: web::Data<OAuth>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ProtocolError> {
    match form.get("grant_type") {
        None => return Err(invalid_request("The parameter grant_type is missing.")),
        Some("client_credentials") => {}
        Some(_) => return Err(unsupported_grant_type()),
    }
    let credentials = Credentials::presented(&req, &form)?;
    let issued =
        client_credentials::grant(&oauth, &db, &req, credentials, form.get("scope")).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(TokenResponse {
            access_token: issued.token,
            token_type: "Bearer".to_owned(),
            expires_in: issued.claims.exp - issued.claims.iat,
            scope: issued.claims.scope,
        }))
}
