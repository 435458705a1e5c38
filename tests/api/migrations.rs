//! Migrations when several instances start at once against one database
//! (a rolling deploy, replicas, two processes on one SQLite file): one
//! applies them, the others wait for it and find nothing pending, and
//! every instance starts.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use citizen_api::db::{
    DatabaseUrl, Db, DbConn, MIGRATION_LOCK_KEY, has_pending_migrations, run_migrations,
};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Integer};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::helpers::empty_database;

const INSTANCES: usize = 4;

/// How long the instances wait for each other's migrations: long enough
/// for four of them to take turns on a slow machine.
const WAIT: Duration = Duration::from_secs(60);

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
                    run_migrations(conn, WAIT)
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
            run_migrations(conn, WAIT)
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

/// Another session holding the migration lock as a hung instance would,
/// and what the error of a start that gave up waiting for it must name.
struct HeldLock {
    /// The lock is held while this is open.
    _session: Box<dyn std::any::Any>,
    named_in_the_error: Vec<String>,
}

fn hold_migration_lock(url: &str) -> HeldLock {
    match DatabaseUrl::parse(url).unwrap() {
        DatabaseUrl::Postgres(_) => {
            let mut c = PgConnection::establish(url).unwrap();
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .unwrap();
            let pid: i32 = diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
                .get_result(&mut c)
                .unwrap();
            HeldLock {
                _session: Box::new(c),
                named_in_the_error: vec![
                    "migration lock for over 1 s".into(),
                    format!("server process {pid}"),
                ],
            }
        }
        // In WAL mode first, as the instance's pool opens it, so that the
        // instance's own set-up does not wait on the held lock.
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
            c.batch_execute("PRAGMA journal_mode = WAL; BEGIN IMMEDIATE;")
                .unwrap();
            HeldLock {
                _session: Box::new(c),
                named_in_the_error: vec!["write lock for over 1 s".into()],
            }
        }
    }
}

/// A hung holder of the lock must not stall a start for ever: the start
/// waits as long as it is told, then fails naming what it waited for, and
/// migrates once the holder is gone.
#[test]
fn a_start_waits_for_the_migration_lock_only_as_long_as_it_is_told() {
    let (_database, url) = empty_database();
    // The same lock held in another database on the same server, which the
    // error must not name: PostgreSQL's advisory locks are per database.
    let (_other_database, other_url) = empty_database();
    let _other = hold_migration_lock(&other_url);
    let held = hold_migration_lock(&url);
    let starting = instance(&url);

    let started = Instant::now();
    let error = starting
        .run_blocking(|conn| run_migrations(conn, Duration::from_secs(1)))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(1)..Duration::from_secs(20)).contains(&waited),
        "waited {waited:?}"
    );
    let error = format!("{error:#}");
    for name in &held.named_in_the_error {
        assert!(error.contains(name.as_str()), "{name:?} in {error}");
    }

    drop(held);
    assert!(
        starting.run_blocking(has_pending_migrations).unwrap(),
        "the start that gave up applied nothing"
    );
    let applied = starting
        .run_blocking(|conn| run_migrations(conn, Duration::from_secs(1)))
        .unwrap();
    assert!(!applied.is_empty());
    assert!(!starting.run_blocking(has_pending_migrations).unwrap());
}
