//! Every malformed request answers problem+json with a documented code, in
//! the caller's language, never actix's plain-text defaults.

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/v1",
        "/v1/municipality",
        "/v2/municipalities",
        "/v1/municipalities/x/y/z",
    ] {
        assert_problem(app.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    let checks = [
        (reqwest::Method::DELETE, "/v1/municipalities", "GET, POST"),
        (
            reqwest::Method::DELETE,
            "/v1/municipalities/0190c0de-0000-7000-8000-000000000000/services",
            "GET",
        ),
        (reqwest::Method::PUT, "/healthz", "GET"),
    ];
    for (method, path, allowed) in checks {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allowed, "{method} {path}");
        assert_problem(response, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn a_body_sent_to_a_get_only_route_is_still_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .put(app.url("/v1/municipalities"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn error_texts_follow_accept_language() {
    let app = spawn_app().await;
    let greek = app.client.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(greek.headers()["content-language"], "el");
    let problem = assert_problem(greek, 404, "not_found").await;
    assert_eq!(problem.title, "Δεν βρέθηκε");

    let english = app
        .client
        .get(app.url("/nowhere"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(english.headers()["content-language"], "en");
    let problem = assert_problem(english, 404, "not_found").await;
    assert_eq!(problem.title, "Not found");
    assert_eq!(problem.detail, "The requested resource does not exist.");
}

#[tokio::test]
async fn validation_messages_follow_accept_language_too() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/v1/municipalities?limit=999"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(
        problem.errors[0].message,
        "limit must be a whole number from 1 to 200."
    );
}
