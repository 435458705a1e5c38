//! A bounded r2d2 pool of [`DbConn`], and the way async handlers use it.

use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{DatabaseUrl, DbConn};

/// Counts the statements a PostgreSQL connection completed since it was
/// last handed out. When a request's work fails on a connection the server
/// had already closed *and not one statement succeeded*, nothing of the
/// work reached the database, so it is safe to run it again on a fresh
/// connection. After even one success it is not (an autocommit write may
/// have landed), and the failure is answered as it is.
///
/// `closed` marks a connection found closed that way, so that the pool
/// drops it instead of handing it out again.
#[derive(Default)]
struct CompletedStatements {
    completed: u64,
    closed: bool,
}

impl Instrumentation for CompletedStatements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error: None, .. } = event {
            self.completed += 1;
        }
    }
}

fn completed_statements(conn: &mut DbConn) -> Option<&mut CompletedStatements> {
    match conn {
        DbConn::Postgres(c) => c.instrumentation().downcast_mut::<CompletedStatements>(),
        DbConn::Sqlite(_) => None,
    }
}

/// Whether the server is still there, without a round trip: reads, without
/// waiting, whatever arrived while the connection sat in the pool. A server
/// that ended the session (restart, `pg_terminate_backend`, idle timeout)
/// sent its reason and closed the socket, and libpq reports the closed
/// socket as an error here. Twice, because the first read may stop after
/// the reason, before the end of the stream.
fn is_closed(conn: &mut DbConn) -> bool {
    match conn {
        DbConn::Postgres(c) => {
            (0..2).any(|_| matches!(c.notifications_iter().next(), Some(Err(_))))
        }
        DbConn::Sqlite(_) => false,
    }
}

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
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                conn.set_instrumentation(CompletedStatements::default());
                Ok(DbConn::Postgres(conn))
            }
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

    /// Runs on every checkout, so it must not cost a round trip: a
    /// `SELECT 1` here was a fifth of the statements of a booking. A
    /// connection that dies after this check is caught by [`Db::run`]'s
    /// retry.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        // A SQLite connection is an open file: nothing can close it.
        if is_closed(conn) {
            return Err(r2d2::Error::QueryError(
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    Box::new("the server closed the connection".to_owned()),
                ),
            ));
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking()
            || completed_statements(conn).is_some_and(|watch| watch.closed)
            || match conn {
                DbConn::Postgres(c) => c.is_broken(),
                DbConn::Sqlite(c) => c.is_broken(),
            }
    }
}

/// Must run before the process's first PostgreSQL connection, whoever
/// opens it (the pool, a test harness's admin connection, the bench).
/// libpq uses OpenSSL for TLS. Initialized by libpq, OpenSSL registers an
/// exit handler that frees its state while pool threads may still use it,
/// which crashed processes at exit now and then. Initialized first, by
/// openssl-sys, it skips that handler (OPENSSL_INIT_NO_ATEXIT).
pub fn prepare_libpq() {
    openssl_sys::init();
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

/// Why [`Db::run`] could not run the work at all. Errors of the work itself
/// are the caller's own type; the HTTP layer maps both to answers.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection came free within the acquire timeout.
    #[error("no database connection available: {0}")]
    Unavailable(String),
    /// The blocking pool could not run the work (it panicked or was shut down).
    #[error("blocking task failed: {0}")]
    Blocking(String),
    /// A statement failed; for work whose only errors are the database's.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// The pool's size and its connections open and idle, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub max_size: u32,
    pub open: u32,
    pub idle: u32,
}

fn checkout(pool: &r2d2::Pool<Manager>) -> Result<r2d2::PooledConnection<Manager>, DbError> {
    let mut conn = pool.get().map_err(|e| {
        tracing::warn!(error = %e, "no database connection available");
        DbError::Unavailable(e.to_string())
    })?;
    if let Some(watch) = completed_statements(&mut conn) {
        watch.completed = 0;
    }
    Ok(conn)
}

/// Whether the server had closed `conn` before the work's first statement;
/// if so, marks it for the pool to drop.
fn closed_before_first_statement(conn: &mut DbConn) -> bool {
    let untouched = completed_statements(conn).is_some_and(|watch| watch.completed == 0);
    let closed = untouched && is_closed(conn);
    if let Some(watch) = completed_statements(conn).filter(|_| closed) {
        watch.closed = true;
    }
    closed
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
            prepare_libpq();
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
    pub fn state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            max_size: self.pool.max_size(),
            open: state.connections,
            idle: state.idle_connections,
        }
    }

    /// Runs blocking database work on actix's blocking pool, so no request
    /// holds a connection across an `.await` or blocks the executor. A pool
    /// that stays exhausted answers `503` after the acquire timeout.
    ///
    /// Work that failed because the server had closed the connection before
    /// its first statement (the server restarted, or ended the session while
    /// it sat in the pool) runs again on the next connection, which is why
    /// `work` must be `Clone`; the closed one is dropped. A restart closes
    /// every pooled connection, and the server may close them a moment
    /// after the checkout looked, so up to one more time than the pool
    /// holds connections.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Clone + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut attempts_left = pool.max_size() + 1;
            loop {
                let mut conn = checkout(&pool)?;
                let outcome = work.clone()(&mut conn);
                attempts_left -= 1;
                if outcome.is_err() && attempts_left > 0 && closed_before_first_statement(&mut conn)
                {
                    tracing::info!("the database had closed a pooled connection; running again");
                    continue;
                }
                return outcome;
            }
        })
        .await
        .map_err(|e| DbError::Blocking(e.to_string()))?
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
        let err = db.run(|_| Ok::<_, DbError>(())).await.unwrap_err();
        assert!(matches!(err, DbError::Unavailable(_)), "{err}");
        drop(held);
        db.run(|_| Ok::<_, DbError>(())).await.unwrap();
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
