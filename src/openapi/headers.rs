//! The response headers that middleware adds, in the OpenAPI document.
//! Handlers do not set them, so their annotations cannot say them; this
//! pass writes them on every response they appear on: `X-Request-Id` on
//! all, `RateLimit-*` on every answer of a rate-limited scope, and
//! `Idempotent-Replayed` on the answers that operations taking an
//! `Idempotency-Key` keep and replay.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderName;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Type};

use super::walk::for_each_operation;

/// What the headers pass must know of the middleware. The composition root
/// gives it, so that this module imports nothing from the layers above it.
#[derive(Clone)]
pub struct Middleware {
    /// The path prefix whose every answer carries `RateLimit-*`.
    pub rate_limited_scope: &'static str,
    /// The request header that makes an operation idempotent.
    pub idempotency_key: HeaderName,
    /// Which answers of an idempotent operation are kept and replayed.
    pub is_kept: fn(StatusCode) -> bool,
}

pub(super) type NamedHeader = (&'static str, Header);

pub(super) fn header(kind: Type, description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(kind))
        .description(Some(description))
        .build()
}

fn request_id() -> NamedHeader {
    (
        "X-Request-Id",
        header(
            Type::String,
            "The request's id: the caller's own `X-Request-Id` if it was 1-128 visible ASCII characters, else a new UUID. Quote it when reporting a problem.",
        ),
    )
}

/// The allowance headers of a limited scope; a `429` words them its own way.
pub(super) fn rate_limit(remaining: &str, reset: &str) -> [NamedHeader; 3] {
    [
        (
            "RateLimit-Limit",
            header(
                Type::Integer,
                "Requests allowed per minute from this client.",
            ),
        ),
        ("RateLimit-Remaining", header(Type::Integer, remaining)),
        ("RateLimit-Reset", header(Type::Integer, reset)),
    ]
}

fn replayed() -> NamedHeader {
    (
        "Idempotent-Replayed",
        header(
            Type::Boolean,
            "`true` when this is the kept answer to an earlier request with the same `Idempotency-Key` and body; absent otherwise.",
        ),
    )
}

/// What a response of `operation` at `path` carries besides `X-Request-Id`
/// and its own headers.
fn operation_headers(
    middleware: &Middleware,
    path: &str,
    operation: &Operation,
    status: &str,
) -> Vec<NamedHeader> {
    let mut headers = Vec::new();
    // A 429 comes from the limiter itself and documents these already.
    if path.starts_with(&format!("{}/", middleware.rate_limited_scope)) && status != "429" {
        headers.extend(rate_limit(
            "Requests left in the current allowance.",
            "Seconds until the allowance is whole again.",
        ));
    }
    let idempotent = operation.parameters.iter().flatten().any(|parameter| {
        parameter.parameter_in == ParameterIn::Header
            && parameter
                .name
                .eq_ignore_ascii_case(middleware.idempotency_key.as_str())
    });
    let kept = status
        .parse()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .is_some_and(middleware.is_kept);
    if idempotent && kept {
        headers.push(replayed());
    }
    headers
}

fn add(response: &mut Response, headers: impl IntoIterator<Item = NamedHeader>) {
    for (name, doc) in headers {
        response.headers.entry(name.to_owned()).or_insert(doc);
    }
}

/// States the form of the `Idempotency-Key` header wherever an operation
/// takes it: one rule, checked by `idempotency`, so one place says it.
fn document_idempotency_key(operation: &mut Operation, name: &HeaderName) {
    let key = operation.parameters.iter_mut().flatten().find(|parameter| {
        parameter.parameter_in == ParameterIn::Header
            && parameter.name.eq_ignore_ascii_case(name.as_str())
    });
    if let Some(key) = key {
        key.schema = Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[\x21-\x7E]{1,255}$"))
                .examples(["3f1c9a2e-7b4d-4e0a-9c55-0d2b6f8e1a47"])
                .into(),
        );
        key.description.get_or_insert_with(|| {
            "1-255 visible ASCII characters; the same key and body answer the first response again."
                .to_owned()
        });
    }
}

/// Writes the middleware's headers on every response of `document`.
pub fn document_headers(document: &mut OpenApi, middleware: Middleware) {
    let components = document.components.get_or_insert_with(Default::default);
    for response in components.responses.values_mut() {
        if let RefOr::T(response) = response {
            add(response, [request_id()]);
        }
    }
    let shared = components.responses.clone();
    for_each_operation(&mut document.paths, |path, operation| {
        document_idempotency_key(operation, &middleware.idempotency_key);
        let statuses: Vec<String> = operation.responses.responses.keys().cloned().collect();
        for status in statuses {
            let extra = operation_headers(&middleware, path, operation, &status);
            let response = operation
                .responses
                .responses
                .get_mut(&status)
                .expect("a status listed above");
            if let RefOr::Ref(reference) = response {
                // A shared response carries what every use of it
                // carries; more needs this operation's own copy.
                if extra.is_empty() {
                    continue;
                }
                let name = reference
                    .ref_location
                    .rsplit('/')
                    .next()
                    .unwrap_or_default();
                let Some(RefOr::T(component)) = shared.get(name) else {
                    continue;
                };
                *response = RefOr::T(component.clone());
            }
            if let RefOr::T(response) = response {
                add(response, std::iter::once(request_id()).chain(extra));
            }
        }
    });
}
