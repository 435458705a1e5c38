//! Migrations when several instances start at once against one database
//! (a rolling deploy, replicas, two processes on one SQLite file): one
//! applies them, the others wait for it and find nothing pending, and
//! every instance starts.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use citizen_api::db::{
    DatabaseUrl, Db, DbConn, MIGRATION_LOCK_KEY, has_pending_migrations, run_migrations,
};
use diesel::connection::SimpleConnection;
use diesel::sql_types::Bool;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

use crate::helpers::empty_database;

const INSTANCES: usize = 4;

/// An instance's own pool, as `Application::build` opens it: SQLite
/// connections wait up to `busy_timeout` for the write lock.
fn instance(url: &str) -> Db {
    let url = DatabaseUrl::parse(url).expect("a database URL");
    Db::connect(&url, 1, Duration::from_secs(30), Duration::from_secs(30)).expect("connects")
}

#[test]
fn instances_migrating_one_database_at_once_apply_each_migration_once() {
    let (_database, url) = empty_database();
    let start = Arc::new(Barrier::new(INSTANCES));
    let instances: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let db = instance(&url);
            let start = start.clone();
            std::thread::spawn(move || {
                db.run_blocking(|conn| {
                    start.wait();
                    run_migrations(conn)
                })
            })
        })
        .collect();
    let mut applied: Vec<Vec<String>> = instances
        .into_iter()
        .map(|instance| {
            instance
                .join()
                .expect("no instance panicked")
                .expect("every instance migrates")
        })
        .collect();

    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    applied.sort_by_key(Vec::len);
    let first = applied.pop().unwrap();
    assert_eq!(first.len(), migrations, "one instance applied them all");
    assert!(
        applied.iter().all(Vec::is_empty),
        "the others found nothing pending: {applied:?}"
    );
    assert!(!instance(&url).run_blocking(has_pending_migrations).unwrap());
}

/// A start whose migration fails must not keep the lock: its connection may
/// stay open, and every later start would wait behind it.
#[test]
fn a_failed_migration_lets_go_of_the_lock() {
    let (_database, url) = empty_database();
    let migrating = instance(&url);
    let error = migrating
        .run_blocking(|conn| {
            conn.batch_execute("CREATE TABLE municipalities (id TEXT)")?;
            run_migrations(conn)
        })
        .unwrap_err();
    assert!(error.to_string().contains("municipalities"), "{error}");

    let lock_is_free = match DatabaseUrl::parse(&url).unwrap() {
        DatabaseUrl::Postgres(_) => instance(&url)
            .run_blocking(|conn| {
                let DbConn::Postgres(c) = conn else {
                    unreachable!("a PostgreSQL URL")
                };
                Ok(diesel::select(diesel::dsl::sql::<Bool>(&format!(
                    "pg_try_advisory_lock({MIGRATION_LOCK_KEY})"
                )))
                .get_result::<bool>(c)?)
            })
            .unwrap(),
        // A connection of its own without busy_timeout fails at once if
        // the write lock is held.
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            c.batch_execute("BEGIN IMMEDIATE; ROLLBACK;").is_ok()
        }
    };
    assert!(lock_is_free, "the failed start still holds the lock");
    // Open until here, so no connection's end freed the lock instead.
    drop(migrating);
}
