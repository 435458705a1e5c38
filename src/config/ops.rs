//! Settings of the operations endpoints.

use secrecy::SecretString;
use serde::Deserialize;

/// Settings of the operations endpoints (`CITIZEN_API_OPS__…`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OpsSettings {
    /// The bearer token `/metrics` requires; unset, `/metrics` is open.
    /// Production requires it.
    pub metrics_token: Option<SecretString>,
}
