//! Embedded migrations, one folder per backend with the same names, so the
//! binary carries its schema and `migrate` needs no files on the server.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies what is pending; returns the versions applied.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
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
