//! `Authorization: Bearer` credentials, shared by sessions, the metrics
//! token and (later) application access tokens.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

use super::{ApiError, ErrorCode};

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    // RFC 7235: the scheme is case-insensitive (`bearer` is common).
    value
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
        .map(|_| value[7..].trim())
}

/// `401` with the challenge RFC 6750 asks for.
pub fn unauthenticated() -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"citizen-api\""),
    )
}
