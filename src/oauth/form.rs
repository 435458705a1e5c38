//! The body of the OAuth endpoints: `application/x-www-form-urlencoded`
//! only (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1), read with a cap,
//! each parameter at most once, an empty one as if it were absent (§3.1).
//! Every refusal is `invalid_request` in RFC 6749's form, not problem+json,
//! which is why this is an extractor of its own and not `web::Form`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;

use super::error::invalid_request;
use crate::http::ProtocolError;

/// The most a form of these endpoints needs: a token of about 800 bytes,
/// a client id and secret, the scopes.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// A form's parameters, each named once.
#[derive(Debug)]
pub struct OAuthForm(Vec<(String, String)>);

impl OAuthForm {
    /// The value of `name`; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    /// The `token` of an introspection or revocation (RFC 7662 §2.1, RFC
    /// 7009 §2.1), which both require.
    pub fn token(&self) -> Result<&str, ProtocolError> {
        self.get("token")
            .ok_or_else(|| invalid_request("The parameter token is missing."))
    }

    /// Parses a form body, refusing a parameter given twice.
    pub fn parse(body: &[u8]) -> Result<OAuthForm, ProtocolError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| invalid_request("The body is not a valid form."))?;
        for (at, (name, _)) in pairs.iter().enumerate() {
            if pairs[..at].iter().any(|(seen, _)| seen == name) {
                return Err(invalid_request(
                    "A parameter is repeated; each is sent at most once.",
                ));
            }
        }
        Ok(OAuthForm(pairs))
    }
}

impl FromRequest for OAuthForm {
    type Error = ProtocolError;
    type Future = LocalBoxFuture<'static, Result<OAuthForm, ProtocolError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<mime::Mime>().ok())
            .is_some_and(|mime| mime.essence_str() == "application/x-www-form-urlencoded");
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_form {
                return Err(invalid_request(
                    "The body must be application/x-www-form-urlencoded.",
                ));
            }
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| invalid_request("The body could not be read."))?;
                if body.len() + chunk.len() > MAX_FORM_BYTES {
                    return Err(invalid_request("The body exceeds 8192 bytes."));
                }
                body.extend_from_slice(&chunk);
            }
            OAuthForm::parse(&body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_names_each_parameter_once_and_empty_is_absent() {
        let form = OAuthForm::parse(b"grant_type=client_credentials&scope=&x=a%20b").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), None);
        assert_eq!(form.get("x"), Some("a b"));
        assert_eq!(form.get("missing"), None);
        let repeated = OAuthForm::parse(b"scope=photos:face&scope=photos:face").unwrap_err();
        assert_eq!(repeated.body()["error"], "invalid_request");
    }
}
