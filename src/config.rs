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
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::auth::settings::{AuthSettings, ContactRegistryKind, DEVELOPMENT_CLIENT_SECRET};
use crate::booking::reservations::reminders::ReminderSettings;
use crate::db::DatabaseUrl;
use crate::http::client_address::TrustedProxies;
use crate::http::is_origin;
use crate::notify::NotifySettings;
use crate::notify::config::SmtpTls;
use crate::notify::config::{EmailTransportKind, SmsTransportKind};
use crate::ops::OpsSettings;
use crate::retention::schedule::RetentionSettings;

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
    /// Home of the SQLite file and, later, development keys and local blobs.
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SecretSettings {
    /// Base64 of at least 32 random bytes: the key of the keyed hashes of
    /// one-time codes. Unset in development: made once and kept in
    /// `<data_dir>/development-keys/`. Production requires it.
    pub hmac_key: Option<SecretString>,
    /// The master keys that seal data at rest (outbox messages), as
    /// `ID:BASE64` pairs separated by commas, the current key first: each
    /// key 32 random bytes, each id a short name (`2026a`). Keep a retired
    /// key listed after the current one while anything sealed under it is
    /// left. Unset in development: one key made once and kept in
    /// `<data_dir>/development-keys/`. Production requires it.
    pub encryption_keys: Option<SecretString>,
}

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

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Largest accepted JSON body, in bytes.
    pub json_limit_bytes: usize,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Reverse proxies (IP addresses or CIDR networks) whose
    /// `X-Forwarded-For` names the client; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
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
        }
    }
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

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            json_limit_bytes: 64 * 1024,
            shutdown_timeout_secs: 30,
            workers: 0,
            trusted_proxies: Vec::new(),
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
        let proxies = self.trusted_proxies()?;
        let url = self.database_url()?;
        if self.profile == Profile::Production {
            if proxies.trusts_too_widely() {
                return Err(ConfigError::InsecureForProduction {
                    setting: "http.trusted_proxies (CITIZEN_API_HTTP__TRUSTED_PROXIES)",
                    why: "a network wider than /8 (IPv4) or /7 (IPv6), such as 0.0.0.0/0, trusts \
                          public addresses as proxies, so clients there could name themselves in \
                          X-Forwarded-For and escape the per-address limits; list the proxies' \
                          own addresses or networks",
                });
            }
            if matches!(url, DatabaseUrl::Sqlite(_)) && !self.database.allow_sqlite_in_production {
                return Err(ConfigError::InsecureForProduction {
                    setting: "SQLite (DATABASE_URL)",
                    why: "set DATABASE_URL to a postgres:// URL, or set \
                          CITIZEN_API_DATABASE__ALLOW_SQLITE_IN_PRODUCTION=true for a single-machine deployment",
                });
            }
            if !url.transfers_encrypted(|name| std::env::var(name).ok()) {
                return Err(ConfigError::InsecureForProduction {
                    setting: "DATABASE_URL (sslmode)",
                    why: "personal data would cross the network in clear text (R-BK-12); add \
                          sslmode=verify-full (or require) to the URL, or reach the server over a \
                          Unix-domain socket",
                });
            }
            self.refuse_development_settings()?;
        }
        Ok(())
    }

    /// Each development convenience that would be a hole in production.
    fn refuse_development_settings(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        let smtp = &self.notify.email.smtp;
        // R-BK-12: all transfers are encrypted, to the services this one
        // calls as to the browsers it answers.
        let https = |url: &str| url.starts_with("https://");
        let plain = |url: &Option<String>| url.as_deref().is_some_and(|u| !https(u));
        let refusals: [(bool, &'static str, &'static str); 17] = [
            (
                self.demo_data,
                "demo_data (CITIZEN_API_DEMO_DATA)",
                "demo citizens and municipalities must never reach a production database; set it to false",
            ),
            (
                auth.development_provider,
                "auth.development_provider (CITIZEN_API_AUTH__DEVELOPMENT_PROVIDER)",
                "the development login signs in anyone; set it to false and configure TAXISnet",
            ),
            (
                auth.taxisnet.authorize_url.is_none()
                    || auth.taxisnet.token_url.is_none()
                    || auth.taxisnet.userinfo_url.is_none(),
                "auth.taxisnet URLs (CITIZEN_API_AUTH__TAXISNET__AUTHORIZE_URL, __TOKEN_URL, __USERINFO_URL)",
                "set the GSIS endpoints, e.g. https://www1.gsis.gr/oauth2server/oauth/authorize",
            ),
            (
                auth.taxisnet
                    .client_secret
                    .as_ref()
                    .is_none_or(|s| s.expose_secret() == DEVELOPMENT_CLIENT_SECRET),
                "auth.taxisnet.client_secret (CITIZEN_API_AUTH__TAXISNET__CLIENT_SECRET)",
                "set the client secret GSIS issued; the development default is public",
            ),
            (
                auth.cookie_secure == Some(false),
                "auth.cookie_secure (CITIZEN_API_AUTH__COOKIE_SECURE)",
                "session cookies must only travel over HTTPS",
            ),
            (
                auth.contact_registry.kind == ContactRegistryKind::Database,
                "auth.contact_registry.kind (CITIZEN_API_AUTH__CONTACT_REGISTRY__KIND)",
                "the database registry is the development stand-in; use http with the registry's URL and token",
            ),
            (
                auth.contact_registry.kind == ContactRegistryKind::Http
                    && auth.contact_registry.url.is_none(),
                "auth.contact_registry.url (CITIZEN_API_AUTH__CONTACT_REGISTRY__URL)",
                "the registry's base URL is required",
            ),
            (
                self.notify.sms.transport == SmsTransportKind::Development,
                "the development SMS transport (CITIZEN_API_NOTIFY__SMS__TRANSPORT)",
                "it delivers no SMS, so citizens would never get their codes; set it to http",
            ),
            (
                self.notify.email.transport == EmailTransportKind::Development,
                "the development e-mail transport (CITIZEN_API_NOTIFY__EMAIL__TRANSPORT)",
                "it delivers no e-mail, so citizens would never get their confirmations; set it to smtp",
            ),
            (
                smtp.username.is_some() != smtp.password.is_some(),
                "notify.email.smtp.username and .password (CITIZEN_API_NOTIFY__EMAIL__SMTP__USERNAME, __PASSWORD)",
                "give both or neither: one alone would send mail without signing in, and a relay that wants a login refuses it only at the first confirmation",
            ),
            (
                smtp.tls == SmtpTls::None,
                "notify.email.smtp.tls (CITIZEN_API_NOTIFY__EMAIL__SMTP__TLS)",
                "confirmations carry names and appointments, and a login would cross the network in clear text; use starttls or tls",
            ),
            (
                !auth.public_base_url.as_deref().is_some_and(https),
                "auth.public_base_url (CITIZEN_API_AUTH__PUBLIC_BASE_URL)",
                "TAXISnet's redirect_uri and the links in e-mails are made from it; set the service's public https:// address",
            ),
            (
                auth.allowed_origins.iter().any(|o| !https(o))
                    || auth.return_to_allowlist.iter().any(|r| !https(r)),
                "auth.allowed_origins / auth.return_to_allowlist (CITIZEN_API_AUTH__ALLOWED_ORIGINS, __RETURN_TO_ALLOWLIST)",
                "production frontends are served over https; http:// entries (the development defaults among them) would trust pages sent in clear text",
            ),
            (
                plain(&auth.taxisnet.authorize_url)
                    || plain(&auth.taxisnet.token_url)
                    || plain(&auth.taxisnet.userinfo_url)
                    || plain(&auth.contact_registry.url)
                    || plain(&self.notify.sms.gateway_url),
                "the TAXISnet, contact registry and SMS gateway URLs",
                "codes, tokens, AFMs and mobile numbers cross them; use https:// URLs",
            ),
            (
                self.secrets.hmac_key.is_none(),
                "secrets.hmac_key (CITIZEN_API_SECRETS__HMAC_KEY)",
                "set base64 of at least 32 random bytes; development keys are made on the fly and not secret",
            ),
            (
                self.secrets.encryption_keys.is_none(),
                "secrets.encryption_keys (CITIZEN_API_SECRETS__ENCRYPTION_KEYS)",
                "set ID:BASE64 of 32 random bytes (e.g. 2026a:$(openssl rand -base64 32)); development keys are made on the fly and not secret",
            ),
            (
                self.ops.metrics_token.is_none(),
                "ops.metrics_token (CITIZEN_API_OPS__METRICS_TOKEN)",
                "/metrics would show anyone the routes, the traffic and the outbox's backlog; set a random token of at least 32 characters for the scraper to send as Authorization: Bearer",
            ),
        ];
        match refusals.into_iter().find(|(refused, _, _)| *refused) {
            Some((_, setting, why)) => Err(ConfigError::InsecureForProduction { setting, why }),
            None => Ok(()),
        }
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

    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        TrustedProxies::parse(&self.http.trusted_proxies).map_err(|bad| {
            ConfigError::Unacceptable {
                setting: "http.trusted_proxies (CITIZEN_API_HTTP__TRUSTED_PROXIES)",
                problem: format!("{bad:?}"),
                expected: "IP addresses or CIDR networks, e.g. [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]",
            }
        })
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.database.acquire_timeout_ms)
    }

    pub fn migration_lock_timeout(&self) -> Duration {
        Duration::from_secs(self.database.migration_lock_timeout_secs)
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

    /// A production configuration that passes every refusal.
    fn production() -> Settings {
        let mut settings = Settings {
            profile: Profile::Production,
            demo_data: false,
            ..Settings::default()
        };
        settings.database.url = Some("postgres://db.internal/citizen?sslmode=verify-full".into());
        let taxisnet = &mut settings.auth.taxisnet;
        taxisnet.authorize_url = Some("https://www1.gsis.gr/oauth2server/oauth/authorize".into());
        taxisnet.token_url = Some("https://www1.gsis.gr/oauth2server/oauth/token".into());
        taxisnet.userinfo_url =
            Some("https://www1.gsis.gr/oauth2server/userinfo?format=xml".into());
        taxisnet.client_secret = Some("issued-by-gsis".into());
        settings.auth.development_provider = false;
        settings.auth.public_base_url = Some("https://api.mydimos.example".into());
        settings.auth.allowed_origins = vec!["https://mydimos.example".into()];
        settings.auth.return_to_allowlist = vec!["https://mydimos.example/".into()];
        settings.auth.contact_registry.kind = ContactRegistryKind::Http;
        settings.auth.contact_registry.url = Some("https://emep.example/api".into());
        settings.notify.sms.transport = SmsTransportKind::Http;
        settings.notify.email.transport = EmailTransportKind::Smtp;
        settings.notify.email.smtp.username = Some("citizen-api".into());
        settings.notify.email.smtp.password = Some("relay-password".into());
        settings.secrets.hmac_key = Some("c2VjcmV0LWtleS1vZi1hdC1sZWFzdC0zMi1ieXRlcyE=".into());
        settings.secrets.encryption_keys =
            Some("k1:c2VjcmV0LWtleS1vZi1leGFjdGx5LTMyLWJ5dGVzISE=".into());
        settings.ops.metrics_token = Some(METRICS_TOKEN.into());
        settings
    }

    const METRICS_TOKEN: &str = "scraper-token-of-at-least-32-characters";

    #[test]
    fn a_complete_production_configuration_starts() {
        production().validate().unwrap();
    }

    #[test]
    fn production_refuses_each_development_convenience_by_name() {
        let cases: [(BreakIt, &str); 12] = [
            (
                |s| s.auth.development_provider = true,
                "DEVELOPMENT_PROVIDER",
            ),
            (|s| s.auth.taxisnet.token_url = None, "TOKEN_URL"),
            (
                |s| s.auth.taxisnet.client_secret = Some(DEVELOPMENT_CLIENT_SECRET.into()),
                "CLIENT_SECRET",
            ),
            (|s| s.auth.cookie_secure = Some(false), "COOKIE_SECURE"),
            (
                |s| s.auth.contact_registry.kind = ContactRegistryKind::Database,
                "CONTACT_REGISTRY__KIND",
            ),
            (
                |s| s.auth.contact_registry.url = None,
                "CONTACT_REGISTRY__URL",
            ),
            (|s| s.secrets.hmac_key = None, "HMAC_KEY"),
            (|s| s.secrets.encryption_keys = None, "ENCRYPTION_KEYS"),
            (|s| s.ops.metrics_token = None, "METRICS_TOKEN"),
            (
                |s| s.notify.sms.transport = SmsTransportKind::Development,
                "CITIZEN_API_NOTIFY__SMS__TRANSPORT",
            ),
            (
                |s| s.notify.email.transport = EmailTransportKind::Development,
                "CITIZEN_API_NOTIFY__EMAIL__TRANSPORT",
            ),
            (
                |s| s.notify.email.smtp.password = None,
                "CITIZEN_API_NOTIFY__EMAIL__SMTP__USERNAME",
            ),
        ];
        refused_by_name(&cases);
    }

    type BreakIt = fn(&mut Settings);

    /// Each case, applied to a complete production configuration, stops the
    /// start with a message naming the setting.
    fn refused_by_name(cases: &[(BreakIt, &str)]) {
        for (break_it, setting) in cases {
            let mut settings = production();
            break_it(&mut settings);
            let err = settings.validate().unwrap_err().to_string();
            assert!(err.contains(setting), "{setting}: {err}");
        }
    }

    #[test]
    fn r_bk_12_production_refuses_plain_http_to_browsers_and_to_the_services_it_calls() {
        refused_by_name(&[
            (|s| s.auth.public_base_url = None, "PUBLIC_BASE_URL"),
            (
                |s| s.auth.public_base_url = Some("http://api.mydimos.example".into()),
                "PUBLIC_BASE_URL",
            ),
            (
                |s| s.auth.allowed_origins = AuthSettings::default().allowed_origins,
                "ALLOWED_ORIGINS",
            ),
            (
                |s| s.auth.return_to_allowlist = vec!["http://mydimos.example/".into()],
                "RETURN_TO_ALLOWLIST",
            ),
            (
                |s| s.auth.contact_registry.url = Some("http://emep.example/api".into()),
                "contact registry",
            ),
            (
                |s| s.notify.sms.gateway_url = Some("http://sms.example/send".into()),
                "SMS gateway",
            ),
            (
                |s| s.notify.email.smtp.tls = SmtpTls::None,
                "CITIZEN_API_NOTIFY__EMAIL__SMTP__TLS",
            ),
        ]);
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
    fn production_refuses_to_trust_every_address_as_a_proxy() {
        refused_by_name(&[
            (
                |s| s.http.trusted_proxies = vec!["10.0.0.0/8".into(), "0.0.0.0/0".into()],
                "TRUSTED_PROXIES",
            ),
            (
                |s| s.http.trusted_proxies = vec!["::/0".into()],
                "TRUSTED_PROXIES",
            ),
            (
                |s| s.http.trusted_proxies = vec!["0.0.0.0/1".into(), "128.0.0.0/1".into()],
                "TRUSTED_PROXIES",
            ),
        ]);
        let mut settings = production();
        settings.http.trusted_proxies = vec!["10.0.0.0/8".into(), "fd00::/8".into()];
        settings.validate().unwrap();
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
    fn production_refuses_sqlite_unless_allowed() {
        let mut sqlite = production();
        sqlite.database.url = None;
        let err = sqlite.validate().unwrap_err().to_string();
        assert!(err.contains("SQLite"), "{err}");
        let mut allowed = production();
        allowed.database.url = None;
        allowed.database.allow_sqlite_in_production = true;
        allowed.validate().unwrap();
    }

    #[test]
    fn production_refuses_a_database_reached_without_enforced_tls() {
        let mut settings = production();
        settings.database.url = Some("postgres://db.internal/citizen".into());
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("sslmode") && err.contains("R-BK-12"), "{err}");
        settings.profile = Profile::Development;
        settings.validate().unwrap();
    }

    #[test]
    fn production_refuses_demo_data() {
        let mut settings = production();
        settings.demo_data = true;
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("demo_data"), "{err}");
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
