//! Cross-origin requests from the municipal frontends. The same allow-list
//! that guards cookie-authenticated writes (CSRF, `auth.allowed_origins`)
//! names the origins a browser may call the API from, with credentials.
//! A request from another origin is not refused here: it simply gets no
//! CORS headers, so a browser keeps the answer from the page, and the
//! handlers' own origin check still answers `403 origin_not_allowed` to a
//! cookie-authenticated write.

use actix_cors::Cors;
use actix_web::http::header::{self, HeaderName};

use super::IDEMPOTENCY_KEY;

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
/// settings check at start ([`crate::config::is_origin`]).
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
