//! The OpenAPI document: committed, served, and complete about errors.

use citizen_api::auth::roles::ScopedRole;
use citizen_api::http::ErrorCode;
use citizen_api::oauth::PROTOCOL_PATHS;
use serde_json::{Value, json};

use crate::booking_support::{booking_body, signed_in_with_role, slots, town};
use crate::helpers::{assert_problem, spawn_app};

/// The administrator of the test's municipality.
const TOWN_ADMIN: &str = "094019245";
const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated = citizen_api::app::document_json();
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
            // The OAuth endpoints answer RFC 6749 §5.2 JSON instead.
            let (media_type, expected) = if PROTOCOL_PATHS.contains(&path.as_str()) {
                ("application/json", "#/components/schemas/OAuthErrorBody")
            } else {
                ("application/problem+json", "#/components/schemas/Problem")
            };
            for (status, response) in codes.iter().filter(|(s, _)| s.as_str() >= "400") {
                let response = match response["$ref"].as_str() {
                    Some(reference) => &responses[reference.rsplit('/').next().unwrap()],
                    None => response,
                };
                let schema = &response["content"][media_type]["schema"]["$ref"];
                assert_eq!(schema, expected, "{method} {path} {status}");
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
                if PROTOCOL_PATHS.contains(&path.as_str()) {
                    if !oauth_examples_fit(&response["content"]["application/json"], status) {
                        wrong.push(format!("{method} {path} {status}: {}", response["content"]));
                    }
                    continue;
                }
                let example = &response["content"]["application/problem+json"]["example"];
                let answered = ErrorCode::ALL.iter().any(|code| {
                    example["code"] == code.as_str()
                        && example["status"] == code.status().as_u16()
                        && code.status().as_str() == status
                });
                // A 422 of an operation with a path id names that id, not
                // a field the operation does not have.
                let path_ids: Vec<&Value> = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|parameter| parameter["in"] == "path")
                    .map(|parameter| &parameter["name"])
                    .collect();
                let names_own_field = status != "422"
                    || path_ids.is_empty()
                    || path_ids.contains(&&example["errors"][0]["field"]);
                if !answered || !names_own_field {
                    wrong.push(format!(
                        "{method} {path} {status}: {}",
                        if example.is_null() {
                            "no example".to_owned()
                        } else {
                            format!(
                                "{} {} {}",
                                example["status"], example["code"], example["errors"]
                            )
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

/// Whether every example of an OAuth error response is an RFC 6749 §5.2
/// body with an `error` its status answers.
fn oauth_examples_fit(content: &Value, status: &str) -> bool {
    let examples: Vec<&Value> = match content["examples"].as_object() {
        Some(named) => named.values().map(|example| &example["value"]).collect(),
        None => vec![&content["example"]],
    };
    let statuses_of = |error: &str| match error {
        "invalid_client" => vec!["401"],
        "temporarily_unavailable" => vec!["429", "503"],
        "server_error" => vec!["500"],
        "invalid_request" | "unsupported_grant_type" | "invalid_scope" => vec!["400"],
        _ => vec![],
    };
    examples.iter().all(|example| {
        example["error_description"].is_string()
            && statuses_of(example["error"].as_str().unwrap_or_default()).contains(&status)
    })
}

/// Defect 10 (issue 12): the schemas said less than the server checks, so a
/// client that trusted the document sent requests it then saw refused: an
/// empty `cursor`, an AFM of one digit, an empty `slot_id`, an empty
/// one-time code, a service of 1000000 minutes. The document now states each
/// limit, and the server refuses what the document refuses.
#[tokio::test]
async fn the_document_states_the_limits_the_server_checks() {
    let document: Value = serde_json::from_str(COMMITTED).unwrap();
    let schema = |name: &str| &document["components"]["schemas"][name];
    let parameter = |path: &str, method: &str, name: &str| {
        let parameters = document["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has parameters"));
        let found = parameters.iter().find(|p| p["name"] == name);
        let found = found.unwrap_or_else(|| panic!("{method} {path} takes {name}"));
        match found["schema"]["$ref"].as_str() {
            Some(reference) => schema(reference.rsplit('/').next().unwrap()).clone(),
            None => found["schema"].clone(),
        }
    };
    let cursor = parameter("/v1/municipalities", "get", "cursor");
    assert_eq!(cursor["minLength"], 1, "{cursor}");
    let afm = parameter("/v1/departments/{department_id}/staff/{afm}", "put", "afm");
    assert_eq!(afm["pattern"], "^[0-9]{9}$", "{afm}");
    for body in ["NewReservation", "Reschedule"] {
        assert_eq!(
            schema(body)["properties"]["slot_id"]["format"],
            "uuid",
            "{body}"
        );
    }
    assert_eq!(
        schema("OtpCode")["properties"]["code"]["pattern"],
        "^[0-9]{6}$"
    );
    let duration = &schema("NewService")["properties"]["duration_minutes"];
    assert_eq!(
        (
            &duration["minimum"],
            &duration["maximum"],
            &duration["multipleOf"]
        ),
        (&json!(5), &json!(480), &json!(5)),
        "{duration}"
    );
    let seats = &schema("Schedule")["properties"]["seats_per_slot"];
    assert_eq!(
        (&seats["minimum"], &seats["maximum"]),
        (&json!(1), &json!(100))
    );
    let name = &schema("NewMunicipality")["properties"]["name_el"];
    assert!(
        name["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("{0,198}")),
        "{name}"
    );
    let key = parameter("/v1/reservations", "post", "Idempotency-Key");
    assert_eq!(key["pattern"], r"^[\x21-\x7E]{1,255}$", "{key}");

    // What the document now refuses, the server refuses too.
    let app = spawn_app().await;
    assert_problem(
        app.get("/v1/municipalities?cursor=").await,
        422,
        "validation_failed",
    )
    .await;
    let town = town(&app, "Testville", 1).await;
    let admin = signed_in_with_role(
        &app,
        TOWN_ADMIN,
        ScopedRole::MunicipalityAdmin(town.municipality.clone()),
    )
    .await;
    let department = &town.department;
    let one_digit = app
        .client
        .put(app.url(&format!("/v1/departments/{department}/staff/0")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(one_digit, 422, "validation_failed").await;
    let mut body = booking_body("");
    body["slot_id"] = "".into();
    let empty_slot = app.post_json_as(&admin, "/v1/reservations", &body).await;
    assert_problem(empty_slot, 422, "validation_failed").await;
}

/// Defect 10 (issue 12): two requests the document allowed were refused.
/// JSON Schema counts `3.0` as an integer, so an integer field takes it;
/// and the cancellation body is documented as `null` or an object, so
/// `null` is no reason given, like no body.
#[tokio::test]
async fn requests_the_document_allows_are_accepted() {
    let app = spawn_app().await;
    let town = town(&app, "Testville", 1).await;
    let service_id = town.services[0].id.clone();
    let admin = signed_in_with_role(
        &app,
        TOWN_ADMIN,
        ScopedRole::MunicipalityAdmin(town.municipality.clone()),
    )
    .await;
    let schedule = json!({
        "weekly_hours": [{ "weekday": "monday", "from": "09:00", "to": "11:00" }],
        "seats_per_slot": 3.0,
        "min_notice_minutes": 0.0,
        "max_advance_days": 60.0,
    });
    let put_schedule = |body: &Value| {
        app.client
            .put(app.url(&format!("/v1/services/{service_id}/schedule")))
            .bearer_auth(&admin)
            .json(body)
            .send()
    };
    let saved = put_schedule(&schedule).await.unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["seats_per_slot"], 3);
    let mut fractional = schedule.clone();
    fractional["seats_per_slot"] = json!(2.5);
    let fractional = put_schedule(&fractional).await.unwrap();
    assert_problem(fractional, 422, "validation_failed").await;

    let slot = &slots(&app, &service_id, &[30], 1).await[0];
    let citizen = app.sign_in("123456783").await;
    let booked: Value = app
        .post_json_as(&citizen, "/v1/reservations", &booking_body(slot))
        .await
        .json()
        .await
        .unwrap();
    let cancelled = app
        .post_as(
            &citizen,
            &format!("/v1/reservations/{}/cancel", booked["id"].as_str().unwrap()),
        )
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cancelled.status(),
        200,
        "{}",
        cancelled.text().await.unwrap()
    );
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
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
        if schema.get("example").is_some() || schema.get("examples").is_some() {
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
