//! The OpenAPI document: info, tags and shared components here; the paths
//! come from the routes themselves (utoipa-actix-web), so none is missed.

use actix_web::App;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use super::routes::routes;
use crate::domain::Afm;
use crate::http::rate_limit::LIMITED_SCOPE;
use crate::http::{FieldProblem, IDEMPOTENCY_KEY, Problem};
use crate::oauth::error::OAuthErrorBody;
use crate::oauth::responses::{
    ClientRequestsLimited, InvalidClient, OAuthServerError, OAuthUnavailable,
    TokenParameterMissing, TokenRefused,
};
use crate::oauth::{PROTOCOL_PATHS, Scope};
use crate::{idempotency, openapi};

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
        (name = "photos", description = "ID photos (R-PH-*): studios upload a citizen's face photo and signature; \
            the citizen previews them, links them to their AFM with the kodikarithmos, downloads and unlinks them. \
            Every `/v1/me/photos` endpoint needs a session confirmed with the SMS one-time code (R-PH-02)."),
        (name = "applications", description = "Third-party applications (ministry systems): platform admins register them; \
            each gets an OAuth2 client and takes short-lived access tokens with the client-credentials grant (RFC 6749 §4.4). \
            The `/oauth/*` endpoints answer errors as RFC 6749 §5.2 JSON (`error`, `error_description`), not problem+json. \
            In Swagger UI, \"Authorize\" with `oauth2` takes a token with a client id and secret."),
        (name = "operations", description = "Health, readiness and metrics, for operators."),
    ),
    // Relative: the document is served by the API it describes, so a client
    // resolves it against wherever it fetched `/openapi.json` from.
    servers((url = "/", description = "The server that serves this document.")),
    // `Afm` is named by path parameters, which utoipa does not collect; the
    // OAuth error responses are named by the OAuth endpoints.
    components(
        schemas(Problem, FieldProblem, Afm, OAuthErrorBody),
        responses(
            TokenRefused,
            TokenParameterMissing,
            InvalidClient,
            ClientRequestsLimited,
            OAuthServerError,
            OAuthUnavailable
        )
    ),
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
        // Swagger UI's "Authorize" takes an access token itself with a
        // client id and secret; resource operations name it with their scope.
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    Scopes::from_iter(Scope::ALL.map(|scope| {
                        let what = match scope {
                            Scope::PhotosFace => "The citizen's face photo, with their consent.",
                            Scope::PhotosSignature => {
                                "The citizen's signature, with their consent; driving licences only (R-PH-18)."
                            }
                        };
                        (scope.as_str(), what)
                    })),
                ))],
                "An application's access token (RFC 9068 JWT) from `/oauth/token`, client-credentials grant.",
            )),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "An application's client id and secret (`client_secret_basic`); \
                         they may instead be sent as `client_id` and `client_secret` in the form \
                         (`client_secret_post`), not both.",
                    ))
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
        .configure(routes)
        .split_for_parts();
    openapi::document_errors(&mut document, &PROTOCOL_PATHS);
    openapi::document_headers(
        &mut document,
        openapi::Middleware {
            rate_limited_scope: LIMITED_SCOPE,
            idempotency_key: IDEMPOTENCY_KEY,
            is_kept: idempotency::is_kept,
        },
    );
    openapi::mark_public_operations(&mut document);
    openapi::drop_unused_components(&mut document);
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
