//! `spawn_app()`: the real server on 127.0.0.1, port 0, with a database of
//! its own: a fresh SQLite file, or, when `TEST_DATABASE_URL` names a
//! PostgreSQL server, a fresh database created for the test and dropped
//! after it. Every test runs unchanged on both.

use std::sync::LazyLock;

use citizen_api::Application;
use citizen_api::config::Settings;
use citizen_api::db::{Db, DbConn};
use citizen_api::http::Problem;
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

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The database this app uses, so a second instance can share it.
    pub database_url: String,
    _data_dir: tempfile::TempDir,
    _postgres: Option<TestDatabase>,
}

/// A PostgreSQL database that lives as long as its test.
struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    fn create(admin_url: &str) -> (TestDatabase, String) {
        let name = format!("citizen_test_{}", uuid::Uuid::now_v7().simple());
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

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
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
    settings.database.pool_size = 4;
    let postgres = POSTGRES_ADMIN_URL.as_deref().map(|admin_url| {
        let (database, url) = TestDatabase::create(admin_url);
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
    let application = Application::build(settings)
        .await
        .expect("the application starts");
    let address = format!("http://{}", application.address());
    let db = application.db();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        database_url,
        _data_dir: data_dir,
        _postgres: postgres,
    }
}

impl TestApp {
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
