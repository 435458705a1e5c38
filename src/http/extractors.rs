//! Error handling for actix's extractors, so that a bad body, query or path
//! answers problem+json with a documented code instead of actix's plain text.

use std::str::FromStr;

use actix_web::error::{JsonPayloadError, PayloadError, QueryPayloadError};
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{JsonConfig, PathConfig, QueryConfig};

use super::{ApiError, ErrorCode, FieldError, Text};

/// The extractor configurations every app instance registers.
pub fn extractor_configs(json_limit_bytes: usize) -> (JsonConfig, QueryConfig, PathConfig) {
    let json = JsonConfig::default()
        .limit(json_limit_bytes)
        .error_handler(|error, _| json_error(error).into());
    let query = QueryConfig::default().error_handler(|error, _| query_error(error).into());
    // Handlers take path segments as strings and parse them with
    // [`parse_path_id`], which names the parameter; this is the net below it.
    let path = PathConfig::default().error_handler(|error, _| {
        ApiError::validation(vec![FieldError::new(
            "path",
            "invalid",
            Text::new(
                "Μη έγκυρη παράμετρος διαδρομής.",
                format!("Invalid path parameter: {error}"),
            ),
        )])
        .into()
    });
    (json, query, path)
}

fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        JsonPayloadError::Payload(PayloadError::Overflow) => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        // `JsonBody` reads its bodies as raw JSON first, so only syntax
        // errors reach here; it names the field of a value of the wrong shape.
        JsonPayloadError::Deserialize(e) => super::json_body::malformed(e),
        _ => ApiError::new(ErrorCode::BadRequest),
    }
}

/// For a body read by hand (one that may be empty): the same answers as
/// the JSON extractor's, `415` for one that is not `application/json`
/// included.
pub fn parse_optional_json<T: serde::de::DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        });
    if !json {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
    }
    // `null` is no body too, as the document's `oneOf: [null, ...]` says.
    super::json_body::deserialize::<Option<T>>(body).map(Option::unwrap_or_default)
}

fn query_error(error: QueryPayloadError) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "query",
        "invalid",
        Text::new(
            format!("Μη έγκυρες παράμετροι ερωτήματος: {error}"),
            error.to_string(),
        ),
    )])
}

/// Parses an id from the path, naming the parameter when it does not parse.
pub fn parse_path_id<T: FromStr>(raw: &str, parameter: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::validation(vec![FieldError::new(
            parameter,
            "invalid_id",
            Text::new(
                "Το αναγνωριστικό πρέπει να είναι UUID.",
                "The identifier must be a UUID.",
            ),
        )])
    })
}

/// An AFM named in the path, refused as its own field with the AFM's code.
pub fn parse_path_afm(raw: &str) -> Result<crate::domain::Afm, ApiError> {
    crate::domain::Afm::parse(raw).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            "afm",
            e.code(),
            Text::new(e.message_el(), e.to_string()),
        )])
    })
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, test, web};
    use serde::Deserialize;

    use super::*;
    use crate::http::render_problems;

    #[derive(Deserialize)]
    struct Body {
        name: String,
    }

    async fn accept(body: crate::http::JsonBody<Body>) -> HttpResponse {
        HttpResponse::Ok().body(body.into_inner().name)
    }

    async fn status_and_code(req: test::TestRequest) -> (u16, String) {
        let (json, query, path) = extractor_configs(64);
        let app = test::init_service(
            App::new()
                .app_data(json)
                .app_data(query)
                .app_data(path)
                .wrap(actix_web::middleware::from_fn(render_problems))
                .route("/", web::post().to(accept)),
        )
        .await;
        let response = test::call_service(&app, req.to_request()).await;
        let status = response.status().as_u16();
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/problem+json",
            "status {status}"
        );
        let problem: crate::http::Problem = test::read_body_json(response).await;
        (status, problem.code)
    }

    fn post(body: &'static str, content_type: &'static str) -> test::TestRequest {
        test::TestRequest::post()
            .uri("/")
            .insert_header(("content-type", content_type))
            .set_payload(body)
    }

    #[actix_web::test]
    async fn malformed_json_is_400() {
        assert_eq!(
            status_and_code(post("{\"name\":", "application/json")).await,
            (400, "malformed_json".into())
        );
    }

    #[actix_web::test]
    async fn json_of_the_wrong_shape_is_422() {
        let got = status_and_code(post("{\"nom\":\"x\"}", "application/json")).await;
        assert_eq!(got, (422, "validation_failed".into()));
    }

    #[actix_web::test]
    async fn wrong_content_type_is_415() {
        let got = status_and_code(post("{\"name\":\"x\"}", "text/plain")).await;
        assert_eq!(got, (415, "unsupported_media_type".into()));
    }

    #[actix_web::test]
    async fn oversized_body_is_413() {
        let body = r#"{"name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
        assert_eq!(
            status_and_code(post(body, "application/json")).await,
            (413, "payload_too_large".into())
        );
    }
}
