//! `POST /oauth/revoke` (RFC 7009): an application ends one of its own
//! tokens before it expires, on every instance from the next request on.
//! The answer is `200` whatever the token: unknown, malformed, expired,
//! already revoked, or another client's, which is left alone (RFC 7009
//! would refuse that one with an error, and so tell the caller that the
//! token is real and someone else's).

use actix_web::{HttpRequest, HttpResponse, post, web};

use super::OAuth;
use super::client_auth::{Credentials, authenticate};
use super::error::from_api;
use super::form::OAuthForm;
use super::introspection::TokenForm;
use super::responses::{
    ClientRequestsLimited, InvalidClient, OAuthServerError, OAuthUnavailable, TokenParameterMissing,
};
use super::store;
use crate::db::Db;
use crate::http::{ApiError, ProtocolError};

/// Revokes one of the calling application's access tokens (RFC 7009).
#[utoipa::path(
    tag = "applications",
    security((), ("client_basic" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token no longer counts, if it was the caller's; the same answer for any other token."),
        (status = 400, response = TokenParameterMissing),
        (status = 401, response = InvalidClient),
        (status = 429, response = ClientRequestsLimited),
        (status = 500, response = OAuthServerError),
        (status = 503, response = OAuthUnavailable),
    )
)]
#[post("/oauth/revoke")]
pub async fn revoke(
    req: HttpRequest,
    form: OAuthForm,
    oauth: web::Data<OAuth>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ProtocolError> {
    let token = form.token()?;
    let credentials = Credentials::presented(&req, &form)?;
    let verified = oauth.verify(token).ok();
    let (app, ()) = authenticate(&oauth, &db, &req, credentials, |_| Ok(())).await?;
    // A second checkout: the write may only follow the secret's check, and
    // no connection is held across that.
    if let Some(token) = verified.filter(|token| token.client_id == app.client_id) {
        let expires_at = token.expires_at.naive_utc();
        db.run(move |conn| {
            store::revoke(conn, &token.jti, &app.id, expires_at).map_err(ApiError::from)
        })
        .await
        .map_err(from_api)?;
    }
    Ok(HttpResponse::Ok().finish())
}
