//! A bounded r2d2 pool of [`DbConn`], and the way async handlers use it.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{DatabaseUrl, DbConn};
use crate::http::ApiError;

/// Opens connections for the backend the URL names, and nothing else: the
/// derived `MultiConnection::establish` would try every backend in turn and
/// could quietly create a SQLite file named like a PostgreSQL URL.
struct Manager {
    url: DatabaseUrl,
    sqlite_busy_timeout: Duration,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConn::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // Per connection, because SQLite keeps these per connection:
                // WAL lets readers run beside the one writer, busy_timeout
                // makes writers queue instead of failing at once.
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                     PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL;",
                    self.sqlite_busy_timeout.as_millis()
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking()
            || match conn {
                DbConn::Postgres(c) => c.is_broken(),
                DbConn::Sqlite(c) => c.is_broken(),
            }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot open the database {url}: {source}")]
pub struct PoolError {
    url: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// The shared handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: &'static str,
}

impl Db {
    pub fn connect(
        url: &DatabaseUrl,
        pool_size: u32,
        acquire_timeout: Duration,
        sqlite_busy_timeout: Duration,
    ) -> Result<Db, PoolError> {
        let fail = |source: Box<dyn std::error::Error + Send + Sync>| PoolError {
            url: url.redacted(),
            source,
        };
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.into()))?;
        }
        if let DatabaseUrl::Postgres(_) = url {
            // libpq uses OpenSSL for TLS. Initialized by libpq, OpenSSL
            // registers an exit handler that frees its state while pool
            // threads may still use it, which crashed processes at exit now
            // and then. Initialized first, by openssl-sys, it skips that
            // handler (OPENSSL_INIT_NO_ATEXIT).
            openssl_sys::init();
        }
        let manager = Manager {
            url: url.clone(),
            sqlite_busy_timeout,
        };
        let backend = match url {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::Sqlite(_) => "sqlite",
        };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(acquire_timeout)
            .build(manager)
            .map_err(|e| fail(e.into()))?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Connections open and connections idle, for `/metrics`.
    pub fn state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            self.pool.max_size(),
            state.connections,
            state.idle_connections,
        )
    }

    /// Runs blocking database work on actix's blocking pool, so no request
    /// holds a connection across an `.await` or blocks the executor. A pool
    /// that stays exhausted answers `503` after the acquire timeout.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(|e| {
                tracing::warn!(error = %e, "no database connection available");
                ApiError::database_unavailable()
            })?;
            work(&mut conn)
        })
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
    }

    /// The same as [`Db::run`] for callers outside a request (CLI, start-up).
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut DbConn) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut conn = self.pool.get()?;
        work(&mut conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ErrorCode;

    #[actix_web::test]
    async fn an_exhausted_pool_answers_unavailable_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("t.db"));
        let db = Db::connect(
            &url,
            1,
            Duration::from_millis(100),
            Duration::from_millis(100),
        )
        .unwrap();
        let held = db.pool.get().unwrap();
        let err = db.run(|_| Ok(())).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
        drop(held);
        db.run(|_| Ok(())).await.unwrap();
    }

    #[test]
    fn sqlite_connections_enforce_foreign_keys_and_use_wal() {
        use diesel::RunQueryDsl;
        use diesel::sql_types::{BigInt, Text};
        #[derive(diesel::QueryableByName)]
        struct Fk {
            #[diesel(sql_type = BigInt)]
            foreign_keys: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Journal {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("nested/t.db"));
        let db = Db::connect(&url, 2, Duration::from_secs(1), Duration::from_secs(1)).unwrap();
        let mut conn = db.pool.get().unwrap();
        let DbConn::Sqlite(c) = &mut *conn else {
            panic!("not sqlite")
        };
        let fk: Fk = diesel::sql_query("PRAGMA foreign_keys")
            .get_result(c)
            .unwrap();
        let journal: Journal = diesel::sql_query("PRAGMA journal_mode")
            .get_result(c)
            .unwrap();
        assert_eq!(fk.foreign_keys, 1);
        assert_eq!(journal.journal_mode, "wal");
    }
}
