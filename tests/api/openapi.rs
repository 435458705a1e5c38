//! The OpenAPI document: committed, served, and complete about errors.

use citizen_api::http::ErrorCode;
use serde_json::Value;

use crate::helpers::spawn_app;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated = citizen_api::openapi::document_json();
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is out of date; regenerate it with\n\n    \
         cargo run -- openapi > openapi/openapi.json\n"
    );
}

#[tokio::test]
async fn the_served_document_is_the_committed_one_and_swagger_ui_is_up() {
    let app = spawn_app().await;
    let served: Value = app.get_json("/openapi.json").await;
    let committed: Value = serde_json::from_str(COMMITTED).unwrap();
    assert!(
        served == committed,
        "the served document differs from openapi/openapi.json"
    );
    let ui = app.get("/swagger-ui/").await;
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger-ui"));
}

/// Every operation documents its failures with the problem schema.
#[test]
fn every_operation_documents_its_errors_as_problems() {
    let document: Value = serde_json::from_str(COMMITTED).unwrap();
    let responses = &document["components"]["responses"];
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let codes = operation["responses"].as_object().unwrap();
            for required in ["500", "503"] {
                assert!(
                    codes.contains_key(required),
                    "{method} {path} lacks {required}"
                );
            }
            if path.contains('{') {
                assert!(
                    codes.contains_key("422"),
                    "{method} {path} lacks 422 for its path id"
                );
            }
            for (status, response) in codes.iter().filter(|(s, _)| s.as_str() >= "400") {
                let response = match response["$ref"].as_str() {
                    Some(reference) => &responses[reference.rsplit('/').next().unwrap()],
                    None => response,
                };
                let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert!(operations >= 5);
}

/// Defect 5 (issue 12): every error response showed the one example of the
/// shared `Problem` schema, so the `500` and `503` of `/v1/municipalities`
/// showed a `422 validation_failed`. Each error response shows its own: its
/// example's `status` is the response's, and its `code` is one the server
/// answers with that status.
#[test]
fn every_error_response_shows_an_example_of_its_own_status() {
    let document: Value = serde_json::from_str(COMMITTED).unwrap();
    let responses = &document["components"]["responses"];
    let mut wrong = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.as_str() < "400" {
                    continue;
                }
                let response = match response["$ref"].as_str() {
                    Some(reference) => &responses[reference.rsplit('/').next().unwrap()],
                    None => response,
                };
                let example = &response["content"]["application/problem+json"]["example"];
                let answered = ErrorCode::ALL.iter().any(|code| {
                    example["code"] == code.as_str()
                        && example["status"] == code.status().as_u16()
                        && code.status().as_str() == status
                });
                if !answered {
                    wrong.push(format!(
                        "{method} {path} {status}: {}",
                        if example.is_null() {
                            "no example".to_owned()
                        } else {
                            format!("{} {}", example["status"], example["code"])
                        }
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "error responses without an example of their own:\n  {}",
        wrong.join("\n  ")
    );
}

/// Swagger UI shows realistic values for every schema: each property has an
/// `example`, unless a schema-level one covers the whole schema. References
/// (`$ref`, `allOf`, `oneOf`, arrays of `$ref`) take the example of the
/// schema they name; enums have no properties, so they need a schema-level one.
#[test]
fn every_schema_property_has_an_example() {
    let document: Value = serde_json::from_str(COMMITTED).unwrap();
    let mut missing = Vec::new();
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        if schema.get("example").is_some() {
            continue;
        }
        let Some(properties) = schema["properties"].as_object() else {
            missing.push(format!("{name} (a schema-level example)"));
            continue;
        };
        for (property, value) in properties {
            let refers = value.get("$ref").is_some()
                || value.get("allOf").is_some()
                || value.get("oneOf").is_some()
                || (value["type"] == "array" && value["items"].get("$ref").is_some());
            if value.get("example").is_none() && !refers {
                missing.push(format!("{name}.{property}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "schema properties without an example:\n  {}",
        missing.join("\n  ")
    );
}

/// The headers an integrator acts on are documented where they come: what
/// to send after a 401, and how long to wait after a 429 or a 503.
#[test]
fn error_answers_document_the_headers_that_say_what_to_do_next() {
    let document: Value = serde_json::from_str(COMMITTED).unwrap();
    let responses = &document["components"]["responses"];
    for (response, header) in [
        ("Unauthenticated", "WWW-Authenticate"),
        ("RateLimited", "Retry-After"),
        ("RateLimited", "RateLimit-Remaining"),
        ("ServiceUnavailable", "Retry-After"),
    ] {
        assert!(
            responses[response]["headers"][header].is_object(),
            "{response} documents {header}"
        );
    }
}

/// The headers the document promises on an answer, unconditionally (not
/// `Set-Cookie`, `Retry-After` or `Idempotent-Replayed`, which depend on
/// the case), all arrive on that answer.
#[tokio::test]
async fn the_headers_the_document_promises_are_sent() {
    let document: Value = serde_json::from_str(COMMITTED).unwrap();
    let app = spawn_app().await;
    let conditional = ["set-cookie", "retry-after", "idempotent-replayed"];
    for (path, status) in [
        ("/v1/auth/login", "302"),
        ("/v1/municipalities", "200"),
        ("/v1/me", "401"),
    ] {
        let mut response = &document["paths"][path]["get"]["responses"][status];
        if let Some(reference) = response["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap();
            response = &document["components"]["responses"][name];
        }
        let promised: Vec<String> = response["headers"]
            .as_object()
            .unwrap_or_else(|| panic!("GET {path} {status} documents no headers"))
            .keys()
            .map(|name| name.to_ascii_lowercase())
            .filter(|name| !conditional.contains(&name.as_str()))
            .collect();
        assert!(promised.contains(&"x-request-id".to_owned()), "{path}");
        let answer = app.get(path).await;
        assert_eq!(answer.status().as_str(), status, "GET {path}");
        for name in promised {
            assert!(
                answer.headers().contains_key(name.as_str()),
                "GET {path} {status} lacks {name}"
            );
        }
    }
}
