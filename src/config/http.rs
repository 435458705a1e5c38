//! Settings of the HTTP server.

use serde::Deserialize;

use super::{ConfigError, Settings, TrustedProxies};

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

impl Settings {
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
}
