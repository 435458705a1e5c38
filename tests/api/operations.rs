//! `/healthz`, `/readyz`, `/metrics`, and the request id on every response.

use std::time::{Duration, Instant};

use citizen_api::db::has_pending_migrations;

use crate::booking_support::{bookable_service, booking_body, citizens, slots};
use crate::helpers::{TestApp, assert_problem, scrape, spawn_app, spawn_app_with, value_of};

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_current() {
    let app = spawn_app().await;
    let health: serde_json::Value = app.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    let ready: serde_json::Value = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    let expected = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(ready["database"], expected);
    assert!(!app.with_db(has_pending_migrations).await);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_not_raw_path() {
    let app = spawn_app().await;
    let id = "0190c0de-0000-7000-8000-000000000000";
    app.get(&format!("/v1/municipalities/{id}/services")).await;
    app.get("/no/such/route").await;
    // Any client can invent a method; it must not become a series of its own.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    app.client
        .request(brew, app.url("/v1/municipalities"))
        .send()
        .await
        .unwrap();
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains(
        r#"citizen_api_http_requests_total{method="GET",route="/v1/municipalities/{municipality_id}/services",status="404"} 1"#
    ), "{text}");
    assert!(
        text.contains(r#"route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(!text.contains(id));
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    assert!(!text.contains("BREW"), "{text}");
    assert!(text.contains("citizen_api_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"citizen_api_db_pool_connections{state="max"} 4"#),
        "{text}"
    );
}

const METRICS_TOKEN: &str = "scraper-token-of-at-least-32-characters";

/// With a token configured (production requires one), `/metrics` answers
/// only the scraper that sends it; the scheme's case does not matter.
#[tokio::test]
async fn with_a_metrics_token_only_its_holder_reads_the_metrics() {
    let app = spawn_app_with(|s| s.ops.metrics_token = Some(METRICS_TOKEN.into())).await;
    let metrics = |authorization: Option<String>| {
        let request = app.client.get(app.url("/metrics"));
        match authorization {
            Some(value) => request.header("authorization", value),
            None => request,
        }
        .send()
    };
    for refused in [
        None,
        Some("Bearer not-the-metrics-token".to_owned()),
        Some(format!("Basic {METRICS_TOKEN}")),
    ] {
        let response = metrics(refused).await.unwrap();
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert_problem(response, 401, "unauthenticated").await;
    }
    for scheme in ["Bearer", "bearer"] {
        let response = metrics(Some(format!("{scheme} {METRICS_TOKEN}")))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains(r#"route="/metrics",status="401"} 3"#),
            "{text}"
        );
    }
}

/// The value of `series` (its name and labels as written) in a scrape.
const PENDING: &str = r#"citizen_api_outbox_messages{status="pending"}"#;
const DELIVERED: &str = r#"citizen_api_outbox_deliveries_total{channel="email",outcome="sent"}"#;
const OLDEST_PENDING: &str = "citizen_api_outbox_oldest_pending_seconds";

/// A transport that is down shows on `/metrics`: the confirmation a
/// booking queued counts as pending, and grows old, until it is delivered.
#[tokio::test]
async fn the_outbox_gauges_show_a_queued_confirmation_pending_until_it_is_delivered() {
    // Nothing delivers the confirmation (tests run no worker of their
    // own), as when SMTP is down.
    let app = spawn_app().await;
    let housing = bookable_service(&app).await;
    let slot = &slots(&app, &housing.id, &[48], 1).await[0];
    let citizen = &citizens(&app, 1).await[0];
    let booked = app
        .post_json_as(citizen, "/v1/reservations", &booking_body(slot))
        .await;
    assert_eq!(booked.status(), 201);

    app.clock.advance(chrono::Duration::minutes(10));
    let waiting = scrape(&app).await;
    assert_eq!(value_of(&waiting, "citizen_api_outbox_up"), Some(1));
    assert_eq!(value_of(&waiting, PENDING), Some(1), "{waiting}");
    assert_eq!(value_of(&waiting, DELIVERED), None, "{waiting}");
    assert!(
        !waiting.contains(r#"status="sent""#),
        "sent messages are counted as delivered, not read from the table: {waiting}"
    );
    let dead = r#"citizen_api_outbox_messages{status="dead"}"#;
    assert_eq!(value_of(&waiting, dead), Some(0), "{waiting}");
    let age = value_of(&waiting, OLDEST_PENDING).unwrap();
    assert!((600..660).contains(&age), "{age} s");

    // A second instance on the same database delivers it, and counts it.
    let deliverer = spawn_app_with(|s| s.database.url = Some(app.database_url.clone())).await;
    assert_eq!(deliverer.deliver_due().await.sent, 1);
    let counted = scrape(&deliverer).await;
    assert_eq!(value_of(&counted, DELIVERED), Some(1), "{counted}");
    let delivered = scrape(&app).await;
    assert_eq!(value_of(&delivered, DELIVERED), None, "{delivered}");
    assert_eq!(value_of(&delivered, PENDING), Some(0), "{delivered}");
    assert_eq!(value_of(&delivered, OLDEST_PENDING), Some(0), "{delivered}");
}

/// The pool's connection, taken on a thread of its own until released; with
/// a pool of one, the application has none meanwhile.
struct HeldConnection {
    release: std::sync::mpsc::Sender<()>,
    holder: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl HeldConnection {
    fn take(app: &TestApp) -> HeldConnection {
        let (held, is_held) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let db = app.db.clone();
        let holder = std::thread::spawn(move || {
            db.run_blocking(|_| {
                held.send(()).unwrap();
                let _ = released.recv();
                Ok(())
            })
        });
        is_held.recv().unwrap();
        HeldConnection { release, holder }
    }

    fn release(self) {
        self.release.send(()).unwrap();
        self.holder.join().unwrap().unwrap();
    }
}

/// A database that does not answer costs a scrape the outbox's series, and
/// no more than the pool's acquire timeout, never the scrape itself: the
/// HTTP and pool metrics are what an operator needs then.
#[tokio::test]
async fn metrics_answer_without_the_outbox_when_the_database_does_not() {
    const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
    let app = spawn_app_with(|s| {
        s.database.pool_size = 1;
        s.database.acquire_timeout_ms = ACQUIRE_TIMEOUT.as_millis() as u64;
    })
    .await;
    let held = HeldConnection::take(&app);

    let started = Instant::now();
    let unanswered = scrape(&app).await;
    let waited = started.elapsed();
    assert!(
        waited < ACQUIRE_TIMEOUT + Duration::from_secs(2),
        "{waited:?}"
    );
    assert_eq!(value_of(&unanswered, "citizen_api_outbox_up"), Some(0));
    assert!(
        !unanswered.contains("citizen_api_outbox_messages"),
        "{unanswered}"
    );
    let pool_max = r#"citizen_api_db_pool_connections{state="max"}"#;
    assert_eq!(value_of(&unanswered, pool_max), Some(1), "{unanswered}");

    held.release();
    let answered = scrape(&app).await;
    assert_eq!(value_of(&answered, "citizen_api_outbox_up"), Some(1));
    assert_eq!(value_of(&answered, PENDING), Some(0), "{answered}");
}

fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

fn last_success(scrape: &str, task: &str) -> Option<i64> {
    value_of(
        scrape,
        &format!(r#"citizen_api_background_last_success_timestamp_seconds{{task="{task}"}}"#),
    )
}

/// Scrapes until `done` holds of the text, for at most ten seconds.
async fn scrape_until(app: &TestApp, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(app).await;
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never {what}: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The retention pass is what anonymizes reservations after six months
/// (R-BK-07): a pass that keeps failing must show on `/metrics` as well as
/// in the log. Every background task says when a round last did its work
/// and counts the rounds that could not.
#[tokio::test]
async fn r_bk_07_background_tasks_report_their_last_success_and_count_failures() {
    const TASKS: [&str; 3] = ["retention", "reminders", "outbox_worker"];
    let started = unix_now();
    let app = spawn_app_with(|s| {
        s.database.pool_size = 1;
        s.database.acquire_timeout_ms = 300;
        s.retention.interval_secs = 1;
        s.reminders.interval_secs = 1;
        s.notify.worker = true;
        s.notify.poll_interval_ms = 100;
    })
    .await;
    let first = scrape_until(&app, "every task succeeded", |text| {
        TASKS.iter().all(|task| last_success(text, task).is_some())
    })
    .await;
    for task in TASKS {
        let at = last_success(&first, task).unwrap();
        assert!((started..=unix_now()).contains(&at), "{task} at {at}");
    }

    // The pool's one connection held: every round fails.
    let held = HeldConnection::take(&app);
    let failures = |text: &str, task: &str| {
        value_of(
            text,
            &format!(r#"citizen_api_background_failures_total{{task="{task}"}}"#),
        )
        .unwrap_or(0)
    };
    scrape_until(&app, "a retention pass failed", |text| {
        failures(text, "retention") >= 1 && failures(text, "outbox_worker") >= 1
    })
    .await;

    held.release();
    let released_at = unix_now();
    scrape_until(&app, "a retention pass succeeded again", |text| {
        last_success(text, "retention").is_some_and(|at| at >= released_at)
    })
    .await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = spawn_app().await;
    let generated = app.get("/healthz").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let kept = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "frontend-42")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "frontend-42");

    let too_long = "x".repeat(200);
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", &too_long)
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], too_long.as_str());
}

/// Every checkout looks whether the server closed the connection while it
/// sat in the pool (a PostgreSQL restart), so such connections are
/// replaced, never handed to a request.
#[tokio::test]
async fn connections_dropped_by_the_server_are_replaced_before_use() {
    let app = spawn_app().await;
    assert_eq!(app.get("/v1/municipalities").await.status(), 200);
    let dropped = app.drop_database_connections();
    for _ in 0..10 {
        assert_eq!(
            app.get("/v1/municipalities").await.status(),
            200,
            "dropped: {dropped}"
        );
    }
}

/// A connection can still die between the checkout's look and the first
/// statement. Work whose first statement found it closed ran nothing, so it
/// runs again on a fresh connection; work that had completed a statement
/// may have written, so it is not run again and answers `503`. Work that
/// failed for any other reason runs once, on both databases.
#[tokio::test]
async fn work_is_run_again_only_when_the_connection_closed_before_its_first_statement() {
    use citizen_api::http::{ApiError, ErrorCode};
    use diesel::RunQueryDsl;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let app = spawn_app().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = {
        let calls = calls.clone();
        move |_: &mut citizen_api::db::DbConn| -> Result<(), ApiError> {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::new(ErrorCode::BadRequest))
        }
    };
    let err = app.db.run(failing).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadRequest);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    if !app.is_postgres() {
        return;
    }
    let end_own_session = "SELECT pg_terminate_backend(pg_backend_pid())";
    let attempts = Arc::new(AtomicUsize::new(0));
    let dies_first = {
        let attempts = attempts.clone();
        move |conn: &mut citizen_api::db::DbConn| -> Result<i32, ApiError> {
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                diesel::sql_query(end_own_session).execute(conn)?;
            }
            Ok(
                diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("7"))
                    .get_result(conn)?,
            )
        }
    };
    assert_eq!(app.db.run(dies_first).await.unwrap(), 7);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);

    let attempts = Arc::new(AtomicUsize::new(0));
    let dies_after_a_statement = {
        let attempts = attempts.clone();
        move |conn: &mut citizen_api::db::DbConn| -> Result<(), ApiError> {
            attempts.fetch_add(1, Ordering::SeqCst);
            diesel::sql_query("SELECT 1").execute(conn)?;
            diesel::sql_query(end_own_session).execute(conn)?;
            Ok(())
        }
    };
    let err = app.db.run(dies_after_a_statement).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_allowed_frontend_may_call_the_api_from_its_own_origin_with_credentials() {
    let app = spawn_app().await;
    let frontend = "http://127.0.0.1:8080";
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/reservations"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, idempotency-key",
            )
            .send()
    };
    let allowed = preflight(frontend).await.unwrap();
    assert_eq!(allowed.status(), 200);
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], frontend);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("idempotency-key"),
        "{allowed_headers}"
    );

    // Another origin gets no CORS headers: the browser keeps the answer
    // from its page.
    let foreign = preflight("https://evil.example").await.unwrap();
    assert!(
        !foreign
            .headers()
            .contains_key("access-control-allow-origin"),
        "{:?}",
        foreign.headers()
    );

    // An actual answer names the origin and lets the page read the headers
    // it needs.
    let answer = app
        .client
        .get(app.url("/v1/municipalities"))
        .header("origin", frontend)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["access-control-allow-origin"], frontend);
    // Nothing is cached or type-sniffed by default.
    assert_eq!(answer.headers()["cache-control"], "no-store");
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["x-request-id", "ratelimit-remaining", "idempotent-replayed"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
}
