//! Keys the service holds.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SecretSettings {
    /// Base64 of at least 32 random bytes: the key of the keyed hashes of
    /// one-time codes. Unset in development: made once and kept in
    /// `<data_dir>/development-keys/`. Production requires it.
    pub hmac_key: Option<SecretString>,
}
