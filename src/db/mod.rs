//! One connection type over SQLite and PostgreSQL, a bounded pool, and the
//! one way handlers reach the database: [`Db::run`] on the blocking pool.

mod fixed;
mod migrations;
mod pool;
pub mod schema;
mod sql_text;

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

pub use crate::config::DatabaseUrl;
pub(crate) use fixed::{fixed_update, on_backend};
pub use migrations::{MIGRATION_LOCK_KEY, has_pending_migrations, run_migrations};
pub use pool::{Db, DbError, PoolError, PoolState, prepare_libpq};
pub(crate) use sql_text::sql_text;

/// A connection to whichever backend `DATABASE_URL` names. Queries written
/// with diesel's DSL run on both; where SQL must differ, `match` on it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

use diesel::connection::{AnsiTransactionManager, TransactionManager};

/// Runs `work` in a transaction that holds the write lock from its start.
///
/// Every transaction that writes goes through here. On SQLite a plain
/// (deferred) transaction that reads first and writes later fails at once
/// with `SQLITE_BUSY` when another connection wrote in between, whatever
/// `busy_timeout` says; `BEGIN IMMEDIATE` takes the lock up front, where
/// `busy_timeout` makes it wait its turn. PostgreSQL needs nothing special:
/// its row locks and conditional UPDATEs do the ordering.
pub fn write_transaction<T, E>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
    }
    let outcome = work(conn);
    let finish = match (&outcome, &mut *conn) {
        (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConn::Postgres(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (outcome, finish) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(error)) => Err(error.into()),
        // The work's error says more than a failed rollback would.
        (Err(error), _) => Err(error),
    }
}
