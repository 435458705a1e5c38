//! The OpenAPI document: info, tags and shared components here; the paths
//! come from the routes themselves (utoipa-actix-web), so none is missed.

use actix_web::App;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::domain::Afm;
use crate::http::{FieldProblem, Problem, header_docs, problem_docs};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "citizen-api",
        description = "Public API of two Greek public services: in-person appointments with \
                       municipal departments, and ID photos that citizens link to their tax id \
                       and share, with consent, with ministry applications.\n\n\
                       Errors are RFC 9457 `application/problem+json` with a stable `code`; \
                       texts follow `Accept-Language` (`el` by default, or `en`).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    tags(
        (name = "catalogue", description = "Municipalities and the services they offer. Public."),
        (name = "authentication", description = "TAXISnet login, sessions and the SMS one-time code. \
            Sessions travel as the `sid` cookie (HttpOnly, SameSite=Lax) or as `Authorization: Bearer`; \
            they end after 30 minutes without activity or 12 hours in all."),
        (name = "reservations", description = "A citizen's appointments: book, list, rectify, cancel, reschedule (R-BK-02 .. R-BK-06, R-BK-11). \
            Times are in the municipality's zone (Europe/Athens: `+02:00` in winter, `+03:00` in summer)."),
        (name = "desk", description = "The serving department's staff: the day's reservations, identity check, completion, no-shows (R-BK-06, R-BK-08). Every access is audited (R-BK-10)."),
        (name = "schedules", description = "Opening hours, booking windows, Greek public holidays and slot generation (R-BK-09)."),
        (name = "administration", description = "Municipality administrators and department staff (R-BK-08, R-BK-09)."),
        (name = "operations", description = "Health, readiness and metrics, for operators."),
    ),
    // Relative: the document is served by the API it describes, so a client
    // resolves it against wherever it fetched `/openapi.json` from.
    servers((url = "/", description = "The server that serves this document.")),
    // `Afm` is named by path parameters, which utoipa does not collect.
    components(schemas(Problem, FieldProblem, Afm)),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "sid",
                "The session cookie set by `/v1/auth/callback`.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The session token from `/v1/auth/callback`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The operators' token for `/metrics` (`ops.metrics_token`); \
                         required when configured, which production requires.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The complete document, as served at `/openapi.json` and committed as
/// `openapi/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::app::routes)
        .split_for_parts();
    problem_docs::document_errors(&mut document);
    header_docs::document_headers(&mut document);
    mark_public_operations(&mut document);
    drop_unused_components(&mut document);
    document
}

/// An operation with no security requirement says so with an empty list,
/// so a reader (and a linter) can tell "public" from "forgotten".
fn mark_public_operations(document: &mut utoipa::openapi::OpenApi) {
    problem_docs::for_each_operation(&mut document.paths, |_, operation| {
        operation.security.get_or_insert_with(Vec::new);
    });
}

/// Removes the components nothing refers to: generic pages inline their
/// items, and `header_docs` gives some operations their own copy of a shared
/// response. Repeats until stable, as a removed component may have been the
/// last one to refer to another.
fn drop_unused_components(document: &mut utoipa::openapi::OpenApi) {
    loop {
        let json = serde_json::to_string(&*document).expect("the document serializes");
        let used =
            |kind: &str, name: &str| json.contains(&format!("\"#/components/{kind}/{name}\""));
        let Some(components) = document.components.as_mut() else {
            return;
        };
        let before = components.schemas.len() + components.responses.len();
        components.schemas.retain(|name, _| used("schemas", name));
        components
            .responses
            .retain(|name, _| used("responses", name));
        if components.schemas.len() + components.responses.len() == before {
            return;
        }
    }
}

/// The committed form: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the document serializes");
    json.push('\n');
    json
}
