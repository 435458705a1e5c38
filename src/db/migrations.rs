//! Embedded migrations, one folder per backend with the same names, so the
//! binary carries its schema and `migrate` needs no files on the server.

use diesel::backend::Backend;
use diesel::sql_types::BigInt;
use diesel::{PgConnection, RunQueryDsl};
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
/// transaction (each migration in a savepoint of it), which `busy_timeout`
/// makes the others queue for.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    match conn {
        DbConn::Postgres(c) => holding_migration_lock(c, |c| apply(c, POSTGRES)),
        DbConn::Sqlite(_) => super::write_transaction(conn, |conn| match conn {
            DbConn::Sqlite(c) => apply(c, SQLITE),
            DbConn::Postgres(c) => apply(c, POSTGRES),
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

/// Runs `work` holding the migration lock, and lets go of it afterwards
/// whatever `work` answered. The lock is the session's, not a
/// transaction's, because every migration commits its own transaction. If
/// `work` panics the unlock is skipped, but the pool drops a connection
/// handed back while panicking, and the server frees a session's locks
/// when the session ends.
fn holding_migration_lock<T>(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let call = |function: &str, conn: &mut PgConnection| {
        diesel::sql_query(format!("SELECT {function}($1)"))
            .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
            .execute(conn)
    };
    call("pg_advisory_lock", conn)
        .map_err(|e| anyhow::anyhow!("cannot take the migration lock: {e}"))?;
    let outcome = work(conn);
    match (outcome, call("pg_advisory_unlock", conn)) {
        (Ok(value), Ok(_)) => Ok(value),
        // Failing the start ends the session, which is what frees the lock
        // for the other instances now.
        (Ok(_), Err(e)) => Err(anyhow::anyhow!("cannot release the migration lock: {e}")),
        // The work's error says more than a failed unlock would.
        (Err(error), _) => Err(error),
    }
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
    fn both_backends_have_the_same_migration_names() {
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
    }
}
