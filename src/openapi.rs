//! The OpenAPI document: info, tags and shared components here; the paths
//! come from the routes themselves (utoipa-actix-web), so none is missed.

use actix_web::App;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::http::{FieldProblem, Problem, problem_docs};

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
        (name = "operations", description = "Health, readiness and metrics, for operators."),
    ),
    components(schemas(Problem, FieldProblem)),
)]
struct ApiDoc;

/// The complete document, as served at `/openapi.json` and committed as
/// `openapi/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::app::routes)
        .split_for_parts();
    problem_docs::document_errors(&mut document);
    document
}

/// The committed form: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the document serializes");
    json.push('\n');
    json
}
