//! The error responses in the OpenAPI document. Each is a reusable response
//! component with the `Problem` schema; [`document_errors`]
//! adds the ones every operation can answer, so no operation lacks them.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, Type};

use super::headers::{NamedHeader, header, rate_limit};
use super::walk::for_each_operation;
use crate::http::{ApiError, ErrorCode, Lang, PageParams, parse_path_id};

/// `example` is the code the response's example shows: its own, so that a
/// `503` never shows a `422` (issue 12, defect 5).
fn problem_response(name: &str, description: &str, example: ErrorCode) -> Response {
    let mut builder = ResponseBuilder::new();
    for (header, doc) in headers_of(name) {
        builder = builder.header(header, doc);
    }
    builder
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .example(Some(example_of(example)))
                .build(),
        )
        .build()
}

/// The problem the server answers with `code`, as a client without
/// `Accept-Language` gets it; a `validation_failed` names a field, as it
/// always does: the one of a `limit=0`.
fn example_of(code: ErrorCode) -> serde_json::Value {
    let error = if code == ErrorCode::ValidationFailed {
        let page = PageParams {
            limit: Some("0".to_owned()),
            cursor: None,
        };
        page.parse::<String>().expect_err("a limit of 0 is refused")
    } else {
        ApiError::new(code)
    };
    serde_json::to_value(error.problem(Lang::El)).expect("a problem serializes")
}

/// The headers an error answer carries besides the problem itself (and
/// besides those every answer carries, see `header_docs`).
fn headers_of(name: &str) -> Vec<NamedHeader> {
    let retry_after = || {
        (
            "Retry-After",
            header(Type::Integer, "Seconds to wait before trying again."),
        )
    };
    let www_authenticate = || {
        (
            "WWW-Authenticate",
            header(Type::String, "`Bearer realm=\"citizen-api\"` (RFC 6750)."),
        )
    };
    match name {
        "Unauthenticated" => vec![
            www_authenticate(),
            (
                "Set-Cookie",
                header(
                    Type::String,
                    "Only when the request sent a `sid` cookie whose session is over: removes it (`sid=; Max-Age=0`).",
                ),
            ),
        ],
        "MetricsUnauthenticated" => vec![www_authenticate()],
        "AppUnauthenticated" => vec![(
            "WWW-Authenticate",
            header(
                Type::String,
                "`Bearer realm=\"citizen-api\"`, with `error=\"invalid_token\"` when a token was sent (RFC 6750).",
            ),
        )],
        "PhotoRefused" => vec![(
            "WWW-Authenticate",
            header(
                Type::String,
                "Only with `insufficient_scope`: `Bearer realm=\"citizen-api\", error=\"insufficient_scope\", scope=\"…\"` (RFC 6750).",
            ),
        )],
        "RateLimited" => std::iter::once(retry_after())
            .chain(rate_limit(
                "Requests left now: 0.",
                "Seconds until the allowance is whole again.",
            ))
            .collect(),
        "ServiceUnavailable" | "LinkRefused" => vec![retry_after()],
        _ => Vec::new(),
    }
}

macro_rules! problem_responses {
    ($( $(#[$doc:meta])* $name:ident($example:ident) => $description:literal; )+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), problem_response(stringify!($name), $description, ErrorCode::$example).into())
                }
            }
        )+

        /// Every problem response, for the document's components.
        pub fn all() -> Vec<(String, RefOr<Response>)> {
            vec![$( (stringify!($name).to_owned(), problem_response(stringify!($name), $description, ErrorCode::$example).into()), )+]
        }
    };
}

problem_responses! {
    MalformedJson(MalformedJson) => "`malformed_json`: the body is not valid JSON.";
    NotFound(NotFound) => "`not_found`: no such resource.";
    PayloadTooLarge(PayloadTooLarge) => "`payload_too_large`: the body exceeds the size limit.";
    UnsupportedMediaType(UnsupportedMediaType) => "`unsupported_media_type`: the body is not `application/json`.";
    ValidationFailed(ValidationFailed) => "`validation_failed`: a parameter or field is invalid; `errors` names each one.";
    CreateRefused(ValidationFailed) => "`validation_failed`: a parameter or field is invalid; `errors` names each one. `idempotency_key_reused`: this caller sent this `Idempotency-Key` before with another body.";
    Unauthenticated(Unauthenticated) => "`unauthenticated`: no session, or it expired (30 minutes idle, 12 hours at most).";
    MetricsUnauthenticated(Unauthenticated) => "`unauthenticated`: a metrics token is configured (`ops.metrics_token`) and the request did not carry it as `Authorization: Bearer`.";
    Forbidden(Forbidden) => "`forbidden`: the caller lacks the role; `origin_not_allowed`: a cookie-authenticated change from an origin not on the allow-list.";
    RateLimited(RateLimited) => "`rate_limited`: too many requests; retry after `Retry-After` seconds.";
    BadLogin(InvalidLoginState) => "`invalid_login_state`: the `state` is unknown, used or expired, or this browser did not start the login (no matching `login_state` cookie); `login_failed`: TAXISnet declined or refused the code; `identity_provider_error`: TAXISnet could not be reached or answered something that is not a valid login.";
    NoCertifiedMobile(NoCertifiedMobile) => "`no_certified_mobile`: no mobile is certified for this AFM in the National Registry of Communication.";
    ContactRegistryUnavailable(ContactRegistryUnavailable) => "`contact_registry_unavailable`: the National Registry of Communication could not be asked.";
    BookingConflict(SlotFull) => "`slot_full`: no seat left; `slot_unavailable`: past, outside the booking window or withdrawn; `already_booked`: the citizen already holds an upcoming reservation for this service.";
    MoveConflict(SlotFull) => "`slot_full`: no seat left in the new slot; `slot_unavailable`: it is past, outside the booking window or withdrawn; `invalid_transition`: the reservation is no longer upcoming, is already in that slot, or another request cancelled or moved it meanwhile.";
    StateConflict(InvalidTransition) => "`invalid_transition`: the reservation is not in a state that allows this (e.g. already cancelled, or started).";
    AlreadyExists(AlreadyExists) => "`already_exists`: something with this name already exists here.";
    OtpRejected(OtpInvalid) => "`otp_not_requested`, `otp_invalid`, `otp_expired` (after its lifetime, `auth.otp.lifetime_secs`, five minutes by default), `otp_used`, or `otp_attempts_exceeded` (after 5 wrong tries).";
    StrongAuthRequired(StrongAuthRequired) => "`unauthenticated` is answered as 401; this 403 is `strong_auth_required`: the session was not confirmed with the SMS one-time code (R-PH-02), or `forbidden`/`origin_not_allowed` as elsewhere.";
    CodeNotFound(CodeNotFound) => "`code_not_found`: no such kodikarithmos for this AFM: unknown, expired before any link, deleted, or bound to another AFM all answer alike.";
    CodeTries(RateLimited) => "`rate_limited`: too many kodikarithmos tries for this AFM (per hour) or from this address (per minute); retry after `Retry-After` seconds.";
    LinkConflict(AlreadyLinked) => "`already_linked`: another kodikarithmos is linked to this AFM; unlink it first (R-PH-06).";
    CodeExpired(CodeExpired) => "`code_expired`: past the window to link: two weeks from creation for a first link (R-PH-08), twelve months for a relink (R-PH-10).";
    LinkRefused(DailyLimitReached) => "`daily_limit_reached`: five link and unlink operations today, Athens time (R-PH-07); `Retry-After` counts the seconds to the next Athens midnight. `rate_limited`: too many kodikarithmos tries; retry after `Retry-After` seconds.";
    NotLinked(NotLinked) => "`not_linked`: no kodikarithmos is linked to this AFM.";
    NothingLinked(NothingLinked) => "`nothing_linked`: no photos are linked to this AFM; link them first, then authorize applications (R-PH-15).";
    AppUnauthenticated(InvalidToken) => "`invalid_token`: the access token is malformed, expired, revoked, not issued by this service, or its application was disabled; request a new one. `unauthenticated`: no access token. `WWW-Authenticate` says which (RFC 6750 §3).";
    PhotoRefused(ConsentRequired) => "`consent_required`: the citizen has not authorized this application, or revoked it, or unlinked the photos it was given on: the same answer whether the citizen is unknown, has no photos, or has photos (R-PH-15). `insufficient_scope`: the access token was not issued for this image, with `WWW-Authenticate` naming the scope it needs (R-PH-18).";
    SubmissionInUse(SubmissionInUse) => "`submission_in_use`: a citizen has linked this upload; only they can unlink it.";
    AppDisabled(AppDisabled) => "`app_disabled`: the application was disabled; it gets no new secret.";
    UploadTooLarge(ImageTooLarge) => "`image_too_large`: an image has more bytes than its bound (`errors[0].field` names it); `payload_too_large`: a text part exceeds its cap.";
    UploadTypeRefused(ImageTypeNotAllowed) => "`image_type_not_allowed`: an image is not a JPEG (face) or a JPEG or PNG (signature), judged from its bytes, or not the type it was declared as; `unsupported_media_type`: the body is not `multipart/form-data`.";
    UploadRefused(ImageUnreadable) => "`image_unreadable`, `image_too_small`, `image_dimensions_out_of_bounds` (decompression bombs included), `image_orientation_not_applied`: the image named in `errors[0].field` is refused; `validation_failed`: a part is missing, unknown, repeated or invalid (no contact given, R-PH-04).";
    InternalError(InternalError) => "`internal_error`: an unexpected failure; it is logged, with no detail shown.";
    ServiceUnavailable(ServiceUnavailable) => "`service_unavailable`: the database is overloaded or unreachable; retry after `Retry-After` seconds.";
}

/// Adds, to every operation, the `Accept-Language` parameter and the error
/// responses any request can meet: 500 and 503 always, and 400/413/415 where
/// the operation takes a body. Operations at `own_format` answer their
/// errors in a form a protocol fixes (the OAuth endpoints, RFC 6749 §5.2)
/// and document each themselves.
pub fn document_errors(document: &mut OpenApi, own_format: &[&str]) {
    let components = document.components.get_or_insert_with(Default::default);
    components.responses.extend(all());
    let shared = components.responses.clone();
    for_each_operation(&mut document.paths, |path, operation| {
        if own_format.contains(&path) {
            return;
        }
        add_standard_errors(operation);
        name_own_path_parameter(operation, &shared);
    });
}

/// A `422` of an operation with a path id shows the refusal of that id
/// (any id that is not a UUID), not of a field the operation does not
/// have: the operation gets its own copy of the shared response.
fn name_own_path_parameter(operation: &mut Operation, shared: &BTreeMap<String, RefOr<Response>>) {
    let Some(parameter) = operation
        .parameters
        .iter()
        .flatten()
        .find(|parameter| parameter.parameter_in == ParameterIn::Path)
    else {
        return;
    };
    let Some(RefOr::Ref(reference)) = operation.responses.responses.get("422") else {
        return;
    };
    let name = reference
        .ref_location
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let Some(RefOr::T(mut response)) = shared.get(name).cloned() else {
        return;
    };
    let mut problem = parse_path_id::<uuid::Uuid>("", "id")
        .expect_err("an empty id is refused")
        .problem(Lang::El);
    for error in &mut problem.errors {
        error.field.clone_from(&parameter.name);
    }
    if let Some(content) = response.content.get_mut("application/problem+json") {
        content.example = Some(serde_json::to_value(problem).expect("a problem serializes"));
    }
    operation
        .responses
        .responses
        .insert("422".to_owned(), RefOr::T(response));
}

fn add_standard_errors(operation: &mut Operation) {
    let mut add = |status: &str, name: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| Ref::from_response_name(name).into());
    };
    add("500", "InternalError");
    add("503", "ServiceUnavailable");
    if operation.request_body.is_some() {
        add("400", "MalformedJson");
        add("413", "PayloadTooLarge");
        add("415", "UnsupportedMediaType");
    }
    operation.parameters.get_or_insert_with(Vec::new).push(
        ParameterBuilder::new()
            .name("Accept-Language")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("Language of error texts: `el` (default) or `en`."))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .examples(["en"]),
            ))
            .build(),
    );
}
