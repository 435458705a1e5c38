//! The client-credentials grant (RFC 6749 §4.4): an authenticated client
//! gets a token for the scopes it asks, if they are among those it was
//! registered with, or for all of those when it asks none.

use actix_web::HttpRequest;

use crate::db::Db;
use crate::http::{ApiError, ProtocolError};
use crate::oauth::OAuth;
use crate::oauth::access_token::Issued;
use crate::oauth::client_auth::{self, Credentials};
use crate::oauth::error::{from_api, invalid_scope};
use crate::oauth::scope::Scopes;

pub(super) async fn grant(
    oauth: &OAuth,
    db: &Db,
    req: &HttpRequest,
    credentials: Credentials,
    scope: Option<&str>,
) -> Result<Issued, ProtocolError> {
    // Unknown names are refused before the secret is checked: the answer
    // says nothing about the client.
    let asked = scope.map(Scopes::parse).transpose().map_err(|_| {
        invalid_scope("Unknown scope: the scopes are photos:face and photos:signature.")
    })?;
    let (app, ()) = client_auth::authenticate(oauth, db, req, credentials, |_| Ok(())).await?;
    let registered =
        Scopes::parse(&app.scopes).map_err(|stored| from_api(ApiError::internal(stored)))?;
    let granted = match asked {
        Some(asked) if !asked.is_subset(&registered) => {
            return Err(invalid_scope(
                "A scope asked is not registered for this client.",
            ));
        }
        Some(asked) if !asked.is_empty() => asked,
        _ => registered,
    };
    Ok(oauth.issue(&app.client_id, &granted))
}
