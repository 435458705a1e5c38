//! Layered settings: built-in defaults < optional TOML file < environment.
//!
//! Environment variables are `CITIZEN_API_<KEY>`, with `__` between nested
//! keys (`CITIZEN_API_DATABASE__POOL_SIZE`); `DATABASE_URL` is honoured as
//! well because every PostgreSQL tool already knows it. The `production`
//! profile refuses settings that are only safe on a developer's machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::db::DatabaseUrl;
use crate::notify::NotifySettings;
use crate::notify::config::{EmailTransportKind, SmsTransportKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub profile: Profile,
    /// Address and port to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// Home of the SQLite file and, later, development keys and local blobs.
    pub data_dir: PathBuf,
    /// Seed the demo catalogue when the database is empty (development only).
    pub demo_data: bool,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
    /// The outbox worker and the SMS and e-mail transports.
    #[serde(default)]
    pub notify: NotifySettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// SQLite serves one machine only; production must opt in knowingly.
    pub allow_sqlite_in_production: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpSettings {
    /// Largest accepted JSON body, in bytes.
    pub json_limit_bytes: usize,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// `tracing` filter directives, e.g. `info,citizen_api=debug`.
    pub filter: String,
    /// Unset: pretty in development, JSON in production.
    pub format: Option<LogFormat>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            profile: Profile::Development,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("var"),
            demo_data: true,
            database: DatabaseSettings {
                url: None,
                pool_size: 10,
                acquire_timeout_ms: 5_000,
                sqlite_busy_timeout_ms: 5_000,
                allow_sqlite_in_production: false,
            },
            http: HttpSettings {
                json_limit_bytes: 64 * 1024,
                shutdown_timeout_secs: 30,
                workers: 0,
            },
            log: LogSettings {
                filter: "info".into(),
                format: None,
            },
            notify: NotifySettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid setting: {0}")]
    Invalid(Box<figment::Error>),
    #[error("invalid setting {setting}: {problem}; expected {expected}")]
    Unacceptable {
        setting: &'static str,
        problem: String,
        expected: &'static str,
    },
    #[error("the production profile refuses {setting}: {why}")]
    InsecureForProduction {
        setting: &'static str,
        why: &'static str,
    },
}

impl Settings {
    /// Reads defaults, then the optional file, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment
            .merge(Env::prefixed("CITIZEN_API_").split("__"))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            );
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: ranges, and the production profile's refusals.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.database.pool_size == 0 {
            return Err(ConfigError::Unacceptable {
                setting: "database.pool_size (CITIZEN_API_DATABASE__POOL_SIZE)",
                problem: "0".into(),
                expected: "a whole number of connections from 1 upwards",
            });
        }
        let url = self.database_url()?;
        if self.profile == Profile::Production {
            if matches!(url, DatabaseUrl::Sqlite(_)) && !self.database.allow_sqlite_in_production {
                return Err(ConfigError::InsecureForProduction {
                    setting: "SQLite (DATABASE_URL)",
                    why: "set DATABASE_URL to a postgres:// URL, or set \
                          CITIZEN_API_DATABASE__ALLOW_SQLITE_IN_PRODUCTION=true for a single-machine deployment",
                });
            }
            if self.demo_data {
                return Err(ConfigError::InsecureForProduction {
                    setting: "demo_data (CITIZEN_API_DEMO_DATA)",
                    why: "demo citizens and municipalities must never reach a production database; set it to false",
                });
            }
            if self.notify.sms.transport == SmsTransportKind::Development {
                return Err(ConfigError::InsecureForProduction {
                    setting: "the development SMS transport (CITIZEN_API_NOTIFY__SMS__TRANSPORT)",
                    why: "it delivers no SMS, so citizens would never get their codes; set it to http",
                });
            }
            if self.notify.email.transport == EmailTransportKind::Development {
                return Err(ConfigError::InsecureForProduction {
                    setting: "the development e-mail transport (CITIZEN_API_NOTIFY__EMAIL__TRANSPORT)",
                    why: "it delivers no e-mail, so citizens would never get their confirmations; set it to smtp",
                });
            }
        }
        Ok(())
    }

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

    pub fn log_format(&self) -> LogFormat {
        self.log.format.unwrap_or(match self.profile {
            Profile::Development => LogFormat::Pretty,
            Profile::Production => LogFormat::Json,
        })
    }
}

#[cfg(test)]
// figment's `Jail` fixes the closures' error type; its size is not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    fn production() -> Settings {
        let mut settings = Settings {
            profile: Profile::Production,
            demo_data: false,
            ..Settings::default()
        };
        settings.notify.sms.transport = SmsTransportKind::Http;
        settings.notify.email.transport = EmailTransportKind::Smtp;
        settings
    }

    #[test]
    fn defaults_are_a_working_development_setup() {
        let settings = Settings::default();
        settings.validate().unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            settings.database_url().unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("var/citizen-api.db"))
        );
    }

    #[test]
    fn production_refuses_sqlite_unless_allowed() {
        let err = production().validate().unwrap_err().to_string();
        assert!(err.contains("SQLite"), "{err}");
        let mut allowed = production();
        allowed.database.allow_sqlite_in_production = true;
        allowed.validate().unwrap();
    }

    #[test]
    fn production_refuses_demo_data() {
        let mut settings = production();
        settings.database.url = Some("postgres://db.internal/citizen".into());
        settings.validate().unwrap();
        settings.demo_data = true;
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("demo_data"), "{err}");
    }

    #[test]
    fn production_refuses_the_development_transports() {
        let mut settings = production();
        settings.database.url = Some("postgres://db.internal/citizen".into());
        settings.validate().unwrap();

        let mut sms = settings.clone();
        sms.notify.sms.transport = SmsTransportKind::Development;
        let err = sms.validate().unwrap_err().to_string();
        assert!(err.contains("CITIZEN_API_NOTIFY__SMS__TRANSPORT"), "{err}");

        let mut email = settings;
        email.notify.email.transport = EmailTransportKind::Development;
        let err = email.validate().unwrap_err().to_string();
        assert!(
            err.contains("CITIZEN_API_NOTIFY__EMAIL__TRANSPORT"),
            "{err}"
        );
    }

    #[test]
    fn notify_settings_come_from_the_environment_and_default_when_absent() {
        figment::Jail::expect_with(|jail| {
            let settings = Settings::load(None).unwrap();
            assert_eq!(
                settings.notify.email.transport,
                EmailTransportKind::Development
            );
            jail.set_env("CITIZEN_API_NOTIFY__EMAIL__TRANSPORT", "smtp");
            jail.set_env("CITIZEN_API_NOTIFY__SMS__GATEWAY_TOKEN", "t0ken");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.notify.email.transport, EmailTransportKind::Smtp);
            let token = settings.notify.sms.gateway_token.as_ref().unwrap();
            assert_eq!(secrecy::ExposeSecret::expose_secret(token), "t0ken");
            assert!(!format!("{settings:?}").contains("t0ken"));
            Ok(())
        });
    }

    #[test]
    fn an_unknown_database_scheme_names_the_setting() {
        let mut settings = Settings::default();
        settings.database.url = Some("mysql://localhost/x".into());
        let err = settings.validate().unwrap_err().to_string();
        assert!(
            err.contains("DATABASE_URL") && err.contains("mysql"),
            "{err}"
        );
    }

    #[test]
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "bind = \"127.0.0.1:9000\"\n[database]\npool_size = 3\n",
            )?;
            jail.set_env("CITIZEN_API_DATABASE__POOL_SIZE", "7");
            jail.set_env("DATABASE_URL", "postgres://localhost/x");
            let settings = Settings::load(Some(Path::new("c.toml"))).unwrap();
            assert_eq!(settings.bind.port(), 9000);
            assert_eq!(settings.database.pool_size, 7);
            assert!(matches!(
                settings.database_url().unwrap(),
                DatabaseUrl::Postgres(_)
            ));
            Ok(())
        });
    }

    #[test]
    fn a_malformed_value_names_the_setting_and_its_form() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CITIZEN_API_BIND", "localhost");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(
                err.contains("BIND") && err.contains("socket address"),
                "{err}"
            );
            Ok(())
        });
    }
}
