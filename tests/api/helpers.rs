//! `spawn_app()`: the real server on 127.0.0.1, port 0, with a database of
//! its own: a fresh SQLite file, or, when `TEST_DATABASE_URL` names a
//! PostgreSQL server, a fresh database created for the test and dropped
//! after it. Every test runs unchanged on both.

use std::sync::{Arc, LazyLock};

use citizen_api::Application;
use citizen_api::clock::AdjustableClock;
use citizen_api::config::Settings;
use citizen_api::db::{Db, DbConn};
use citizen_api::http::Problem;
use citizen_api::notify::worker::{DeliveryRound, OutboxWorker};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

/// `TEST_DATABASE_URL`, when it points at PostgreSQL: the server (and an
/// existing database to connect to) in which each test creates its own.
static POSTGRES_ADMIN_URL: LazyLock<Option<String>> = LazyLock::new(|| {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    assert!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "TEST_DATABASE_URL must be a postgres:// URL, got {url}"
    );
    Some(url)
});

/// `test:` and base64 of 32 bytes.
const TEST_ENCRYPTION_KEYS: &str = "test:dGVzdC1rZXktb2YtZXhhY3RseS0zMi1ieXRlcy4uLi4=";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The app's clock: real time that a test can move ahead.
    pub clock: Arc<AdjustableClock>,
    /// The app's outbox worker, for [`TestApp::deliver_due`].
    pub outbox: OutboxWorker,
    /// The database this app uses, so a second instance can share it.
    pub database_url: String,
    _data_dir: tempfile::TempDir,
    _postgres: Option<TestDatabase>,
}

/// A PostgreSQL database that lives as long as its test.
pub struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    fn create(admin_url: &str) -> (TestDatabase, String) {
        let name = format!("citizen_test_{}", uuid::Uuid::now_v7().simple());
        citizen_api::db::prepare_libpq();
        let mut admin = PgConnection::establish(admin_url).expect("TEST_DATABASE_URL is reachable");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("can create a test database");
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        let url = format!("{server}/{name}");
        (
            TestDatabase {
                admin_url: admin_url.to_owned(),
                name,
            },
            url,
        )
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// With `TEST_DATABASE_URL`, a new empty PostgreSQL database (dropped with
/// the [`TestDatabase`]) and its URL; without it, `None`, and a test of
/// PostgreSQL's alone has nothing to run.
pub fn empty_postgres_database() -> Option<(TestDatabase, String)> {
    POSTGRES_ADMIN_URL.as_deref().map(TestDatabase::create)
}

/// A new empty database of the backend the suite runs on (PostgreSQL with
/// `TEST_DATABASE_URL`, else a SQLite file), and its URL; the database
/// lasts as long as the first value.
pub fn empty_database() -> (Box<dyn std::any::Any>, String) {
    if let Some((database, url)) = empty_postgres_database() {
        return (Box::new(database), url);
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("empty.db").display());
    (Box::new(dir), url)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app with the development profile's demo data, for tests
/// whose subject is that data or the development walk through it.
pub async fn spawn_demo_app() -> TestApp {
    spawn_app_with(|settings| settings.demo_data = true).await
}

/// Starts the app with test settings adjusted by `customize`.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("a temporary folder");
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_owned(),
        ..Settings::default()
    };
    settings.http.workers = 2;
    // Tests arrange their own slots; the demo's weeks of them would only
    // slow every test down.
    settings.demo_slot_days = 0;
    // Tests arrange their own municipalities, services and role holders
    // (`citizen_api::dev::fixtures`): a change to the demo data must not
    // break a test about bookings. Tests of the demo itself opt back in.
    settings.demo_data = false;
    settings.database.pool_size = 4;
    // The outbox's key ring is the process's, and some tests start a second
    // instance on the first one's database: every app has the same keys.
    settings.secrets.encryption_keys = Some(TEST_ENCRYPTION_KEYS.into());
    // No worker in the background: messages leave when a test calls
    // `deliver_due`, and only then.
    settings.notify.worker = false;
    let postgres = empty_postgres_database().map(|(database, url)| {
        settings.database.url = Some(url);
        database
    });
    customize(&mut settings);
    let database_url = settings.database.url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            data_dir.path().join("citizen-api.db").display()
        )
    });
    let clock = AdjustableClock::new();
    let application = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("the application starts");
    let address = format!("http://{}", application.address());
    let db = application.db();
    let outbox = application.outbox_worker();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        clock,
        outbox,
        database_url,
        _data_dir: data_dir,
        _postgres: postgres,
    }
}

impl TestApp {
    /// On PostgreSQL, ends every server process serving this app's
    /// database, as a server restart would; answers whether it did.
    pub fn is_postgres(&self) -> bool {
        self._postgres.is_some()
    }

    pub fn drop_database_connections(&self) -> bool {
        let Some(database) = &self._postgres else {
            return false;
        };
        let mut admin = PgConnection::establish(&database.admin_url).unwrap();
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            database.name
        ))
        .execute(&mut admin)
        .unwrap();
        true
    }

    /// The app's data folder, where development keys are kept.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the server answers")
    }

    /// Runs blocking database work off the test's runtime thread, which the
    /// app's own tasks (the outbox worker) share.
    pub async fn with_db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConn) -> anyhow::Result<T> + Send + 'static,
    ) -> T {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.run_blocking(work))
            .await
            .expect("the blocking task ran")
            .expect("the database work succeeded")
    }

    /// GETs `path` and decodes a `200` JSON body.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> T {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("a JSON body")
    }
}

/// Checks that a response is problem+json with this status and code, and
/// returns the problem for further checks.
/// A problem's field errors as (field, code) pairs.
pub fn named(problem: &Problem) -> Vec<(&str, &str)> {
    problem
        .errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect()
}

pub async fn assert_problem(response: Response, status: u16, code: &str) -> Problem {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Problem = response.json().await.expect("a problem document");
    assert_eq!(problem.status, status);
    assert_eq!(problem.code, code);
    assert_eq!(problem.type_, format!("urn:citizen-api:problem:{code}"));
    problem
}

/// A sign-in a browser started: where the provider signs in, and the
/// `login_state` cookie that browser holds (`name=value`).
pub struct Login {
    pub authorize: reqwest::Url,
    pub cookie: String,
}

impl Login {
    /// The `state` the sign-in was started with.
    pub fn state(&self) -> String {
        self.authorize
            .query_pairs()
            .find(|(k, _)| k == "state")
            .expect("the authorize URL carries the state")
            .1
            .into_owned()
    }

    /// GETs a callback URL as the browser that started the sign-in.
    pub fn callback(&self, app: &TestApp, url: &str) -> reqwest::RequestBuilder {
        app.client.get(url).header("cookie", &self.cookie)
    }
}

/// The sign-in steps a browser takes, driven over HTTP against the
/// development TAXISnet provider.
impl TestApp {
    /// `GET /v1/auth/login[?return_to]`: the provider's authorize URL, and
    /// the cookie the browser keeps for the callback.
    pub async fn start_login(&self, return_to: Option<&str>) -> Login {
        let mut url = reqwest::Url::parse(&self.url("/v1/auth/login")).unwrap();
        if let Some(return_to) = return_to {
            url.query_pairs_mut().append_pair("return_to", return_to);
        }
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "login redirects");
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        Login {
            authorize: reqwest::Url::parse(response.headers()["location"].to_str().unwrap())
                .unwrap(),
            cookie: cookie.split(';').next().unwrap().to_owned(),
        }
    }

    /// The provider approves `afm` (`login_hint`) and redirects to the
    /// callback; answers the callback URL.
    pub async fn approve(&self, login: &Login, afm: &str) -> String {
        let mut url = login.authorize.clone();
        url.query_pairs_mut().append_pair("login_hint", afm);
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "the provider redirects back"
        );
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Signs in as `afm` and answers the session token.
    pub async fn sign_in(&self, afm: &str) -> String {
        let login = self.start_login(None).await;
        let callback = self.approve(&login, afm).await;
        let response = login.callback(self, &callback).send().await.unwrap();
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "the callback signs in: {answer}");
        answer["token"].as_str().unwrap().to_owned()
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("the server answers")
    }

    pub fn get_as(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    /// GETs `path` as the holder of `token` and decodes a `200` JSON body.
    pub async fn get_json_as<T: DeserializeOwned>(&self, token: &str, path: &str) -> T {
        let response = self.get_ok_as(token, path).await;
        response.json().await.expect("a JSON body")
    }

    /// GETs `path` as the holder of `token` and answers a `200` body as text.
    pub async fn get_text_as(&self, token: &str, path: &str) -> String {
        let response = self.get_ok_as(token, path).await;
        response.text().await.expect("a text body")
    }

    async fn get_ok_as(&self, token: &str, path: &str) -> reqwest::Response {
        let response = self
            .get_as(token, path)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response
    }

    /// POSTs `body` as JSON as the holder of `token`.
    pub async fn post_json_as(
        &self,
        token: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> reqwest::Response {
        self.post_as(token, path)
            .json(body)
            .send()
            .await
            .expect("the server answers")
    }

    pub fn post_as(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(token)
    }

    /// The development outbox's messages to `to`, newest first.
    pub async fn messages_to(&self, to: &str) -> Vec<serde_json::Value> {
        let mut url = reqwest::Url::parse(&self.url("/dev/outbox")).unwrap();
        url.query_pairs_mut().append_pair("to", to);
        let outbox: serde_json::Value = self
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        outbox["items"].as_array().cloned().unwrap_or_default()
    }

    /// One round of the outbox worker: delivers the messages due now.
    pub async fn deliver_due(&self) -> DeliveryRound {
        self.outbox
            .deliver_due()
            .await
            .expect("the outbox worker claims due messages")
    }

    /// Delivers what is due, checks that more than `known` messages went to
    /// `to`, and answers the newest one's body.
    pub async fn next_message_to(&self, to: &str, known: usize) -> String {
        self.deliver_due().await;
        let messages = self.messages_to(to).await;
        assert!(
            messages.len() > known,
            "no new message to {to}: {messages:?}"
        );
        messages[0]["body"].as_str().unwrap().to_owned()
    }

    /// Requests an OTP for the session and reads it from the outbox.
    pub async fn request_otp(&self, token: &str, mobile: &str) -> String {
        let known = self.messages_to(mobile).await.len();
        let response = self.post_as(token, "/v1/auth/otp").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body = self.next_message_to(mobile, known).await;
        body.split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == 6)
            .expect("the SMS carries a six-digit code")
            .to_owned()
    }
}

/// The value of one series in a `/metrics` text, `series` written with its
/// labels as the text has them.
pub fn value_of(scrape: &str, series: &str) -> Option<i64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

pub async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}
