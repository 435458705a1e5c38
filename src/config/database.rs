//! The database settings, and which backend a `DATABASE_URL` means. An
//! unknown scheme is an error, never a silent fallback to SQLite.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, Settings};

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `postgres://…`, `sqlite://path` or a plain path; unset means the
    /// SQLite file `<data_dir>/citizen-api.db`.
    pub url: Option<String>,
    pub pool_size: u32,
    /// How long a request waits for a free connection before it is answered
    /// `503` instead of hanging.
    pub acquire_timeout_ms: u64,
    /// How long SQLite waits on a locked database before giving up.
    pub sqlite_busy_timeout_ms: u64,
    /// How long a starting instance waits for another one's migrations
    /// before it fails its start, naming the holder of the lock.
    pub migration_lock_timeout_secs: u64,
    /// SQLite serves one machine only; production must opt in knowingly.
    pub allow_sqlite_in_production: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            pool_size: 10,
            acquire_timeout_ms: 5_000,
            sqlite_busy_timeout_ms: 5_000,
            migration_lock_timeout_secs: 300,
            allow_sqlite_in_production: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("it is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.contains('?') {
                return Err(format!(
                    "'{raw}' names no SQLite file (options are not accepted)"
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        match raw.split_once(':') {
            // "c:\..." would be a drive letter, which no supported platform has.
            Some((scheme, _)) if is_scheme(scheme) => {
                Err(format!("the scheme '{scheme}' is not supported"))
            }
            _ => Ok(DatabaseUrl::Sqlite(PathBuf::from(raw))),
        }
    }

    /// What may be written in logs: the URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(start), Some(at)) if at > start => {
                    let userinfo = &url[start + 3..at];
                    let user = userinfo.split(':').next().unwrap_or_default();
                    format!("{}{user}:***{}", &url[..start + 3], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// libpq's `sslmode` values that never fall back to clear text. Its
/// default, `prefer`, quietly talks clear text to a server without TLS.
const ENCRYPTING_SSLMODES: [&str; 3] = ["require", "verify-ca", "verify-full"];

impl DatabaseUrl {
    /// Whether nothing sent to the database can cross a network in clear
    /// text (R-BK-12): a SQLite file, a PostgreSQL server reached over a
    /// Unix-domain socket, or TLS that libpq may not skip. `env` reads the
    /// variables libpq falls back on when the URL is silent (`PGHOST`,
    /// `PGSSLMODE`).
    pub fn transfers_encrypted(&self, env: impl Fn(&str) -> Option<String>) -> bool {
        let DatabaseUrl::Postgres(raw) = self else {
            return true;
        };
        let Ok(url) = url::Url::parse(raw) else {
            return false;
        };
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        let host = param("host")
            .or_else(|| url.host_str().filter(|h| !h.is_empty()).map(str::to_owned))
            .or_else(|| env("PGHOST"));
        // libpq's own rule: no host, or a path, means a Unix-domain socket;
        // `hostaddr` always means TCP. A path may arrive percent-encoded.
        let socket =
            host.is_none_or(|h| h.starts_with('/') || h.to_ascii_lowercase().starts_with("%2f"));
        if socket && param("hostaddr").is_none() {
            return true;
        }
        param("sslmode")
            .or_else(|| env("PGSSLMODE"))
            .is_some_and(|mode| ENCRYPTING_SSLMODES.contains(&mode.as_str()))
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

impl Settings {
    /// The database to use; unset means the SQLite file in the data folder.
    pub fn database_url(&self) -> Result<DatabaseUrl, ConfigError> {
        match &self.database.url {
            None => Ok(DatabaseUrl::Sqlite(self.data_dir.join("citizen-api.db"))),
            Some(raw) => DatabaseUrl::parse(raw).map_err(|problem| ConfigError::Unacceptable {
                setting: "DATABASE_URL",
                problem,
                expected: "postgres://user@host:port/db, postgresql://…, sqlite://path or a file path",
            }),
        }
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.database.acquire_timeout_ms)
    }

    pub fn migration_lock_timeout(&self) -> Duration {
        Duration::from_secs(self.database.migration_lock_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_in_both_spellings() {
        for url in ["postgres://u@h:5432/d", "postgresql://h/d"] {
            assert_eq!(
                DatabaseUrl::parse(url),
                Ok(DatabaseUrl::Postgres(url.into()))
            );
        }
    }

    #[test]
    fn sqlite_urls_and_plain_paths() {
        let expect = |p: &str| Ok(DatabaseUrl::Sqlite(PathBuf::from(p)));
        assert_eq!(DatabaseUrl::parse("sqlite://var/a.db"), expect("var/a.db"));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/a.db"),
            expect("/tmp/a.db")
        );
        assert_eq!(DatabaseUrl::parse("sqlite:a.db"), expect("a.db"));
        assert_eq!(DatabaseUrl::parse("./var/a.db"), expect("./var/a.db"));
        assert_eq!(DatabaseUrl::parse("/srv/a.db"), expect("/srv/a.db"));
    }

    #[test]
    fn unknown_schemes_are_refused() {
        for url in ["mysql://h/d", "redis://h", "file:a.db", ""] {
            assert!(DatabaseUrl::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn r_bk_12_transfers_are_encrypted_only_with_tls_libpq_cannot_skip_or_a_local_socket() {
        let no_env = |_: &str| None;
        let encrypted = |raw: &str| DatabaseUrl::parse(raw).unwrap().transfers_encrypted(no_env);
        for raw in [
            "postgres://app@db.internal/citizen?sslmode=verify-full",
            "postgres://app@db.internal/citizen?connect_timeout=5&sslmode=require",
            "postgresql://app@10.0.0.5:5432/citizen?sslmode=verify-ca",
            "postgres:///citizen",
            "postgres:///citizen?host=/var/run/postgresql",
            "postgresql://%2Fvar%2Frun%2Fpostgresql/citizen",
            "sqlite://var/citizen.db",
        ] {
            assert!(encrypted(raw), "{raw}");
        }
        for raw in [
            "postgres://app@db.internal/citizen",
            "postgres://app@db.internal/citizen?sslmode=prefer",
            "postgres://app@db.internal/citizen?sslmode=allow",
            "postgres://app@db.internal/citizen?sslmode=disable",
            "postgres:///citizen?host=/var/run/postgresql&hostaddr=10.0.0.5",
            "postgres://app@127.0.0.1:5432/citizen",
        ] {
            assert!(!encrypted(raw), "{raw}");
        }
        // What libpq reads from the environment when the URL is silent.
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        let tcp = DatabaseUrl::parse("postgres://app@db.internal/citizen").unwrap();
        assert!(tcp.transfers_encrypted(env(&[("PGSSLMODE", "verify-full")])));
        assert!(!tcp.transfers_encrypted(env(&[("PGSSLMODE", "prefer")])));
        let silent = DatabaseUrl::parse("postgres:///citizen").unwrap();
        assert!(!silent.transfers_encrypted(env(&[("PGHOST", "db.internal")])));
        let explicit =
            DatabaseUrl::parse("postgres://app@db.internal/citizen?sslmode=disable").unwrap();
        assert!(!explicit.transfers_encrypted(env(&[("PGSSLMODE", "require")])));
    }

    #[test]
    fn redaction_hides_the_password_only() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/citizen").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/citizen");
    }
}
