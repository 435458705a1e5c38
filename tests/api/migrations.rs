//! Migrations when several instances start at once against one PostgreSQL
//! database (a rolling deploy, replicas): one applies them, the others wait
//! for it and find nothing pending, and every instance starts.

use std::sync::{Arc, Barrier};

use citizen_api::db::{DbConn, MIGRATION_LOCK_KEY, has_pending_migrations, run_migrations};
use diesel::sql_types::Bool;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::helpers::empty_postgres_database;

const INSTANCES: usize = 4;

fn connect(url: &str) -> DbConn {
    DbConn::Postgres(PgConnection::establish(url).expect("the test database is reachable"))
}

#[test]
fn instances_migrating_one_database_at_once_apply_each_migration_once() {
    let Some((_database, url)) = empty_postgres_database() else {
        return;
    };
    let start = Arc::new(Barrier::new(INSTANCES));
    let instances: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let mut conn = connect(&url);
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                run_migrations(&mut conn)
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

    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    applied.sort_by_key(Vec::len);
    let first = applied.pop().unwrap();
    assert_eq!(first.len(), migrations, "one instance applied them all");
    assert!(
        applied.iter().all(Vec::is_empty),
        "the others found nothing pending: {applied:?}"
    );
    assert!(!has_pending_migrations(&mut connect(&url)).unwrap());
}

/// A start whose migration fails must not keep the lock: its connection may
/// stay open, and every later start would wait behind it.
#[test]
fn a_failed_migration_lets_go_of_the_lock() {
    let Some((_database, url)) = empty_postgres_database() else {
        return;
    };
    let mut migrating = connect(&url);
    diesel::sql_query("CREATE TABLE municipalities (id TEXT)")
        .execute(&mut migrating)
        .unwrap();
    let error = run_migrations(&mut migrating).unwrap_err();
    assert!(error.to_string().contains("municipalities"), "{error}");

    let taken: bool = diesel::select(diesel::dsl::sql::<Bool>(&format!(
        "pg_try_advisory_lock({MIGRATION_LOCK_KEY})"
    )))
    .get_result(&mut connect(&url))
    .unwrap();
    assert!(taken, "the failed start still holds the lock");
    // Open until here, so no session's end freed the lock instead.
    drop(migrating);
}
