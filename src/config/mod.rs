//! Layered settings: built-in defaults < optional TOML file < environment.
//!
//! Environment variables are `CITIZEN_API_<KEY>`, with `__` between nested
//! keys (`CITIZEN_API_DATABASE__POOL_SIZE`); `DATABASE_URL` is honoured as
//! well because every PostgreSQL tool already knows it. The `production`
//! profile refuses settings that are only safe on a developer's machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::ExposeSecret;
use serde::Deserialize;

mod auth;
mod database;
mod http;
mod images;
mod notify;
mod oauth;
mod ops;
mod photos;
mod production;
mod reminders;
mod retention;
mod secrets;
mod storage;
mod trusted_proxies;

pub use auth::{
    AuthSettings, ClientAuth, ContactRegistryKind, ContactRegistrySettings, DEVELOPMENT_CLIENT_ID,
    DEVELOPMENT_CLIENT_SECRET, OtpSettings, TaxisnetSettings, is_origin,
};
pub use database::{DatabaseSettings, DatabaseUrl};
pub use http::HttpSettings;
pub use images::{ImageBounds, ImageSettings};
pub use notify::{
    EmailSettings, EmailTransportKind, NotifySettings, SmsSettings, SmsTransportKind, SmtpSettings,
    SmtpTls,
};
pub use oauth::{MAX_TOKEN_LIFETIME_SECS, OAuthSettings};
pub use ops::OpsSettings;
pub use photos::PhotoSettings;
pub use reminders::ReminderSettings;
pub use retention::RetentionSettings;
pub use secrets::SecretSettings;
pub use storage::{StorageKind, StorageSettings};
pub use trusted_proxies::TrustedProxies;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub profile: Profile,
    /// Address and port to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// Home of the SQLite file, the development keys and, by default, the
    /// stored photos.
    pub data_dir: PathBuf,
    /// Seed the demo catalogue when the database is empty (development only).
    pub demo_data: bool,
    /// With demo data, keep this many days of slots ahead at every start.
    pub demo_slot_days: u32,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub secrets: SecretSettings,
    /// The outbox worker and the SMS and e-mail transports.
    pub notify: NotifySettings,
    /// How often the server runs its retention pass (R-BK-07).
    pub retention: RetentionSettings,
    /// The documents reminder before a visit (R-BK-05).
    pub reminders: ReminderSettings,
    /// Who may read `/metrics`.
    pub ops: OpsSettings,
    /// The throttles on kodikarithmos tries.
    pub photos: PhotoSettings,
    /// The bounds of an uploaded face photo and signature (R-PH-04), and
    /// how many images are decoded at once.
    pub images: ImageSettings,
    /// Where sealed photos are kept (R-PH-19).
    pub storage: StorageSettings,
    /// The authorization server for third-party applications.
    pub oauth: OAuthSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
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
            demo_slot_days: 28,
            database: DatabaseSettings::default(),
            http: HttpSettings::default(),
            log: LogSettings::default(),
            auth: AuthSettings::default(),
            secrets: SecretSettings::default(),
            notify: NotifySettings::default(),
            retention: RetentionSettings::default(),
            reminders: ReminderSettings::default(),
            ops: OpsSettings::default(),
            photos: PhotoSettings::default(),
            images: ImageSettings::default(),
            storage: StorageSettings::default(),
            oauth: OAuthSettings::default(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            filter: "info".into(),
            format: None,
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

/// The shortest metrics token accepted: anyone may try tokens against
/// `/metrics`, and 32 characters of base64 (`openssl rand -base64 32` gives
/// 44) put guessing out of reach.
const MIN_METRICS_TOKEN_CHARS: usize = 32;

impl Settings {
    /// Reads defaults, then the optional file, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::new();
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
        if self.database.migration_lock_timeout_secs == 0 {
            return Err(ConfigError::Unacceptable {
                setting: "database.migration_lock_timeout_secs (CITIZEN_API_DATABASE__MIGRATION_LOCK_TIMEOUT_SECS)",
                problem: "0".into(),
                expected: "a whole number of seconds from 1 upwards",
            });
        }
        if let Some(bad) = self.auth.allowed_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError::Unacceptable {
                setting: "auth.allowed_origins (CITIZEN_API_AUTH__ALLOWED_ORIGINS)",
                problem: bad.clone(),
                expected: "origins as browsers send them: scheme://host[:port], no path, no trailing slash",
            });
        }
        // `return_to` is accepted when it starts with an entry; an entry that
        // does not end its host with a `/` would also admit
        // `https://mydimos.gr.evil.example`.
        let prefix = |entry: &String| {
            entry.ends_with('/')
                && url::Url::parse(entry).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        };
        if let Some(bad) = self.auth.return_to_allowlist.iter().find(|e| !prefix(e)) {
            return Err(ConfigError::Unacceptable {
                setting: "auth.return_to_allowlist (CITIZEN_API_AUTH__RETURN_TO_ALLOWLIST)",
                problem: bad.clone(),
                expected: "http(s) URLs ending in /, e.g. https://mydimos.kalamata.gr/",
            });
        }
        if let Some(token) = &self.ops.metrics_token
            && token.expose_secret().trim().chars().count() < MIN_METRICS_TOKEN_CHARS
        {
            return Err(ConfigError::Unacceptable {
                setting: "ops.metrics_token (CITIZEN_API_OPS__METRICS_TOKEN)",
                // Never the token itself: the message is logged.
                problem: format!("it is shorter than {MIN_METRICS_TOKEN_CHARS} characters"),
                expected: "at least 32 random characters, e.g. from `openssl rand -base64 32`",
            });
        }
        self.images.validate()?;
        self.oauth.validate()?;
        self.validate_storage()?;
        let proxies = self.trusted_proxies()?;
        let url = self.database_url()?;
        if self.profile == Profile::Production {
            production::refuse_insecure(self, &proxies, &url)?;
        }
        Ok(())
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

    pub(super) const METRICS_TOKEN: &str = "scraper-token-of-at-least-32-characters";

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
    fn a_zero_pool_or_migration_wait_is_refused_at_start() {
        let mut settings = Settings::default();
        settings.database.migration_lock_timeout_secs = 0;
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("MIGRATION_LOCK_TIMEOUT_SECS"), "{err}");
        let mut settings = Settings::default();
        settings.database.pool_size = 0;
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("POOL_SIZE"), "{err}");
    }

    #[test]
    fn an_allowed_origin_with_a_path_or_trailing_slash_is_refused_at_start() {
        let mut settings = Settings::default();
        settings.auth.allowed_origins = vec!["https://mydimos.kalamata.gr/".into()];
        let err = settings.validate().unwrap_err().to_string();
        assert!(
            err.contains("ALLOWED_ORIGINS") && err.contains("no trailing slash"),
            "{err}"
        );
        settings.auth.allowed_origins = vec!["https://mydimos.kalamata.gr".into()];
        settings.validate().unwrap();
    }

    #[test]
    fn trusted_proxies_are_a_list_from_the_environment_checked_at_start() {
        figment::Jail::expect_with(|jail| {
            assert!(
                Settings::load(None)
                    .unwrap()
                    .http
                    .trusted_proxies
                    .is_empty()
            );
            jail.set_env(
                "CITIZEN_API_HTTP__TRUSTED_PROXIES",
                r#"["10.0.0.0/8", "127.0.0.1"]"#,
            );
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.http.trusted_proxies, ["10.0.0.0/8", "127.0.0.1"]);
            jail.set_env(
                "CITIZEN_API_HTTP__TRUSTED_PROXIES",
                r#"["10.0.0.0/8", "nginx"]"#,
            );
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(
                err.contains("TRUSTED_PROXIES")
                    && err.contains("\"nginx\"")
                    && err.contains("CIDR"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_return_to_prefix_must_end_in_a_slash() {
        let mut settings = Settings::default();
        settings.auth.return_to_allowlist = vec!["https://mydimos.kalamata.gr".into()];
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("RETURN_TO_ALLOWLIST"), "{err}");
        settings.auth.return_to_allowlist = vec!["https://mydimos.kalamata.gr/".into()];
        settings.validate().unwrap();
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

    /// One image bound set alone leaves the others at their own image's
    /// defaults.
    #[test]
    fn an_image_bound_comes_from_the_environment_alone() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CITIZEN_API_IMAGES__SIGNATURE_MAX_BYTES", "2000000");
            let images = Settings::load(None).unwrap().images;
            assert_eq!(images.signature().max_bytes, 2_000_000);
            assert_eq!(images.signature().min_width, 300);
            assert_eq!(images.face(), ImageSettings::default().face());
            Ok(())
        });
    }

    #[test]
    fn a_metrics_token_comes_from_the_environment_never_shows_and_must_be_long() {
        figment::Jail::expect_with(|jail| {
            assert!(Settings::load(None).unwrap().ops.metrics_token.is_none());
            jail.set_env("CITIZEN_API_OPS__METRICS_TOKEN", METRICS_TOKEN);
            let settings = Settings::load(None).unwrap();
            let token = settings.ops.metrics_token.as_ref().unwrap();
            assert_eq!(token.expose_secret(), METRICS_TOKEN);
            assert!(!format!("{settings:?}").contains(METRICS_TOKEN));
            for short in ["", "   ", "short-token"] {
                jail.set_env("CITIZEN_API_OPS__METRICS_TOKEN", short);
                let err = Settings::load(None).unwrap_err().to_string();
                assert!(err.contains("CITIZEN_API_OPS__METRICS_TOKEN"), "{err}");
                assert!(!err.contains("short-token"), "{err}");
            }
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
