//! One connection type over SQLite and PostgreSQL, a bounded pool, and the
//! one way handlers reach the database: [`Db::run`] on the blocking pool.

mod migrations;
mod pool;
pub mod schema;
mod url;

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

pub use migrations::{has_pending_migrations, run_migrations};
pub use pool::{Db, PoolError};
pub use url::DatabaseUrl;

/// A connection to whichever backend `DATABASE_URL` names. Queries written
/// with diesel's DSL run on both; where SQL must differ, `match` on it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}
