//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3.1): the client id and secret in HTTP Basic
//! (`client_secret_basic`) or in the form (`client_secret_post`), never
//! both. An unknown client, a wrong or retired secret and a disabled
//! client answer the same `invalid_client` after the same work: an unknown
//! client's secret is checked against a dummy hash, a disabled client's
//! against its own, so neither the answer nor its time tells them apart.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diesel::QueryResult;
use secrecy::SecretString;

use super::OAuth;
use super::error::{from_api, invalid_client, invalid_request};
use super::form::OAuthForm;
use super::store::{self, AppRow};
use crate::db::{Db, DbConn};
use crate::domain::ids::ClientId;
use crate::http::{ApiError, ProtocolError};

/// What a request presents as its client's credentials.
pub struct Credentials {
    client_id: String,
    secret: SecretString,
}

impl Credentials {
    /// The credentials of `req`, by one method only.
    pub fn presented(req: &HttpRequest, form: &OAuthForm) -> Result<Credentials, ProtocolError> {
        let Some(authorization) = req.headers().get(header::AUTHORIZATION) else {
            return match (form.get("client_id"), form.get("client_secret")) {
                (Some(client_id), Some(secret)) => Ok(Credentials {
                    client_id: client_id.to_owned(),
                    secret: SecretString::from(secret),
                }),
                // No secret is no authentication: every client here is
                // confidential (RFC 6749 §2.1).
                _ => Err(invalid_client()),
            };
        };
        if form.get("client_secret").is_some() {
            return Err(invalid_request(
                "The client authenticated twice: use HTTP Basic or the form, not both.",
            ));
        }
        let basic = basic_credentials(authorization.as_bytes()).ok_or_else(invalid_client)?;
        // §2.3.1 lets the form repeat the client id; it must be the same.
        if form
            .get("client_id")
            .is_some_and(|repeated| repeated != basic.client_id)
        {
            return Err(invalid_request(
                "The client_id of the form is not the one of HTTP Basic.",
            ));
        }
        Ok(basic)
    }
}

/// `Basic base64(id:secret)`, where RFC 6749 §2.3.1 form-encodes the id
/// and the secret first; ours are URL-safe, so this only matters to
/// clients that encode anyway, and decoding is harmless to those that do
/// not.
fn basic_credentials(value: &[u8]) -> Option<Credentials> {
    let value = std::str::from_utf8(value).ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (client_id, secret) = decoded.split_once(':')?;
    let form_decode = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    Some(Credentials {
        client_id: form_decode(client_id)?,
        secret: SecretString::from(form_decode(secret)?),
    })
}

/// Authenticates the client of a request and, in the same checkout, runs
/// `also` (what the endpoint needs from the database besides the client);
/// answers the client's application and what `also` found. The request is
/// counted against its address's and its client id's allowances first, and
/// the secret is checked after the connection is back in the pool.
pub async fn authenticate<T, F>(
    oauth: &OAuth,
    db: &Db,
    req: &HttpRequest,
    credentials: Credentials,
    also: F,
) -> Result<(AppRow, T), ProtocolError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> QueryResult<T> + Clone + Send + 'static,
{
    // Only a well-formed id can be a client; any other is still checked
    // against the dummy hash, and limited by its address.
    let client = credentials.client_id.parse::<ClientId>().ok();
    oauth.admit(req, client.as_ref())?;
    let now = oauth.clock().now().naive_utc();
    let (found, also_found) = db
        .run(move |conn| {
            let found = match &client {
                Some(client) => store::client(conn, client, now)?,
                None => None,
            };
            Ok::<_, ApiError>((found, also(conn)?))
        })
        .await
        .map_err(from_api)?;
    let hashes = found
        .as_ref()
        .map(|(_, hashes)| hashes.clone())
        .unwrap_or_default();
    let matched = oauth
        .secret_matches(credentials.secret, hashes)
        .await
        .map_err(from_api)?;
    match found {
        Some((app, _)) if matched && app.disabled_at.is_none() => Ok((app, also_found)),
        _ => Err(invalid_client()),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        let header = format!("Basic {}", STANDARD.encode("my%20id:s%3Acret+x"));
        let credentials = basic_credentials(header.as_bytes()).unwrap();
        assert_eq!(credentials.client_id, "my id");
        assert_eq!(credentials.secret.expose_secret(), "s:cret x");
        let lower = format!("basic {}", STANDARD.encode("id:secret"));
        assert!(basic_credentials(lower.as_bytes()).is_some());
        assert!(basic_credentials(b"Bearer abc").is_none());
        assert!(basic_credentials(b"Basic not-base64!").is_none());
        let no_colon = format!("Basic {}", STANDARD.encode("idsecret"));
        assert!(basic_credentials(no_colon.as_bytes()).is_none());
    }
}
