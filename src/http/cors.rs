//! Cross-origin requests from the municipal frontends. The same allow-list
//! that guards cookie-authenticated writes (CSRF, `auth.allowed_origins`)
//! names the origins a browser may call the API from, with credentials.
//! A request from another origin is not refused here: it simply gets no
//! CORS headers, so a browser keeps the answer from the page, and the
//! handlers' own origin check still answers `403 origin_not_allowed` to a
//! cookie-authenticated write.

use actix_cors::Cors;
use actix_web::http::header::{self, HeaderName};

use super::idempotency::IDEMPOTENCY_KEY;

/// Headers a page may read from an answer besides the CORS-safelisted ones.
const EXPOSED: [&str; 9] = [
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "retry-after",
    "idempotent-replayed",
    "x-request-id",
    "content-language",
    "location",
    "www-authenticate",
];

/// `origins` must be valid origins (`scheme://host[:port]`), which the
/// settings check at start ([`is_origin`]).
pub fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::CONTENT_TYPE,
            IDEMPOTENCY_KEY,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers(EXPOSED.map(HeaderName::from_static))
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(3600)
}

/// Whether `text` is an origin as browsers send it in `Origin`: a scheme,
/// a host and maybe a port, no path (not even `/`), no user, query or
/// fragment. An entry with a trailing slash would never match.
pub fn is_origin(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.origin().ascii_serialization() == text
    })
}

#[cfg(test)]
mod tests {
    use super::is_origin;

    #[test]
    fn an_origin_is_scheme_host_and_port_only() {
        for good in [
            "https://mydimos.kalamata.gr",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "https://mydimos.kalamata.gr/",
            "https://mydimos.kalamata.gr/app",
            "mydimos.kalamata.gr",
            "https://user@mydimos.kalamata.gr",
            "ftp://mydimos.kalamata.gr",
            "https://mydimos.kalamata.gr:443",
            "*",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
