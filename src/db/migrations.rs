//! Embedded migrations, one folder per backend with the same names, so the
//! binary carries its schema and `migrate` needs no files on the server.

use std::time::Duration;

use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Integer};
use diesel::{
    Connection, OptionalExtension, PgConnection, QueryResult, QueryableByName, RunQueryDsl,
    SqliteConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The PostgreSQL advisory lock an instance holds while it migrates: the
/// ASCII of `citizmig` as a big-endian `bigint`, 7163384678683863399 (in
/// `pg_locks`: `locktype = 'advisory'`, `classid = 1667855465`,
/// `objid = 2053990759`). Nothing else sharing the database may take it.
pub const MIGRATION_LOCK_KEY: i64 = i64::from_be_bytes(*b"citizmig");

/// Applies what is pending; returns the versions applied.
///
/// Instances that start at once against one database (a rolling deploy,
/// replicas, two processes on one SQLite file) would all find the same
/// migrations pending and apply them side by side, and all but one would
/// fail. So the check and the run happen under a lock the others wait for,
/// then find nothing pending: on PostgreSQL [`MIGRATION_LOCK_KEY`], a
/// session lock, since every migration commits a transaction of its own;
/// on SQLite the write lock, by running them all in one `BEGIN IMMEDIATE`
/// transaction (each migration in a savepoint of it).
///
/// An instance waits for the lock up to `lock_timeout`, then fails its
/// start saying who holds it: a holder that hung (a stuck migration, a
/// session left open by hand) would otherwise stall every start after it
/// without a word.
pub fn run_migrations(conn: &mut DbConn, lock_timeout: Duration) -> anyhow::Result<Vec<String>> {
    match conn {
        DbConn::Postgres(c) => holding_migration_lock(c, lock_timeout, |c| apply(c, POSTGRES)),
        DbConn::Sqlite(c) => waiting_for_write_lock(c, lock_timeout, |c| {
            c.immediate_transaction(|c| apply(c, SQLITE))
        }),
    }
}

fn apply<DB: Backend>(
    conn: &mut impl MigrationHarness<DB>,
    migrations: EmbeddedMigrations,
) -> anyhow::Result<Vec<String>> {
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

fn lock_function(function: &str, conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(format!("SELECT {function}($1)"))
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)
}

/// Runs `work` holding the migration lock, and lets go of it afterwards
/// whatever `work` answered. The lock is the session's, not a
/// transaction's, because every migration commits its own transaction. If
/// `work` panics the unlock is skipped, but the pool drops a connection
/// handed back while panicking, and the server frees a session's locks
/// when the session ends.
fn holding_migration_lock<T>(
    conn: &mut PgConnection,
    lock_timeout: Duration,
    work: impl FnOnce(&mut PgConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    take_migration_lock(conn, lock_timeout)?;
    let outcome = work(conn);
    match (outcome, lock_function("pg_advisory_unlock", conn)) {
        (Ok(value), Ok(_)) => Ok(value),
        // Failing the start ends the session, which is what frees the lock
        // for the other instances now.
        (Ok(_), Err(e)) => Err(anyhow::anyhow!("cannot release the migration lock: {e}")),
        // The work's error says more than a failed unlock would.
        (Err(error), _) => Err(error),
    }
}

/// `SET LOCAL` bounds the wait of the lock's statement only: the setting
/// ends with its transaction, while the lock, the session's, outlives it.
/// The migrations then wait for their tables' locks as long as that takes,
/// as an operator running them by hand would.
fn take_migration_lock(conn: &mut PgConnection, lock_timeout: Duration) -> anyhow::Result<()> {
    let taken = conn.transaction(|conn| {
        conn.batch_execute(&format!(
            "SET LOCAL lock_timeout = {}",
            lock_timeout.as_millis()
        ))?;
        lock_function("pg_advisory_lock", conn)
    });
    let Err(error) = taken else {
        return Ok(());
    };
    match migration_lock_holder(conn) {
        Ok(Some(pid)) => Err(anyhow::anyhow!(
            "another instance has held the migration lock for over {} s: server \
             process {pid} (pg_stat_activity.pid); it is released when that session \
             ends ({error})",
            lock_timeout.as_secs()
        )),
        _ => Err(anyhow::anyhow!("cannot take the migration lock: {error}")),
    }
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// The server process holding [`MIGRATION_LOCK_KEY`] in this database:
/// `pg_locks` lists every database's locks, and an advisory lock is one
/// database's, so others' instances holding the same key do not count. A
/// `bigint` key shows as its high half in `classid`, its low in `objid`.
fn migration_lock_holder(conn: &mut PgConnection) -> QueryResult<Option<i32>> {
    diesel::sql_query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND classid = ($1 >> 32)::oid AND objid = ($1 & 4294967295)::oid",
    )
    .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
    .get_result::<Holder>(conn)
    .optional()
    .map(|holder| holder.map(|h| h.pid))
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = Integer)]
    timeout: i32,
}

/// Runs `work` with SQLite waiting up to `lock_timeout` for the write lock
/// instead of the pool's `busy_timeout`, which is sized for requests, and
/// puts the pool's back afterwards.
fn waiting_for_write_lock<T>(
    conn: &mut SqliteConnection,
    lock_timeout: Duration,
    work: impl FnOnce(&mut SqliteConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let set = |conn: &mut SqliteConnection, millis: u128| {
        conn.batch_execute(&format!("PRAGMA busy_timeout = {millis}"))
    };
    let previous = diesel::sql_query("PRAGMA busy_timeout")
        .get_result::<BusyTimeout>(conn)?
        .timeout;
    set(conn, lock_timeout.as_millis())?;
    let outcome = work(conn);
    let restored = set(conn, u128::try_from(previous).unwrap_or_default());
    let value = outcome.map_err(|error| {
        let locked = matches!(
            error.downcast_ref::<diesel::result::Error>(),
            Some(diesel::result::Error::DatabaseError(_, info)) if info.message() == "database is locked"
        );
        if locked {
            error.context(format!(
                "another process has held the database's write lock for over {} s \
                 (another instance migrating, or a long write); nothing was migrated",
                lock_timeout.as_secs()
            ))
        } else {
            error
        }
    })?;
    restored?;
    Ok(value)
}

pub fn has_pending_migrations(conn: &mut DbConn) -> anyhow::Result<bool> {
    match conn {
        DbConn::Postgres(c) => c.has_pending_migration(POSTGRES),
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE),
    }
    .map_err(|e| anyhow::anyhow!("cannot read the migration table: {e}"))
}

#[cfg(test)]
mod tests {
    /// Both folders must hold the same migrations, or one backend would
    /// silently lack a table the other has.
    #[test]
    fn both_backends_have_the_same_migration_names_each_with_its_own_version() {
        let names = |dir: &str| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
        assert!(!postgres.is_empty());
        assert_eq!(
            postgres,
            names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        );
        // Diesel keys a migration by the version before the first `_`: two
        // folders with one version would apply only one of them.
        let mut versions: Vec<&str> = postgres
            .iter()
            .map(|name| name.split('_').next().unwrap_or_default())
            .collect();
        versions.dedup();
        assert_eq!(
            versions.len(),
            postgres.len(),
            "a version twice: {postgres:?}"
        );
    }
}
