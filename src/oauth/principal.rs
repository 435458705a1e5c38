//! An application calling with its access token, as a handler states it:
//! `AppCaller`. The extractor checks the token itself (signature, type,
//! issuer, audience, lifetime: no database); inside the handler's
//! `Db::run`, [`AppCaller::resolve`] asks the database whether it still
//! counts (not revoked, its application not disabled), on every request,
//! so that either bites on the very next call on every instance.
//!
//! Refusals follow RFC 6750 §3: no token is `401` with a bare `Bearer`
//! challenge; a bad, expired or revoked one `401 invalid_token`; a token
//! without the scope `403 insufficient_scope`, each said in
//! `WWW-Authenticate` as well as in the problem's `code`.

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, web};

use super::OAuth;
use super::access_token::Verified;
use super::scope::{Scope, Scopes};
use super::store::{self, AppRow};
use crate::db::DbConn;
use crate::domain::ids::{AppId, ClientId};
use crate::http::{ApiError, ErrorCode};
use crate::http::{bearer_token, unauthenticated};

/// A caller's access token, checked but not yet looked up.
#[derive(Debug, Clone)]
pub struct AppCaller {
    token: Verified,
}

/// The application behind a token that counts, with the token's scopes.
#[derive(Debug, Clone)]
pub struct App {
    pub id: AppId,
    pub client_id: ClientId,
    pub name: String,
    pub scopes: Scopes,
}

impl AppCaller {
    /// The application, if the token still counts; else `invalid_token`.
    pub fn resolve(&self, conn: &mut DbConn) -> Result<App, ApiError> {
        let row: AppRow = store::standing(conn, &self.token.client_id, &self.token.jti)?
            .ok_or_else(|| invalid_token("The access token was revoked or its client disabled."))?;
        Ok(App {
            id: row.id,
            client_id: row.client_id,
            name: row.name,
            scopes: self.token.scopes.clone(),
        })
    }
}

impl App {
    /// Refuses a token that was not issued for `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            return Ok(());
        }
        let challenge = format!(
            "Bearer realm=\"citizen-api\", error=\"insufficient_scope\", scope=\"{}\"",
            scope.as_str()
        );
        Err(ApiError::new(ErrorCode::InsufficientScope).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::try_from(challenge).expect("a scope is plain ASCII"),
        ))
    }
}

/// `401 invalid_token`, with the RFC 6750 challenge; `description` is
/// plain ASCII without quotes.
fn invalid_token(description: &'static str) -> ApiError {
    let challenge = format!(
        "Bearer realm=\"citizen-api\", error=\"invalid_token\", error_description=\"{description}\""
    );
    ApiError::new(ErrorCode::InvalidToken).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::try_from(challenge).expect("descriptions are plain ASCII"),
    )
}

impl FromRequest for AppCaller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<AppCaller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(read(req))
    }
}

fn read(req: &HttpRequest) -> Result<AppCaller, ApiError> {
    let oauth = req
        .app_data::<web::Data<OAuth>>()
        .ok_or_else(|| ApiError::internal("the authorization server is not configured"))?;
    let token = bearer_token(req).ok_or_else(unauthenticated)?;
    match oauth.verify(token) {
        Ok(token) => Ok(AppCaller { token }),
        Err(refusal) => {
            tracing::info!(%refusal, "an access token was refused");
            Err(invalid_token(
                "The access token is malformed, expired or not issued by this service.",
            ))
        }
    }
}
