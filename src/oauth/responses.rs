//! The error responses of the OAuth endpoints in the OpenAPI document, in
//! RFC 6749 §5.2's form. Their examples are what the endpoints answer
//! ([`super::error`]), so the document cannot drift from the server.

use utoipa::ToResponse;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Type};

use super::error;
use crate::http::{ApiError, ErrorCode, ProtocolError};

fn header(kind: Type, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(kind))
        .description(Some(description))
        .build()
}

fn retry_after() -> (&'static str, Header) {
    (
        "Retry-After",
        header(Type::Integer, "Seconds to wait before trying again."),
    )
}

/// A response whose examples are `answers`, each named by its `error`.
fn oauth_response(
    description: &str,
    answers: &[ProtocolError],
    headers: Vec<(&'static str, Header)>,
) -> RefOr<Response> {
    let mut content = ContentBuilder::new().schema(Some(Ref::from_schema_name("OAuthErrorBody")));
    content = match answers {
        [answer] => content.example(Some(answer.body().clone())),
        _ => content.examples_from_iter(answers.iter().map(|answer| {
            let body = answer.body().clone();
            let name = body["error"].as_str().unwrap_or_default().to_owned();
            (name, ExampleBuilder::new().value(Some(body)).build())
        })),
    };
    let mut builder = ResponseBuilder::new()
        .description(description)
        .content("application/json", content.build());
    for (name, doc) in headers {
        builder = builder.header(name, doc);
    }
    builder.build().into()
}

macro_rules! oauth_responses {
    ($( $(#[$doc:meta])* $name:ident => ($description:literal, [$($answer:expr),+], [$($header:expr),*]); )+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), oauth_response($description, &[$($answer),+], vec![$($header),*]))
                }
            }
        )+
    };
}

oauth_responses! {
    /// The token endpoint's `400`s.
    TokenRefused => (
        "`invalid_request`: the body is not a form, a parameter is missing or repeated, or the client authenticated both ways; `unsupported_grant_type`: not `client_credentials`; `invalid_scope`: a scope unknown or not registered for the client.",
        [
            error::invalid_request("The parameter grant_type is missing."),
            error::unsupported_grant_type(),
            error::invalid_scope("The scope photos:signature is not registered for this client.")
        ],
        []
    );
    /// Introspection's and revocation's `400`.
    TokenParameterMissing => (
        "`invalid_request`: the body is not a form, `token` is missing, a parameter is repeated, or the client authenticated both ways.",
        [error::invalid_request("The parameter token is missing.")],
        []
    );
    InvalidClient => (
        "`invalid_client`: unknown client, wrong or retired secret, or disabled client, all alike; no credentials at all is the same.",
        [error::invalid_client()],
        [("WWW-Authenticate", header(Type::String, "`Basic realm=\"citizen-api\"`."))]
    );
    ClientRequestsLimited => (
        "`temporarily_unavailable`: too many requests with this client id or from this address in the last minute; retry after `Retry-After` seconds.",
        [error::too_many_requests(std::time::Duration::from_secs(12))],
        [retry_after()]
    );
    OAuthServerError => (
        "`server_error`: an unexpected failure; it is logged, with no detail shown.",
        [error::from_api(ApiError::new(ErrorCode::InternalError))],
        []
    );
    OAuthUnavailable => (
        "`temporarily_unavailable`: the database is overloaded or unreachable; retry after `Retry-After` seconds.",
        [error::from_api(ApiError::new(ErrorCode::ServiceUnavailable))],
        [retry_after()]
    );
}
