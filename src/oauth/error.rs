//! The errors of the OAuth endpoints, in the form RFC 6749 §5.2 gives them
//! (RFC 7662 and RFC 7009 reuse it): `{"error","error_description"}` JSON,
//! `400` unless said otherwise, which OAuth client libraries parse. They
//! leave as [`ProtocolError`]s, which the problem+json middleware passes
//! on untouched. Descriptions are English ASCII without `"` or `\`, as
//! §5.2 requires of `error_description`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::http::rate_limit::seconds;
use crate::http::{ApiError, ErrorCode, ProtocolError};

/// The `error` codes these endpoints answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "invalid_client")]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated or malformed, the body is not a
    /// form, or the client authenticated in two ways at once.
    InvalidRequest,
    /// The client is unknown, its secret wrong or retired, or it was
    /// disabled: all alike.
    InvalidClient,
    /// A `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
    /// A scope that is unknown or not registered for the client.
    InvalidScope,
    /// Too many requests (`429`), or the service is overloaded (`503`);
    /// retry after `Retry-After` seconds.
    TemporarilyUnavailable,
    /// An unexpected failure, logged.
    ServerError,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorCode::ServerError => "server_error",
        }
    }
}

/// An error answer of the OAuth endpoints (RFC 6749 §5.2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    pub error: OAuthErrorCode,
    /// What was wrong, in English, for the integrator's log.
    #[schema(example = "The scope photos:signature is not registered for this client.")]
    pub error_description: String,
}

fn answer(status: StatusCode, code: OAuthErrorCode, description: &str) -> ProtocolError {
    ProtocolError::new(
        status,
        json!({ "error": code.as_str(), "error_description": description }),
    )
}

pub fn invalid_request(description: &str) -> ProtocolError {
    answer(
        StatusCode::BAD_REQUEST,
        OAuthErrorCode::InvalidRequest,
        description,
    )
}

/// RFC 6749 §5.2: `401` with a challenge for the scheme the client can use.
/// One text for every cause, so that the answer tells nothing of which.
pub fn invalid_client() -> ProtocolError {
    answer(
        StatusCode::UNAUTHORIZED,
        OAuthErrorCode::InvalidClient,
        "Client authentication failed: unknown client, wrong or retired secret, or disabled client.",
    )
    .with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"citizen-api\""),
    )
}

pub fn unsupported_grant_type() -> ProtocolError {
    answer(
        StatusCode::BAD_REQUEST,
        OAuthErrorCode::UnsupportedGrantType,
        "The only grant type is client_credentials.",
    )
}

pub fn invalid_scope(description: &str) -> ProtocolError {
    answer(
        StatusCode::BAD_REQUEST,
        OAuthErrorCode::InvalidScope,
        description,
    )
}

/// `429`: the allowance of the client id or of the client address is spent.
pub fn too_many_requests(wait: std::time::Duration) -> ProtocolError {
    answer(
        StatusCode::TOO_MANY_REQUESTS,
        OAuthErrorCode::TemporarilyUnavailable,
        "Too many requests from this client; retry after Retry-After seconds.",
    )
    .with_header(header::RETRY_AFTER, seconds(wait))
}

/// A failure of the service's own (the database, the blocking pool) in
/// these endpoints' form: `503 temporarily_unavailable` with the
/// `Retry-After` the problem carried, else `500 server_error` (the cause
/// was logged where the `ApiError` was made).
pub fn from_api(error: ApiError) -> ProtocolError {
    if error.code() == ErrorCode::ServiceUnavailable {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            OAuthErrorCode::TemporarilyUnavailable,
            "The service is overloaded; retry after Retry-After seconds.",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        OAuthErrorCode::ServerError,
        "An unexpected error occurred; it was logged.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6749 §5.2: `error_description` is `%x20-21 / %x23-5B / %x5D-7E`.
    fn is_rfc_6749_text(text: &str) -> bool {
        text.bytes()
            .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    }

    #[test]
    fn every_answer_is_rfc_6749_json() {
        let answers = [
            invalid_request("The parameter grant_type is missing."),
            invalid_client(),
            unsupported_grant_type(),
            invalid_scope("Unknown scope."),
            too_many_requests(std::time::Duration::from_millis(1500)),
            from_api(ApiError::database_unavailable()),
            from_api(ApiError::new(ErrorCode::InternalError)),
        ];
        for answer in answers {
            let body = answer.body();
            let code = body["error"].as_str().unwrap();
            let parsed: OAuthErrorBody = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(parsed.error.as_str(), code);
            assert!(is_rfc_6749_text(&parsed.error_description), "{body}");
        }
    }
}
