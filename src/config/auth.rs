//! Settings of the login, sessions, one-time codes and contact registry.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The URL citizens reach this service at, for the OAuth redirect back;
    /// unset: `http://<bound address>`.
    pub public_base_url: Option<String>,
    pub taxisnet: TaxisnetSettings,
    /// Mount the stand-in TAXISnet provider at `/dev/taxisnet` (development only).
    pub development_provider: bool,
    /// Prefixes that `return_to` must start with (scheme, host, port and path).
    pub return_to_allowlist: Vec<String>,
    /// Origins (`https://host[:port]`) from which cookie-authenticated unsafe
    /// requests are accepted (CSRF).
    pub allowed_origins: Vec<String>,
    /// R-PH-17: signed out after this long without activity.
    pub session_idle_timeout_secs: i64,
    /// Signed out this long after signing in, whatever the activity.
    pub session_absolute_timeout_secs: i64,
    /// Unset: Secure cookies everywhere but in the development profile.
    pub cookie_secure: Option<bool>,
    pub otp: OtpSettings,
    pub contact_registry: ContactRegistrySettings,
    /// Requests per minute per client address on the authentication endpoints.
    pub rate_limit_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TaxisnetSettings {
    /// GSIS: `https://www1.gsis.gr/oauth2server/oauth/authorize` (test:
    /// `https://test.gsis.gr/...`); unset: the development provider's.
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    /// `.../oauth2server/userinfo?format=xml`
    pub userinfo_url: Option<String>,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub scope: String,
    /// How the client authenticates at the token endpoint.
    pub client_auth: ClientAuth,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic (`client_secret_basic`).
    Basic,
    /// Form fields (`client_secret_post`).
    RequestBody,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OtpSettings {
    /// R-PH-03: five minutes.
    pub lifetime_secs: i64,
    pub max_failed_attempts: i32,
    /// Least time between two codes for one AFM.
    pub resend_interval_secs: i64,
    /// Most codes for one AFM in an hour.
    pub max_per_hour: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ContactRegistrySettings {
    pub kind: ContactRegistryKind,
    /// For `http`: the base URL; the service asks `GET {url}/{afm}`.
    pub url: Option<String>,
    pub token: Option<SecretString>,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRegistryKind {
    /// The table `contact_registry`: development and demo data only.
    Database,
    /// The National Registry of Communication's HTTP interface.
    Http,
}

/// The development provider's client credentials. Production refuses them.
pub const DEVELOPMENT_CLIENT_ID: &str = "citizen-api-development";
pub const DEVELOPMENT_CLIENT_SECRET: &str = "development-secret-not-for-production";

impl AuthSettings {
    /// How long a session may sit unused before it ends.
    pub fn session_idle(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.session_idle_timeout_secs)
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            public_base_url: None,
            taxisnet: TaxisnetSettings::default(),
            development_provider: true,
            return_to_allowlist: vec![
                "http://127.0.0.1:8080/".into(),
                "http://localhost:8080/".into(),
            ],
            allowed_origins: vec![
                "http://127.0.0.1:8080".into(),
                "http://localhost:8080".into(),
            ],
            session_idle_timeout_secs: 30 * 60,
            session_absolute_timeout_secs: 12 * 60 * 60,
            cookie_secure: None,
            otp: OtpSettings::default(),
            contact_registry: ContactRegistrySettings::default(),
            rate_limit_per_minute: 60,
        }
    }
}

impl Default for TaxisnetSettings {
    fn default() -> Self {
        TaxisnetSettings {
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            client_id: DEVELOPMENT_CLIENT_ID.into(),
            client_secret: Some(DEVELOPMENT_CLIENT_SECRET.into()),
            scope: "read".into(),
            client_auth: ClientAuth::RequestBody,
            timeout_ms: 10_000,
        }
    }
}

impl OtpSettings {
    /// The lifetime the message states, in whole minutes: rounded down, so
    /// that it does not promise longer than the code lasts (a lifetime under
    /// a minute, which no one should configure, still says one).
    pub fn lifetime_minutes(&self) -> i64 {
        (self.lifetime_secs / 60).max(1)
    }
}

impl Default for OtpSettings {
    fn default() -> Self {
        OtpSettings {
            lifetime_secs: 5 * 60,
            max_failed_attempts: 5,
            resend_interval_secs: 30,
            max_per_hour: 5,
        }
    }
}

impl Default for ContactRegistrySettings {
    fn default() -> Self {
        ContactRegistrySettings {
            kind: ContactRegistryKind::Database,
            url: None,
            token: None,
            timeout_ms: 5_000,
        }
    }
}

/// Whether `text` is an origin as browsers send it in `Origin`: a scheme,
/// a host and maybe a port, no path (not even `/`), no user, query or
/// fragment. An entry with a trailing slash would never match.
pub fn is_origin(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.origin().ascii_serialization() == text
    })
}

#[cfg(test)]
mod tests {
    use super::is_origin;

    #[test]
    fn an_origin_is_scheme_host_and_port_only() {
        for good in [
            "https://mydimos.kalamata.gr",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "https://mydimos.kalamata.gr/",
            "https://mydimos.kalamata.gr/app",
            "mydimos.kalamata.gr",
            "https://user@mydimos.kalamata.gr",
            "ftp://mydimos.kalamata.gr",
            "https://mydimos.kalamata.gr:443",
            "*",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
