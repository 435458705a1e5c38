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
    /// The master keys that seal data at rest (outbox messages), as
    /// `ID:BASE64` pairs separated by commas, the current key first: each
    /// key 32 random bytes, each id a short name (`2026a`). Keep a retired
    /// key listed after the current one while anything sealed under it is
    /// left. Unset in development: one key made once and kept in
    /// `<data_dir>/development-keys/`. Production requires it.
    pub encryption_keys: Option<SecretString>,
    /// The master keys that wrap the data keys of stored photos
    /// (`docs/photos.md`, "Sealed storage"), in the same form as
    /// `encryption_keys` but a ring of their own, so that a key of one
    /// never opens what the other sealed. Rotate by putting a new key
    /// first: new photos are sealed under it, older ones still open under
    /// the keys listed after it, and re-wrapping moves them to the new one
    /// until the old key can leave. Unset in development: one key made once
    /// and kept in `<data_dir>/development-keys/photo.key`. Production
    /// requires it.
    pub photo_keys: Option<SecretString>,
    /// The Ed25519 keys that sign access tokens, as `KID:BASE64` pairs of
    /// 32-byte seeds (`openssl rand -base64 32`), the signing key first.
    /// Rotate by putting a new key first and keeping the old one listed
    /// for one token lifetime: it is still published at `/oauth/jwks`, so
    /// that the tokens it signed verify until they expire. Unset in
    /// development: one key made once and kept in
    /// `<data_dir>/development-keys/token-signing.key`. Production requires
    /// it.
    pub token_signing_keys: Option<SecretString>,
}
