//! The authorization server for third-party applications (docs/integrators.md):
//! token lifetimes, the overlap of a rotated client secret, and the bounds
//! that keep the token endpoint from being used to burn the server's CPU.

use serde::Deserialize;

use super::ConfigError;

/// RFC 9068 access tokens live at most this long (the contract's ceiling).
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 600;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OAuthSettings {
    /// The `iss` of access tokens and the RFC 8414 `issuer`: the service's
    /// public address. Unset: `auth.public_base_url`, else
    /// `http://<bind>` (development only; production requires one).
    pub issuer: Option<String>,
    /// The `aud` of access tokens: the photo API. Unset: the issuer
    /// followed by `/v1/citizens`.
    pub audience: Option<String>,
    /// How long an access token lives, at most 600 seconds. Short, so that
    /// a leaked token is soon worthless; revocation and a disabled client
    /// bite on the very next request anyway.
    pub token_lifetime_secs: i64,
    /// How long the secret before a rotation still authenticates, so that
    /// an application's instances can take up the new one without a gap.
    pub secret_overlap_secs: i64,
    /// Client-secret verifications (Argon2id, about 20 ms of one core and
    /// 19 MiB each) running at once; the others wait their turn.
    pub max_concurrent_hashes: usize,
    /// Token requests per minute for one client id, and from one client
    /// address, in this instance's memory.
    pub token_requests_per_minute_per_client: u32,
    pub token_requests_per_minute_per_address: u32,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        OAuthSettings {
            issuer: None,
            audience: None,
            token_lifetime_secs: 300,
            secret_overlap_secs: 24 * 3600,
            max_concurrent_hashes: std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get),
            token_requests_per_minute_per_client: 60,
            token_requests_per_minute_per_address: 120,
        }
    }
}

impl OAuthSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_TOKEN_LIFETIME_SECS).contains(&self.token_lifetime_secs) {
            return Err(ConfigError::Unacceptable {
                setting: "oauth.token_lifetime_secs (CITIZEN_API_OAUTH__TOKEN_LIFETIME_SECS)",
                problem: self.token_lifetime_secs.to_string(),
                expected: "from 1 to 600 seconds (RFC 9068 tokens here live at most 10 minutes)",
            });
        }
        if self.secret_overlap_secs < 0 {
            return Err(ConfigError::Unacceptable {
                setting: "oauth.secret_overlap_secs (CITIZEN_API_OAUTH__SECRET_OVERLAP_SECS)",
                problem: self.secret_overlap_secs.to_string(),
                expected: "0 or more seconds",
            });
        }
        let counts = [
            (
                self.max_concurrent_hashes,
                "oauth.max_concurrent_hashes (CITIZEN_API_OAUTH__MAX_CONCURRENT_HASHES)",
            ),
            (
                self.token_requests_per_minute_per_client as usize,
                "oauth.token_requests_per_minute_per_client (CITIZEN_API_OAUTH__TOKEN_REQUESTS_PER_MINUTE_PER_CLIENT)",
            ),
            (
                self.token_requests_per_minute_per_address as usize,
                "oauth.token_requests_per_minute_per_address (CITIZEN_API_OAUTH__TOKEN_REQUESTS_PER_MINUTE_PER_ADDRESS)",
            ),
        ];
        for (count, setting) in counts {
            if count == 0 {
                return Err(ConfigError::Unacceptable {
                    setting,
                    problem: "0".into(),
                    expected: "a whole number from 1 upwards",
                });
            }
        }
        Ok(())
    }
}
