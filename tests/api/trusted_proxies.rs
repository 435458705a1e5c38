//! The client address behind a reverse proxy, seen through the per-address
//! limit on `/v1/auth/*`: the test client on 127.0.0.1 plays the proxy,
//! and its `X-Forwarded-For` line is what the proxy would have appended.

use reqwest::{Response, StatusCode};

use crate::helpers::{TestApp, assert_problem, spawn_app_with};

const CITIZEN_A: &str = "203.0.113.1";
const CITIZEN_B: &str = "203.0.113.2";

/// Two sign-ins a minute per client address.
async fn app_trusting(proxies: &[&str]) -> TestApp {
    let proxies: Vec<String> = proxies.iter().map(|p| p.to_string()).collect();
    spawn_app_with(|s| {
        s.auth.rate_limit_per_minute = 2;
        s.http.trusted_proxies = proxies;
    })
    .await
}

async fn login_forwarded_for(app: &TestApp, forwarded_for: &str) -> Response {
    app.client
        .get(app.url("/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("the server answers")
}

/// Signs in until the allowance is spent, checking the count down.
async fn spend_allowance(app: &TestApp, forwarded_for: &str) {
    for remaining in ["1", "0"] {
        let response = login_forwarded_for(app, forwarded_for).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{forwarded_for}");
        assert_eq!(response.headers()["ratelimit-remaining"], remaining);
    }
}

async fn assert_limited(app: &TestApp, forwarded_for: &str) {
    let response = login_forwarded_for(app, forwarded_for).await;
    assert_problem(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = app_trusting(&["127.0.0.1"]).await;
    spend_allowance(&app, CITIZEN_A).await;
    assert_limited(&app, CITIZEN_A).await;

    // Another citizen behind the same proxy still has the whole allowance.
    let other = login_forwarded_for(&app, CITIZEN_B).await;
    assert_eq!(other.status(), StatusCode::FOUND);
    assert_eq!(other.headers()["ratelimit-remaining"], "1");
}

#[tokio::test]
async fn a_forged_leftmost_entry_does_not_escape_the_limit() {
    let app = app_trusting(&["127.0.0.1"]).await;
    spend_allowance(&app, CITIZEN_A).await;
    // Citizen A wrote an address of its own choosing; the proxy appended
    // the one it saw, which is still A's.
    let forged = format!("198.51.100.99, {CITIZEN_A}");
    assert_limited(&app, &forged).await;
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = app_trusting(&[]).await;
    spend_allowance(&app, CITIZEN_A).await;
    // The peer, 127.0.0.1, is the client whatever the header says.
    assert_limited(&app, CITIZEN_B).await;
}
